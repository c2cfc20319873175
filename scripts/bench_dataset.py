"""Benchmark: SPICE dataset generation throughput (cases per second) with 1 and 2 workers,
for the two shipped-surrogate configurations of the surrogate issue.

    python scripts/bench_dataset.py              # writes its table into BENCHMARKS.md
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from bench_spice import publish

from spicenn.surrogate import DatasetSpec, generate

CONFIGS = {
    "sinh64": dict(rows=64, columns=64, device={"name": "sinh", "k": 3.0}, r_word=1.0, r_bit=1.0,
                   g_off=1e-6, g_on=1e-4),
    "powerlaw32": dict(rows=32, columns=32, device={"name": "powerlaw", "v_ref": 0.25, "n": 2.13}, r_word=0.25,
                       r_bit=0.25, g_off=9.97e-4, g_on=3.51e-3),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=16)
    parser.add_argument("--vectors", type=int, default=16)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    rows = ["| configuration | 1 worker | 2 workers | speed-up |", "|---|---|---|---|"]
    for name, config in CONFIGS.items():
        rates = []
        for workers in (1, 2):
            spec = DatasetSpec(**config, cases=args.cases, vectors=args.vectors, seed=workers)
            with tempfile.TemporaryDirectory() as folder:
                started = time.perf_counter()
                generate(spec, Path(folder) / "d.h5", workers=workers, cases_per_task=2, progress=False)
                rates.append(args.cases / (time.perf_counter() - started))
        rows.append(f"| {name} ({args.vectors} vectors per case) | {rates[0]:.3g} cases/s | {rates[1]:.3g} cases/s "
                    f"| {rates[1] / rates[0]:.2f}x |")
        print(rows[-1], flush=True)
    publish("bench_dataset", f"python scripts/bench_dataset.py --cases {args.cases} --vectors {args.vectors}",
            "wall time including worker start-up and the HDF5 gathering", rows, not args.no_write)


if __name__ == "__main__":
    main()
