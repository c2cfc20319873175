"""Measured pulse-response (potentiation/depression) curves: read, checked, and fitted by an
update (programming) model.

Layouts read (CSV; `#` lines before the header hold settings `pulse_voltage`, `pulse_width`,
`read_voltage`):

* pairs (the shape of NeuroSim's curves): a `pulse` column and a `conductance` column (or
  `current` at `read_voltage`), optionally `direction` (up/down, set/reset, ltp/ltd) and
  `trace` (a repeated run);
* columns (the shape of two-trace up/down files and of set/reset files with repeated runs):
  one column per trace of the conductance after each identical pulse, named
  `up…`/`set…`/`ltp…` or `down…`/`reset…`/`ltd…` (e.g. `set_1, set_2, reset_1`), or named
  anyhow in a file whose name gives the direction — CrossSim's `set.csv` and `reset.csv`
  (columns `rmp1, rmp2, …` of currents: `read_voltage`). Several files are one data set.

Models (`fit_pulses(data, model)`; `auto` keeps the least BIC):

* `soft-bounds` — aihwkit's soft-bounds model in conductance: every up pulse moves G by
α↑·(G_max − G)/(G_max − G_min), every down pulse by −α↓·(G − G_min)/(G_max − G_min), so a
trace from G0 is G_k = G_max − (G_max − G0)·(1 − α↑/ΔG)^k up and G_min + (G0 − G_min)·(1 −
α↓/ΔG)^k down — NeuroSim's exponential curve, whose normalised nonlinearity A/P (the pulses
over which it rises by 1 − 1/e of its span, over the trace's length) is reported too;
* `levels` — equal steps up and down between hard bounds (G_min, G_max, the step; the number
  of levels is the span over the step, rounded);
* `piecewise` — the mean step up and down in bins of G (aihwkit's piecewise-step device),
  each bin's mean with its standard error; not fitted by least squares but measured.

Noise comes in two kinds that a pulse curve tells apart: a step noise η (cycle-to-cycle:
each pulse lands off its mean, and the error stays in the state) and a read noise ε (each
measurement off the true G): G_{k+1} = f(G_k) + η_k, y_k = G_k + ε_k. The fit is maximum
likelihood of that state-space model — the Kalman filter's innovations give the exact
Gaussian likelihood for soft bounds (f affine in G), linearised for levels and piecewise —
over the shared parameters, σ_η and σ_ε (each trace's start diffuse: the filter starts from
its first reading), by L-BFGS-B from the least-squares mean curves; the covariance is the
inverse Hessian. A curve fit alone would take
accumulated step noise for independent errors and understate the uncertainties (measured:
2σ covered ~78 % of the truths with step noise, against 97-99 % here). Device-to-device
spread: the σ of the parameters of each up/down run pair's own least-squares fit. AIC/BIC
from the likelihood choose between the models (the piecewise table's bins count as
parameters).
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InputError
from ..io import check_input_file
from .dynamic import VTEAM, DynamicDevice
from .fit import Estimate
from .measured import MAX_DATA_BYTES, find_column, read_table
from .programming import DiscreteLevels, PiecewiseSteps, ProgrammingModel, SoftBounds, programming_to_dict

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


def _direction(name: str, where: str, fallback: str = "") -> str:
    """up or down from a column's name, else from `fallback` (the file's name: set.csv)."""
    for key in (name.strip().lower(), fallback.strip().lower()):
        if key.startswith(UP):
            return "up"
        if key.startswith(DOWN):
            return "down"
    raise InputError(f"{where}: {name!r} is not a direction (up/set/ltp or down/reset/ltd)"
                     + (", nor is the file's name" if fallback else ""))


def read_pulses(*paths: str | Path, read_voltage: float | None = None) -> PulseData:
    """The pulse-response traces of one or more CSVs in either layout (see the module), e.g.
    CrossSim's set.csv and reset.csv (a column per run; the direction from the file's name).
    `read_voltage`: the values without a unit are currents read at this voltage."""
    if not paths:
        raise InputError("no pulse data file given")
    parts = [_read_pulse_file(path, read_voltage) for path in paths]
    traces = [trace for part in parts for trace in part.traces]
    source = ", ".join(part.source for part in parts)
    if not {t.direction for t in traces} >= {"up", "down"}:
        raise InputError(f"{source}: a fit needs at least one up and one down trace")
    settings = {k: v for part in parts for k, v in part.settings.items()}
    digest = hashlib.sha256("".join(part.sha256 for part in parts).encode()).hexdigest() if len(parts) > 1 \
        else parts[0].sha256
    return PulseData(traces, settings, source, digest)


def _read_pulse_file(path: str | Path, read_voltage: float | None) -> PulseData:
    path = check_input_file(path, "pulse data", max_bytes=MAX_DATA_BYTES)
    table = read_table(path)
    if read_voltage is not None:
        table.settings.setdefault("read_voltage", read_voltage)
    header = [name.strip().lower() for name in table.header]
    found_g, found_i = find_column(table.header, ("conductance", "g")), find_column(table.header, ("current", "i"))
    found_pulse = find_column(table.header, ("pulse", "pulses"))
    if found_g is None and found_i is not None and "read_voltage" not in table.settings:
        raise InputError(f"{path.name}: currents need '# read_voltage = …' to become conductances")
    traces: list[Trace] = []
    if found_pulse is not None:
        if found_g is None and found_i is None:
            raise InputError(f"{path.name}: a 'pulse' column needs a 'conductance' (or 'current') column beside it")
        value_column, scale = found_g if found_g is not None else \
            (found_i[0], found_i[1] / table.settings["read_voltage"])  # type: ignore[index]
        groups: dict[tuple[str, str], list[tuple[float, float]]] = {}
        for line, row in table.rows:
            where = f"{path.name}, line {line}"
            direction = _direction(row[header.index("direction")], where) if "direction" in header else "up"
            run = row[header.index("trace")].strip() if "trace" in header else "1"
            groups.setdefault((direction, run), []).append(
                (table.number(line, row, found_pulse[0]), table.number(line, row, value_column, scale)))
        for (direction, run), points in groups.items():
            ordered = sorted(points)
            traces.append(Trace(direction, np.array([g for _, g in ordered]), f"{direction} {run}"))
    else:  # one column per trace, named by its direction; a unit in brackets: "set_1 (uS)", "up (uA)"
        for column, name in enumerate(table.header):
            label = name.split("(")[0].split("[")[0].strip()
            found = find_column([name], (label.lower(),))
            scale = found[1] if found is not None else 1.0
            if name.strip().lower().endswith(("a)", "a]")):  # a current: at the read voltage
                if "read_voltage" not in table.settings:
                    raise InputError(f"{path.name}: currents need '# read_voltage = …' to become conductances")
                scale /= table.settings["read_voltage"]
            direction = _direction(label, f"{path.name}, column {name!r}", fallback=path.stem)
            if read_voltage is not None and label == name.strip():  # bare numbers: currents at the read voltage
                scale = 1.0 / read_voltage
            values = [table.number(line, row, column, scale) for line, row in table.rows if row[column].strip()]
            traces.append(Trace(direction, np.array(values), label))
    for trace in traces:
        if trace.conductance.size < MIN_PULSES:
            raise InputError(f"{path.name}: trace {trace.label!r} has {trace.conductance.size} point(s); a fit needs "
                             f"at least {MIN_PULSES}")
        if trace.conductance.min() <= 0:
            raise InputError(f"{path.name}: trace {trace.label!r} has a conductance ≤ 0 "
                             f"({trace.conductance.min():g} S)")
    return PulseData(traces, table.settings, path.name, hashlib.sha256(path.read_bytes()).hexdigest())


def soft_bounds_curve(g0: float, g_min: float, g_max: float, step: float, direction: str, pulses: int) -> np.ndarray:
    """The conductance after 0..pulses-1 pulses from g0 (the model; see the module)."""
    span = g_max - g_min
    factor = (1.0 - step / span) ** np.arange(pulses)
    return g_max - (g_max - g0) * factor if direction == "up" else g_min + (g0 - g_min) * factor


def levels_curve(g0: float, g_min: float, g_max: float, step: float, direction: str, pulses: int) -> np.ndarray:
    """Equal steps from g0, held within [g_min, g_max]."""
    sign = 1.0 if direction == "up" else -1.0
    return np.clip(g0 + sign * step * np.arange(pulses), g_min, g_max)


def vteam_curve(g0: float, g_min: float, g_max: float, rate: float, direction: str, pulses: int) -> np.ndarray:
    """VTEAM (window p = 1, R linear in x) under identical pulses from g0: the moving
    coordinate (1 − x up, toward R_on; x down) goes to tanh(atanh(u0) + k·K·w) after k pulses."""
    r_on, r_span = 1.0 / g_max, 1.0 / g_min - 1.0 / g_max
    x0 = min(max((1.0 / g0 - r_on) / r_span, 0.0), 1.0 - 1e-12) if g0 > 0 else 1.0 - 1e-12
    moving0 = min(1.0 - x0, 1.0 - 1e-12) if direction == "up" else x0
    moved = np.tanh(np.arctanh(moving0) + rate * np.arange(pulses))
    x = 1.0 - moved if direction == "up" else moved
    return 1.0 / (r_on + r_span * x)


@dataclass
class PulseFit:
    """An update model fitted to pulse curves: its parameters (S, S per pulse) with standard
    deviations, the programming model they give, the quality of fit (NRMSE of the curves over
    their span, the residuals' σ, AIC/BIC), the noise split into cycle-to-cycle step noise and
    read noise (σ's, S), the device-to-device spread (σ over run pairs, if several), and the
    model's conductance at every measured point (per trace). Soft bounds add the symmetry
    point and NeuroSim's normalised nonlinearity per direction."""

    model: str
    parameters: dict[str, Estimate]
    programming: ProgrammingModel
    nrmse: float
    residual_std: float
    cycle_noise: float
    read_noise: float
    aic: float
    bic: float
    spread: dict[str, float]
    predicted: list[np.ndarray]
    symmetry_point: float | None = None
    nonlinearity: dict[str, float] = field(default_factory=dict)
    device: DynamicDevice | None = None  # a kinetic fit's dynamic device (its programming: the step table)
    comparison: dict[str, dict[str, Any]] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"model": self.model, "parameters": {k: e.to_dict() for k, e in self.parameters.items()},
                "programming": programming_to_dict(self.programming), "nrmse": self.nrmse,
                "residual_std": self.residual_std, "cycle_noise": self.cycle_noise, "read_noise": self.read_noise,
                "aic": self.aic, "bic": self.bic, "spread": self.spread, "symmetry_point": self.symmetry_point,
                "nonlinearity": self.nonlinearity, "comparison": self.comparison,
                **({"device": self.device.to_dict()} if self.device is not None else {}),
                "predicted": [p.tolist() for p in self.predicted]}


PULSE_MODELS = ("soft-bounds", "levels", "piecewise")
KINETIC_MODELS = ("vteam",)  # dynamic models whose kinetics a pulse curve at a stated pulse gives
_SHARED = {"soft-bounds": ("g_min", "g_max", "alpha_up", "alpha_down"), "levels": ("g_min", "g_max", "step"),
           "vteam": ("g_min", "g_max", "rate_up", "rate_down")}


def _curves(model: str, shared: np.ndarray, starts: np.ndarray, traces: list[Trace]) -> list[np.ndarray]:
    if model == "vteam":
        g_min, g_max, up, down = shared
        return [vteam_curve(g0, g_min, g_max, up if t.direction == "up" else down, t.direction, t.conductance.size)
                for g0, t in zip(starts, traces)]
    if model == "soft-bounds":
        g_min, g_max, up, down = shared
        g_max = max(g_max, g_min * (1 + 1e-9) + 1e-30)
        return [soft_bounds_curve(g0, g_min, g_max, up if t.direction == "up" else down, t.direction,
                                  t.conductance.size) for g0, t in zip(starts, traces)]
    g_min, g_max, step = shared
    return [levels_curve(g0, g_min, g_max, step, t.direction, t.conductance.size) for g0, t in zip(starts, traces)]


def _iterated(transition, traces: list[Trace]) -> list[np.ndarray]:
    """The mean curves a one-pulse map gives from each trace's first reading (all traces at once)."""
    sign = np.array([1.0 if t.direction == "up" else -1.0 for t in traces])
    g = np.array([[t.conductance[0] for t in traces]])
    steps = [g[0]]
    for _ in range(max(t.conductance.size for t in traces) - 1):
        g = transition(g, sign)[0]
        steps.append(g[0])
    curves = np.array(steps)
    return [curves[:t.conductance.size, k] for k, t in enumerate(traces)]


def _least_squares(model: str, traces: list[Trace]) -> np.ndarray:
    """θ = (the model's shared parameters, each trace's G0) of the mean curves nearest the data
    (least squares): the likelihood's starting point, and each run pair's own fit for the spread."""
    from scipy.optimize import least_squares

    every = np.concatenate([t.conductance for t in traces])
    scale = float(np.ptp(every)) or float(every.max())
    low, high = float(every.min()), float(every.max())
    first = {d: np.mean([abs(t.conductance[1] - t.conductance[0]) for t in traces if t.direction == d]) or scale / 50
             for d in ("up", "down")}
    mean_step = float(np.median([np.mean(np.abs(np.diff(t.conductance))) for t in traces]))
    shared0 = [low - 0.05 * scale, high + 0.05 * scale, first["up"], first["down"]] if model == "soft-bounds" \
        else [low, high, mean_step] if model == "levels" else [0.9 * low, 1.1 * high, 0.05, 0.05]
    count = len(shared0)
    theta0 = np.array([*shared0, *[t.conductance[0] for t in traces]]) / scale

    def residuals(theta: np.ndarray) -> np.ndarray:
        curves = _curves(model, theta[:count] * scale, theta[count:] * scale, traces)
        return np.concatenate([c - t.conductance for c, t in zip(curves, traces)]) / scale

    # hard bounds the data never reach leave the curves unchanged (no gradient): keep them near the data
    bound = -np.inf if model == "soft-bounds" else 0.5 * low / scale if model == "levels" else 1e-6 * low / scale
    lower = np.array([bound, bound] + [0.0] * (count - 2) + [-np.inf] * len(traces))
    upper = np.full(theta0.size, np.inf)
    upper[:2] = 2.0 * high / scale if model == "levels" else np.inf
    starts = [theta0]
    if model == "vteam":  # a trace starting beyond a bound is clipped flat there: start from several bounds
        starts = [np.concatenate([[a * low / scale, b * high / scale], theta0[2:4] * rate, theta0[4:]])
                  for a in (0.5, 0.9) for b in (1.1, 1.5, 3.0, 8.0) for rate in (0.2, 1.0)]
    solutions = [least_squares(residuals, np.clip(start, lower, upper), bounds=(lower, upper), method="trf",
                               x_scale="jac", xtol=1e-12, ftol=1e-12, gtol=1e-12, max_nfev=5000) for start in starts]
    return min(solutions, key=lambda solution: solution.cost).x * scale


def _bins(traces: list[Trace]) -> np.ndarray:
    """Bin edges over the measured range: about 25 steps a bin, 2 to 12 bins."""
    every = np.concatenate([t.conductance for t in traces])
    steps = sum(t.conductance.size - 1 for t in traces)
    return np.linspace(every.min(), every.max(), int(np.clip(steps // 50, 2, 12)) + 1)


def _piecewise(traces: list[Trace], edges: np.ndarray) -> tuple[PiecewiseSteps, dict[str, Estimate]]:
    """Each bin's mean step up and down (magnitudes) from the measured steps that start in it;
    an empty bin takes its neighbours' values (linear), a mean ≤ 0 a thousandth of the span."""
    centres = 0.5 * (edges[1:] + edges[:-1])
    span = float(edges[-1] - edges[0])
    parameters: dict[str, Estimate] = {"g_min": Estimate(float(edges[0]), 0.0),
                                       "g_max": Estimate(float(edges[-1]), 0.0)}
    tables = {}
    for direction in ("up", "down"):
        start = np.concatenate([t.conductance[:-1] for t in traces if t.direction == direction])
        step = np.concatenate([np.diff(t.conductance) for t in traces if t.direction == direction])
        step = step if direction == "up" else -step
        which = np.clip(np.searchsorted(edges, start, side="right") - 1, 0, centres.size - 1)
        means, errors = np.full(centres.size, np.nan), np.zeros(centres.size)
        for k in range(centres.size):
            chosen = step[which == k]
            if chosen.size:
                means[k] = chosen.mean()
                errors[k] = chosen.std(ddof=1) / math.sqrt(chosen.size) if chosen.size > 1 else 0.0
        known = ~np.isnan(means)
        means = np.maximum(np.interp(centres, centres[known], means[known]), 1e-3 * span)
        tables[direction] = means
        parameters.update({f"{direction}_{k}": Estimate(float(m), float(e))
                           for k, (m, e) in enumerate(zip(means, errors))})
    model = PiecewiseSteps(g_min=float(edges[0]), g_max=float(edges[-1]), points=tuple(map(float, centres)),
                           up_steps=tuple(map(float, tables["up"])), down_steps=tuple(map(float, tables["down"])))
    return model, parameters


def _transition(model: str, shared: np.ndarray, table: PiecewiseSteps | None = None):
    """The model's mean map G_k -> G_{k+1} for one pulse and its derivative, on arrays (rows:
    parameter sets, `shared` (P, count); columns: traces, whose directions are `sign`, +1 up)."""
    if model == "soft-bounds":
        g_min, g_max, up, down = (shared[:, k, None] for k in range(4))
        span = np.maximum(g_max - g_min, 1e-30)

        def soft(g: np.ndarray, sign: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            rate = np.where(sign > 0, up, down) / span
            return g + rate * np.where(sign > 0, g_max - g, g_min - g), 1.0 - rate
        return soft
    if model == "vteam":  # window p = 1: under a pulse, x -> tanh(atanh(x) + K·w) (closed form)
        g_min, g_max, up, down = (shared[:, k, None] for k in range(4))
        r_on, r_span = 1.0 / np.maximum(g_max, 1e-30), 1.0 / np.maximum(g_min, 1e-30) - 1.0 / np.maximum(g_max, 1e-30)

        def kinetic(g: np.ndarray, sign: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            x = np.clip((1.0 / np.maximum(g, 1e-30) - r_on) / r_span, 1e-12, 1.0 - 1e-12)
            moving = np.where(sign > 0, 1.0 - x, x)  # potentiation moves x toward 0 (R_on)
            moved = np.tanh(np.arctanh(moving) + np.where(sign > 0, up, down))
            x_new = np.where(sign > 0, 1.0 - moved, moved)
            g_new = 1.0 / (r_on + r_span * x_new)
            return g_new, (g_new / g) ** 2 * (1.0 - moved**2) / np.maximum(1.0 - moving**2, 1e-300)
        return kinetic
    if model == "levels":
        g_min, g_max, step = (shared[:, k, None] for k in range(3))

        def level(g: np.ndarray, sign: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            moved = g + sign * step
            return np.clip(moved, g_min, g_max), ((moved > g_min) & (moved < g_max)).astype(float)
        return level
    assert table is not None
    points = np.array(table.points)
    slopes = {1.0: np.diff(table.up_steps) / np.diff(points), -1.0: -np.diff(table.down_steps) / np.diff(points)}

    def piecewise(g: np.ndarray, sign: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        segment = np.clip(np.searchsorted(points, g) - 1, 0, points.size - 2)
        within = (g > points[0]) & (g < points[-1])
        up, down = table.mean_steps(g)
        step = np.where(sign > 0, up, -down)
        slope = np.where(within, np.where(sign > 0, slopes[1.0][segment], slopes[-1.0][segment]), 0.0)
        moved = g + step
        inside = (moved > table.g_min) & (moved < table.g_max)
        return np.clip(moved, table.g_min, table.g_max), np.where(inside, 1.0 + slope, 0.0)
    return piecewise


def _negative_log_likelihood(transition, step_noise: np.ndarray, read_noise: np.ndarray, measured: np.ndarray,
                             mask: np.ndarray, sign: np.ndarray) -> np.ndarray:
    """−ln L of the traces (rows of `measured`, `mask` where measured) under G_{k+1} = f(G_k) + η,
    y_k = G_k + ε (η, ε Gaussian), for P parameter sets at once (the σ's (P,)): the Kalman
    filter's innovations, linearised where f is not linear (exact for soft bounds, whose f is
    affine). Each trace's start is diffuse (any G): the filter starts from its first reading,
    G_0 ~ N(y_0, σ_ε²), and the likelihood is that of the readings after it."""
    count = step_noise.shape[0]
    estimate = np.broadcast_to(measured[:, 0], (count, measured.shape[0])).astype(float)
    step_variance, read_variance = step_noise[:, None] ** 2, read_noise[:, None] ** 2
    variance = np.broadcast_to(read_variance, estimate.shape).astype(float)
    estimate, slope = transition(estimate, sign)
    variance = slope**2 * variance + np.where(slope > 0, step_variance, 0.0)
    total = np.zeros(count)
    for k in range(1, measured.shape[1]):
        seen = mask[:, k]
        innovation = measured[:, k] - estimate
        spread = variance + read_variance
        total += np.sum(np.where(seen, np.log(spread) + innovation**2 / spread, 0.0), axis=1)
        gain = np.where(seen, variance / spread, 0.0)
        estimate, variance = estimate + gain * innovation, (1.0 - gain) * variance
        estimate, slope = transition(estimate, sign)
        # a step clipped at a hard bound (slope 0) lands on the bound itself: no step noise there
        variance = slope**2 * variance + np.where(slope > 0, step_variance, 0.0)
    return 0.5 * total + 0.5 * float(mask[:, 1:].sum()) * math.log(2 * math.pi)


def _maximum_likelihood(model: str, traces: list[Trace], shared0: np.ndarray, table: PiecewiseSteps | None = None
                        ) -> tuple[np.ndarray, np.ndarray, float]:
    """θ = (the shared parameters, σ_step, σ_read) at the maximum of the likelihood (L-BFGS-B;
    gradients and Hessian by central differences, every shifted point of one evaluated
    together), its covariance (the inverse Hessian of −ln L) and −ln L."""
    from scipy.optimize import minimize

    length = max(t.conductance.size for t in traces)
    measured = np.zeros((len(traces), length))
    mask = np.zeros((len(traces), length), dtype=bool)
    for row, trace in enumerate(traces):
        measured[row, :trace.conductance.size] = trace.conductance
        mask[row, :trace.conductance.size] = True
    sign = np.array([1.0 if t.direction == "up" else -1.0 for t in traces])
    scale = float(np.ptp(measured[mask])) or float(measured.max())
    noise0 = max(float(np.std(np.concatenate([np.diff(np.diff(t.conductance)) for t in traces]))) / 2, 1e-6 * scale)
    count = shared0.size
    floor = math.log(1e-7)  # σ's no smaller than 1e-7 of the span: ln σ stays finite
    size = count + 2
    lower = np.full(size, -np.inf)
    lower[count:count + 2] = floor
    if table is None:
        lower[2:count] = 0.0
    upper = np.full(size, np.inf)
    if model == "levels":  # hard bounds near the data (one the data never reach has no gradient)
        lower[:2], upper[:2] = 0.5 * float(measured[mask].min()) / scale, 2.0 * float(measured[mask].max()) / scale

    def batch(phis: np.ndarray) -> np.ndarray:
        with np.errstate(all="ignore"):  # trial points outside the model's domain: +inf, replaced below
            return _batch(phis)

    def _batch(phis: np.ndarray) -> np.ndarray:
        phis = np.clip(phis, lower, upper)  # a central difference at a bound: held in the domain
        shared = phis[:, :count] * scale
        values = _negative_log_likelihood(
            _transition(model, shared, table), np.exp(phis[:, count]) * scale, np.exp(phis[:, count + 1]) * scale,
            measured, mask, sign)
        if table is None:
            values[shared[:, 1] <= shared[:, 0]] = 1e30
        return np.where(np.isfinite(values), values, 1e30)

    steps = 1e-5 * np.ones(size)

    def value_and_gradient(phi: np.ndarray) -> tuple[float, np.ndarray]:
        shifted = np.vstack([phi, phi + np.diag(steps), phi - np.diag(steps)])
        values = batch(shifted)
        return float(values[0]), (values[1:size + 1] - values[size + 1:]) / (2 * steps)

    phi0 = np.concatenate([shared0 / scale, [math.log(noise0 / scale)] * 2])
    bounds = [(None if math.isinf(a) else a, None if math.isinf(b) else b) for a, b in zip(lower, upper)]
    if model == "levels":
        phi0[:2] = np.clip(phi0[:2], lower[:2] * 1.01, upper[:2] * 0.99)
    best = minimize(value_and_gradient, np.clip(phi0, lower, upper), jac=True, method="L-BFGS-B", bounds=bounds,
                    options={"maxiter": 3000, "ftol": 1e-15, "gtol": 1e-9})
    phi = best.x
    if model == "levels" and np.any(np.isclose(phi[:2], lower[:2], rtol=1e-6) | np.isclose(phi[:2], upper[:2],
                                                                                             rtol=1e-6)):
        raise InputError("the curves never reach a hard bound: equal steps (levels) need traces that saturate")
    h = 1e-4 * np.ones(size)
    eye = np.diag(h)
    pairs = [(i, j) for i in range(size) for j in range(i, size)]
    corners = np.array([phi + a * eye[i] + b * eye[j] for i, j in pairs for a, b in ((1, 1), (1, -1), (-1, 1),
                                                                                        (-1, -1))])
    values = batch(corners).reshape(len(pairs), 4)
    hessian = np.zeros((size, size))
    for (i, j), (pp, pm, mp, mm) in zip(pairs, values):
        hessian[i, j] = hessian[j, i] = (pp - pm - mp + mm) / (4 * h[i] * h[j])
    if not np.all(np.isfinite(hessian)) or np.any(np.abs(hessian) >= 1e29):
        raise InputError(f"the {model} likelihood is not smooth at its maximum (a bound or a noise at its limit): "
                         "no uncertainties")
    covariance = np.linalg.pinv(hessian)
    to_siemens = np.concatenate([np.full(count, scale), np.exp(phi[count:count + 2]) * scale])
    theta = np.concatenate([phi[:count] * scale, np.exp(phi[count:count + 2]) * scale])
    return theta, covariance * np.outer(to_siemens, to_siemens), float(best.fun)


def _programming(model: str, shared: np.ndarray) -> ProgrammingModel:
    if model == "soft-bounds":
        g_min, g_max, up, down = map(float, shared)
        span = g_max - g_min
        return SoftBounds(g_min=g_min, g_max=g_max, alpha_up=min(up / span, 1.0), alpha_down=min(down / span, 1.0))
    g_min, g_max, step = map(float, shared)
    return DiscreteLevels(g_max=g_max, dynamic_range=g_max / g_min, levels=max(round((g_max - g_min) / step) + 1, 2))


def _kinetic_device(data: PulseData, shared: np.ndarray) -> tuple[VTEAM, dict[str, tuple[str, float]]]:
    """The VTEAM device whose closed-form pulse response is the fitted one at the measured
    pulses: R_on = 1/G_max, R_off = 1/G_min, and k_on, k_off from K·w per pulse at the stated
    amplitude (`pulse_voltage`, or `pulse_voltage_up`/`_down`) and `pulse_width`, the
    thresholds and exponents kept from spicenn's VTEAM preset (one amplitude cannot tell an
    exponent from a rate). Also each rate's factor from K·w, for its uncertainty."""
    settings = data.settings
    if "pulse_width" not in settings or not {"pulse_voltage", "pulse_voltage_up"} & set(settings) or \
            not {"pulse_voltage", "pulse_voltage_down"} & set(settings):
        raise InputError(f"{data.source}: a kinetic fit needs the pulses: '# pulse_voltage = …' (or "
                         "pulse_voltage_up and pulse_voltage_down) and '# pulse_width = …' (s)")
    width = settings["pulse_width"]
    up = abs(settings.get("pulse_voltage_up", settings.get("pulse_voltage", 0.0)))
    down = abs(settings.get("pulse_voltage_down", settings.get("pulse_voltage", 0.0)))
    preset = VTEAM()
    if up <= -preset.v_on or down <= preset.v_off:
        raise InputError(f"{data.source}: pulses of {up:g} V (up) and {down:g} V (down) do not pass the VTEAM "
                         f"thresholds ({preset.v_on:g} V, {preset.v_off:g} V): they would not move the state")
    factor_on = 1.0 / width / (up / -preset.v_on - 1.0) ** preset.alpha_on
    factor_off = 1.0 / width / (down / preset.v_off - 1.0) ** preset.alpha_off
    g_min, g_max, rate_up, rate_down = map(float, shared)
    device = dataclasses.replace(preset, r_on=1.0 / g_max, r_off=1.0 / g_min, k_on=rate_up * factor_on,
                                 k_off=rate_down * factor_off, window_p=1)
    return device, {"k_on": ("rate_up", factor_on), "k_off": ("rate_down", factor_off)}


def _step_table(model: str, shared: np.ndarray, points: int = 16) -> PiecewiseSteps:
    """A kinetic fit's mean steps up and down tabulated over its range: its programming model."""
    g_min, g_max = float(shared[0]), float(shared[1])
    grid = np.linspace(g_min, g_max, points)
    transition = _transition(model, np.asarray(shared, dtype=float)[None, :])
    floor = 1e-9 * (g_max - g_min)
    up = np.maximum(transition(grid[None, :], np.ones(points))[0][0] - grid, floor)
    down = np.maximum(grid - transition(grid[None, :], -np.ones(points))[0][0], floor)
    return PiecewiseSteps(g_min=g_min, g_max=g_max, points=tuple(map(float, grid)), up_steps=tuple(map(float, up)),
                          down_steps=tuple(map(float, down)))


def fit_model(data: PulseData, model: str) -> PulseFit:
    """One update model fitted to every trace (see the module)."""
    if model not in PULSE_MODELS + KINETIC_MODELS:
        raise InputError(f"unknown update model {model!r}; choose auto or one of: "
                         f"{', '.join(PULSE_MODELS + KINETIC_MODELS)}")
    traces = data.traces
    every = np.concatenate([t.conductance for t in traces])
    ups = [t for t in traces if t.direction == "up"]
    downs = [t for t in traces if t.direction == "down"]
    names = _SHARED.get(model, ())
    programming: ProgrammingModel
    if model == "piecewise":
        programming, parameters = _piecewise(traces, _bins(traces))
        theta, covariance, nll = _maximum_likelihood(model, traces, np.zeros(0), programming)
        free = 2 * len(programming.points) + 2
        predicted = _iterated(_transition(model, np.zeros((1, 0)), programming), traces)
        spread: dict[str, float] = {}
        if len(traces) >= 4:  # each run's own scale of the tabulated steps (least squares): the spread between runs
            scales = []
            for trace in traces:
                up, down = programming.mean_steps(trace.conductance[:-1])
                expected = up if trace.direction == "up" else -down
                scales.append(float(np.dot(np.diff(trace.conductance), expected) / np.dot(expected, expected)))
            spread = {"step_scale": float(np.std(scales, ddof=1))}
    else:
        curve_fit = _least_squares(model, traces)  # the mean curves: the likelihood's starting point
        theta, covariance, nll = _maximum_likelihood(model, traces, curve_fit[:len(names)])
        if np.any(theta[:2] <= 0):
            raise InputError(f"{data.source}: the {model} fit puts a bound at or below 0 S; the data do not bound "
                             "the conductance (try --model piecewise)")
        std = np.sqrt(np.maximum(np.diag(covariance), 0.0))
        parameters = {name: Estimate(float(theta[k]), float(std[k])) for k, name in enumerate(names)}
        if model in KINETIC_MODELS:
            device, rates = _kinetic_device(data, theta[:len(names)])
            parameters.update({name: Estimate(float(parameters[rate].value * factor),
                                              float(parameters[rate].std * factor))
                               for name, (rate, factor) in rates.items()})
            programming = _step_table(model, theta[:len(names)])
        else:
            programming = _programming(model, theta[:len(names)])
        # the mean curves from each trace's first reading (where the filter starts)
        predicted = _curves(model, theta[:len(names)], np.array([t.conductance[0] for t in traces]), traces)
        free = theta.size
        spread = {}
        if min(len(ups), len(downs)) >= 2:  # each run's pair fitted alone: the spread between devices/runs
            alone = np.array([_least_squares(model, [u, d])[:len(names)] for u, d in zip(ups, downs)])
            spread = {name: float(np.std(alone[:, k], ddof=1)) for k, name in enumerate(names)}
    at = len(names)
    std_all = np.sqrt(np.maximum(np.diag(covariance), 0.0))
    parameters["step_noise"] = Estimate(float(theta[at]), float(std_all[at]))
    parameters["read_noise"] = Estimate(float(theta[at + 1]), float(std_all[at + 1]))
    cycle, read = float(theta[at]), float(theta[at + 1])
    residual = np.concatenate([p - t.conductance for p, t in zip(predicted, traces)])
    n = residual.size
    rss = max(float((residual**2).sum()), 1e-300)
    scale = abs(programming.step) or 1.0
    relative = [spread[k] / abs(parameters[k].value) for k in ("alpha_up", "alpha_down", "step") if k in spread] \
        + ([spread["step_scale"]] if "step_scale" in spread else [])
    programming = dataclasses.replace(programming, cycle_noise=cycle / scale,
                                      device_spread=float(np.mean(relative)) if relative else 0.0)
    fit = PulseFit(model, parameters, programming, math.sqrt(rss / n) / float(np.ptp(every) or 1.0),
                   float(np.std(residual, ddof=min(free, n - 1))), cycle, read,
                   2 * nll + 2 * free, 2 * nll + free * math.log(n), spread, predicted)
    if model in KINETIC_MODELS:
        fit.device = device
    if isinstance(programming, SoftBounds):
        fit.symmetry_point = float(programming.symmetry_point())
        lengths = {d: np.mean([t.conductance.size - 1 for t in traces if t.direction == d]) for d in ("up", "down")}
        # NeuroSim's A: the pulses over which the curve covers 1 − 1/e of its span, over the trace's length
        fit.nonlinearity = {d: float(-1.0 / math.log(max(1.0 - a, 1e-300)) / lengths[d])
                            for d, a in (("up", programming.alpha_up), ("down", programming.alpha_down))}
    return fit


def fit_pulses(data: PulseData, model: str = "auto") -> PulseFit:
    """The named update model fitted to the curves, or (`auto`) the one of least BIC, with
    every model's NRMSE, AIC and BIC in `comparison`."""
    if model != "auto":
        return fit_model(data, model)
    fits: list[PulseFit] = []
    failed: dict[str, dict[str, Any]] = {}
    for name in PULSE_MODELS:
        try:
            fits.append(fit_model(data, name))
        except InputError as error:
            failed[name] = {"failed": str(error)}
    if not fits:
        raise InputError(f"{data.source}: no update model fits these curves")
    best = min(fits, key=lambda f: f.bic)
    best.comparison = {**{f.model: {"nrmse": f.nrmse, "aic": f.aic, "bic": f.bic} for f in fits}, **failed}
    return best


def programming_file_text(fit: PulseFit, data: PulseData) -> str:
    """The TOML programming file: [programming] (the model and its parameters, as
    `load_programming_file` reads them), [fit] (the estimates, noise and quality), [provenance]."""
    from datetime import date

    import tomli_w

    from ..version import __version__

    quality: dict[str, Any] = {"model": fit.model, "nrmse": fit.nrmse, "residual_std": fit.residual_std,
                               "cycle_noise": fit.cycle_noise, "read_noise": fit.read_noise, "aic": fit.aic,
                               "bic": fit.bic, "parameters": {k: e.to_dict() for k, e in fit.parameters.items()}}
    if fit.spread:
        quality["spread"] = fit.spread
    if fit.symmetry_point is not None:
        quality.update(symmetry_point=fit.symmetry_point, nonlinearity=fit.nonlinearity)
    document = {**({"device": fit.device.to_dict()} if fit.device is not None else {}),
                "programming": programming_to_dict(fit.programming), "fit": quality,
                "measurement": dict(data.settings),
                "provenance": {"data": data.source, "sha256": data.sha256, "date": date.today().isoformat(),
                               "spicenn": __version__}}
    if not document["measurement"]:
        del document["measurement"]
    return tomli_w.dumps(document)


def plot_pulse_fit(fit: PulseFit, data: PulseData, path: str | Path) -> None:
    """Up and down traces (dots) and the fitted curves (lines) against pulse number, and the
    residuals below them, as PNG; runs named in a legend when there are few."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ..io import save_figure

    figure, axes = plt.subplots(2, 2, figsize=(9, 5.5), sharex="col", height_ratios=(3, 1))
    for column, direction in enumerate(("up", "down")):
        chosen = [(t, m) for t, m in zip(data.traces, fit.predicted) if t.direction == direction]
        for k, (trace, model) in enumerate(chosen):
            pulses = np.arange(trace.conductance.size)
            colour = f"C{k % 10}"
            axes[0, column].plot(pulses, trace.conductance, ".", ms=2, color=colour, alpha=0.6)
            axes[0, column].plot(pulses, model, "-", lw=0.8, color=colour, label=trace.label)
            axes[1, column].plot(pulses, trace.conductance - model, ".", ms=1.5, color=colour, alpha=0.6)
        axes[1, column].axhline(0.0, color="k", lw=0.5)
        axes[1, column].set_xlabel("pulse")
        axes[0, column].set_title(f"{direction}: {len(chosen)} run(s)", fontsize=9)
        if len(chosen) <= 8:
            axes[0, column].legend(fontsize=7)
    axes[0, 0].set_ylabel("conductance (S)")
    axes[1, 0].set_ylabel("residual (S)")
    figure.suptitle(f"{fit.model}: NRMSE {fit.nrmse:.3g}; step noise σ {fit.cycle_noise:.3g} S, "
                    f"read noise σ {fit.read_noise:.3g} S", fontsize=9)
    figure.tight_layout()
    save_figure(figure, path)
