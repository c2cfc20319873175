"""What the shared engine's time limit costs: ngspice's background run waited for on its
end-of-run callback (`SharedEngine._run_bounded`) against the foreground `run` command,
interleaved in one process. (`SharedEngine.run` keeps netlists under FOREGROUND_LINES lines
in the foreground, where the hand-off would be a large share.)

    python scripts/bench_shared_bounded.py
"""

from __future__ import annotations

import time

import numpy as np

import spicenn
import spicenn.spice.engines
from spicenn.spice.engines import SharedEngine, get_engine


def main() -> None:
    engine = get_engine("shared")
    rng = np.random.default_rng(0)
    cases = {"3x2 linear, 2 vectors": (spicenn.Crossbar(rng.uniform(1e-6, 1e-4, (3, 2))), rng.uniform(0, 0.5, (2, 3))),
             "32x32 sinh, 1 ohm wires, 16 vectors": (
                 spicenn.Crossbar(rng.uniform(1e-6, 1e-4, (32, 32)), device="sinh", r_word=1.0, r_bit=1.0),
                 rng.uniform(0, 0.5, (16, 32)))}
    bounded = SharedEngine._run_bounded
    spicenn.spice.engines.FOREGROUND_LINES = 0  # every run through the path under test

    def foreground(self: SharedEngine) -> str:
        return self._command("run")

    print("| case | foreground `run` (median) | bounded `bg_run` (median) | ratio |")
    print("| --- | --- | --- | --- |")
    for name, (crossbar, voltages) in cases.items():
        rounds = 40 if crossbar.rows < 10 else 12
        times: dict[str, list[float]] = {"fg": [], "bg": []}
        for _ in range(rounds):
            for key, method in (("fg", foreground), ("bg", bounded)):
                SharedEngine._run_bounded = method  # type: ignore[method-assign]
                started = time.perf_counter()
                spicenn.simulate(crossbar, voltages, engine=engine)
                times[key].append(time.perf_counter() - started)
        SharedEngine._run_bounded = bounded  # type: ignore[method-assign]
        fg, bg = (float(np.median(times[k])) for k in ("fg", "bg"))
        print(f"| {name} | {1e3 * fg:.2f} ms | {1e3 * bg:.2f} ms | {bg / fg:.3f} |")


if __name__ == "__main__":
    main()
