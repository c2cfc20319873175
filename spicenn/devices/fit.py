"""Fit spicenn's static device models to measured I-V sweeps, and write the device file.

Every family is fitted to all programmed states at once: each state has its own conductance
parameter G (Poole–Frenkel: its own ln c and ln α), the family's shape parameter is shared
(sinh: k; power law: n = 2^p at `v_ref`). The fit is nonlinear least squares by scipy's
trust-region-reflective solver (`least_squares`, bounds keep n ≥ 2): the models are smooth
and a few parameters fit thousands of points, so a Gauss–Newton-type method converges in a
few dozen steps, and its Jacobian at the optimum gives the parameters' covariance (the
sandwich (JᵀJ)⁻¹·Jᵀdiag(r²)J·(JᵀJ)⁻¹, since measured noise grows with the current).
Residuals are divided by each state's RMS current, so a high-resistance state counts as
much as a low-resistance one; the NRMSE is their RMS (the error relative to each state's
typical current). AIC and BIC (Gaussian errors) choose between families (`auto`: the
least BIC). The held-out NRMSE is that of a fit to 80 % of every state's points on the
other 20 % (seeded).

Poole–Frenkel, as in Joksas et al.: each state's ln c and ln dε are regressed on the
state's ln R (as the data label it, else V_read/I at the read voltage from its fitted
curve) by weighted least squares (each state's own uncertainty; the covariance inflated by
the reduced χ² when states scatter more than that), giving a1, b1, a2, b2, and the
residuals about those lines the device-to-device scatter (`ln_c_std`, `ln_d_std`,
`correlation`) of the scattered model.

Several devices (a `device` column): the chosen family is fitted to each device's points
alone too, and the σ over devices of every shared parameter is `device_spread`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InputError
from .base import Device
from .measured import IVData
from .models import BOLTZMANN, ELEMENTARY_CHARGE, ROOM_TEMPERATURE, Linear, PooleFrenkel, PowerLaw, Sinh

FAMILIES = ("linear", "sinh", "powerlaw", "poole-frenkel")
HELD_OUT = 0.2
V_REF = 0.25  # the power law's reference voltage (spicenn's default)


@dataclass(frozen=True)
class Estimate:
    value: float
    std: float

    def to_dict(self) -> dict[str, float]:
        return {"value": self.value, "std": self.std}


@dataclass
class IVFit:
    """A family fitted to I-V data: the device it gives, the parameters with their standard
    deviations, each state's conductance parameter, the goodness of fit, and the model's
    current at every measured point (`predicted`, in the data's order)."""

    model: str
    device: Device
    parameters: dict[str, Estimate]
    states: dict[str, Estimate]
    nrmse: float
    held_out_nrmse: float
    aic: float
    bic: float
    points: int
    free: int
    predicted: np.ndarray
    comparison: dict[str, dict[str, Any]] = field(default_factory=dict)
    device_spread: dict[str, float] = field(default_factory=dict)  # σ over devices of each shared parameter

    def to_json(self) -> dict[str, Any]:
        return {"model": self.model, "device": self.device.to_dict(), "device_spread": self.device_spread,
                "parameters": {name: e.to_dict() for name, e in self.parameters.items()},
                "states": {name: e.to_dict() for name, e in self.states.items()},
                "nrmse": self.nrmse, "held_out_nrmse": self.held_out_nrmse, "aic": self.aic, "bic": self.bic,
                "points": self.points, "comparison": self.comparison, "predicted": self.predicted.tolist()}


class _Family:
    """One family's current for a parameter vector θ: (per-state parameters, shared ones)."""

    def __init__(self, name: str, state_index: np.ndarray, states: int, temperature: float):
        self.name, self.index, self.states = name, state_index, states
        self.temperature = temperature

    def shared(self) -> list[str]:
        return {"linear": [], "sinh": ["k"], "powerlaw": ["n"], "poole-frenkel": []}[self.name]

    def per_state(self) -> int:
        return 2 if self.name == "poole-frenkel" else 1

    def start(self, v: np.ndarray, i: np.ndarray) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray]]:
        g = np.array([max(abs(float((i[self.index == s] * v[self.index == s]).sum()))
                          / float((v[self.index == s] ** 2).sum()), 1e-30) for s in range(self.states)])
        lower: list[float] = [-np.inf] * self.states
        upper: list[float] = [np.inf] * self.states
        if self.name == "linear":
            theta = np.log(g)
        elif self.name == "sinh":
            theta = np.append(np.log(g), math.log(1.0))
            lower, upper = lower + [math.log(1e-3)], upper + [math.log(50.0)]
        elif self.name == "powerlaw":
            theta = np.append(np.log(g), 1.2)  # p = log2 n
            lower, upper = lower + [1.0], upper + [8.0]
        else:  # ln c ≈ ln G at small V, ln α from a start of 1
            theta = np.concatenate([np.log(g), np.zeros(self.states)])
            lower, upper = lower * 2, upper * 2
        return theta, (np.array(lower), np.array(upper))

    def current(self, theta: np.ndarray, v: np.ndarray, index: np.ndarray) -> np.ndarray:
        s = self.states
        if self.name == "poole-frenkel":
            c, alpha = np.exp(theta[:s])[index], np.exp(theta[s:2 * s])[index]
            with np.errstate(over="ignore"):  # a trial step far out: inf residuals send the solver back
                result: np.ndarray = c * v * np.exp(alpha * np.sqrt(np.abs(v)))
            return result
        g = np.exp(theta[:s])[index]
        if self.name == "linear":
            return g * v
        if self.name == "sinh":
            k = math.exp(theta[s])
            return g * np.sinh(k * v) / k
        return np.sign(v) * V_REF * g * (np.abs(v) / V_REF) ** theta[s]


