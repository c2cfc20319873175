"""Benchmark: the first-order (matmul-shaped) surrogate beside the relaxation surrogate, the
ideal matmul and SPICE, on the two shipped tile configurations (strongly loaded lines) and
on the wires study's tile (64x64, 1 ohm, high-resistance power-law devices with per-device n:
weakly loaded lines).

Accuracy: a first-order model fitted to 4 SPICE cases x 16 vectors (uniform G and V, seed
200), validated on 4 held-out cases of the unseen distribution (G skewed toward G_off, sparse
inputs, seed 101), beside the relaxation kind fitted to the same data (6 sweeps). Speed:
per-MVM time of each kind for 16 tiles x B vectors in one call (float64 in and out, CPU, 2
threads), against an ideal torch matmul of the same tensors, for B = 64 and 1024: ratios per
round of 21 interleaved rounds (7 at 1024 vectors), median [quartiles], each kind in its own
rounds; relaxation / first-order as the quotient of their median times.

    python scripts/bench_first_order.py            # writes its table into BENCHMARKS.md
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np
import torch
from bench_spice import publish, ratio, side_by_side
from rebuild_surrogates import CONFIGS, VECTORS

from spicenn.reproduce.wires import R_WIRE, TILE
from spicenn.surrogate import DatasetSpec, generate
from spicenn.surrogate.training import meets_target, train, validate

TILES = {**CONFIGS,
         "wires64-high": dict(rows=TILE, columns=TILE, device={"name": "powerlaw-high"}, r_word=R_WIRE,
                              r_bit=R_WIRE, g_off=5.25e-7, g_on=2.62e-6, v_max=0.5)}
BATCHES = (64, 1024)


def speeds(model, config: dict, vectors: int) -> dict[str, list[float]]:
    """Seconds per call of the model and of the ideal matmul on 16 tiles x `vectors` uniform
    vectors, side by side (interleaved rounds). One model at a time: a relaxation call
    allocates gigabytes, and interleaved with it the first-order calls would pay the page
    faults of a freshly trimmed heap."""
    rng = np.random.default_rng(0)
    g = torch.from_numpy(rng.uniform(config["g_off"], config["g_on"], (16, config["rows"], config["columns"])))
    v = torch.from_numpy(rng.uniform(0, config["v_max"], (16, vectors, config["rows"])))
    with torch.no_grad():  # fewer rounds at the large batch, where a relaxation call takes seconds
        return side_by_side({"model": lambda: model(v, g), "matmul": lambda: torch.matmul(v, g)},
                            rounds=21 if vectors <= 64 else 7)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=4, help="training and held-out cases per tile")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(2)
    accuracy = ["| tile | first-order NRMSE | relaxation NRMSE | ideal V·G | device-only | first-order meets target |",
                "|---|---|---|---|---|---|"]
    speed = ["| tile | vectors per tile | first-order / matmul | relaxation / matmul | relaxation / first-order |",
             "|---|---|---|---|---|"]
    with tempfile.TemporaryDirectory() as folder:
        for name, config in TILES.items():
            data = generate(DatasetSpec(**config, cases=args.cases, vectors=VECTORS, seed=200),
                            Path(folder) / f"{name}-train.h5", workers=2, progress=False)
            held_out = generate(DatasetSpec(**config, cases=args.cases, vectors=VECTORS, seed=101,
                                            conductances="skewed", inputs="sparse"),
                                Path(folder) / f"{name}-held.h5", workers=2, progress=False)
            fast, _ = train(data, epochs=100, learning_rate=0.01, progress=False, kind="first-order")
            relaxation, _ = train(data, iterations=6, epochs=100, progress=False)
            fast_report, relax_report = validate(fast, held_out), validate(relaxation, held_out)
            accuracy.append(f"| {name} | {100 * fast_report['surrogate']['nrmse']:.4f} % | "
                            f"{100 * relax_report['surrogate']['nrmse']:.4f} % | "
                            f"{100 * fast_report['ideal']['nrmse']:.2f} % | "
                            f"{100 * fast_report['device_only']['nrmse']:.2f} % | "
                            f"{'yes' if meets_target(fast_report) else 'no'} |")
            print(accuracy[-1], flush=True)
            for vectors in BATCHES:
                fast_times, relaxation_times = speeds(fast, config, vectors), speeds(relaxation, config, vectors)
                between = np.median(relaxation_times["model"]) / np.median(fast_times["model"])
                speed.append(f"| {name} | {vectors} | {ratio(fast_times, 'model', 'matmul')} | "
                             f"{ratio(relaxation_times, 'model', 'matmul')} | {between:.3g}x |")
                print(speed[-1], flush=True)
    note = (f"{args.cases} training and {args.cases} held-out SPICE cases x {VECTORS} vectors per tile; "
            "target: NRMSE <= 0.5 % and <= 1/5 of the better baseline")
    publish("bench_first_order", f"python scripts/bench_first_order.py --cases {args.cases}", note,
            accuracy + [""] + speed, not args.no_write)


if __name__ == "__main__":
    main()
