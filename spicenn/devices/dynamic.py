"""Dynamic memristor models: an internal state x in [0, 1] that writes move.

Each model writes two formulas once — the state's rate dx/dt = `rate(v, x, xp)` and the
current i = `current(v, x, xp)` — for `xp` = numpy, torch or `symbolic.spice`. From them
come the numeric integration (`pulse_response`, `integrate`) and the ngspice elements of a
device (`spice_lines`: a 1 F capacitor holding x, fed by a behavioural current source equal
to the rate, with a 1 TΩ leak and the device's own behavioural current), so the SPICE
netlist and the Python model cannot drift apart.

* `VTEAM` (Kvatinsky et al., IEEE TCAS-II 2015): voltage thresholds, power-law kinetics,
  R(x) linear between R_on and R_off; a window that stops the state at its bounds when moving
  toward them and never when moving away (Biolek-type), so it never locks.
* `Yakopcic` (Yakopcic et al., IEEE EDL 2011): i = a·x·sinh(b·v) — spicenn's sinh family with
  G = a·x·b and k = b, so a written array reads through the static stack — exponential
  thresholds and the paper's state windows; `get_device("yakopcic")` is the published fit to
  the Oblea et al. device.
* `Messaris` (Messaris et al., the data-driven TiOx model): the resistance moves toward a
  voltage-dependent boundary at a rate s(v)·(R − r(v))², closed form under a constant voltage.

Thresholds use pos(u) = (u + |u|)/2, so the rate is continuous (C^(α−1) for an exponent α)
and ngspice's time step is not cut to nothing at them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from ..checks import build_dataclass, finite_number, whole_number
from ..errors import InputError
from .base import Device
from .models import Linear, Sinh
from .symbolic import Expr, number, spice


def _pos(u: Any, xp: Any) -> Any:
    """max(u, 0), continuous, in every namespace (numpy, torch, ngspice text)."""
    return (u + xp.abs(u)) * 0.5


def _even_power(u: Any, power: int) -> Any:
    """u**power by products: exact for a negative base in ngspice too (its pow() is not)."""
    result = u * u
    for _ in range(power // 2 - 1):
        result = result * (u * u)
    return result


def _power(u: Any, exponent: float, xp: Any) -> Any:
    """u**exponent for u ≥ 0; a whole exponent by products in numpy and torch (3x faster than
    pow, which the write engine calls millions of times)."""
    if xp is not spice and float(exponent).is_integer() and 1 <= exponent <= 10:
        result = u
        for _ in range(int(exponent) - 1):
            result = result * u
        return result
    return u ** exponent


def _step(u: Any, xp: Any) -> Any:
    """1 for u > 0, 0 for u < 0 (ngspice: sgn)."""
    return (xp.sign(u) + 1.0) * 0.5


@dataclass(frozen=True, kw_only=True)
class DynamicDevice:
    """A memristor with a state x in [0, 1]: dx/dt = rate(v, x), i = current(v, x)."""

    name: ClassVar[str] = ""

    def rate(self, v: Any, x: Any, xp: Any = np) -> Any:
        raise NotImplementedError

    def current(self, v: Any, x: Any, xp: Any = np) -> Any:
        raise NotImplementedError

    def read_device(self, x: Any, v_read: float) -> tuple[Device, np.ndarray]:
        """The static model that reads a cell at state x, and its conductance parameter G."""
        raise NotImplementedError

    def quiet_band(self) -> tuple[float, float] | None:
        """(v_low < 0 < v_high): voltages across which the state does not move at all (the
        thresholds), or None if it may move at any voltage. The write engine skips the times
        when no cell can leave this band."""
        return None

    def conductance(self, x: Any, v_read: float) -> Any:
        """i(v_read, x) / v_read: the conductance a read at `v_read` sees."""
        return self.current(v_read, x) / v_read

    def parameters(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}

    def describe(self) -> str:
        return f"{self.name}(" + ", ".join(f"{k}={v:g}" for k, v in self.parameters().items()) + ")"

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, **self.parameters()}

    def spice_lines(self, label: str, p: str, n: str, x0: float) -> list[str]:
        """ngspice elements of one device between nodes p and n, its state on node x_<label>
        starting at x0 (the transient needs `uic`)."""
        state = f"x_{label}"
        v, x = Expr(f"V({p},{n})"), Expr(f"V({state})")
        return [f"Bx{label} 0 {state} I={self.rate(v, x, spice)}",
                f"Cx{label} {state} 0 1 IC={number(x0)}",
                f"Rx{label} {state} 0 1e12",
                f"Bm{label} {p} {n} I={self.current(v, x, spice)}"]


def _positive(model: str, names: tuple[str, ...], values: DynamicDevice) -> None:
    for name in names:
        finite_number(f"{model}: {name}", getattr(values, name), minimum=0.0, strict_minimum=True)


@dataclass(frozen=True, kw_only=True)
class VTEAM(DynamicDevice):
    """Kvatinsky et al. 2015, state x = 0 at R_on, 1 at R_off:
    dx/dt = k_off·pos(v/v_off − 1)^α_off·f_off(x) − k_on·pos(v/v_on − 1)^α_on·f_on(x),
    v_off > 0 > v_on; f_off = 1 − x^(2p) (toward R_off), f_on = 1 − (1 − x)^(2p) (toward R_on);
    p = 0: no window. i = v / (R_on + (R_off − R_on)·x), or with `linear_conductance`
    i = v·(1/R_on + (1/R_off − 1/R_on)·x) (equal state steps are equal conductance steps:
    the multi-level devices of the learning papers).

    The rate factors as g(v)·f(x), so a pulse's effect is exact in closed form: with
    F(x) = ∫ dx / f_off(x) (atanh for p = 1), any waveform v(t) moves the state growing
    toward R_off to F⁻¹(F(x) + ∫ g_off(v(t)) dt), and likewise toward R_on in 1 − x
    (`pulse_dose`, `advance`; the write surrogate's pulse map)."""

    name: ClassVar[str] = "vteam"
    r_on: float = 1e3
    r_off: float = 1e5
    v_on: float = -0.8
    v_off: float = 0.8
    k_on: float = 1e7  # 1/s
    k_off: float = 1e7  # 1/s
    alpha_on: float = 3.0
    alpha_off: float = 3.0
    window_p: int = 1
    linear_conductance: bool = False

    def __post_init__(self) -> None:
        _positive("vteam", ("r_on", "r_off", "k_on", "k_off", "v_off"), self)
        finite_number("vteam: v_on", self.v_on, maximum=0.0)
        if self.v_on >= 0:
            raise InputError(f"vteam: v_on must be negative (a threshold for reset), got {self.v_on:g}")
        if self.r_on >= self.r_off:
            raise InputError(f"vteam: r_on ({self.r_on:g}) must be below r_off ({self.r_off:g})")
        for name in ("alpha_on", "alpha_off"):
            finite_number(f"vteam: {name}", getattr(self, name), minimum=1.0, maximum=10.0)
        whole_number("vteam: window_p (0: no window)", self.window_p, 0, 10)

    def rate(self, v: Any, x: Any, xp: Any = np) -> Any:
        grow = self.k_off * _power(_pos(v / self.v_off - 1.0, xp), self.alpha_off, xp)
        shrink = self.k_on * _power(_pos(v / self.v_on - 1.0, xp), self.alpha_on, xp)
        if self.window_p:
            power = 2 * int(self.window_p)
            grow = grow * (1.0 - _even_power(x, power))
            shrink = shrink * (1.0 - _even_power(1.0 - x, power))
        return grow - shrink

    def current(self, v: Any, x: Any, xp: Any = np) -> Any:
        if self.linear_conductance:
            return v * (1.0 / self.r_on + (1.0 / self.r_off - 1.0 / self.r_on) * x)
        return v / (self.r_on + (self.r_off - self.r_on) * x)

    def quiet_band(self) -> tuple[float, float]:
        return self.v_on, self.v_off

    def pulse_dose(self, v: Any, width: float, t_edge: float = 0.0) -> Any:
        """∫ g(v(t)) dt over a trapezoidal pulse of peak `v` (any shape of array): `width` s
        at v and a linear ramp of `t_edge` s on each side, as the write programs apply it.
        Positive: toward R_off (x grows); negative: toward R_on. With a = v/v_th > 1 the
        hold gives k·(a − 1)^α·width and each ramp k·t_edge·(a − 1)^(α+1)/((α + 1)·a)."""
        v = np.asarray(v, dtype=float)

        def dose(a: np.ndarray, k: float, alpha: float) -> np.ndarray:
            over = np.maximum(a - 1.0, 0.0)
            safe = np.maximum(a, 1.0)
            return k * (width * over ** alpha + 2.0 * t_edge * over ** (alpha + 1) / ((alpha + 1) * safe))

        return dose(v / self.v_off, self.k_off, self.alpha_off) - dose(v / self.v_on, self.k_on, self.alpha_on)

    def advance(self, x: Any, dose: Any, xp: Any = np) -> Any:
        """The state after a signed `dose` (`pulse_dose`) from x: exact for any window."""
        grow = dose > 0
        moving = xp.where(grow, x, 1.0 - x)  # the coordinate the window slows toward its bound
        if not self.window_p:
            moved = moving + xp.abs(dose)
        else:
            moved = _window_inverse(_window_integral(moving, self.window_p, xp) + xp.abs(dose), self.window_p, xp)
        return xp.where(dose == 0, x, xp.where(grow, moved, 1.0 - moved))

    def read_device(self, x: Any, v_read: float) -> tuple[Device, np.ndarray]:
        return Linear(g_off=1.0 / self.r_off, g_on=1.0 / self.r_on), np.asarray(self.conductance(x, v_read))


_WINDOW_Z = np.linspace(0.0, 40.0, 16001)  # z = atanh(u): F_p is smooth and near linear in z


def _window_table(p: int) -> np.ndarray:
    """F_p(tanh z) = ∫ du/(1 − u^(2p)) on `_WINDOW_Z`: in z the integrand is
    1/Σ_{k<p} tanh(z)^(2k), smooth and within [1/p, 1] (no 0/0 at the bound); Simpson-exact
    to ~1e-12 on this grid."""
    table = _WINDOW_TABLES.get(p)
    if table is None:
        fine = np.linspace(0.0, 40.0, 2 * (_WINDOW_Z.size - 1) + 1)
        u2 = np.tanh(fine) ** 2
        integrand: np.ndarray = 1.0 / np.sum([u2 ** k for k in range(p)], axis=0)
        h = fine[1] - fine[0]
        pairs = h / 3 * (integrand[:-2:2] + 4 * integrand[1:-1:2] + integrand[2::2])
        table = _WINDOW_TABLES[p] = np.concatenate([[0.0], np.cumsum(pairs)])
    return table


_WINDOW_TABLES: dict[int, np.ndarray] = {}


def _window_integral(u: Any, p: int, xp: Any) -> Any:
    """F_p(u) for u in [0, 1): atanh(u) for p = 1, else interpolated in z = atanh(u)."""
    z = xp.arctanh(xp.clip(u, 0.0, 1.0 - 1e-16)) if xp is np else _torch_arctanh(u)
    if p == 1:
        return z
    return _interp(z, _WINDOW_Z, _window_table(p), xp)


def _window_inverse(f: Any, p: int, xp: Any) -> Any:
    """u with F_p(u) = f (f ≥ 0)."""
    if p == 1:
        return xp.tanh(f)
    return xp.tanh(_interp(f, _window_table(p), _WINDOW_Z, xp))


def _torch_arctanh(u: Any) -> Any:
    import torch

    return torch.atanh(torch.clamp(u, 0.0, 1.0 - 1e-16))


def _interp(value: Any, grid: np.ndarray, table: np.ndarray, xp: Any) -> Any:
    """Piecewise-linear interpolation of table(grid) at `value`, continued straight past the
    grid's end (F_p → z/p there). On this grid the state's error is below 1e-6 (tested)."""
    if xp is np:
        inside = np.interp(value, grid, table)
        return np.where(value > grid[-1], table[-1] + (value - grid[-1]) * (table[-1] - table[-2]) /
                        (grid[-1] - grid[-2]), inside)
    import torch

    g = torch.as_tensor(grid, dtype=value.dtype)
    t = torch.as_tensor(table, dtype=value.dtype)
    index = torch.clamp(torch.searchsorted(g, value.contiguous()), 1, g.numel() - 1)
    g0, g1, t0, t1 = g[index - 1], g[index], t[index - 1], t[index]
    inside = t0 + (value - g0) * (t1 - t0) / (g1 - g0)
    slope = (t[-1] - t[-2]) / (g[-1] - g[-2])
    return torch.where(value > g[-1], t[-1] + (value - g[-1]) * slope, inside)


@dataclass(frozen=True, kw_only=True)
class Yakopcic(DynamicDevice):
    """Yakopcic et al. 2011: i = a1·x·sinh(b·v) (v ≥ 0), a2·x·sinh(b·v) (v < 0);
    dx/dt = η·g(v)·f(x), g = A_p·(e^v − e^{V_p}) above V_p, −A_n·(e^{−v} − e^{V_n}) below
    −V_n; f the paper's windows (exponential decay past x_p toward 1, past 1 − x_n toward 0).
    The defaults are the fit to the Oblea et al. device (Yakopcic et al. 2011, Table I)."""

    name: ClassVar[str] = "yakopcic"
    a1: float = 0.17
    a2: float = 0.17
    b: float = 0.05
    v_p: float = 0.16
    v_n: float = 0.15
    amp_p: float = 4000.0  # A_p; named apart from alpha_p (ngspice reads names case-insensitively)
    amp_n: float = 4000.0
    x_p: float = 0.3
    x_n: float = 0.5
    alpha_p: float = 1.0
    alpha_n: float = 5.0
    eta: float = 1.0

    def __post_init__(self) -> None:
        _positive("yakopcic", ("a1", "a2", "b", "v_p", "v_n", "amp_p", "amp_n", "alpha_p", "alpha_n"), self)
        for name in ("x_p", "x_n"):
            finite_number(f"yakopcic: {name}", getattr(self, name), minimum=0.0, maximum=1.0)
            if not 0.0 < getattr(self, name) < 1.0:
                raise InputError(f"yakopcic: {name} must lie strictly between 0 and 1")
        if self.eta not in (1.0, -1.0):
            raise InputError(f"yakopcic: eta is the direction of switching, 1 or -1, got {self.eta!r}")

    def rate(self, v: Any, x: Any, xp: Any = np) -> Any:
        up = self.amp_p * _pos(xp.exp(v) - np.exp(self.v_p), xp)
        down = self.amp_n * _pos(xp.exp(-v) - np.exp(self.v_n), xp)
        # windows: 1 below x_p, e^{-α_p(x - x_p)}·((x_p - x)/(1 - x_p) + 1) above (toward 1);
        # 1 above 1 - x_n, e^{α_n(x + x_n - 1)}·x/(1 - x_n) below (toward 0)
        past_p = _step(x - self.x_p, xp)
        toward_one = 1.0 + past_p * (xp.exp(-self.alpha_p * (x - self.x_p))
                                     * ((self.x_p - x) / (1.0 - self.x_p) + 1.0) - 1.0)
        past_n = _step(1.0 - self.x_n - x, xp)
        toward_zero = 1.0 + past_n * (xp.exp(self.alpha_n * (x + self.x_n - 1.0)) * x / (1.0 - self.x_n) - 1.0)
        if self.eta > 0:
            return up * toward_one - down * toward_zero
        return down * toward_one - up * toward_zero

    def quiet_band(self) -> tuple[float, float]:
        return -self.v_n, self.v_p  # e^v ≤ e^{V_p} and e^{-v} ≤ e^{V_n}

    def current(self, v: Any, x: Any, xp: Any = np) -> Any:
        a = self.a2 + (self.a1 - self.a2) * _step(v, xp) if self.a1 != self.a2 else self.a1
        return a * x * xp.sinh(self.b * v)

    def read_device(self, x: Any, v_read: float) -> tuple[Device, np.ndarray]:
        """For reads at v_read ≥ 0: the sinh model with k = b and G = a1·x·b."""
        return Sinh(k=self.b), np.asarray(self.a1 * np.asarray(x) * self.b)


@dataclass(frozen=True, kw_only=True)
class Messaris(DynamicDevice):
    """The data-driven TiOx model of Messaris et al. (2017 form, as in its 2021 use): the
    resistance moves toward a voltage-dependent boundary at a rate set by the voltage,
    dR/dt = s_p(v)·(R − r_p(v))²  while R > r_p(v)   (v > 0: R falls),
    dR/dt = s_n(v)·(R − r_n(v))²  while R < r_n(v)   (v < 0: R rises),
    s(v) = A·(e^{|v|/t} − 1), r(v) = r0 + r1·v, both boundaries kept within [R_on, R_off];
    i = a·sinh(b·v)/R. Under a constant voltage the resistance has a closed form,
    R(τ) = r − (r − R0)/(1 + s·(r − R0)·τ). State x = (R − R_on)/(R_off − R_on).
    The defaults are the TiOx parameters distributed with MemTorch's `Data_Driven2021` (its
    exponent written e^{|v|/t}, t < 0, as there)."""

    name: ClassVar[str] = "messaris"
    r_on: float = 1600.0
    r_off: float = 3000.0
    amp_p: float = 600.10075  # A_p, 1/(ohm·s)
    amp_n: float = -34.5988399  # A_n
    tau_p: float = -0.0212028  # t_p, V
    tau_n: float = -0.05343997  # t_n, V
    r0_p: float = 2699.2336  # r_p(v) = r0_p + r1_p·v, ohm
    r1_p: float = -672.930205  # ohm/V
    r0_n: float = 649.413746
    r1_n: float = -1474.32358
    a_p: float = 0.32046175  # i = a·sinh(b·v)/R
    a_n: float = 0.32046175
    b_p: float = 2.71689828  # 1/V
    b_n: float = 2.71689828

    def __post_init__(self) -> None:
        _positive("messaris", ("r_on", "r_off", "a_p", "a_n", "b_p", "b_n"), self)
        for name in ("amp_p", "amp_n", "tau_p", "tau_n", "r0_p", "r1_p", "r0_n", "r1_n"):
            finite_number(f"messaris: {name}", getattr(self, name))
        if self.r_on >= self.r_off:
            raise InputError(f"messaris: r_on ({self.r_on:g}) must be below r_off ({self.r_off:g})")
        if self.tau_p == 0 or self.tau_n == 0:
            raise InputError("messaris: tau_p and tau_n must not be 0")
        if self.s(1.0, self.amp_p, self.tau_p) >= 0 or self.s(1.0, self.amp_n, self.tau_n) <= 0:
            raise InputError("messaris: a positive voltage must lower R and a negative one raise it: "
                             "A_p·(e^{1/t_p} − 1) < 0 < A_n·(e^{1/t_n} − 1)")

    @staticmethod
    def s(v: Any, amp: float, tau: float, xp: Any = np) -> Any:
        return amp * (xp.exp(xp.abs(v) / tau) - 1.0)

    def boundaries(self, v: Any, xp: Any = np) -> tuple[Any, Any]:
        """r_p(v) raised to R_on and r_n(v) lowered to R_off (the range of the state)."""
        r_p = self.r_on + _pos(self.r0_p + self.r1_p * v - self.r_on, xp)
        r_n = self.r_off - _pos(self.r_off - (self.r0_n + self.r1_n * v), xp)
        return r_p, r_n

    def resistance(self, x: Any) -> Any:
        return self.r_on + (self.r_off - self.r_on) * x

    def rate(self, v: Any, x: Any, xp: Any = np) -> Any:
        r = self.resistance(x)
        r_p, r_n = self.boundaries(v, xp)
        above, below = _pos(r - r_p, xp), _pos(r_n - r, xp)  # how far R may still move each way
        fall = self.s(v, self.amp_p, self.tau_p, xp) * above * above * _step(v, xp)
        rise = self.s(v, self.amp_n, self.tau_n, xp) * below * below * _step(-v, xp)
        return (fall + rise) / (self.r_off - self.r_on)

    def current(self, v: Any, x: Any, xp: Any = np) -> Any:
        if self.a_p == self.a_n and self.b_p == self.b_n:
            return self.a_p * xp.sinh(self.b_p * v) / self.resistance(x)
        positive = _step(v, xp)
        return (positive * self.a_p * xp.sinh(self.b_p * v)
                + (1.0 - positive) * self.a_n * xp.sinh(self.b_n * v)) / self.resistance(x)

    def read_device(self, x: Any, v_read: float) -> tuple[Device, np.ndarray]:
        """For reads at v_read ≥ 0: the sinh model with k = b_p and G = a_p·b_p/R(x)."""
        return Sinh(k=self.b_p), np.asarray(self.a_p * self.b_p / self.resistance(np.asarray(x)))


DYNAMIC_MODELS: dict[str, type[DynamicDevice]] = {cls.name: cls for cls in (VTEAM, Yakopcic, Messaris)}


# Dormand–Prince 5(4): stage coefficients, stage times, the fifth- and fourth-order weights
# (the integrator here and the native write engine's share them)
DP_A = ((), (1 / 5,), (3 / 40, 9 / 40), (44 / 45, -56 / 15, 32 / 9),
        (19372 / 6561, -25360 / 2187, 64448 / 6561, -212 / 729),
        (9017 / 3168, -355 / 33, 46732 / 5247, 49 / 176, -5103 / 18656))
DP_C = (0.0, 1 / 5, 3 / 10, 4 / 5, 8 / 9, 1.0)
DP_B5 = (35 / 384, 0.0, 500 / 1113, 125 / 192, -2187 / 6784, 11 / 84)
DP_B4 = (5179 / 57600, 0.0, 7571 / 16695, 393 / 640, -92097 / 339200, 187 / 2100, 1 / 40)


def next_step(h: float, error: float) -> float:
    """The next step after one of size h with scaled error `error` (1: at the tolerance)."""
    return h * min(5.0, max(0.2, 0.9 * max(error, 1e-16) ** -0.2))


def dormand_prince(rate: Callable[[float, Any], Any], x0: Any, stops: Sequence[float], h: float, rtol: float,
                   atol: float, max_steps: int, exhausted: Callable[[], Exception]) -> tuple[list[Any], int]:
    """The states at each of `stops` (increasing, from t = 0) of dx/dt = rate(t, x) from x0
    (a float or an array: one step size for all), by adaptive Dormand–Prince 5(4) steps from
    a first step `h`; and the steps taken. Raises `exhausted()` after `max_steps`."""
    x, t, steps = x0, 0.0, 0
    outputs = []
    for stop in stops:
        while stop - t > 1e-15 * stop:
            h = min(h, stop - t)
            k: list[Any] = []
            for stage in range(6):
                xs = x + h * sum(a * k[j] for j, a in enumerate(DP_A[stage])) if stage else x
                k.append(rate(t + DP_C[stage] * h, xs))
            fifth = x + h * sum(b * kk for b, kk in zip(DP_B5, k))
            k.append(rate(t + h, fifth))
            fourth = x + h * sum(b * kk for b, kk in zip(DP_B4, k))
            error = float(np.max(np.abs(fifth - fourth) / (atol + rtol * np.maximum(np.abs(x), np.abs(fifth)))))
            if error <= 1.0:
                t, x = t + h, fifth
            h = next_step(h, error)
            steps += 1
            if steps > max_steps:
                raise exhausted()
        outputs.append(x.copy() if isinstance(x, np.ndarray) else x)
    return outputs, steps


def integrate(device: DynamicDevice, voltage: float, duration: float, x0: float, rtol: float = 1e-10,
              atol: float = 1e-12) -> float:
    """The state after `duration` s at constant `voltage` from x0: an adaptive
    Dormand–Prince 5(4) integration of the device's own rate (numpy floats)."""
    finite_number("duration", duration, minimum=0.0)
    states, _ = dormand_prince(lambda t, x: float(device.rate(voltage, x)), float(x0), [duration],
                               duration / 100, rtol, atol, 1_000_000,
                               lambda: InputError(f"{device.name}: the state did not settle in a million steps "
                                                  f"over {duration:g} s"))
    return float(states[0])


def pulse_response(device: DynamicDevice, voltage: float, width: float, pulses: int, x0: float) -> np.ndarray:
    """The state after each of `pulses` identical rectangular pulses (x0 first): (pulses + 1,)."""
    states = [float(x0)]
    for _ in range(pulses):
        states.append(integrate(device, voltage, width, states[-1]))
    return np.array(states)


def pulse_curve(device: DynamicDevice, voltage: float, width: float, pulses: int, x0: float = 0.0,
                v_read: float = 0.1) -> dict[str, Any]:
    """The state and the read conductance after each pulse: `pulses` at +voltage from x0,
    then as many at −voltage (potentiation then depression, as measured curves are)."""
    finite_number("voltage", voltage, minimum=0.0, strict_minimum=True, maximum=MAX_WRITE_VOLTAGE)
    finite_number("width", width, minimum=0.0, strict_minimum=True, maximum=1.0)
    pulses = whole_number("pulses", pulses, 1, 10_000)
    up = pulse_response(device, voltage, width, int(pulses), x0)
    down = pulse_response(device, -voltage, width, int(pulses), float(up[-1]))[1:]
    states = np.concatenate([up, down])
    return {"model": device.describe(), "voltage": voltage, "width": width, "v_read": v_read,
            "states": states.tolist(), "conductances": np.asarray(device.conductance(states, v_read)).tolist()}


def plot_pulse_curve(curve: dict[str, Any], path: Any) -> None:
    """State and read conductance against pulse number, as PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ..io import save_figure

    figure, (left, right) = plt.subplots(1, 2, figsize=(9, 3.5))
    pulses = np.arange(len(curve["states"]))
    turn = (len(pulses) - 1) // 2
    for axis, key, label in ((left, "states", "state x"), (right, "conductances", "read conductance (S)")):
        axis.plot(pulses, curve[key], ".-", ms=3)
        axis.axvline(turn, color="grey", lw=0.6)
        axis.set_xlabel("pulse number (+V, then −V)")
        axis.set_ylabel(label)
    figure.suptitle(f"{curve['model']}: ±{curve['voltage']:g} V, {curve['width']:g} s pulses", fontsize=8)
    figure.tight_layout()
    save_figure(figure, path)


MAX_WRITE_VOLTAGE = 10.0  # V: beyond any write scheme of these devices (a unit slip)


def get_dynamic_device(name: str, **params: Any) -> DynamicDevice:
    """A dynamic model by name with its defaults (`yakopcic`: the Oblea et al. fit)."""
    key = str(name).strip().lower()
    if key not in DYNAMIC_MODELS:
        raise InputError(f"unknown dynamic device {name!r}; choose one of: {', '.join(DYNAMIC_MODELS)}")
    return build_dataclass(DYNAMIC_MODELS[key], f"device {key!r}", params)
