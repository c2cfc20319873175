"""Regenerate the example netlists in netlists/ (a test checks they are in sync)."""

from pathlib import Path

from spicenn.netlist.examples import examples

folder = Path(__file__).resolve().parent.parent / "netlists"
folder.mkdir(exist_ok=True)
for name, text in examples().items():
    (folder / name).write_text(text)
    print(f"wrote netlists/{name}")
