"""Conductance-level non-idealities: one seeded draw per chip, applied in numpy or torch."""

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


@dataclass(frozen=True)
class ConductanceNonidealities:
    """What programming a conductance matrix into a real array does to it.

    Applied in the order a chip sees them: quantisation to `levels` (programming targets),
    device-to-device `spread` (lognormal: R' = R·X with ln X ~ N(-σ²/2, σ²), so E[R'] = R),
    then stuck devices. The same `seed` gives the same chip.
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

    @property
    def is_ideal(self) -> bool:
        return not (self.spread or self.p_stuck_off or self.p_stuck_on or self.levels)

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
        return ChipDraw(gain, stuck_off, stuck_on)

    def apply(self, g: Any, g_off: float, g_on: float, seed: int | None = None,
              draw: ChipDraw | None = None) -> Any:
        """The chip's conductances for targets `g` (numpy array or torch tensor; in torch the
        result is differentiable in g, quantisation passing gradients straight through)."""
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
            out = g * draw.gain
            out[draw.stuck_off] = g_off
            out[draw.stuck_on] = g_on
            return out
        import torch

        as_tensor = lambda a: torch.as_tensor(a, device=g.device)  # noqa: E731
        out = g * as_tensor(draw.gain).to(g.dtype)
        out = torch.where(as_tensor(draw.stuck_off), torch.full_like(out, g_off), out)
        return torch.where(as_tensor(draw.stuck_on), torch.full_like(out, g_on), out)
