"""Does case (b) of Joksas et al. 2022 collapse with longer standard training?

The paper reports ~42 % error for standard training evaluated on high-resistance devices;
`spicenn reproduce joksas2022` (150 epochs) measures 9.5 %. The paper trained ~130x more SGD
steps. This script trains the standard network (ideal backend, signed weights as
differential pairs) for several lengths, and evaluates each on the high-resistance devices
(median test error over 25 chips, device backend) beside its ideal error, plus the spread of
its weights (max |w| / RMS w, which sets how much of the conductance range the typical
weight uses).

    python scripts/joksas2022_training_length.py --out runs/joksas2022-length   # table + PNG + JSON
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path

import numpy as np
import torch

from spicenn.io import atomic_path, save_figure
from spicenn.nn.evaluation import TEST_CHIP_BASE, accuracies, chip_seeds
from spicenn.nn.training import run_data, train
from spicenn.reproduce import joksas2022

LENGTHS = (15, 150, 500)


def weight_spread(model) -> float:
    weights = torch.cat([p.detach().reshape(-1) for name, p in model.named_parameters() if "weight" in name])
    return float(weights.abs().max() / weights.pow(2).mean().sqrt())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--devices", default="powerlaw", help="powerlaw | poole-frenkel")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    paper = joksas2022.configs(args.devices)
    data = run_data(paper["standard"])
    seeds = chip_seeds(TEST_CHIP_BASE, 25)
    rows = {}
    for epochs in LENGTHS:
        config = paper["standard"].replace(training={"epochs": epochs})
        model = train(config, args.out / f"standard-{epochs}", True, data)
        on_devices = joksas2022.on_chip(model, paper["standard"])
        errors = [1 - a for a in accuracies(on_devices, data.test.x, data.test.y, "device", seeds)]
        ideal = 1 - accuracies(model, data.test.x, data.test.y, "ideal", [None])[0]
        rows[epochs] = {"error_b": float(np.median(errors)), "error_ideal": float(ideal),
                        "weight_max_over_rms": weight_spread(model)}
        print(epochs, rows[epochs], flush=True)
    setup = {"devices": args.devices, "lengths": list(LENGTHS), "chips": len(seeds),
             **dataclasses.asdict(paper["standard"].training)}
    with atomic_path(args.out / "results.json") as temporary:
        temporary.write_text(json.dumps({"setup": setup, "rows": rows}, indent=1))
    lines = [f"{'epochs':>7} {'SGD steps':>10} {'(b) error':>10} {'ideal error':>12} {'max|w|/rms w':>13}"]
    for epochs, r in rows.items():
        steps = epochs * -(-len(data.train.y) // paper["standard"].training.batch_size)
        lines.append(f"{epochs:>7} {steps:>10} {100 * r['error_b']:>9.1f}% {100 * r['error_ideal']:>11.1f}% "
                     f"{r['weight_max_over_rms']:>13.1f}")
    print("\n".join(lines))
    (args.out / "table.txt").write_text("\n".join(lines) + "\n")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(5, 3.5))
    axis.plot(list(rows), [100 * r["error_b"] for r in rows.values()], "o-", label="(b) high-resistance devices")
    axis.plot(list(rows), [100 * r["error_ideal"] for r in rows.values()], "s--", label="ideal")
    axis.set_xscale("log")
    axis.set_xlabel("training epochs (3,000 digits)")
    axis.set_ylabel("test error (%)")
    axis.legend()
    figure.tight_layout()
    save_figure(figure, args.out / "training_length.png")


if __name__ == "__main__":
    main()
