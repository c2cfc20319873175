"""Conductance-level non-idealities: one seeded draw per chip, applied in numpy or torch.

Programming (once per chip): quantisation to `levels`, programming noise, device-to-device
spread, stuck devices. In time after programming: power-law drift G(t) = G(t0)·(t/t0)^(−ν)
with a per-device exponent ν ~ N(ν_mean, ν_spread) (as used for PCM and measured for
ReRAM retention). Per read: `read_noise` (`read_noise_std`), an independent fluctuation
of every device's conductance at every read.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..checks import finite_array, finite_number
from ..errors import InputError


@dataclass(frozen=True)
class ChipDraw:
    """What one chip's programming does to each device, independent of the target G.

    `gain` multiplies G (lognormal spread, mean resistance kept); `stuck_off` and `stuck_on`
    mark devices that stay at g_off / g_on whatever they are programmed to.
    """

    gain: np.ndarray
    stuck_off: np.ndarray
    stuck_on: np.ndarray
    programming: np.ndarray | None = None  # standard normal per device: its programming error
    drift_nu: np.ndarray | None = None  # per-device drift exponent


@dataclass(frozen=True)
class ConductanceNonidealities:
    """What programming a conductance matrix into a real array does to it.

    Applied in the order a chip sees them: quantisation to `levels` (programming targets),
    programming noise (G + σ_p·(G_on − G_off)·ε, kept within [G_off, G_on]: the write–verify
    loop's residual error), device-to-device `spread` (lognormal: R' = R·X with
    ln X ~ N(-σ²/2, σ²), so E[R'] = R), stuck devices (`apply`); then at time t > t0 after
    programming power-law drift G·(t/t0)^(−ν), ν per device ~ N(`drift_nu`, `drift_nu_spread`)
    (`drift_factor`). The same `seed` gives the same chip.
    """

    spread: float = 0.0
    p_stuck_off: float = 0.0
    p_stuck_on: float = 0.0
    levels: int | None = None
    programming_noise: float = 0.0  # σ_p, as a fraction of G_on − G_off
    drift_nu: float = 0.0  # mean drift exponent ν
    drift_nu_spread: float = 0.0  # its device-to-device standard deviation
    drift_t0: float = 1.0  # s after programming at which the conductances are as programmed

    def __post_init__(self) -> None:
        finite_number("spread", self.spread, minimum=0.0)
        finite_number("p_stuck_off", self.p_stuck_off, minimum=0.0, maximum=1.0)
        finite_number("p_stuck_on", self.p_stuck_on, minimum=0.0, maximum=1.0)
        if self.p_stuck_off + self.p_stuck_on > 1:
            raise InputError("p_stuck_off + p_stuck_on must not exceed 1")
        if self.levels is not None and (int(self.levels) != self.levels or self.levels < 2):
            raise InputError(f"levels must be a whole number >= 2, got {self.levels!r}")
        finite_number("programming_noise", self.programming_noise, minimum=0.0)
        finite_number("drift_nu", self.drift_nu, minimum=0.0, maximum=1.0)
        finite_number("drift_nu_spread", self.drift_nu_spread, minimum=0.0, maximum=1.0)
        finite_number("drift_t0", self.drift_t0, minimum=0.0, strict_minimum=True)

    @property
    def is_ideal(self) -> bool:
        """Nothing drawn per chip (drift with one exponent for all needs no draw)."""
        return not (self.spread or self.p_stuck_off or self.p_stuck_on or self.levels or self.programming_noise
                    or self.drift_nu_spread)

    @property
    def drifts(self) -> bool:
        return bool(self.drift_nu or self.drift_nu_spread)

    def drift_factor(self, t: float | None, draw: ChipDraw | None, like: Any) -> Any:
        """(t/t0)^(−ν) per device (the draw's shape; a scalar without a draw of exponents; numpy or
        torch as `like`); 1 where nothing drifts
        (t None or before t0). The nominal chip (no draw) drifts with the mean exponent."""
        if t is None or t <= self.drift_t0 or not self.drifts:
            return 1.0
        nu: Any = self.drift_nu if draw is None or draw.drift_nu is None else draw.drift_nu
        if isinstance(like, np.ndarray) or not hasattr(like, "detach"):
            return (t / self.drift_t0) ** (-np.asarray(nu))
        import torch

        return (t / self.drift_t0) ** (-torch.as_tensor(nu, dtype=like.dtype, device=like.device))

    def draw(self, shape: tuple[int, ...], seed: int) -> ChipDraw:
        rng = np.random.default_rng(seed)
        gain = np.ones(shape)
        if self.spread:
            gain = np.exp(-rng.normal(-0.5 * self.spread**2, self.spread, size=shape))
        stuck_off = np.zeros(shape, bool)
        stuck_on = np.zeros(shape, bool)
        if self.p_stuck_off or self.p_stuck_on:
            uniform = rng.random(shape)
            stuck_off = uniform < self.p_stuck_off
            stuck_on = (uniform >= self.p_stuck_off) & (uniform < self.p_stuck_off + self.p_stuck_on)
        # drawn after the others, so that chips without them are the chips they always were
        programming = rng.standard_normal(shape) if self.programming_noise else None
        drift_nu = np.clip(rng.normal(self.drift_nu, self.drift_nu_spread, size=shape), 0.0, None) \
            if self.drift_nu_spread else None
        return ChipDraw(gain, stuck_off, stuck_on, programming, drift_nu)

    def apply(self, g: Any, g_off: float, g_on: float, seed: int | None = None,
              draw: ChipDraw | None = None) -> Any:
        """The chip's conductances for targets `g` as programmed (numpy array or torch tensor;
        in torch the result is differentiable in g, quantisation passing gradients straight
        through); `drift_factor` says what time then does to them."""
        numpy_input = isinstance(g, np.ndarray) or not hasattr(g, "detach")
        if numpy_input:
            g = finite_array("conductances", g, (1, 2, 3))
        if draw is None:
            if seed is None:
                raise InputError("give a chip seed or a draw")
            draw = self.draw(tuple(g.shape), seed)
        if self.levels is not None:
            step = (g_on - g_off) / (int(self.levels) - 1)
            if numpy_input:
                g = g_off + np.clip(np.rint((g - g_off) / step), 0, int(self.levels) - 1) * step
            else:
                import torch

                snapped = g_off + torch.clamp(torch.round((g.detach() - g_off) / step), 0, int(self.levels) - 1) * step
                g = g + (snapped - g.detach())
        if numpy_input:
            if draw.programming is not None:
                g = np.clip(g + self.programming_noise * (g_on - g_off) * draw.programming, g_off, g_on)
            out = g * draw.gain
            out[draw.stuck_off] = g_off
            out[draw.stuck_on] = g_on
            return out
        import torch

        as_tensor = lambda a: torch.as_tensor(a, device=g.device)  # noqa: E731
        if draw.programming is not None:
            g = torch.clamp(g + self.programming_noise * (g_on - g_off) * as_tensor(draw.programming).to(g.dtype),
                            g_off, g_on)
        out = g * as_tensor(draw.gain).to(g.dtype)
        out = torch.where(as_tensor(draw.stuck_off), torch.full_like(out, g_off), out)
        return torch.where(as_tensor(draw.stuck_on), torch.full_like(out, g_on), out)


def read_noise_std(v: Any, g: Any, sigma: float) -> Any:
    """Standard deviation of each column current (B, C) when every device's conductance
    fluctuates independently by σ·G at each read: σ·sqrt(Σ_i V_i²·G_ij²) (exact for linear
    devices; for nonlinear ones, to first order in each device's current)."""
    return sigma * ((v * v) @ (g * g)) ** 0.5
