"""The README's tour runs as written: its Python blocks, in order, in one namespace."""

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"


@pytest.mark.slow
def test_the_readme_python_blocks_run(tmp_path, monkeypatch):
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    assert len(blocks) >= 5
    monkeypatch.chdir(tmp_path)  # the tour writes its plots here
    namespace: dict = {}
    for number, block in enumerate(blocks):
        exec(compile(block, f"README.md python block {number + 1}", "exec"), namespace)
    assert (tmp_path / "energy.png").exists()


def test_the_readme_lists_every_reproduction_and_no_other():
    """The README's list of `spicenn reproduce` commands is the catalog's (one table)."""
    from spicenn.reproduce.catalog import reproductions

    listed = set(re.findall(r"^spicenn reproduce ([\w-]+)", README.read_text(), flags=re.M))
    assert listed == {row.name for row in reproductions()}
