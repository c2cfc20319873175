"""On-chip learning with updates from the circuit: the epoch time of Babu-type learning
(784-100-10 sigmoid, 3,000 MNIST digits, batches of 10) per update path, side by side in one
run, and the write surrogate's validation (issue 28).

    python scripts/bench_write_learning.py            # the tables into BENCHMARKS.md
    python scripts/bench_write_learning.py --quick    # prints only, fewer engine samples

Rows: today's rule-based updates (the rounding rule on 32 abstract levels, as `reproduce
babu2017` runs), the pulse rule's coincidences on the calibrated levels32 device with ideal
writes, through the write surrogate (64x64 tiles, 1 ohm), and through the native write
engine — measured on a few batches and projected to an epoch and to the full run (10
epochs). One thread, the machine quiet. Energies are the circuit's (J per step = batch).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path

import torch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_spice import publish  # noqa: E402

from spicenn.devices.programming import DiscreteLevels  # noqa: E402
from spicenn.devices.written import write_preset  # noqa: E402
from spicenn.nn.data import load_data  # noqa: E402
from spicenn.nn.learning import DeviceMLP, EngineWrites, SurrogateWrites, UpdateRule  # noqa: E402
from spicenn.nn.onchip import train_on_chip  # noqa: E402

ROOT = HERE.parent


def epoch(devices, rule: UpdateRule, data, seed: int = 0) -> tuple[float, DeviceMLP]:
    model = DeviceMLP((784, 100, 10), devices, seed=seed)
    start = time.perf_counter()
    train_on_chip(model, data, rule, 1, 10, seed)
    return time.perf_counter() - start, model


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(1)
    data = load_data("mnist", 0)
    samples = len(data.train.y)
    levels = write_preset("levels32")
    rows = ["| updates | device | s per epoch | × today's rules | write energy per step (J) |",
            "|---|---|---:|---:|---:|"]
    baseline, _ = epoch(DiscreteLevels(dynamic_range=15.0, levels=32), UpdateRule("rounding", 0.1), data)
    rows.append(f"| rules: rounding (today's babu2017) | 32 abstract levels | {baseline:.1f} | 1.0 | - |")
    for label, writes in (("rules: pulse coincidences, ideal writes", None),
                          ("surrogate: pulse coincidences, 64x64 tiles, 1 Ω", SurrogateWrites(64, 1.0)),
                          ("surrogate: pulse coincidences, 64x64 tiles, 5 Ω", SurrogateWrites(64, 5.0))):
        seconds, model = epoch(levels, UpdateRule("pulse", 0.1, writes=writes), data)
        energy = sum(layer.write_energy for layer in model.layers) / (samples // 10)
        rows.append(f"| {label} | levels32 (VTEAM) | {seconds:.1f} | {seconds / baseline:.1f} | "
                    f"{energy:.3g} |" if writes else f"| {label} | levels32 (VTEAM) | {seconds:.1f} | "
                    f"{seconds / baseline:.1f} | - |")
    batches = 1 if args.quick else 3
    part = dataclasses.replace(data, train=dataclasses.replace(data.train, x=data.train.x[:10 * batches],
                                                               y=data.train.y[:10 * batches]))
    model = DeviceMLP((784, 100, 10), levels, seed=0)
    start = time.perf_counter()
    for index in range(0, 10 * batches, 10):
        batch = dataclasses.replace(part, train=dataclasses.replace(part.train, x=part.train.x[index:index + 10],
                                                                    y=part.train.y[index:index + 10]))
        train_on_chip(model, batch, UpdateRule("pulse", 0.1, writes=EngineWrites(64, 1.0)), 1, 10, 0)
    per_batch = (time.perf_counter() - start) / batches  # validation reads per call are negligible beside the writes
    per_epoch = per_batch * samples / 10
    energy = sum(layer.write_energy for layer in model.layers) / batches
    rows.append(f"| engine: pulse coincidences, 64x64 tiles, 1 Ω ({batches} batches measured, "
                f"{per_batch:.0f} s each; projected) | levels32 (VTEAM) | {per_epoch:,.0f} | "
                f"{per_epoch / baseline:,.0f} | {energy:.3g} |")
    rows.append("")
    rows.append(f"Engine-driven full run (10 epochs) projected: {10 * per_epoch / 3600:,.1f} h.")
    shipped = json.loads((ROOT / "models" / "surrogates" / "write-vteam-64.json").read_text())
    rows += ["", "The shipped write surrogate (`write-vteam-64`) on held-out updates of 64x64 tiles, against the "
             "native write engine (BL = 10; wires 0.5-5 Ω per segment; command: `spicenn surrogate write OUT "
             "--cases 1000 --updates 30`):", "",
             "| devices | updates | Δx NRMSE pooled | worst update | 1 Ω pooled | 5 Ω pooled | energy / engine's |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for preset, v in shipped["validation"].items():
        wire = v["by_wire"]
        rows.append(f"| {preset} | {v['updates']} | {100 * v['pooled_nrmse']:.2f} % | {100 * v['worst_nrmse']:.2f} % | "
                    f"{100 * wire.get('1', {}).get('pooled_nrmse', float('nan')):.2f} % | "
                    f"{100 * wire.get('5', {}).get('pooled_nrmse', float('nan')):.2f} % | "
                    f"{v['energy_ratio'][0]:.2f}-{v['energy_ratio'][1]:.2f} |")
    fit = shipped["fitted_on"]
    rows.append(f"\nVoltage model: RMSE {100 * fit['voltage_rmse']:.3f} % of V over {fit['cells']:,} selected cells "
                f"of random tiles (first-order physics alone: {100 * fit['first_order_rmse']:.3f} %).")
    publish("write-learning", "python scripts/bench_write_learning.py",
            "one thread; 784-100-10, 3,000 digits, batches of 10", rows, not args.quick)


if __name__ == "__main__":
    main()
