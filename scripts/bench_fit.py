"""Round trip of the I-V fits (issue 27): for each static family, 100 seeded trials draw the
family's parameters, generate sweeps of 6 programmed states with 2 % multiplicative noise,
fit them back, and count how often every parameter lies within its reported 2σ (target:
≥ 90 %); `auto` model selection is scored on the same data; and one fit of ~3,000 points is
timed.

    python scripts/bench_fit.py            # the table into BENCHMARKS.md
    python scripts/bench_fit.py --trials 10
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

from bench_spice import write_section  # noqa: E402

from spicenn.devices import Linear, PooleFrenkel, PowerLaw, Sinh  # noqa: E402
from spicenn.devices.fit import fit_family, fit_iv  # noqa: E402
from spicenn.devices.measured import IVData  # noqa: E402

NOISE = 0.02


def draw(family: str, rng: np.random.Generator) -> tuple[Any, list[str]]:
    g = dict(g_off=float(rng.uniform(1e-6, 1e-5)), g_on=float(rng.uniform(5e-5, 2e-4)))
    if family == "linear":
        return Linear(**g), []
    if family == "sinh":
        return Sinh(k=float(rng.uniform(1.0, 5.0)), **g), ["k"]
    if family == "powerlaw":
        return PowerLaw(n=float(rng.uniform(2.0, 3.0)), **g), ["n"]
    return PooleFrenkel(a1=float(rng.uniform(-1.3, -0.9)), b1=float(rng.uniform(0.3, 0.9)),
                        a2=float(rng.uniform(-1.5, -1.1)), b2=float(rng.uniform(-26.5, -25.5)),
                        g_off=6.9e-4, g_on=3.45e-3), ["a1", "b1", "a2", "b2"]


def sweeps(device: Any, rng: np.random.Generator, states: int = 6, points: int = 81) -> IVData:
    v = np.linspace(-0.5, 0.5, points)
    g = np.geomspace(device.g_off, device.g_on, states)
    current = np.concatenate([device.current(v, np.full(v.shape, gi), np, {}) for gi in g])
    current = current * (1 + NOISE * rng.standard_normal(current.shape))
    return IVData(np.tile(v, states), current, np.repeat([str(k) for k in range(states)], points),
                  np.full(points * states, ""), resistance=np.repeat(1 / g, points))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=100)
    args = parser.parse_args()
    rows = []
    for family in ("linear", "sinh", "powerlaw", "poole-frenkel"):
        inside, total, chosen, seconds = 0, 0, 0, []
        per_parameter: dict[str, list[bool]] = {}
        for trial in range(args.trials):
            rng = np.random.default_rng([trial, len(family)])
            device, names = draw(family, rng)
            data = sweeps(device, rng)
            started = time.perf_counter()
            fit = fit_family(data, family, seed=trial)
            seconds.append(time.perf_counter() - started)
            checks = [abs(fit.parameters[name].value - getattr(device, name)) <= 2 * fit.parameters[name].std
                      for name in names]
            states = np.geomspace(device.g_off, device.g_on, 6)
            checks += [abs(e.value - g) <= 2 * e.std for e, g in zip(fit.states.values(), states)] \
                if family != "poole-frenkel" else []
            for name, ok in zip(names, checks):
                per_parameter.setdefault(name, []).append(ok)
            inside += sum(checks)
            total += len(checks)
            chosen += fit_iv(data, "auto", seed=trial).model == family
        rng = np.random.default_rng(99)
        device, _ = draw(family, rng)
        large = sweeps(device, rng, states=40, points=81)
        started = time.perf_counter()
        fit_iv(large, family)
        large_seconds = time.perf_counter() - started
        rows.append({"family": family, "inside": inside / total, "total": total,
                     "per_parameter": {k: float(np.mean(v)) for k, v in per_parameter.items()},
                     "chosen": chosen / args.trials, "median_s": float(np.median(seconds)),
                     "large_points": large.voltage.size, "large_s": large_seconds})
        print(rows[-1], flush=True)
    publish("fit", f"`python scripts/bench_fit.py` ({args.trials} seeded trials per family; 6 states x 81 points "
            f"from -0.5 to 0.5 V, {NOISE:.0%} multiplicative noise; every parameter and, but for Poole-Frenkel, "
            "every state's G checked)", "family", rows, "(G of each state)")


def publish(section: str, how: str, what: str, rows: list[dict[str, Any]], no_parameters: str = "") -> None:
    """The round-trip table (one row per model) into BENCHMARKS.md's `section`, and printed."""
    lines = [f"Machine: {platform.machine()}; {date.today().isoformat()}; {how}. Target: ≥ 90 % within 2σ.", "",
             f"| {what} | estimates within their 2σ | by parameter | failed fits | `auto` picks the {what} | "
             "median fit (s) | one fit of ~3,000 points (s) |", "|---|---:|---|---:|---:|---:|---:|"]
    for row in rows:
        by = ", ".join(f"{k} {v:.0%}" for k, v in row["per_parameter"].items()) or no_parameters
        lines.append(f"| {row[what]} | {row['inside']:.1%} of {row['total']} | {by} | {row.get('failed', 0)} | "
                     f"{row['chosen']:.0%} | {row['median_s']:.3f} | {row['large_s']:.2f} "
                     f"({row['large_points']} points) |")
    text = "\n".join(lines)
    write_section(ROOT / "BENCHMARKS.md", section, text)
    print(text)


if __name__ == "__main__":
    main()
