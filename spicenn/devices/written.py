"""Dynamic devices as learning rules see them: a device and the pulse that writes it.

`DevicePulses` is a programming model (as `DiscreteLevels` and `SoftBounds` are) whose
conductance moves by the dynamic device's own physics: one pulse is the write scheme's
trapezoid of `voltage` across the cell (`width` s at full voltage, `t_edge` s ramps), and n
identical pulses move the state exactly, in closed form (`VTEAM.advance`: doses add in the
window's coordinate). A rule that counts pulses per device thereby writes *ideally* — every
cell sees the nominal voltage; `spicenn.nn.learning` passes the same pulses through the
array's wires instead (the native write engine or the write surrogate).

The presets are calibrated to the learning papers' devices (`write_preset`):

* `levels32` (Babu & Rajendran; Li et al.): conductance linear in the state between
  G_max = 25 µS and G_max/15, a window of exponent 10 (steps equal over the range, slowing
  only at its ends), and k_on, k_off such that 31 pulses at ±1.3 V, 10 ns take the state
  from one bound to half a step from the other — 32 levels over a range of 15;
* `soft-bounds` (Kim et al.): window exponent 1, so a step shrinks in proportion to the
  distance to the bound it moves toward (soft bounds), the up step at G_min `alpha_up` of
  the range and the down step at G_max `imbalance` times it (aihwkit's α−/α+).

Both use VTEAM's thresholds ±0.8 V, so the V/2 scheme's half-selected cells (0.65 V) never
move; `pulse_curve` draws a preset's response beside the paper's rule.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from ..checks import finite_number, whole_number
from ..errors import InputError
from .dynamic import VTEAM


@dataclass(frozen=True)
class DevicePulses:
    """A dynamic device written by identical pulses of ±`voltage` (V/2 scheme: half-selected
    cells see half of it), read at `v_read`. Up (G rises) is the device's reset direction."""

    device: VTEAM
    voltage: float = 1.3
    width: float = 10e-9
    t_edge: float = 1e-9
    v_read: float = 0.1
    cycle_noise: float = 0.0  # std of each pulse's dose, relative
    device_spread: float = 0.0  # std of each device's dose scale (up and down), relative, per chip
    label: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.device, VTEAM) or not self.device.linear_conductance:
            raise InputError("DevicePulses takes a VTEAM device with linear_conductance=True")
        finite_number("voltage", self.voltage, minimum=0.0, strict_minimum=True, maximum=10.0)
        finite_number("width", self.width, minimum=0.0, strict_minimum=True, maximum=1.0)
        finite_number("t_edge", self.t_edge, minimum=0.0, maximum=1.0)
        finite_number("cycle_noise", self.cycle_noise, minimum=0.0)
        finite_number("device_spread", self.device_spread, minimum=0.0)
        band = self.device.quiet_band()
        if not (band[0] < -self.voltage / 2 and self.voltage / 2 < band[1]):
            raise InputError(f"half the write voltage ({self.voltage / 2:g} V) must lie within the device's "
                             f"thresholds ({band[0]:g}, {band[1]:g}) V, or half-selected cells are written")
        if self.dose(self.voltage) <= 0 or self.dose(-self.voltage) >= 0:
            raise InputError(f"a {self.voltage:g} V pulse does not pass the device's thresholds")

    # the conductance and the state (linear in each other)
    @property
    def g_max(self) -> float:
        return float(self.device.conductance(0.0, self.v_read))

    @property
    def g_min(self) -> float:
        return float(self.device.conductance(1.0, self.v_read))

    def state(self, g: Any) -> Any:
        """The state whose read conductance is g."""
        return (self.g_max - g) / (self.g_max - self.g_min)

    def conductance(self, x: Any) -> Any:
        return self.g_max - (self.g_max - self.g_min) * x

    @property
    def square_time(self) -> float:
        """s: ∫(v/V)² dt of one pulse — the hold and its two linear ramps (t_edge/3 each) — so
        that an ohmic cell at V spends G·V²·square_time."""
        return self.width + 2.0 * self.t_edge / 3.0

    def dose(self, v: Any) -> Any:
        """The signed dose of one pulse of peak cell voltage v (positive: toward G_min)."""
        return self.device.pulse_dose(v, self.width, self.t_edge)

    @property
    def step(self) -> float:
        """The mean of one up and one down pulse's |ΔG| from the middle of the range."""
        middle = np.array(0.5)
        up = self.device.advance(middle, self.dose(-self.voltage))
        down = self.device.advance(middle, self.dose(self.voltage))
        return float(0.5 * (abs(up - middle) + abs(down - middle)) * (self.g_max - self.g_min))

    def device_steps(self, shape: tuple[int, ...], generator: torch.Generator) -> torch.Tensor:
        """Per-device scale of the (up, down) dose, stacked on the last axis."""
        spread = 1.0 + self.device_spread * torch.randn(shape + (2,), generator=generator, dtype=torch.float64)
        return spread.clamp(min=0.1)

    def pulse(self, g: torch.Tensor, count: torch.Tensor, steps: torch.Tensor,
              generator: torch.Generator) -> torch.Tensor:
        """`count` ideal pulses per device (positive: up), exact: n identical pulses are one
        dose n times as large in the window's coordinate."""
        count = count.to(g.dtype)
        up_dose, down_dose = float(self.dose(-self.voltage)), float(self.dose(self.voltage))
        dose = torch.where(count > 0, count * up_dose * steps[..., 0], -count * down_dose * steps[..., 1])
        if self.cycle_noise:
            dose = dose * (1.0 + self.cycle_noise / count.abs().clamp(min=1).sqrt()
                           * torch.randn(g.shape, generator=generator, dtype=g.dtype)).clamp(min=0.0)
        moving = dose != 0
        x = self.state(g).clamp(0.0, 1.0)
        x[moving] = self.device.advance(x[moving], dose[moving], torch)
        return self.conductance(x)

    def initial(self, shape: tuple[int, ...], generator: torch.Generator) -> torch.Tensor:
        return torch.full(shape, 0.5 * (self.g_min + self.g_max), dtype=torch.float64)

    def symmetry_point(self) -> float:
        """G where one up and one down pulse change G equally (each from there): the point
        zero-shifting finds."""
        from scipy.optimize import brentq

        up, down = self.dose(-self.voltage), self.dose(self.voltage)

        def unbalance(x: float) -> float:
            return float((self.device.advance(np.array(x), up) - x) + (self.device.advance(np.array(x), down) - x))

        return float(self.conductance(brentq(unbalance, 1e-9, 1 - 1e-9, xtol=1e-14)))

    def describe(self) -> str:
        return self.label or f"{self.device.describe()} at ±{self.voltage:g} V, {self.width:g} s"


