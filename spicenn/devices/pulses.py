"""Measured pulse-response (potentiation/depression) curves: read, checked, and fitted by the
soft-bounds update model.

Layouts read (CSV; `#` lines before the header hold settings `pulse_voltage`, `pulse_width`,
`read_voltage`):

* pairs (the shape of NeuroSim's curves): a `pulse` column and a `conductance` column (or
  `current` at `read_voltage`), optionally `direction` (up/down, set/reset, ltp/ltd) and
  `trace` (a repeated run);
* columns (the shape of two-trace up/down files and of set/reset files with repeated runs):
  one column per trace of the conductance after each identical pulse, named
  `up…`/`set…`/`ltp…` or `down…`/`reset…`/`ltd…` (e.g. `set_1, set_2, reset_1`). The peers'
  own files' exact headers are not matched yet.

The fit is aihwkit's soft-bounds model in conductance: every up pulse moves G by
α↑·(G_max − G)/(G_max − G_min), every down pulse by −α↓·(G − G_min)/(G_max − G_min), so a
trace from G0 is G_k = G_max − (G_max − G0)·(1 − α↑/ΔG)^k up and G_min + (G0 − G_min)·(1 −
α↓/ΔG)^k down — NeuroSim's exponential curve, whose normalised nonlinearity A/P (the pulses
over which it rises by 1 − 1/e of its span, over the trace's length) is reported too. Every
trace keeps its own start; G_min, G_max, α↑, α↓ are shared. Cycle-to-cycle noise is the
residuals' σ; device-to-device spread the σ of the parameters fitted to each trace pair alone.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InputError
from ..io import check_input_file
from .fit import Estimate
from .measured import MAX_DATA_BYTES, read_table

UP, DOWN = ("up", "set", "ltp", "potentiation"), ("down", "reset", "ltd", "depression")
MIN_PULSES = 4


@dataclass
class Trace:
    """Conductances (S) after each pulse of one direction, the first being before any pulse."""

    direction: str  # "up" | "down"
    conductance: np.ndarray
    label: str


@dataclass
class PulseData:
    traces: list[Trace]
    settings: dict[str, float] = field(default_factory=dict)
    source: str = ""
    sha256: str = ""


def _direction(name: str, where: str) -> str:
    key = name.strip().lower()
    if key.startswith(UP):
        return "up"
    if key.startswith(DOWN):
        return "down"
    raise InputError(f"{where}: {name!r} is not a direction (up/set/ltp or down/reset/ltd)")


def read_pulses(path: str | Path) -> PulseData:
    """The pulse-response traces of a CSV in either layout (see the module)."""
    path = check_input_file(path, "pulse data", max_bytes=MAX_DATA_BYTES)
    table = read_table(path)
    header = [name.lower() for name in table.header]
    scale = 1.0
    if "conductance" not in header and "current" in header:
        if "read_voltage" not in table.settings:
            raise InputError(f"{path.name}: currents need '# read_voltage = …' to become conductances")
        scale = 1.0 / table.settings["read_voltage"]
    traces: list[Trace] = []
    if "pulse" in header:
        value_column = header.index("conductance") if "conductance" in header else \
            header.index("current") if "current" in header else None
        if value_column is None:
            raise InputError(f"{path.name}: a 'pulse' column needs a 'conductance' (or 'current') column beside it")
        groups: dict[tuple[str, str], list[tuple[float, float]]] = {}
        for line, row in table.rows:
            where = f"{path.name}, line {line}"
            direction = _direction(row[header.index("direction")], where) if "direction" in header else "up"
            run = row[header.index("trace")].strip() if "trace" in header else "1"
            groups.setdefault((direction, run), []).append(
                (table.number(line, row, header.index("pulse")), table.number(line, row, value_column, scale)))
        for (direction, run), points in groups.items():
            ordered = sorted(points)
            traces.append(Trace(direction, np.array([g for _, g in ordered]), f"{direction} {run}"))
    else:
        for column, name in enumerate(table.header):
            direction = _direction(name, f"{path.name}, column {name!r}")
            values = [table.number(line, row, column, scale) for line, row in table.rows if row[column].strip()]
            traces.append(Trace(direction, np.array(values), name))
    for trace in traces:
        if trace.conductance.size < MIN_PULSES:
            raise InputError(f"{path.name}: trace {trace.label!r} has {trace.conductance.size} point(s); a fit needs "
                             f"at least {MIN_PULSES}")
        if trace.conductance.min() <= 0:
            raise InputError(f"{path.name}: trace {trace.label!r} has a conductance ≤ 0 "
                             f"({trace.conductance.min():g} S)")
    if not {t.direction for t in traces} >= {"up", "down"}:
        raise InputError(f"{path.name}: the soft-bounds fit needs at least one up and one down trace")
    return PulseData(traces, table.settings, path.name, hashlib.sha256(path.read_bytes()).hexdigest())


def soft_bounds_curve(g0: float, g_min: float, g_max: float, step: float, direction: str, pulses: int) -> np.ndarray:
    """The conductance after 0..pulses-1 pulses from g0 (the model; see the module)."""
    span = g_max - g_min
    factor = (1.0 - step / span) ** np.arange(pulses)
    return g_max - (g_max - g0) * factor if direction == "up" else g_min + (g0 - g_min) * factor


@dataclass
class PulseFit:
    """Soft-bounds parameters (S, S per pulse) with standard deviations, the symmetry point,
    NeuroSim's normalised nonlinearity per direction, cycle-to-cycle noise (σ of the
    residuals, S), device-to-device spread (σ over trace pairs, if several) and the model's
    conductance at every measured point (per trace)."""

    parameters: dict[str, Estimate]
    symmetry_point: float
    nonlinearity: dict[str, float]
    cycle_noise: float
    nrmse: float
    spread: dict[str, float]
    predicted: list[np.ndarray]

    def to_json(self) -> dict[str, Any]:
        return {"model": "soft-bounds", "parameters": {k: e.to_dict() for k, e in self.parameters.items()},
                "symmetry_point": self.symmetry_point, "nonlinearity": self.nonlinearity,
                "cycle_noise": self.cycle_noise, "nrmse": self.nrmse, "spread": self.spread,
                "predicted": [p.tolist() for p in self.predicted]}


def _fit(traces: list[Trace]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """θ = (G_min, G_max, α↑, α↓, each trace's G0), its covariance, the residuals."""
    from scipy.optimize import least_squares

    every = np.concatenate([t.conductance for t in traces])
    scale = float(np.ptp(every)) or float(every.max())
    low, high = float(every.min()), float(every.max())
    first = {d: np.mean([abs(t.conductance[1] - t.conductance[0]) for t in traces if t.direction == d]) or scale / 50
             for d in ("up", "down")}
    theta0 = np.array([low - 0.05 * scale, high + 0.05 * scale, first["up"], first["down"],
                       *[t.conductance[0] for t in traces]]) / scale

    def residuals(theta: np.ndarray) -> np.ndarray:
        g_min, g_max, up, down = theta[:4] * scale
        g_max = max(g_max, g_min + 1e-9 * scale)
        parts = [soft_bounds_curve(g0 * scale, g_min, g_max, up if t.direction == "up" else down, t.direction,
                                   t.conductance.size) - t.conductance for g0, t in zip(theta[4:], traces)]
        return np.concatenate(parts) / scale

    lower = np.array([-np.inf, -np.inf, 0.0, 0.0] + [-np.inf] * len(traces))
    solution = least_squares(residuals, theta0, bounds=(lower, np.inf), method="trf", x_scale="jac", xtol=1e-12,
                             ftol=1e-12, gtol=1e-12, max_nfev=5000)
    jacobian, residual = solution.jac, solution.fun
    dof = max(residual.size - theta0.size, 1)
    covariance = np.linalg.pinv(jacobian.T @ jacobian) * float((residual**2).sum()) / dof
    return solution.x * scale, covariance * scale**2, residual * scale


def fit_soft_bounds(data: PulseData) -> PulseFit:
    """The soft-bounds model fitted to every trace (see the module)."""
    theta, covariance, residual = _fit(data.traces)
    std = np.sqrt(np.maximum(np.diag(covariance), 0.0))
    names = ("g_min", "g_max", "alpha_up", "alpha_down")
    parameters = {name: Estimate(float(theta[k]), float(std[k])) for k, name in enumerate(names)}
    g_min, g_max, up, down = theta[:4]
    span = g_max - g_min
    predicted = [soft_bounds_curve(g0, g_min, g_max, up if t.direction == "up" else down, t.direction,
                                   t.conductance.size) for g0, t in zip(theta[4:], data.traces)]
    lengths = {d: np.mean([t.conductance.size - 1 for t in data.traces if t.direction == d]) for d in ("up", "down")}
    # NeuroSim's A: the pulses over which the curve covers 1 − 1/e of its span, over the trace's length
    nonlinearity = {d: float(-1.0 / math.log(max(1.0 - s / span, 1e-300)) / lengths[d])
                    for d, s in (("up", up), ("down", down))}
    every = np.concatenate([t.conductance for t in data.traces])
    spread: dict[str, float] = {}
    ups = [t for t in data.traces if t.direction == "up"]
    downs = [t for t in data.traces if t.direction == "down"]
    if min(len(ups), len(downs)) >= 2:  # each run's pair fitted alone: the spread between devices/runs
        alone = np.array([_fit([u, d])[0][:4] for u, d in zip(ups, downs)])
        spread = {name: float(np.std(alone[:, k], ddof=1)) for k, name in enumerate(names)}
    return PulseFit(parameters, float((up * g_max + down * g_min) / (up + down)), nonlinearity,
                    float(np.std(residual, ddof=min(theta.size, residual.size - 1))),
                    float(math.sqrt(float(np.mean(residual**2))) / float(np.ptp(every) or 1.0)), spread, predicted)


def programming_file_text(fit: PulseFit, data: PulseData) -> str:
    """The TOML programming file: [programming] (the model and its parameters), [fit] (the
    uncertainties and quality), [provenance]."""
    from datetime import date

    import tomli_w

    from ..version import __version__

    document = {"programming": {"model": "soft-bounds", **{k: e.value for k, e in fit.parameters.items()},
                                "cycle_noise": fit.cycle_noise, **{f"{k}_spread": v for k, v in fit.spread.items()},
                                **{k: v for k, v in data.settings.items() if k in ("pulse_voltage", "pulse_width")}},
                "fit": {"nrmse": fit.nrmse, "symmetry_point": fit.symmetry_point,
                        "nonlinearity": fit.nonlinearity,
                        "parameters": {k: e.to_dict() for k, e in fit.parameters.items()}},
                "provenance": {"data": data.source, "sha256": data.sha256, "date": date.today().isoformat(),
                               "spicenn": __version__}}
    return tomli_w.dumps(document)


def plot_pulse_fit(fit: PulseFit, data: PulseData, path: str | Path) -> None:
    """Every trace and its fitted curve against pulse number, as PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ..io import save_figure

    figure, axis = plt.subplots(figsize=(6, 4))
    offset = 0
    for k, (trace, model) in enumerate(zip(data.traces, fit.predicted)):
        pulses = offset + np.arange(trace.conductance.size)
        axis.plot(pulses, trace.conductance, ".", ms=3, color=f"C{k % 10}")
        axis.plot(pulses, model, "-", lw=1, color=f"C{k % 10}", label=trace.label)
        offset += trace.conductance.size
    axis.set_xlabel("pulse (traces one after another)")
    axis.set_ylabel("conductance (S)")
    axis.set_title(f"soft bounds: NRMSE {fit.nrmse:.3g}, cycle-to-cycle σ {fit.cycle_noise:.3g} S", fontsize=9)
    axis.legend(fontsize=7)
    figure.tight_layout()
    save_figure(figure, path)
