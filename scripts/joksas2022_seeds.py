"""Joksas et al. 2022 over training seeds: the full reproduction's error per case as median
and interquartile range over every seed's chips, and for each pair of cases whether their
difference exceeds that spread.

    for S in 0 1 2; do spicenn reproduce joksas2022 --seed S --out runs/joksas2022-sS; done
    python scripts/joksas2022_seeds.py --runs runs          # prints, and fills RESULTS.md

A pair's difference "exceeds the spread" when it has the same sign on every seed and its
median is larger than both cases' interquartile ranges over seeds x chips.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from bench_spice import write_section

ROOT = Path(__file__).resolve().parent.parent
CASES = {"ideal": "software (ideal)", "a": "(a) standard, low-resistance", "b": "(b) standard, high-resistance",
         "c": "(c) aware, high-resistance", "d": "(d) aware + L1, high-resistance"}
PAPER = {"ideal": "~4-5 %", "a": "-", "b": "42 %", "c": "9 %", "d": "7 %"}
PAIRS = (("b", "c"), ("b", "d"), ("c", "d"), ("a", "b"))


def seed_runs(runs: Path) -> dict[int, dict]:
    found = {}
    for path in sorted(runs.glob("joksas2022-s*/results.json")):
        results = json.loads(path.read_text())
        if all(case in results for case in "abcd"):
            found[int(results["setup"]["seed"])] = results
    return found


def errors_of(results: dict, case: str) -> list[float]:
    entry = results[case]
    return list(entry.get("errors", [entry["error"]]))


def table(found: dict[int, dict]) -> str:
    seeds = sorted(found)
    lines = ["| case | " + " | ".join(f"seed {s}" for s in seeds) + " | median [IQR] over seeds x chips | paper |",
             "|---" * (len(seeds) + 3) + "|"]
    spread = {}
    for case, label in CASES.items():
        if not all(case in found[s] for s in seeds):
            continue
        pooled = 100 * np.array([e for s in seeds for e in errors_of(found[s], case)])
        q1, median, q3 = np.percentile(pooled, [25, 50, 75])
        spread[case] = (median, q3 - q1)
        per_seed = " | ".join(f"{100 * found[s][case]['error']:.1f} %" for s in seeds)
        lines.append(f"| {label} | {per_seed} | {median:.1f} % [{q1:.1f}, {q3:.1f}] | {PAPER[case]} |")
    for case, paper in (("a", 0.715), ("d", 381.0)):
        values = [found[s][case]["tops_per_w_paper"] for s in seeds]
        lines.append(f"| ({case}) TOPS/W, paper convention | " + " | ".join(f"{v:.3g}" for v in values) +
                     f" | {np.median(values):.3g} (paper / median {paper / np.median(values):.2f}x) | {paper:g} |")
    lines.append("")
    for x, y in PAIRS:
        differences = [100 * (found[s][x]["error"] - found[s][y]["error"]) for s in seeds]
        median = float(np.median(differences))
        same_sign = all(d > 0 for d in differences) or all(d < 0 for d in differences)
        exceeds = same_sign and abs(median) > max(spread[x][1], spread[y][1])
        verdict = "exceeds the spread" if exceeds else "within the spread"
        lines.append(f"- ({x}) - ({y}): " + ", ".join(f"{d:+.1f}" for d in differences) +
                     f" points per seed, median {median:+.1f}: {verdict}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=Path, default=ROOT / "runs")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    found = seed_runs(args.runs)
    if not found:
        raise SystemExit(f"no finished joksas2022-s*/results.json under {args.runs}")
    text = table(found)
    print(text)
    if not args.no_write:
        write_section(ROOT / "RESULTS.md", "joksas2022-seeds", text)


if __name__ == "__main__":
    main()