def _dose_per_k(device: VTEAM, voltage: float, width: float, t_edge: float) -> tuple[float, float]:
    """The dose of a ±`voltage` pulse per unit k_off (toward G_min) and per unit k_on."""
    unit = dataclasses.replace(device, k_off=1.0, k_on=1.0)
    return float(unit.pulse_dose(voltage, width, t_edge)), float(-unit.pulse_dose(-voltage, width, t_edge))


def levels(dynamic_range: float = 15.0, count: int = 32, g_max: float = 25e-6, voltage: float = 1.3,
           width: float = 10e-9, t_edge: float = 1e-9, window_p: int = 10, **noise: float) -> DevicePulses:
    """A multi-level device: `count` − 1 pulses at ±`voltage` take the state from one bound to
    half a step from the other (so `count` levels), equal steps between (window `window_p`)."""
    finite_number("dynamic_range", dynamic_range, minimum=1.0, strict_minimum=True)
    whole_number("levels", count, 2, 10_000)
    device = VTEAM(r_on=1.0 / g_max, r_off=dynamic_range / g_max, window_p=window_p, linear_conductance=True)
    target = 1.0 - 0.5 / (count - 1)  # the state (count − 1) pulses reach from 0
    from .dynamic import _window_integral

    per_pulse = float(_window_integral(np.array(target), window_p, np)) / (count - 1)
    off, on = _dose_per_k(device, voltage, width, t_edge)
    device = dataclasses.replace(device, k_off=per_pulse / off, k_on=per_pulse / on)
    return DevicePulses(device, voltage, width, t_edge, label=f"levels{count}: VTEAM, {count} levels over a range of "
                        f"{dynamic_range:g}, ±{voltage:g} V {width * 1e9:g} ns pulses", **noise)


def soft_bounds(alpha_up: float = 0.01, imbalance: float = 1.0, dynamic_range: float = 100.0, g_max: float = 25e-6,
                voltage: float = 1.3, width: float = 10e-9, t_edge: float = 1e-9, **noise: float) -> DevicePulses:
    """A soft-bounds device: window exponent 1 (each step proportional to the distance
    1 − x² ≈ 2(1 − x) to the bound it moves toward), the up step from G_min `alpha_up` of the
    range and the down step from G_max `imbalance` times that."""
    finite_number("alpha_up", alpha_up, minimum=0.0, strict_minimum=True, maximum=0.5)
    finite_number("imbalance", imbalance, minimum=0.0, strict_minimum=True, maximum=10.0)
    device = VTEAM(r_on=1.0 / g_max, r_off=dynamic_range / g_max, window_p=1, linear_conductance=True)
    off, on = _dose_per_k(device, voltage, width, t_edge)
    # from a bound the window's coordinate is 0 and one dose D moves the state by tanh(D)
    up, down = float(np.arctanh(alpha_up)), float(np.arctanh(alpha_up * imbalance))
    device = dataclasses.replace(device, k_on=up / on, k_off=down / off)
    return DevicePulses(device, voltage, width, t_edge, label=f"soft-bounds: VTEAM window 1, up step {alpha_up:g} "
                        f"of the range from G_min, down/up {imbalance:g}", **noise)


WRITE_PRESETS: dict[str, Callable[..., DevicePulses]] = {"levels32": levels, "soft-bounds": soft_bounds}


def write_preset(name: str, **options: Any) -> DevicePulses:
    """A calibrated dynamic device with its write pulse, by name (see the module)."""
    if name not in WRITE_PRESETS:
        raise InputError(f"unknown write preset {name!r}; choose one of: {', '.join(WRITE_PRESETS)}")
    return WRITE_PRESETS[name](**options)


def pulse_response(preset: DevicePulses, pulses: int | None = None) -> dict[str, list[float]]:
    """The conductance under `pulses` up pulses from G_min, then as many down: the preset's
    pulse-response curve (ideal writes)."""
    n = pulses if pulses is not None else 64
    up_dose, down_dose = preset.dose(-preset.voltage), preset.dose(preset.voltage)
    x = [1.0]
    for k in range(2 * n):
        x.append(float(preset.device.advance(np.array(x[-1]), up_dose if k < n else down_dose)))
    return {"pulse": list(range(2 * n + 1)), "conductance": [float(preset.conductance(v)) for v in x]}