def _least_squares(family: _Family, v: np.ndarray, i: np.ndarray, index: np.ndarray,
                   scale: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    from scipy.optimize import least_squares

    theta0, bounds = family.start(v, i)

    def residuals(theta: np.ndarray) -> np.ndarray:
        result: np.ndarray = (family.current(theta, v, index) - i) / scale
        return result

    solution = least_squares(residuals, theta0, bounds=bounds, method="trf", x_scale="jac", xtol=1e-12,
                             ftol=1e-12, gtol=1e-12, max_nfev=2000)
    jacobian, residual = solution.jac, solution.fun
    ssr = float((residual ** 2).sum())
    # the sandwich (HC1) covariance: measured noise grows with the current, so the residuals'
    # spread differs from point to point and s²·(JᵀJ)⁻¹ would misstate it
    bread = np.linalg.pinv(jacobian.T @ jacobian)
    meat = (jacobian * residual[:, None] ** 2).T @ jacobian
    covariance = bread @ meat @ bread * len(i) / max(len(i) - len(theta0), 1)
    return solution.x, covariance, ssr


def _state_scale(i: np.ndarray, index: np.ndarray, states: int) -> np.ndarray:
    rms = np.array([math.sqrt(float(np.mean(i[index == s] ** 2))) for s in range(states)])
    return np.maximum(rms, 1e-300)[index]


def fit_family(data: IVData, family_name: str, seed: int = 0) -> IVFit:
    """One family fitted to `data` (see the module)."""
    if family_name not in FAMILIES:
        raise InputError(f"unknown model {family_name!r} to fit; choose one of: auto, {', '.join(FAMILIES)}")
    labels = data.states
    index = np.array([labels.index(label) for label in data.state])
    states = len(labels)
    if family_name == "poole-frenkel" and states < 3:
        raise InputError(f"poole-frenkel relates ln c and ln dε to the resistance: it needs at least 3 programmed "
                         f"states, the data have {states}")
    temperature = float(data.settings.get("temperature", ROOM_TEMPERATURE))
    family = _Family(family_name, index, states, temperature)
    v, i = data.voltage, data.current
    scale = _state_scale(i, index, states)
    theta, covariance, ssr = _least_squares(family, v, i, index, scale)
    # the held-out check: fit on 80 % of every state's points, score on the rest
    rng = np.random.default_rng(seed)
    held = np.zeros(len(v), dtype=bool)
    for s in range(states):
        members = np.flatnonzero(index == s)
        held[rng.choice(members, size=max(1, round(HELD_OUT * len(members))), replace=False)] = True
    train = _Family(family_name, index[~held], states, temperature)
    theta_train, _, _ = _least_squares(train, v[~held], i[~held], index[~held], scale[~held])
    held_residual = (family.current(theta_train, v[held], index[held]) - i[held]) / scale[held]
    n, free = len(v), len(theta)
    log_likelihood_term = n * math.log(max(ssr / n, 1e-300))
    std = np.sqrt(np.maximum(np.diag(covariance), 0.0))
    predicted = family.current(theta, v, index)
    parameters, state_g, device = _device_of(family_name, theta, std, labels, data, family)
    return IVFit(family_name, device, parameters, state_g, math.sqrt(ssr / n),
                 float(np.sqrt(np.mean(held_residual ** 2))), log_likelihood_term + 2 * free,
                 log_likelihood_term + free * math.log(n), n, free, predicted)


def _device_of(name: str, theta: np.ndarray, std: np.ndarray, labels: list[str], data: IVData,
               family: _Family) -> tuple[dict[str, Estimate], dict[str, Estimate], Device]:
    s = len(labels)
    if name == "poole-frenkel":
        return _poole_frenkel(theta, std, labels, data, family)
    g = np.exp(theta[:s])
    states = {label: Estimate(float(g[k]), float(g[k] * std[k])) for k, label in enumerate(labels)}
    g_off, g_on = float(g.min()), float(g.max())
    parameters: dict[str, Estimate] = {}
    device: Device
    if name == "linear":
        device = Linear(g_off=g_off, g_on=g_on)
    elif name == "sinh":
        k = math.exp(theta[s])
        parameters["k"] = Estimate(k, k * float(std[s]))
        device = Sinh(k=k, g_off=g_off, g_on=g_on)
    else:
        n = 2.0 ** float(theta[s])
        parameters["n"] = Estimate(n, n * math.log(2.0) * float(std[s]))
        device = PowerLaw(v_ref=V_REF, n=n, g_off=g_off, g_on=g_on)
    return parameters, states, device


def _poole_frenkel(theta: np.ndarray, std: np.ndarray, labels: list[str], data: IVData,
                   family: _Family) -> tuple[dict[str, Estimate], dict[str, Estimate], Device]:
    s = len(labels)
    ln_c, alpha = theta[:s], np.exp(theta[s:2 * s])
    kt = BOLTZMANN * family.temperature
    q = ELEMENTARY_CHARGE
    # α = q·sqrt(q/(π·dε))/(k_B·T)  ⇒  dε = q³/(π·(α·k_B·T)²)
    ln_d = np.log(q**3 / (math.pi * (alpha * kt) ** 2))
    stated = data.state_resistance()
    if stated is not None:  # the resistance the experiment labels each state with
        ln_r = np.log(np.array([stated[label] for label in labels]))
    else:  # read from the state's fitted curve
        v_read = data.read_voltage
        ln_r = np.log(v_read / (np.exp(ln_c) * v_read * np.exp(alpha * math.sqrt(v_read))))
    design = np.column_stack([ln_r, np.ones(s)])
    parameters: dict[str, Estimate] = {}
    fitted, residuals = {}, {}
    # each state's own uncertainty (ln dε = const − 2·ln α), so the lines are weighted least
    # squares; their covariance is inflated by the reduced χ² when the states scatter about
    # the lines more than their errors allow (device-to-device scatter: the Birge ratio)
    sigmas = {"c": np.maximum(std[:s], 1e-12), "d": np.maximum(2 * std[s:2 * s], 1e-12)}
    for name, target, (slope, intercept) in (("c", ln_c, ("a1", "b1")), ("d", ln_d, ("a2", "b2"))):
        root = 1.0 / sigmas[name]
        coefficients, *_ = np.linalg.lstsq(design * root[:, None], target * root, rcond=None)
        residual = target - design @ coefficients
        reduced_chi2 = float(((root * residual) ** 2).sum()) / max(s - 2, 1)
        normal = (design * root[:, None]).T @ (design * root[:, None])
        errors = np.sqrt(np.abs(np.diag(np.linalg.pinv(normal))) * max(1.0, reduced_chi2))
        parameters[slope] = Estimate(float(coefficients[0]), float(errors[0]))
        parameters[intercept] = Estimate(float(coefficients[1]), float(errors[1]))
        fitted[name], residuals[name] = coefficients, residual
    if not all(np.isfinite(e.value) and np.isfinite(e.std) for e in parameters.values()):
        raise InputError("poole-frenkel: the sweeps do not determine its lines (no curvature in √V: the data are "
                         "near-ohmic); fit another family")
    ln_c_std = float(np.std(residuals["c"], ddof=2)) if s > 2 else 0.0
    ln_d_std = float(np.std(residuals["d"], ddof=2)) if s > 2 else 0.0
    correlation = float(np.corrcoef(residuals["c"], residuals["d"])[0, 1]) if ln_c_std > 0 and ln_d_std > 0 else 0.0
    g = 1.0 / np.exp(ln_r)
    states = {label: Estimate(float(g[k]), float(g[k] * std[k])) for k, label in enumerate(labels)}
    device = PooleFrenkel(a1=parameters["a1"].value, b1=parameters["b1"].value, a2=parameters["a2"].value,
                          b2=parameters["b2"].value, temperature=family.temperature, ln_c_std=ln_c_std,
                          ln_d_std=ln_d_std, correlation=correlation, g_off=float(g.min()), g_on=float(g.max()))
    return parameters, states, device


def fit_iv(data: IVData, model: str = "auto", seed: int = 0) -> IVFit:
    """The family `model` fitted to `data`, or with `auto` every family that applies,
    keeping the least BIC; `comparison` holds every tried family's NRMSE, AIC and BIC."""
    names = [name for name in FAMILIES if name != "poole-frenkel" or len(data.states) >= 3] \
        if model == "auto" else [model]
    fits, failed = [], {}
    for name in names:
        try:
            fits.append(fit_family(data, name, seed))
        except InputError as error:
            if model != "auto":
                raise
            failed[name] = str(error)
    best = min(fits, key=lambda f: f.bic)
    best.comparison = {f.model: {"nrmse": f.nrmse, "aic": f.aic, "bic": f.bic} for f in fits}
    best.comparison.update({name: {"failed": why} for name, why in failed.items()})
    devices = [label for label in dict.fromkeys(data.device.tolist()) if label]
    if len(devices) >= 2:  # device-to-device scatter: the family fitted to each device alone
        alone = [fit_family(data.subset(data.device == label), best.model, seed) for label in devices]
        best.device_spread = {name: float(np.std([fit.parameters[name].value for fit in alone], ddof=1))
                              for name in best.parameters}
    return best


def plot_fit(fit: IVFit, data: IVData, path: str | Path) -> None:
    """Data, fit and residuals per state, as PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ..io import save_figure

    figure, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    for k, label in enumerate(data.states):
        mask = data.state == label
        order = np.argsort(data.voltage[mask])
        v, i, p = data.voltage[mask][order], data.current[mask][order], fit.predicted[mask][order]
        colour = f"C{k % 10}"
        left.semilogy(v, np.abs(i), ".", ms=3, color=colour)
        left.semilogy(v, np.abs(p), "-", lw=1, color=colour)
        right.plot(v, (i - p) / math.sqrt(float(np.mean(i**2))), ".", ms=3, color=colour)
    left.set_xlabel("voltage (V)")
    left.set_ylabel("|current| (A): data (dots), fit (lines)")
    right.set_xlabel("voltage (V)")
    right.set_ylabel("residual / state's RMS current")
    figure.suptitle(f"{fit.model}: NRMSE {fit.nrmse:.3g} (held out {fit.held_out_nrmse:.3g}), "
                    f"{len(data.states)} state(s), {fit.points} points", fontsize=9)
    figure.tight_layout()
    save_figure(figure, path)


def device_file_text(fit: IVFit, data: IVData) -> str:
    """The TOML device file of a fit: [device] (what `get_device(path)` reads), [fit] (its
    quality and parameters with standard deviations), [provenance] (the data's name and hash)."""
    import tomli_w

    from ..version import __version__

    document = {"device": fit.device.to_dict(),
                "fit": {"model": fit.model, "nrmse": fit.nrmse, "held_out_nrmse": fit.held_out_nrmse,
                        "aic": fit.aic, "bic": fit.bic, "points": fit.points,
                        "parameters": {name: e.to_dict() for name, e in fit.parameters.items()},
                        "states": {name: e.to_dict() for name, e in fit.states.items()},
                        **({"device_spread": fit.device_spread} if fit.device_spread else {})},
                "provenance": {"data": data.source, "sha256": data.sha256, "date": date.today().isoformat(),
                               "spicenn": __version__, "read_voltage": data.read_voltage}}
    return tomli_w.dumps(document)

