"""The crossbar surrogate: the line relaxation (physics.py) with a learned damping schedule.

A few relaxation sweeps with a schedule fitted to SPICE results reach the accuracy that a
fixed damping needs several times more sweeps for. The model carries its configuration
(tile size, device, wires, value ranges) and refuses inputs outside them.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from ..errors import InputError
from ..io import atomic_path
from .physics import relax
from .sampling import TileConfig


@dataclass(frozen=True)
class SurrogateConfig(TileConfig):
    iterations: int = 8
    # float32 is ~5x faster here and its error (~1e-7 relative) is far below the model's
    compute_dtype: str = "float32"

    @classmethod
    def from_dataset(cls, spec: TileConfig, iterations: int = 8) -> "SurrogateConfig":
        return cls(**spec.tile(), iterations=iterations)

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.compute_dtype not in ("float32", "float64"):
            raise InputError(f"compute_dtype must be float32 or float64, got {self.compute_dtype!r}")


class CrossbarSurrogate(nn.Module):
    """(voltages (..., B, M), conductances (..., M, N)) -> output currents (..., B, N)."""

    def __init__(self, config: SurrogateConfig):
        super().__init__()
        self.config = config
        self.device_model = config.device_model()
        self.cell = {key: torch.from_numpy(value) for key, value in
                     self.device_model.cell_parameters((config.rows, config.columns)).items()}
        # damping = sigmoid(logit); 0 -> 0.5, the safe fixed value before training
        self.damping_logits = nn.Parameter(torch.zeros(config.iterations, dtype=torch.float64))

    def damping(self) -> torch.Tensor:
        return torch.sigmoid(self.damping_logits)

    def check(self, voltages: torch.Tensor, conductances: torch.Tensor) -> None:
        c = self.config
        if conductances.shape[-2:] != (c.rows, c.columns):
            raise InputError(f"this surrogate is for {c.rows}x{c.columns} tiles, got conductances "
                             f"{tuple(conductances.shape)}")
        if voltages.shape[-1] != c.rows:
            raise InputError(f"voltages must have {c.rows} entries per vector, got {tuple(voltages.shape)}")
        for name, x in (("voltages", voltages), ("conductances", conductances)):
            if not torch.all(torch.isfinite(x)):
                raise InputError(f"{name} contain NaN or inf")
        tolerance = 1e-9
        if conductances.min() < c.g_off * (1 - tolerance) or conductances.max() > c.g_on * (1 + tolerance):
            raise InputError(f"conductances outside the surrogate's range [{c.g_off:g}, {c.g_on:g}] S "
                             f"(got {float(conductances.detach().min()):g} ... {float(conductances.detach().max()):g})")
        if voltages.min() < -tolerance or voltages.max() > c.v_max * (1 + tolerance):
            raise InputError(f"voltages outside the surrogate's range [0, {c.v_max:g}] V "
                             f"(got {float(voltages.detach().min()):g} ... {float(voltages.detach().max()):g})")

    def forward(self, voltages: torch.Tensor, conductances: torch.Tensor,
                cell: dict[str, torch.Tensor] | None = None) -> torch.Tensor:
        """`cell`: per-device model parameters shaped like the conductances (one chip's draw);
        by default the model's own (drawn from the device's seed)."""
        self.check(voltages, conductances)
        c = self.config
        dtype = getattr(torch, c.compute_dtype)
        cell = {key: torch.as_tensor(value).to(dtype) for key, value in (cell if cell is not None else self.cell).items()}
        currents = relax(self.device_model, voltages.to(dtype), conductances.to(dtype), c.r_word, c.r_bit, 0.0,
                         c.iterations, self.damping().to(dtype), cell)
        return currents.to(voltages.dtype)

    def save(self, path: str | Path) -> None:
        """Configuration and parameters in one file, written atomically."""
        with atomic_path(path) as temporary:
            torch.save({"config": dataclasses.asdict(self.config), "state_dict": self.state_dict()}, temporary)

    @classmethod
    def load(cls, path: str | Path) -> "CrossbarSurrogate":
        path = Path(path)
        if not path.exists():
            raise InputError(f"surrogate model {path} does not exist")
        try:
            saved = torch.load(path, map_location="cpu", weights_only=True)
            model = cls(SurrogateConfig(**saved["config"]))
            model.load_state_dict(saved["state_dict"])
        except InputError:
            raise
        except Exception as error:  # a wrong or damaged file
            raise InputError(f"{path} is not a spicenn surrogate model ({type(error).__name__})") from None
        return model
