"""Round trip of the pulse-response fits (issue 27): for soft bounds and equal steps
(`levels`), 100 seeded trials draw the device (bounds, steps, step noise, read noise),
generate 3 runs of up-then-down pulse curves pulse by pulse, fit them back, and count how
often every parameter lies within its reported 2σ (target: ≥ 90 %); `auto` model selection
is scored on the same data; one fit of ~3,000 points is timed.

    python scripts/bench_fit_pulses.py            # the table into BENCHMARKS.md
    python scripts/bench_fit_pulses.py --trials 10
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

from bench_fit import publish  # noqa: E402

from spicenn.devices.pulses import PulseData, Trace, fit_model, fit_pulses  # noqa: E402


def draw(model: str, rng: np.random.Generator) -> dict[str, float]:
    g_min, g_max = float(rng.uniform(5e-6, 2e-5)), float(rng.uniform(8e-5, 1.5e-4))
    span = g_max - g_min
    truth = {"g_min": g_min, "g_max": g_max, "step_noise": float(rng.uniform(0.002, 0.006)) * span,
             "read_noise": float(rng.uniform(0.001, 0.006)) * span}
    if model == "soft-bounds":
        truth.update(alpha_up=float(rng.uniform(0.02, 0.06)) * span, alpha_down=float(rng.uniform(0.02, 0.06)) * span)
    else:
        truth.update(step=span / float(rng.integers(30, 60)))
    return truth


def curves(model: str, truth: dict[str, float], rng: np.random.Generator, runs: int = 3,
           pulses: int = 80) -> PulseData:
    """Every run: `pulses` up from near G_min, then `pulses` down, each step off by the step
    noise (the state keeps it), each reading off by the read noise."""
    g_min, g_max = truth["g_min"], truth["g_max"]
    traces = []
    for run in range(runs):
        g = g_min + float(rng.uniform(0.0, 0.1)) * (g_max - g_min)
        for direction in ("up", "down"):
            states = [g]
            for _ in range(pulses - 1):
                if model == "soft-bounds":
                    step = truth["alpha_up"] * (g_max - g) if direction == "up" else -truth["alpha_down"] * (g - g_min)
                    g = g + step / (g_max - g_min) + truth["step_noise"] * rng.standard_normal()
                else:
                    g = float(np.clip(g + (truth["step"] if direction == "up" else -truth["step"])
                                      + truth["step_noise"] * rng.standard_normal(), g_min, g_max))
                states.append(g)
            measured = np.array(states) + truth["read_noise"] * rng.standard_normal(pulses)
            traces.append(Trace(direction, measured, f"{direction} {run}"))
    return PulseData(traces, source="synthetic")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=100)
    args = parser.parse_args()
    rows = []
    for model in ("soft-bounds", "levels"):
        per_parameter: dict[str, list[bool]] = {}
        chosen, seconds, failed = 0, [], 0
        for trial in range(args.trials):
            rng = np.random.default_rng([trial, len(model)])
            truth = draw(model, rng)
            data = curves(model, truth, rng)
            started = time.perf_counter()
            try:
                fit = fit_model(data, model)
            except Exception:
                failed += 1
                for name in truth:
                    per_parameter.setdefault(name, []).append(False)
                continue
            seconds.append(time.perf_counter() - started)
            for name, value in truth.items():
                estimate = fit.parameters[name]
                per_parameter.setdefault(name, []).append(abs(estimate.value - value) <= 2 * estimate.std)
            chosen += fit_pulses(data, "auto").model == model
        rng = np.random.default_rng(99)
        truth = draw(model, rng)
        large = curves(model, truth, rng, runs=10, pulses=150)
        started = time.perf_counter()
        fit_model(large, model)
        large_seconds = time.perf_counter() - started
        every = [ok for v in per_parameter.values() for ok in v]
        rows.append({"model": model, "inside": float(np.mean(every)), "total": len(every), "failed": failed,
                     "per_parameter": {k: float(np.mean(v)) for k, v in per_parameter.items()},
                     "chosen": chosen / args.trials, "median_s": float(np.median(seconds)),
                     "large_points": sum(t.conductance.size for t in large.traces), "large_s": large_seconds})
        print(rows[-1], flush=True)
    publish("fit-pulses", f"`python scripts/bench_fit_pulses.py` ({args.trials} seeded trials per model; 3 runs "
            "of 80 pulses up then 80 down, generated pulse by pulse; step noise 0.2-0.6 % and read noise 0.1-0.6 % of "
            "the span drawn per trial)", "model", rows)


if __name__ == "__main__":
    main()
