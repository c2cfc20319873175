"""Conductance-level non-idealities applied to a conductance matrix with a seeded generator."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..checks import finite_array, finite_number
from ..errors import InputError


def lognormal_spread(g: np.ndarray, sigma: float, rng: np.random.Generator) -> np.ndarray:
    """Device-to-device spread: R' = R·X with ln X ~ N(-σ²/2, σ²), so E[R'] = R (mean preserved)."""
    if sigma == 0:
        return g.copy()
    factor = np.exp(rng.normal(-0.5 * sigma**2, sigma, size=g.shape))
    return g / factor


def stuck_devices(g: np.ndarray, p_off: float, p_on: float, g_off: float, g_on: float,
                  rng: np.random.Generator) -> np.ndarray:
    """Each device independently stuck at g_off with probability p_off, at g_on with p_on."""
    draw = rng.random(g.shape)
    out = g.copy()
    out[draw < p_off] = g_off
    out[(draw >= p_off) & (draw < p_off + p_on)] = g_on
    return out


def quantize(g: np.ndarray, levels: int, g_off: float, g_on: float) -> np.ndarray:
    """Round to the nearest of `levels` equally spaced conductances in [g_off, g_on]."""
    step = (g_on - g_off) / (levels - 1)
    index = np.clip(np.rint((g - g_off) / step), 0, levels - 1)
    return g_off + index * step


@dataclass(frozen=True)
class ConductanceNonidealities:
    """What programming a conductance matrix into a real array does to it.

    Applied in the order a chip sees them: quantisation to `levels` (programming targets),
    device-to-device `spread` (lognormal, mean resistance preserved), then stuck devices.
    The same `seed` gives the same chip.
    """

    spread: float = 0.0
    p_stuck_off: float = 0.0
    p_stuck_on: float = 0.0
    levels: int | None = None

    def __post_init__(self) -> None:
        finite_number("spread", self.spread, minimum=0.0)
        finite_number("p_stuck_off", self.p_stuck_off, minimum=0.0, maximum=1.0)
        finite_number("p_stuck_on", self.p_stuck_on, minimum=0.0, maximum=1.0)
        if self.p_stuck_off + self.p_stuck_on > 1:
            raise InputError("p_stuck_off + p_stuck_on must not exceed 1")
        if self.levels is not None and (int(self.levels) != self.levels or self.levels < 2):
            raise InputError(f"levels must be a whole number >= 2, got {self.levels!r}")

    def apply(self, g: np.ndarray, g_off: float, g_on: float, seed: int) -> np.ndarray:
        g = finite_array("conductances", g, (1, 2, 3))
        rng = np.random.default_rng(seed)
        if self.levels is not None:
            g = quantize(g, int(self.levels), g_off, g_on)
        g = lognormal_spread(g, self.spread, rng)
        if self.p_stuck_off or self.p_stuck_on:
            g = stuck_devices(g, self.p_stuck_off, self.p_stuck_on, g_off, g_on, rng)
        return g
