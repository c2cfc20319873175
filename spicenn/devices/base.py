"""The device interface: one static I-V formula, evaluated by numpy, torch or as ngspice text."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from ..checks import finite_number, netlist_identifier
from ..errors import InputError
from .symbolic import Expr, number, spice

# what `exact_row_terms` guarantees by default: far below float64 rounding of the sums it feeds
EXACT_TERMS_TOLERANCE = 1e-13


@dataclass(frozen=True, kw_only=True)
class Device:
    """A memristor's static I-V model I(V, G).

    Subclasses write the formula once in `formula(v, g, k, xp)`, where `xp` is numpy, torch
    or `symbolic.spice`; `k` holds per-device constants derived from G (and from per-device
    random parameters) by `constants`. Everything else — numeric currents, torch currents,
    the netlist expression and the `.lib` subcircuit — is derived from those two methods.

    `g_off` and `g_on` are the device set's conductance range, where a preset knows it.
    """

    name: ClassVar[str] = ""
    cell_parameter_names: ClassVar[tuple[str, ...]] = ()
    # whether the current is G·φ(V) at fixed cell parameters (what matmul-shaped models need)
    separable: ClassVar[bool] = False
    # whether I = G·V: the circuit's equations are then linear and one Newton step solves them
    ohmic: ClassVar[bool] = False

    g_off: float | None = None
    g_on: float | None = None

    # --- what a subclass provides -------------------------------------------------------
    def formula(self, v: Any, g: Any, k: Mapping[str, Any], xp: Any) -> Any:
        raise NotImplementedError

    def constants(self, g: Any, xp: Any, cell: Mapping[str, Any]) -> dict[str, Any]:
        """Per-device constants the formula needs, as functions of G (differentiable in torch)."""
        return {}

    def cell_parameters(self, shape: tuple[int, ...], seed: int | None = None) -> dict[str, np.ndarray]:
        """Per-device random parameters for an array of this shape, drawn with `seed` (default:
        the model's own seed); empty for models without any."""
        return {}

    def nominal_cell_parameters(self, shape: tuple[int, ...]) -> dict[str, np.ndarray]:
        """Every device at the model's nominal parameters (no device-to-device variation)."""
        return {key: np.full(shape, float(value)) for key, value in self.lib_cell_defaults().items()}

    # --- derived ------------------------------------------------------------------------
    def __post_init__(self) -> None:
        for field in ("g_off", "g_on"):
            value = getattr(self, field)
            if value is not None:
                object.__setattr__(self, field, finite_number(f"{self.name}: {field}", value,
                                                              minimum=0.0, strict_minimum=True))
        if self.g_off is not None and self.g_on is not None and self.g_off >= self.g_on:
            raise InputError(f"{self.name}: g_off ({self.g_off:g}) must be below g_on ({self.g_on:g})")

    def current(self, v: Any, g: Any, xp: Any = np, cell: Mapping[str, Any] | None = None) -> Any:
        """Device current for voltage `v` across it and conductance `g` (broadcasting).

        `xp` is the array module: numpy (default) or torch, for which the result is
        differentiable in both `v` and `g`.
        """
        cell = cell or {}
        return self.formula(v, g, self.constants(g, xp, cell), xp)

    def current_and_slope(self, v: Any, g: Any, cell: Mapping[str, Any] | None = None) -> tuple[Any, Any]:
        """I and dI/dV elementwise, for torch tensors: what Newton's method needs. By default
        the forward-mode derivative of `formula` (the one formula); a model may override it
        with the closed form of that formula's derivative, cheaper to evaluate (the tests hold
        the two equal)."""
        import torch

        result = torch.func.jvp(lambda x: self.current(x, g, torch, cell), (v,), (torch.ones_like(v),))
        return result[0], result[1]

    def power(self, v: Any, g: Any, xp: Any = np, cell: Mapping[str, Any] | None = None) -> Any:
        """Power the device absorbs, V·I(V, G): spicenn's one convention for device power
        (circuit results, the device backend and network energy). For every model here the
        current has the sign of V, so V·I = |V|·|I| >= 0."""
        return v * self.current(v, g, xp, cell)

    def row_terms(self, v: Any, g: Any, cell: Mapping[str, Any] | None = None, terms: int = 6,
                  xp: Any = None, phi: Any = None, scratch: Any = None) -> tuple[Any, Any] | None:
        """The devices' currents as separable terms, for v (..., B, M) and g (..., M, N):
        current(v_i, g_ij, cell_ij) = Σ_k feature_k(v_i)·weight_k(g_ij, cell_ij), returned
        stacked as (features (..., B, K·M), weights (..., K·M, N)) so that the column currents
        are one matmul, features @ weights. The first block of features is φ(v), the current
        per unit G at the common parameters where every device has the same ones (then this
        one exact term), else at the nominal ones; models with a per-device parameter may
        expand in it (`terms` bounds the expansion); None if the model has no such form.
        `xp`: torch (default) or numpy; `phi`: that φ(v), if the caller has it already;
        `scratch`: buffers for numpy, as for `response`."""
        if xp is None:
            import torch as xp
        scalars = uniform_cell(cell or {})
        if not self.separable or scalars is None:
            return None
        return (self.current(v, xp.ones((), dtype=v.dtype), xp, scalars) if phi is None else phi), g

    def exact_row_terms(self, v: Any, g: Any, cell: Mapping[str, Any] | None = None,
                        tolerance: float = EXACT_TERMS_TOLERANCE) -> tuple[Any, Any] | None:
        """As `row_terms` for torch tensors, but only where the terms give every device's current
        to within `tolerance` relative (a proven bound, not an estimate): the one exact term of a
        separable model at common parameters; a model may add an expansion with a remainder
        bound. None otherwise (then the caller evaluates the formula per device)."""
        return Device.row_terms(self, v, g, cell)

    def response(self, v: Any, step: float, cell: Mapping[str, float] | None = None, xp: Any = None,
                 scratch: Any = None) -> tuple[Any, Any]:
        """φ(v), the current per unit G at common cell parameters (floats), and its secant slope
        (φ(v + step) - φ(v - step)) / (2·step), both shaped like v: what the first-order
        surrogate evaluates per input. `xp`: torch (default; differentiable in v) or numpy.
        A model may override it with a faster evaluation of its own formula (tests hold the
        two equal); with numpy, such an override may take its buffers from `scratch`
        ((name, shape, dtype) -> array, kept between calls; see `devices.fast`)."""
        if xp is None:
            import torch as xp
        shifted = self.current(xp.stack((v, v + step, v - step)), xp.ones((), dtype=v.dtype), xp, cell or {})
        return shifted[0], (shifted[1] - shifted[2]) * (1.0 / (2 * step))

    def spice_template(self) -> str:
        """The behavioural current expression with `{p}`, `{n}`, `{g}` and constant placeholders."""
        k = {key: Expr("{k_" + key + "}") for key in self.constant_names()}
        return str(self.formula(Expr("V({node_p},{node_n})"), Expr("{g}"), k, spice))

    def constant_names(self) -> tuple[str, ...]:
        probe_g = np.ones(1)
        probe_cell = {name: np.full(1, 2.0) for name in self.cell_parameter_names}
        return tuple(self.constants(probe_g, np, probe_cell))

    def spice_lines(self, names: list[str], p_nodes: list[str], n_nodes: list[str],
                    g: np.ndarray, cell: Mapping[str, np.ndarray]) -> list[str]:
        """Netlist lines for devices between `p_nodes` and `n_nodes` (current flows p -> n)."""
        template = "B{name} {node_p} {node_n} I=" + self.spice_template()
        consts = {key: np.broadcast_to(value, g.shape)
                  for key, value in self.constants(g, np, cell).items()}
        lines = []
        for index, (name, p, n) in enumerate(zip(names, p_nodes, n_nodes)):
            values = {"k_" + key: number(value[index]) for key, value in consts.items()}
            lines.append(template.format(name=name, node_p=p, node_n=n, g=number(g[index]), **values))
        return lines

    def lib_subcircuit(self, label: str | None = None) -> str:
        """This model as an ngspice subcircuit `spicenn_<label> p n params: g=... [cell params]`."""
        cell = {key: Expr(key) for key in self.cell_parameter_names}
        k = self.constants(Expr("g"), spice, cell)
        body = self.formula(Expr("V(p,n)"), Expr("g"), k, spice)
        g_default = self.g_off if self.g_off is not None else 1e-4
        defaults = [f"g={number(g_default)}"] + [
            f"{key}={number(value)}" for key, value in self.lib_cell_defaults().items()]
        subckt = "spicenn_" + netlist_identifier("label", label or self.name).replace("-", "_")
        return "\n".join([
            f"* {self.describe()}",
            f".subckt {subckt} p n params: {' '.join(defaults)}",
            f"B1 p n I={body}",
            f".ends {subckt}",
        ])

    def lib_cell_defaults(self) -> dict[str, float]:
        return {}

    def describe(self) -> str:
        params = ", ".join(f"{key}={value:g}" for key, value in self.parameters().items()
                           if value is not None)
        return f"{self.name}({params})"

    def parameters(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}

    def to_dict(self) -> dict[str, Any]:
        """A TOML/JSON-ready description; `devices.from_dict` reverses it."""
        return {"name": self.name, **{k: v for k, v in self.parameters().items() if v is not None}}

    def check_voltage_range(self, max_abs_voltage: float, g: np.ndarray, cell: Mapping[str, np.ndarray]) -> None:
        """Refuse voltages at which the model's current overflows."""
        with np.errstate(over="ignore", invalid="ignore"):
            worst = self.current(np.full(g.shape, max_abs_voltage), g, np, cell)
        if not np.all(np.isfinite(worst)):
            raise InputError(f"{self.describe()}: current overflows at |V| = {max_abs_voltage:g} V; "
                             "use smaller voltages or a gentler nonlinearity")


def uniform_cell(cell: Mapping[str, Any]) -> dict[str, float] | None:
    """Per-device parameters as Python floats if every device has the same value, else None
    (floats, not 0-d tensors: torch's pow with a float exponent is several times faster)."""
    import torch

    scalars = {}
    for key, value in cell.items():
        if isinstance(value, (int, float)):
            scalars[key] = float(value)
            continue
        value = torch.as_tensor(value)
        first = value.reshape(-1)[0]
        if not bool(torch.all(value == first)):
            return None
        scalars[key] = float(first)
    return scalars
