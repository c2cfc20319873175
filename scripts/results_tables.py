"""Write the measured tables of the reproductions into RESULTS.md, from their results.json.

    spicenn reproduce joksas2022 --out runs/joksas2022          # (and the others)
    python scripts/results_tables.py --runs runs                # fills RESULTS.md

Each table goes between `<!-- name:start -->` and `<!-- name:end -->` markers; the prose
around them (the papers' claims, the comparison) is written by hand.
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

from bench_spice import write_section

from spicenn.reproduce.catalog import get_reproduction, reproductions

ROOT = Path(__file__).resolve().parent.parent
FIGURES = ROOT / "docs" / "results"
# run folders whose command is not `spicenn reproduce <folder name>`: the reproduction each
# holds and the command that made it; the devices named explicitly (the default became
# poole-frenkel on 2026-12-03)
VARIANTS = {"joksas2022": ("joksas2022", "spicenn reproduce joksas2022 --devices powerlaw"),
            "joksas2022-poole-frenkel": ("joksas2022", "spicenn reproduce joksas2022 --devices poole-frenkel")}
# the learning papers with their updates written through the circuit (issue 28), quick runs
VARIANTS |= {f"{name}-{updates}-quick": (name, f"spicenn reproduce {name} --quick --updates {updates}")
             for name in ("babu2017", "kim2019", "li2023", "li2023-comparison") for updates in ("surrogate", "circuit")}
VARIANTS["babu2017-surrogate"] = ("babu2017", "spicenn reproduce babu2017 --updates surrogate")
FOLDERS = {row.name: (row.name, f"spicenn reproduce {row.name}") for row in reproductions() if row.tabled} | VARIANTS


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=Path, default=ROOT / "runs", help="folder holding one folder per reproduction")
    args = parser.parse_args()
    for name, (reproduction, command) in FOLDERS.items():
        table = get_reproduction(reproduction).table_text
        path = args.runs / name / "results.json"
        if not path.exists():
            print(f"skipped {name}: no {path}")
            continue
        results = json.loads(path.read_text())
        setup = results.get("setup", {})
        try:
            table(results)
        except KeyError:
            print(f"skipped {name}: its run is not finished")
            continue
        body = (f"Command: `{command}" + (" --quick" if setup.get("quick") else "") + "`" +
                f". Setup: `{json.dumps(setup)}`.\n\n```\n{table(results)}\n```")
        # the run's own figures, and the surrogates' parity plots and error histograms (per kind)
        pictures = sorted(path.parent.glob("*.png")) + sorted(path.parent.glob("*/parity.png")) + \
            sorted(path.parent.glob("*/error_histogram.png"))
        if pictures:
            FIGURES.mkdir(parents=True, exist_ok=True)
            for picture in pictures:
                stem = picture.stem if picture.parent == path.parent else f"{picture.parent.name}-{picture.stem}"
                target = FIGURES / (stem + ".png" if stem.startswith(name) else f"{name}-{stem}.png")
                shutil.copyfile(picture, target)
                body += f"\n\n![{stem}]({target.relative_to(ROOT)})"
        write_section(ROOT / "RESULTS.md", name, body)
        print(f"wrote {name}")


if __name__ == "__main__":
    main()
