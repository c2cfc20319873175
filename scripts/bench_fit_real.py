"""Fits to real measured pulse-response data (issue 27): CrossSim's lookup-table example
(`set.csv`, `reset.csv`: one column of currents at a 0.1 V read per run of identical
pulses), read from a CrossSim checkout the user has; nothing is shipped or downloaded.

    python scripts/bench_fit_real.py PATH/TO/lookup_table_example
    (in a CrossSim clone: git show 39fd461:examples/lookup_table_generation/lookup_table_example/set.csv)

Every update model is fitted; for the chosen one the table gives the NRMSE, the residual σ,
the step and read noise, and — the target — the residuals against the data's own scatter:
at every pulse number, the RMS of the fitted curves' residuals over the runs beside the σ of
the measured conductances over the runs after removing each run's start (so both measure
how far runs stray from where they began), the median over pulse numbers of each.
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from datetime import date
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

from bench_spice import write_section  # noqa: E402

from spicenn.devices.pulses import PULSE_MODELS, fit_model, plot_pulse_fit, read_pulses  # noqa: E402
from spicenn.errors import InputError  # noqa: E402


def scatter(traces, predicted, direction: str) -> tuple[float, float]:
    """(median over pulse numbers of the residuals' RMS over runs, of the data's σ over runs
    of G_k − G_0)."""
    chosen = [(t.conductance, m) for t, m in zip(traces, predicted) if t.direction == direction]
    length = min(c.size for c, _ in chosen)
    residual = np.array([(c - m)[:length] for c, m in chosen])
    moved = np.array([(c - c[0])[:length] for c, _ in chosen])
    return float(np.median(np.sqrt(np.mean(residual[:, 1:] ** 2, axis=0)))), \
        float(np.median(np.std(moved[:, 1:], axis=0, ddof=1)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    args = parser.parse_args()
    data = read_pulses(args.folder / "set.csv", args.folder / "reset.csv", read_voltage=0.1)
    points = sum(t.conductance.size for t in data.traces)
    rows, fits = [], {}
    for model in PULSE_MODELS:
        started = time.perf_counter()
        try:
            fits[model] = fit_model(data, model)
        except InputError as error:
            rows.append(f"| {model} | failed: {error} | | | | | | |")
            continue
        seconds = time.perf_counter() - started
        fit = fits[model]
        up, up_data = scatter(data.traces, fit.predicted, "up")
        down, down_data = scatter(data.traces, fit.predicted, "down")
        rows.append(f"| {model} | {fit.nrmse:.4f} | {fit.residual_std:.3g} | {fit.cycle_noise:.3g} | "
                    f"{fit.read_noise:.3g} | {fit.bic:.0f} | {up:.3g} vs {up_data:.3g} ; {down:.3g} vs {down_data:.3g} "
                    f"| {seconds:.1f} |")
        print(rows[-1], flush=True)
    best = min(fits.values(), key=lambda f: f.bic)
    figure = ROOT / "docs" / "benchmarks" / "fit-crosssim-example.png"
    plot_pulse_fit(best, data, figure)
    text = "\n".join([
        f"Machine: {platform.machine()}; {date.today().isoformat()}; `python scripts/bench_fit_real.py FOLDER`. "
        f"Data: CrossSim's lookup-table example (sandialabs/cross-sim, commit 39fd461, "
        "`examples/lookup_table_generation/lookup_table_example/set.csv` and `reset.csv`; the device is not named "
        f"there): {sum(t.direction == 'up' for t in data.traces)} set runs and "
        f"{sum(t.direction == 'down' for t in data.traces)} reset runs, {points} readings, currents at 0.1 V "
        "(CrossSim's own script divides by 0.1 V). Not shipped. Least BIC: "
        f"**{best.model}**; its fit: `docs/benchmarks/fit-crosssim-example.png`.", "",
        "| model | NRMSE | residual σ (S) | step noise σ (S/pulse) | read noise σ (S) | BIC | "
        "residual RMS vs the data's own run-to-run σ, up ; down (S, medians over pulse numbers) | fit (s) |",
        "|---|---:|---:|---:|---:|---:|---|---:|", *rows])
    write_section(ROOT / "BENCHMARKS.md", "fit-real", text)
    print(text)


if __name__ == "__main__":
    main()
