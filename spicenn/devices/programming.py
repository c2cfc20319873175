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
* `PiecewiseSteps`: the mean step up and down tabulated against G (linear between the
  points), as measured from a device's pulse curves (aihwkit's piecewise-step device).

A programming file (`spicenn devices fit pulses`, or written by hand) holds one of them in its
[programming] table: `model` and the dataclass's fields; `load_programming_file` reads it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..checks import build_dataclass, finite_number, whole_number
from ..errors import InputError
from .written import DevicePulses


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


@dataclass(frozen=True)
class PiecewiseSteps:
    """Mean step sizes (S, both positive) up and down at the conductances `points` (S, rising;
    linear between them, constant beyond), G held within [g_min, g_max]."""

    g_min: float = 1e-6
    g_max: float = 1e-4
    points: tuple[float, ...] = (1e-6, 1e-4)
    up_steps: tuple[float, ...] = (2e-6, 1e-7)
    down_steps: tuple[float, ...] = (1e-7, 2e-6)
    cycle_noise: float = 0.0  # std of each step, relative to the mean step there
    device_spread: float = 0.0  # per-device spread of the step sizes (relative, drawn once per chip)

    def __post_init__(self) -> None:
        finite_number("g_min", self.g_min, minimum=0.0, strict_minimum=True)
        finite_number("g_max", self.g_max, minimum=self.g_min, strict_minimum=True)
        for name in ("points", "up_steps", "down_steps"):
            value = getattr(self, name)
            if isinstance(value, str) or not isinstance(value, (list, tuple)) or len(value) < 2:
                raise InputError(f"{name} is a list of at least 2 numbers")
            object.__setattr__(self, name, tuple(value))
            for k, number in enumerate(value):
                finite_number(f"{name}[{k}]", number, minimum=0.0, strict_minimum=name != "points")
        if not len(self.points) == len(self.up_steps) == len(self.down_steps):
            raise InputError(f"points, up_steps and down_steps have one entry each: lengths {len(self.points)}, "
                             f"{len(self.up_steps)}, {len(self.down_steps)}")
        if any(b <= a for a, b in zip(self.points, self.points[1:])):
            raise InputError("points rise strictly")
        finite_number("cycle_noise", self.cycle_noise, minimum=0.0)
        finite_number("device_spread", self.device_spread, minimum=0.0)

    def mean_steps(self, g: Any) -> tuple[Any, Any]:
        """The tabulated (up, down) step magnitudes at conductances g (a torch tensor, or a
        numpy array as the pulse fits use)."""
        if isinstance(g, np.ndarray):
            return np.interp(g, self.points, self.up_steps), np.interp(g, self.points, self.down_steps)
        points = torch.tensor(self.points, dtype=g.dtype)
        index = torch.searchsorted(points, g.contiguous()).clamp(1, len(self.points) - 1)
        low, high = points[index - 1], points[index]
        weight = ((g - low) / (high - low)).clamp(0.0, 1.0)
        tables = [torch.tensor(t, dtype=g.dtype) for t in (self.up_steps, self.down_steps)]
        up, down = (t[index - 1] + weight * (t[index] - t[index - 1]) for t in tables)
        return up, down

    @property
    def step(self) -> float:
        """The mean of the up and down steps at the middle of the range."""
        up, down = self.mean_steps(torch.tensor([0.5 * (self.g_min + self.g_max)], dtype=torch.float64))
        return 0.5 * float(up[0] + down[0])

    def device_steps(self, shape: tuple[int, ...], generator: torch.Generator) -> torch.Tensor:
        """Per-device scale of the (up, down) steps, stacked on the last axis."""
        spread = 1.0 + self.device_spread * torch.randn(shape + (2,), generator=generator, dtype=torch.float64)
        return spread.clamp(min=0.1)

    def pulse(self, g: torch.Tensor, count: torch.Tensor, steps: torch.Tensor,
              generator: torch.Generator) -> torch.Tensor:
        """`count` pulses per device, one at a time (the step depends on where G is)."""
        direction = count.sign().to(g.dtype)
        remaining = count.abs()
        for _ in range(int(remaining.max()) if remaining.numel() else 0):
            active = remaining > 0
            up, down = self.mean_steps(g)
            mean = torch.where(direction > 0, up * steps[..., 0], down * steps[..., 1])
            noise = self.cycle_noise * mean * torch.randn(g.shape, generator=generator, dtype=g.dtype)
            g = torch.where(active, (g + direction * mean + noise).clamp(self.g_min, self.g_max), g)
            remaining = remaining - active.to(remaining.dtype)
        return g

    def initial(self, shape: tuple[int, ...], generator: torch.Generator) -> torch.Tensor:
        return torch.full(shape, 0.5 * (self.g_min + self.g_max), dtype=torch.float64)


# DevicePulses (a dynamic device and its write pulse, spicenn.devices.written) acts as one too;
# programming files hold the three named below
ProgrammingModel = DiscreteLevels | SoftBounds | PiecewiseSteps | DevicePulses
PROGRAMMING_MODELS: dict[str, type[DiscreteLevels | SoftBounds | PiecewiseSteps]] = {
    "levels": DiscreteLevels, "soft-bounds": SoftBounds, "piecewise": PiecewiseSteps}


def programming_model(name: str, **params: Any) -> ProgrammingModel:
    """A programming model by name (levels, soft-bounds, piecewise) or from a programming
    file (a path ending in .toml), with its parameters."""
    if str(name).lower().endswith(".toml"):
        found = load_programming_file(name)
        return dataclasses.replace(found, **params) if params else found
    if name not in PROGRAMMING_MODELS:
        raise InputError(f"unknown programming model {name!r}; choose one of: {', '.join(PROGRAMMING_MODELS)}")
    return build_dataclass(PROGRAMMING_MODELS[name], f"programming model {name!r}", params)


def programming_to_dict(model: ProgrammingModel) -> dict[str, Any]:
    """The [programming] table of a programming file: `model` and every field."""
    name = next(key for key, cls in PROGRAMMING_MODELS.items() if type(model) is cls)
    return {"model": name, **{k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(model).items()}}


def programming_from_dict(table: Mapping[str, Any], where: str = "programming table") -> ProgrammingModel:
    """Inverse of `programming_to_dict` (keys the model does not have are refused)."""
    params = dict(table)
    name = params.pop("model", None)
    if not isinstance(name, str) or name.lower().endswith(".toml"):
        raise InputError(f"{where} needs a 'model' naming one of: {', '.join(PROGRAMMING_MODELS)}")
    return programming_model(name, **params)


def load_programming_file(path: str | Path) -> ProgrammingModel:
    """The programming model a programming file's [programming] table describes."""
    from ..io import read_toml

    table = read_toml(path, "programming").get("programming")
    if not isinstance(table, Mapping):
        raise InputError(f"programming file {path} has no [programming] table")
    return programming_from_dict(table, f"programming file {Path(path).name}")


def find_symmetry_point(model: SoftBounds | DevicePulses, g: torch.Tensor, steps: torch.Tensor,
                        generator: torch.Generator, pulses: int = 1000) -> tuple[torch.Tensor, int]:
    """Zero-shifting by pulsing: alternate one up and one down pulse on every device; the
    conductance settles in a two-state cycle around the device's symmetry point, whose middle
    is within half a step of it. Returns that middle and the pulses applied per device."""
    ones = torch.ones_like(g)
    for _ in range(pulses // 2):
        g = model.pulse(g, ones, steps, generator)
        g = model.pulse(g, -ones, steps, generator)
    after_up = model.pulse(g, ones, steps, generator)
    return 0.5 * (g + after_up), 2 * (pulses // 2)
