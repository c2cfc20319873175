"""The README's tour runs as written, in order, in an empty folder: its Python blocks in one
namespace and every `spicenn ...` command of its command blocks, so that the files each
command reads are made by the tour itself and no option it shows can drift.

Commands run for real, with sizes cut to test scale (`SMALLER`). Those that train networks or
reproduce papers for minutes (`PARSED_ONLY`) are parsed by the real command line instead,
every option and value converted as in a run; the paths they would write count as written,
so the commands after them are checked against them too."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import click
import pytest

README = Path(__file__).resolve().parent.parent / "README.md"
ROOT = README.parent
# the options whose values are cut to test scale when a command runs for real
SMALLER = {"--cases": "2", "--vectors": "2", "--epochs": "2", "--workers": "1", "--n": "5", "--updates": "2"}
PARSED_ONLY = {("train",), ("evaluate",), ("analyze",), ("reproduce",)}
# options that name what a command writes, and whether that is a folder
OUTPUTS = {"--out": False, "-o": False, "--lib": False, "--plot": False, "--run": True, "--plots": True}


def blocks() -> list[tuple[str, str]]:
    return re.findall(r"```(\w*)\n(.*?)```", README.read_text(), flags=re.S)


def commands(text: str) -> list[list[str]]:
    """The `spicenn` command lines of a block: continuations joined, comments and the optional
    parts the text shows in [brackets] dropped."""
    found = []
    for line in text.replace("\\\n", " ").splitlines():
        line = line.split("#")[0]
        while re.search(r"\[[^\[\]]*\]", line):
            line = re.sub(r"\[[^\[\]]*\]", "", line)
        words = shlex.split(line)
        if words[:1] == ["spicenn"]:
            found.append(words[1:])
    return found


def written(args: list[str]) -> list[tuple[Path, bool]]:
    """What a command writes: its output options' values, a reproduction's default folder."""
    paths = [(Path(args[k + 1]), OUTPUTS[word]) for k, word in enumerate(args[:-1]) if word in OUTPUTS]
    if args[0] == "reproduce" and "--out" not in args and "-o" not in args:
        paths.append((Path("runs") / (args[1] + ("-quick" if "--quick" in args else "")), True))
    return paths


def parse(args: list[str]) -> None:
    """The real command line's parsing and conversion of every option, without running it."""
    from spicenn.cli import cli

    context = cli.make_context("spicenn", list(args))
    command: click.Command = cli
    rest = context.protected_args + context.args
    while isinstance(command, click.Group) and rest:
        _name, found, rest = command.resolve_command(context, rest)
        assert found is not None
        command = found
        context = command.make_context(_name, list(rest), parent=context)
        rest = context.protected_args + context.args if isinstance(command, click.Group) else []


def test_the_readme_lists_every_reproduction_and_no_other():
    """The README's list of `spicenn reproduce` commands is the catalog's (one table)."""
    from spicenn.reproduce.catalog import reproductions

    listed = set(re.findall(r"^spicenn reproduce ([\w-]+)", README.read_text(), flags=re.M))
    assert listed == {row.name for row in reproductions()}


@pytest.mark.slow
def test_the_readme_tour_runs_as_written(tmp_path, monkeypatch):
    from clirun import run_cli

    monkeypatch.chdir(tmp_path)
    (tmp_path / "examples").symlink_to(ROOT / "examples")  # the shipped configurations it names
    namespace: dict = {}
    made: list[tuple[Path, bool]] = []  # what parsed-only commands would have written
    ran = parsed = 0
    for number, (language, text) in enumerate(blocks()):
        if language == "python":
            exec(compile(text, f"README.md block {number + 1}", "exec"), namespace)
            continue
        for args in commands(text):
            stand_in = any(str(a) == str(p) or str(a).startswith(f"{p}/") for a in args for p, _ in made)
            if tuple(args[:1]) in PARSED_ONLY or stand_in:
                for path, folder in made:  # stand-ins for what was never really written
                    if not path.exists():
                        path.mkdir(parents=True) if folder else path.touch()
                for path, folder in written(args):
                    made.append((path, folder))
                    for inside in ("lenet.pt",) if args[:2] == ["reproduce", "lenet"] else ():
                        made.append((path / inside, False))
                parse(args)
                parsed += 1
                continue
            small = [SMALLER.get(args[k - 1], word) if k else word for k, word in enumerate(args)]
            done = run_cli(*small)
            assert done.returncode == 0, f"`spicenn {' '.join(args)}` failed: {done.stderr}"
            ran += 1
    assert (tmp_path / "energy.png").exists() and (tmp_path / "result.npz").exists()
    assert (tmp_path / "pred.npz").exists() and (tmp_path / "out" / "parity.png").exists()
    assert ran >= 12 and parsed >= 10
