"""The native solver on a GPU against the same solver on this machine's CPU, side by side.

    python scripts/bench_native_gpu.py            # on a machine with CUDA; writes into BENCHMARKS.md
    python scripts/bench_native_gpu.py --no-write

The tiles of `bench_native.py` (normal: G in [1e-6, 1e-4] S, 1 ohm wires; harsh: [1e-4,
3.5e-3] S, 0.25 ohm; sinh k = 3), float64 on both. Each row checks the GPU's currents against
the CPU's to 1e-9 relative. Without CUDA it says so and stops: nothing else needs a GPU.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

CASES = [(size, kind, batch) for kind in ("normal", "harsh") for size in (64, 128, 256) for batch in (64, 1024)]


def per_vector(function, vectors: int, rounds: int = 3) -> tuple[float, np.ndarray]:
    result = function()  # warm-up (CUDA context, kernels)
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - started)
    return statistics.median(times) / vectors, result.currents


def main() -> None:
    from bench_native import relative, tile
    from bench_spice import publish

    from spicenn.circuit import simulate_native

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--rehearse", action="store_true",
                        help="no GPU: run the GPU's code path (torch sweeps) on the CPU, 64x64 only, to try the script")
    args = parser.parse_args()
    if args.rehearse:
        from spicenn.circuit import tridiagonal

        target, name, cases, write = "cpu", "none (rehearsal: the GPU's torch sweeps on the CPU)", CASES[:2], False
    elif torch.cuda.is_available():
        target, name, cases, write = "cuda", torch.cuda.get_device_name(0), CASES, not args.no_write
    else:
        sys.exit("no CUDA device here: run this script on a machine with a GPU (the CPU figures are bench_native.py's)")
    rows = ["| tile | size | vectors | CPU, ms/vector | GPU, ms/vector | CPU / GPU | GPU vs CPU |",
            "|---|---|---|---|---|---|---|"]
    for size, kind, batch in cases:
        crossbar, rng = tile(size, kind)
        v = rng.uniform(0, 0.5, (batch, size))

        def on_gpu():
            if args.rehearse:
                tridiagonal.NUMPY_SWEEPS = False
                try:
                    return simulate_native(crossbar, v)
                finally:
                    tridiagonal.NUMPY_SWEEPS = True
            result = simulate_native(crossbar, v, on=target)
            torch.cuda.synchronize()
            return result

        cpu, cpu_currents = per_vector(lambda: simulate_native(crossbar, v), batch)
        gpu, gpu_currents = per_vector(on_gpu, batch)
        error = relative(gpu_currents, cpu_currents)
        if error > 1e-9:
            raise SystemExit(f"{kind} {size}x{size}: the GPU's currents differ from the CPU's by {error:.1e}")
        rows.append(f"| {kind} | {size}x{size} | {batch} | {1e3 * cpu:.3g} | {1e3 * gpu:.3g} | **{cpu / gpu:.1f}x** | "
                    f"{error:.1e} |")
        print(rows[-1], flush=True)
    publish("bench_native_gpu", "python scripts/bench_native_gpu.py", f"GPU: {name}; float64 on both", rows, write)


if __name__ == "__main__":
    main()
