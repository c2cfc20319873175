"""A very long batch on a small tile through ngspice: 200,000 input vectors on a 4x4 crossbar
(the case that crashed ngspice after 40 s in one DC sweep; now sweeps of at most 1,000).

    python scripts/bench_large_batch.py            # writes its table into BENCHMARKS.md
"""

from __future__ import annotations

import platform
import sys
import time
from datetime import date
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

from bench_spice import write_section  # noqa: E402

import spicenn  # noqa: E402

VECTORS = 200_000


def main() -> None:
    rng = np.random.default_rng(0)
    v = rng.uniform(0, 0.5, (VECTORS, 4))
    lines = ["| device | engine | vectors | seconds | checked against |", "|---|---|---:|---:|---|"]
    for device in ("linear", "sinh"):
        crossbar = spicenn.Crossbar(rng.uniform(1e-6, 1e-4, (4, 4)), device=device, r_word=1.0, r_bit=1.0)
        started = time.perf_counter()
        result = spicenn.simulate(crossbar, v, engine="shared")
        seconds = time.perf_counter() - started
        native = spicenn.simulate(crossbar, v, engine="native")
        worst = float(np.max(np.abs(result.currents - native.currents)) / np.max(np.abs(native.currents)))
        assert worst < 1e-8, worst
        lines.append(f"| {device} | shared (sweeps of 1,000) | {VECTORS:,} | {seconds:.1f} | native solver, "
                     f"{worst:.1e} relative |")
    table = "\n".join(lines)
    print(table)
    body = (f"Machine: {platform.machine()}, 2 cores; {date.today().isoformat()}; "
            f"`python scripts/bench_large_batch.py`. Target (issue 25): finish or refuse within 60 s.\n\n{table}")
    write_section(ROOT / "BENCHMARKS.md", "large-batch", body)


if __name__ == "__main__":
    main()
