"""What case (b)'s collapse in Joksas et al. 2022 hinges on: device scatter about the
Poole-Frenkel fits, and devices redrawn at every forward call.

spicenn's Poole-Frenkel presets put every device exactly on the published fits (ln c and
ln dε linear in ln R); the paper's code adds a correlated residual to each device's ln c and
ln dε, drawn anew at every forward call, from a covariance fitted to measurements that are
not published as numbers. This script sweeps that scatter as a standard deviation of ln c
(`ln_c_std`, each device's current scaled by e^N(0, σ²)) and measures, per σ:

- (b) the standard network (ideal training, 150 epochs) read on the scattered high-resistance
  devices, and (c) a network trained nonideality-aware on those same scattered devices
  (a fresh chip every batch, as `spicenn reproduce joksas2022` trains);
- each evaluated two ways: 25 chips, each held for the whole test pass (median and
  interquartile range), and 25 passes with a fresh chip for every batch of 32 images (the
  paper's redraw at every forward call; 32 is Keras's default evaluation batch).

    python scripts/joksas2022_device_scatter.py --out runs/joksas2022-scatter   # table + PNG + JSON
    python scripts/joksas2022_device_scatter.py --out runs/joksas2022-scatter-long --epochs 500 --scatter 0.3 0.4

Resumes: finished networks are kept by their run folders, finished rows by results.json.
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path
from typing import Any

import numpy as np

from spicenn.io import save_figure, write_text_atomic
from spicenn.nn.config import CrossbarConfig
from spicenn.nn.evaluation import TEST_CHIP_BASE, accuracies, chip_seeds
from spicenn.nn.training import run_data, train
from spicenn.reproduce import joksas2022
from spicenn.reproduce.common import record_each, resume, write_results

SCATTER = (0.0, 0.1, 0.2, 0.4)
CHIPS = 25
REDRAW_BATCH = 32


def spread(errors: list[float]) -> dict[str, Any]:
    q1, median, q3 = np.percentile(errors, [25, 50, 75])
    return {"median": float(median), "q1": float(q1), "q3": float(q3), "errors": errors}


def hardware(sigma: float, weights: str) -> CrossbarConfig:
    """The high-resistance Poole-Frenkel devices with ln c scattered by `sigma`."""
    device = {"name": joksas2022.DEVICE_SETS["poole-frenkel"][1], "ln_c_std": sigma}
    return CrossbarConfig(device=device, weights=weights)


def evaluate(model, data) -> dict[str, Any]:
    seeds = chip_seeds(TEST_CHIP_BASE, CHIPS)
    held = [1 - a for a in accuracies(model, data.test.x, data.test.y, "device", seeds)]
    redrawn = [1 - a for a in accuracies(model, data.test.x, data.test.y, "device", seeds,
                                         batch_size=REDRAW_BATCH, redraw=True)]
    return {"held": spread(held), "redrawn": spread(redrawn)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--epochs", type=int, default=150, help="training epochs of both networks")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--scatter", type=float, nargs="+", default=list(SCATTER),
                        help="standard deviations of ln c to measure")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    paper = joksas2022.configs("poole-frenkel", seed=args.seed)
    standard_config = paper["standard"].replace(training={"epochs": args.epochs})
    data = run_data(standard_config)
    setup = {"scatter": list(args.scatter), "chips": CHIPS, "redraw_batch": REDRAW_BATCH, "epochs": args.epochs,
             "seed": args.seed, "dataset": data.name, "train_digits": len(data.train.y),
             "test_digits": len(data.test.y)}
    results = resume(args.out, setup)
    rows = results.setdefault("rows", {})
    standard = train(standard_config, args.out / "standard", True, data)

    def row(sigma: float) -> dict[str, Any]:
        read = dataclasses.replace(standard_config, crossbar=hardware(sigma, "differential"))
        aware_config = paper["aware"].replace(training={"epochs": args.epochs})
        aware_config = dataclasses.replace(aware_config, crossbar=hardware(sigma, "double"))
        aware = train(aware_config, args.out / f"aware-{sigma:g}", True, data)
        return {"b": evaluate(joksas2022.on_chip(standard, read), data), "c": evaluate(aware, data)}

    record_each(args.out, results, rows, {f"{sigma:g}": (lambda sigma=sigma: row(sigma)) for sigma in args.scatter},
                progress=True, what="scatter levels")
    write_results(args.out, results)
    lines = [f"{'ln c scatter':>12} {'(b) held':>17} {'(b) redrawn':>17} {'(c) held':>17} {'(c) redrawn':>17}"]

    for key, r in rows.items():
        lines.append(f"{key:>12} {cell(r['b']['held']):>17} {cell(r['b']['redrawn']):>17} "
                     f"{cell(r['c']['held']):>17} {cell(r['c']['redrawn']):>17}")
    write_table(args.out, lines)
    plot(rows, args.out / "device_scatter.png")


def write_table(out: Path, lines: list[str]) -> None:
    """Print the table and keep it as out/table.txt."""
    text = "\n".join(lines)
    print(text)
    write_text_atomic(out / "table.txt", text + "\n")


def cell(r: dict[str, Any]) -> str:
    """A spread as table text: median [q1, q3] in %."""
    return f"{100 * r['median']:.1f} [{100 * r['q1']:.1f}, {100 * r['q3']:.1f}]"


def axes():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt.subplots(figsize=(5.5, 3.8))


def spread_series(axis, xs: list[float], spreads: list[dict[str, Any]], **style: Any) -> None:
    """Medians with interquartile bars, in %."""
    median = np.array([100 * x["median"] for x in spreads])
    below = median - np.array([100 * x["q1"] for x in spreads])
    above = np.array([100 * x["q3"] for x in spreads]) - median
    axis.errorbar(xs, median, yerr=[below, above], capsize=3, **style)


def finish(figure, axis, xlabel: str, path: Path) -> None:
    axis.set_xlabel(xlabel)
    axis.set_ylabel("test error (%), median and IQR")
    axis.legend(fontsize=7)
    figure.tight_layout()
    save_figure(figure, path)


def plot(rows: dict[str, Any], path: Path) -> None:
    figure, axis = axes()
    sigmas = [float(key) for key in rows]
    for case, label, colour in (("b", "(b) standard", "tab:red"), ("c", "(c) aware", "tab:blue")):
        for mode, style in (("held", "o-"), ("redrawn", "s--")):
            spread_series(axis, sigmas, [rows[key][case][mode] for key in rows], fmt=style, color=colour,
                          label=f"{label}, {'one chip per pass' if mode == 'held' else 'redrawn every batch'}")
    finish(figure, axis, "device scatter of ln c about the fit (std)", path)


if __name__ == "__main__":
    main()
