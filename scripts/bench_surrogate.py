"""Benchmark: the shipped surrogates against fresh SPICE cases (accuracy) and against the
batched SPICE engine and an ideal torch matmul (speed), side by side.

Accuracy: two held-out datasets per model, never used in training: the training
distribution (uniform G and V, seed 100) and an unseen one (G skewed toward G_off, sparse
inputs, seed 101). Speed: per-MVM time for 16 tiles x 64 and x 1024 vectors in one call
(float64, CPU, 2 threads), surrogate and ideal matmul in 21 interleaved rounds (this shared
machine's speed drifts; the ratio is taken per round, median and quartiles), the surrogate
both without gradients (inference) and with them (the forward pass of a training step);
SPICE per MVM from one 64-vector batch through the shared engine.

    python scripts/bench_surrogate.py            # writes its table into BENCHMARKS.md
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path

import numpy as np
import torch
from bench_spice import best, publish, ratio, side_by_side
from rebuild_surrogates import CONFIGS, MODELS, TRAINING_CASES, VECTORS

from spicenn.crossbar import Crossbar
from spicenn.solvers import simulate
from spicenn.surrogate import DatasetSpec, generate
from spicenn.surrogate.model import CrossbarSurrogate
from spicenn.surrogate.training import validate

ROOT = Path(__file__).resolve().parent.parent
BATCHES = (64, 1024)  # vectors per tile, 16 tiles




def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=8, help="held-out cases per dataset")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    accuracy = ["| model | held-out data | surrogate NRMSE | worst column | ideal V·G NRMSE | device-only NRMSE "
                "| surrogate / best baseline |", "|---|---|---|---|---|---|---|"]
    speed = ["| model | vectors per tile | SPICE (batched) per MVM | surrogate per MVM | ideal matmul per MVM "
             "| SPICE / surrogate | surrogate / matmul, median [quartiles] | with gradients / matmul |",
             "|---|---|---|---|---|---|---|---|"]
    torch.set_num_threads(2)
    held_out_folder = Path(tempfile.mkdtemp(prefix="spicenn-bench-"))  # shared by models of one tile
    for name, (tile, _) in MODELS.items():
        config = CONFIGS[tile]
        model = CrossbarSurrogate.load(ROOT / "models" / "surrogates" / f"{name}.pt")
        for label, extra in (("uniform (training distribution)", dict(seed=100)),
                             ("skewed G, sparse V (unseen)", dict(seed=101, conductances="skewed",
                                                                  inputs="sparse"))):
            spec = DatasetSpec(**config, cases=args.cases, vectors=VECTORS, **extra)
            path = held_out_folder / f"{tile}-{extra['seed']}.h5"
            if not path.exists():
                generate(spec, path, workers=2, progress=False)
            r = validate(model, path, plots=ROOT / "runs" / "surrogates" / f"{name}-{extra['seed']}")
            baseline = min(r["ideal"]["nrmse"], r["device_only"]["nrmse"])
            accuracy.append(f"| {name} | {label} | {100 * r['surrogate']['nrmse']:.4f} % | "
                            f"{100 * r['surrogate']['worst_column']:.4f} % | {100 * r['ideal']['nrmse']:.2f} % | "
                            f"{100 * r['device_only']['nrmse']:.2f} % | 1/{baseline / r['surrogate']['nrmse']:.0f} |")
            print(accuracy[-1], flush=True)
        rng = np.random.default_rng(0)
        c = model.config
        g = rng.uniform(c.g_off, c.g_on, (16, c.rows, c.columns))
        crossbar = Crossbar(g[0], model.device_model, r_word=c.r_word, r_bit=c.r_bit)
        # the relaxation kind (~10^3x a matmul, the accuracy reference) at the small batch only
        for vectors in BATCHES if model.config.kind == "first-order" else BATCHES[:1]:
            v = rng.uniform(0, c.v_max, (16, vectors, c.rows))
            simulate(crossbar, v[0, :2])
            spice = best(lambda: simulate(crossbar, v[0, :64]), repeats=1) / min(vectors, 64)
            gt, vt = torch.from_numpy(g), torch.from_numpy(v)
            times = side_by_side({"surrogate": torch.no_grad()(lambda: model(vt, gt)),
                                  "with gradients": lambda: model(vt, gt),  # the forward pass of a training step
                                  "matmul": torch.no_grad()(lambda: torch.matmul(vt, gt))})
            surrogate, matmul = (np.median(times[key]) / (16 * vectors) for key in ("surrogate", "matmul"))
            speed.append(f"| {name} | {vectors} | {spice * 1e3:.3g} ms | {surrogate * 1e6:.3g} µs | "
                         f"{matmul * 1e6:.3g} µs | {spice / surrogate:.3g}x | {ratio(times, 'surrogate', 'matmul')} | "
                         f"{ratio(times, 'with gradients', 'matmul')} |")
            print(speed[-1], flush=True)
    shutil.rmtree(held_out_folder)
    # data cost: how few SPICE cases the training needs (held-out: the unseen distribution)
    cost = ["| model | training cases (x 16 vectors) | held-out NRMSE (unseen distribution) |", "|---|---|---|"]
    from spicenn.surrogate.training import train

    with tempfile.TemporaryDirectory() as folder:
        for name, (tile, kind) in MODELS.items():
            config = CONFIGS[tile]
            held_out = generate(DatasetSpec(**config, cases=args.cases, vectors=VECTORS, seed=101,
                                            conductances="skewed", inputs="sparse"),
                                Path(folder) / f"{tile}-held.h5", workers=2, progress=False)
            for cases in (1, 2, 4):
                data = generate(DatasetSpec(**config, cases=cases, vectors=VECTORS, seed=200),
                                Path(folder) / f"{tile}-{cases}.h5", progress=False)
                model, _ = train(data, iterations=6, epochs=100, progress=False, kind=kind)
                cost.append(f"| {name} | {cases} | {100 * validate(model, held_out)['surrogate']['nrmse']:.4f} % |")
                print(cost[-1], flush=True)
    note = (f"models trained on {TRAINING_CASES} SPICE cases x {VECTORS} vectors each "
            "(`python scripts/rebuild_surrogates.py`); held-out datasets of "
            f"{args.cases} cases x {VECTORS} vectors; parity plots and error histograms in runs/surrogates/")
    publish("bench_surrogate", f"python scripts/bench_surrogate.py --cases {args.cases}", note,
            accuracy + [""] + speed + [""] + cost, not args.no_write)


if __name__ == "__main__":
    main()
