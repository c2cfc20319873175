"""Benchmark: what energy extraction costs on top of a plain simulation, and a transient read
against a DC one. Sinh crossbars (k = 3, G uniform in [1e-6, 1e-4] S, 1 ohm wires), side by
side in one run; best of 3 repeats.

    python scripts/bench_energy.py               # writes its table into BENCHMARKS.md
    python scripts/bench_energy.py --no-write
"""

from __future__ import annotations

import argparse

import numpy as np
from bench_spice import best, publish

from spicenn.crossbar import Crossbar
from spicenn.devices import get_device
from spicenn.energy import Peripherals, crossbar_energy, dc_report
from spicenn.netlist import ReadPulse
from spicenn.solvers import simulate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[16, 32, 64])
    parser.add_argument("--vectors", type=int, default=4)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    rows = ["| size | plain simulate | + DC energy report | DC overhead | transient read (C = 0.1 fF/segment) "
            "| transient / DC |", "|---|---|---|---|---|---|"]
    peripherals = Peripherals()
    for size in args.sizes:
        rng = np.random.default_rng(size)
        crossbar = Crossbar(rng.uniform(1e-6, 1e-4, (size, size)), get_device("sinh"), r_word=1.0, r_bit=1.0)
        v = rng.uniform(0, 0.5, (args.vectors, size))
        simulate(crossbar, v[:2])
        plain = best(lambda: simulate(crossbar, v))
        with_energy = best(lambda: dc_report(simulate(crossbar, v), peripherals))
        pulse = ReadPulse(t_width=50e-9, t_rise=1e-9, t_fall=1e-9, c_word=1e-16, c_bit=1e-16)
        transient = best(lambda: crossbar_energy(crossbar, v, peripherals, pulse), repeats=1)
        rows.append(f"| {size}x{size} | {plain:.3g} s | {with_energy:.3g} s | {100 * (with_energy / plain - 1):+.1f} % "
                    f"| {transient:.3g} s | {transient / plain:.1f}x |")
        print(rows[-1], flush=True)
    publish("bench_energy", f"python scripts/bench_energy.py --sizes {' '.join(map(str, args.sizes))} "
            f"--vectors {args.vectors}",
            f"{args.vectors} input vectors per run; times per batch, best of 3; the transient read includes the two "
            "transient runs (with and without capacitance) and the DC run that splits the resistive part",
            rows, not args.no_write)


if __name__ == "__main__":
    main()
