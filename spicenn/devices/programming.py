"""Device programming models: how a device's conductance moves, pulse by pulse.

Static I-V models (models.py) say what current a device passes; these say how programming
pulses change its conductance. All act on whole arrays of devices at once (torch tensors),
with seeded generators, and apply `n` pulses per device in one call.

* `DiscreteLevels`: `levels` equally spaced states between G_min = G_max/dynamic_range and
  G_max; a pulse moves one state, with cycle-to-cycle noise on each step and a per-device
  (device-to-device) spread of the step size (Babu & Rajendran).
* `SoftBounds`: ΔG+ = α+·(G_max − G)/(G_max − G_min), ΔG− = α−·(G − G_min)/(G_max − G_min);
  unequal α+ and α− make the device drift toward its symmetry point
  G* = (α+·G_max + α−·G_min)/(α+ + α−), where up and down steps are equal (Kim et al.).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ..checks import finite_number, whole_number
from ..errors import InputError


@dataclass(frozen=True)
class DiscreteLevels:
    g_max: float = 1e-4
    dynamic_range: float = 15.0  # G_max / G_min
    levels: int = 32
    cycle_noise: float = 0.0  # std of each step, relative to the nominal step
    device_spread: float = 0.0  # std of each device's step size, relative (drawn once per chip)

    def __post_init__(self) -> None:
        finite_number("g_max", self.g_max, minimum=0.0, strict_minimum=True)
        finite_number("dynamic_range", self.dynamic_range, minimum=1.0, strict_minimum=True)
        whole_number("levels", self.levels, 2)
        finite_number("cycle_noise", self.cycle_noise, minimum=0.0)
        finite_number("device_spread", self.device_spread, minimum=0.0)

    @property
    def g_min(self) -> float:
        return self.g_max / self.dynamic_range

    @property
    def step(self) -> float:
        """The nominal conductance change of one pulse."""
        return (self.g_max - self.g_min) / (self.levels - 1)

    def device_steps(self, shape: tuple[int, ...], generator: torch.Generator) -> torch.Tensor:
        """Each device's own step size (device-to-device spread, never below 10 % of nominal)."""
        spread = 1.0 + self.device_spread * torch.randn(shape, generator=generator, dtype=torch.float64)
        return self.step * spread.clamp(min=0.1)

    def pulse(self, g: torch.Tensor, count: torch.Tensor, steps: torch.Tensor,
              generator: torch.Generator) -> torch.Tensor:
        """Conductances after `count` pulses per device (positive: up, negative: down)."""
        count = count.to(g.dtype)
        noise = self.cycle_noise * steps * count.abs().sqrt() * torch.randn(g.shape, generator=generator, dtype=g.dtype)
        return (g + count * steps + noise).clamp(self.g_min, self.g_max)

    def initial(self, shape: tuple[int, ...], generator: torch.Generator) -> torch.Tensor:
        """Devices start at the middle state."""
        middle = self.g_min + self.step * ((self.levels - 1) // 2)
        return torch.full(shape, middle, dtype=torch.float64)


@dataclass(frozen=True)
class SoftBounds:
    g_min: float = 1e-6
    g_max: float = 1e-4
    alpha_up: float = 0.01  # relative step size at G_min (as a fraction of G_max − G_min)
    alpha_down: float = 0.01
    cycle_noise: float = 0.0  # std of each step, relative to the mean step
    device_spread: float = 0.0  # per-device spread of α+ and α− (relative, drawn once per chip)

    def __post_init__(self) -> None:
        finite_number("g_min", self.g_min, minimum=0.0, strict_minimum=True)
        finite_number("g_max", self.g_max, minimum=self.g_min, strict_minimum=True)
        for name in ("alpha_up", "alpha_down"):
            finite_number(name, getattr(self, name), minimum=0.0, maximum=1.0, strict_minimum=True)
        finite_number("cycle_noise", self.cycle_noise, minimum=0.0)
        finite_number("device_spread", self.device_spread, minimum=0.0)

    @property
    def step(self) -> float:
        """The mean of the up and down steps at the middle of the range."""
        return 0.25 * (self.alpha_up + self.alpha_down) * (self.g_max - self.g_min)

    def symmetry_point(self, alpha_up: float | torch.Tensor | None = None,
                       alpha_down: float | torch.Tensor | None = None):
        """G* where an up pulse and a down pulse change G by the same amount (closed form)."""
        a = self.alpha_up if alpha_up is None else alpha_up
        b = self.alpha_down if alpha_down is None else alpha_down
        return (a * self.g_max + b * self.g_min) / (a + b)

    def device_steps(self, shape: tuple[int, ...], generator: torch.Generator) -> torch.Tensor:
        """Per-device (α+, α−) stacked on the last axis."""
        spread = 1.0 + self.device_spread * torch.randn(shape + (2,), generator=generator, dtype=torch.float64)
        alphas = torch.tensor([self.alpha_up, self.alpha_down], dtype=torch.float64)
        return (alphas * spread.clamp(min=0.1)).clamp(max=1.0)

    def pulse(self, g: torch.Tensor, count: torch.Tensor, steps: torch.Tensor,
              generator: torch.Generator) -> torch.Tensor:
        """`count` pulses per device in closed form: n up pulses take G_max − G to
        (G_max − G)(1 − α+)^n, n down pulses take G − G_min to (G − G_min)(1 − α−)^n."""
        up, down = (count > 0), (count < 0)
        n = count.abs().to(g.dtype)
        alpha_up, alpha_down = steps[..., 0], steps[..., 1]
        after_up = self.g_max - (self.g_max - g) * (1 - alpha_up) ** n
        after_down = self.g_min + (g - self.g_min) * (1 - alpha_down) ** n
        new = torch.where(up, after_up, torch.where(down, after_down, g))
        if self.cycle_noise:
            noise = self.cycle_noise * (new - g).abs() / n.clamp(min=1).sqrt()
            new = new + noise * torch.randn(g.shape, generator=generator, dtype=g.dtype)
        return new.clamp(self.g_min, self.g_max)

    def initial(self, shape: tuple[int, ...], generator: torch.Generator) -> torch.Tensor:
        return torch.full(shape, 0.5 * (self.g_min + self.g_max), dtype=torch.float64)


PROGRAMMING_MODELS = {"levels": DiscreteLevels, "soft-bounds": SoftBounds}


def programming_model(name: str, **params) -> DiscreteLevels | SoftBounds:
    if name not in PROGRAMMING_MODELS:
        raise InputError(f"unknown programming model {name!r}; choose one of: {', '.join(PROGRAMMING_MODELS)}")
    return PROGRAMMING_MODELS[name](**params)


def find_symmetry_point(model: SoftBounds, g: torch.Tensor, steps: torch.Tensor, generator: torch.Generator,
                        pulses: int = 1000) -> tuple[torch.Tensor, int]:
    """Zero-shifting by pulsing: alternate one up and one down pulse on every device; the
    conductance settles in a two-state cycle around the device's symmetry point, whose middle
    is within half a step of it. Returns that middle and the pulses applied per device."""
    ones = torch.ones_like(g)
    for _ in range(pulses // 2):
        g = model.pulse(g, ones, steps, generator)
        g = model.pulse(g, -ones, steps, generator)
    after_up = model.pulse(g, ones, steps, generator)
    return 0.5 * (g + after_up), 2 * (pulses // 2)
