"""The crossbar surrogate: a differentiable circuit model (physics.py) with parameters fitted to SPICE.

Two kinds:
* "relaxation": the line relaxation with a learned damping schedule. A few sweeps with a
  schedule fitted to SPICE results reach the accuracy that a fixed damping needs several
  times more sweeps for. Exact in the limit, for any loading; costs every device's current
  for every vector in every sweep.
* "first-order": the device-only currents less the line drops to first order, every term a
  matmul (2 + 2·modes per vector), resummed per column (I0/(1 + loss/I0)), with one fitted
  scale per term. Accurate where the lines load the devices weakly, and to a few tenths of
  a percent where they move the currents by ~10-20 %; `spicenn surrogate validate` says
  whether a tile is such a case. Calls that need no gradient take the same arithmetic in
  numpy (inference.py), several times cheaper per call at a layer's batch.

The model carries its configuration (tile size, device, wires, value ranges) and refuses
inputs outside them.
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from ..checks import finite_array, finite_number, whole_number
from ..devices.base import uniform_cell
from ..errors import InputError
from ..io import save_torch_atomic
from .inference import FirstOrderInference
from .physics import bit_line_modes, first_order, line_kernels, relax
from .sampling import TileConfig

NUMPY_PATH_VECTORS = 1024  # above this many vectors per tile, torch's path is the faster (BENCHMARKS.md)


@dataclass(frozen=True)
class SurrogateConfig(TileConfig):
    iterations: int = 8
    # float32 is ~5x faster here and its error (~1e-7 relative) is far below the model's
    compute_dtype: str = "float32"
    kind: str = "relaxation"
    modes: int = 1  # bit-line modes of the first-order kind
    # V: the first-order kind's device slope as a secant over ~ a line drop (0.02 V: chosen on
    # validation sets apart from the benchmark's held-out data, powerlaw32 and sinh64 tiles)
    slope_step: float = 0.02

    @classmethod
    def from_dataset(cls, spec: TileConfig, iterations: int = 8, kind: str = "relaxation",
                     modes: int = 1) -> SurrogateConfig:
        return cls(**spec.tile(), iterations=iterations, kind=kind, modes=modes)

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.compute_dtype not in ("float32", "float64"):
            raise InputError(f"compute_dtype must be float32 or float64, got {self.compute_dtype!r}")
        if self.kind not in KINDS:
            raise InputError(f"unknown surrogate kind {self.kind!r}: choose one of {', '.join(KINDS)}")
        if not 1 <= self.modes <= self.rows:
            raise InputError(f"modes must be between 1 and the number of rows ({self.rows}), got {self.modes}")
        object.__setattr__(self, "iterations", whole_number("iterations", self.iterations, 1, 200))
        object.__setattr__(self, "slope_step", finite_number("slope_step", self.slope_step, minimum=0.0,
                                                             strict_minimum=True, maximum=self.v_max))
        if self.kind == "first-order" and not self.device_model().separable:
            raise InputError(f"the first-order surrogate needs a device whose current is G·f(V) "
                             f"(linear, sinh, powerlaw), not {self.device['name']!r}")


KINDS = ("relaxation", "first-order")  # also listed by `spicenn surrogate train --kind` (kept torch-free)
MAX_TERM_SCALE = 10.0  # a first-order surrogate's trained term scales are ~0.9-1.05 (shipped models)


def _extremes(x: torch.Tensor) -> tuple[float, float]:
    """(min, max) in one pass; NaN if any element is NaN. numpy's SIMD reductions on the CPU
    (a few µs where torch's aminmax took ~15 on a layer's batch)."""
    if x.device.type == "cpu" and x.dtype in (torch.float32, torch.float64) and x.numel():
        values = x.numpy()
        return float(values.min()), float(values.max())
    low, high = torch.aminmax(x)
    return float(low), float(high)


def _forget_inference(module: CrossbarSurrogate, _incompatible) -> None:
    module._inference_cache = None  # it holds a copy of the modes: rebuilt from the loaded ones


class CrossbarSurrogate(nn.Module):
    """(voltages (..., B, M), conductances (..., M, N)) -> output currents (..., B, N)."""

    # parameters and buffers of the kinds (nn.Module's attribute lookup is untyped)
    scales: torch.Tensor
    damping_logits: torch.Tensor
    modes: torch.Tensor
    word_kernel: torch.Tensor
    _inference_cache: FirstOrderInference | None

    def __init__(self, config: SurrogateConfig):
        super().__init__()
        self.config = config
        self.device_model = config.device_model()
        self.cell = {key: torch.from_numpy(value) for key, value in
                     self.device_model.cell_parameters((config.rows, config.columns)).items()}
        self.common_cell = uniform_cell(self.cell)
        if config.kind == "relaxation":
            # damping = sigmoid(logit); 0 -> 0.5, the safe fixed value before training
            self.damping_logits = nn.Parameter(torch.zeros(config.iterations, dtype=torch.float64))
        else:
            # the word-line term's and each bit-line mode's scale; ones = the plain expansion
            self.scales = nn.Parameter(torch.ones(1 + config.modes, dtype=torch.float64))
            self.register_buffer("modes", bit_line_modes(config.rows, config.modes))
            # the word-line kernel in the compute precision, kept out of the state_dict
            kernel = line_kernels(1, config.columns, getattr(torch, config.compute_dtype))[0]
            self.register_buffer("word_kernel", kernel, persistent=False)
            self.register_load_state_dict_post_hook(_forget_inference)

    def damping(self) -> torch.Tensor:
        return torch.sigmoid(self.damping_logits)

    def check(self, voltages: torch.Tensor, conductances: torch.Tensor, used: tuple[int, int] | None = None) -> None:
        c = self.config
        if conductances.shape[-2:] != (c.rows, c.columns):
            raise InputError(f"this surrogate is for {c.rows}x{c.columns} tiles, got conductances "
                             f"{tuple(conductances.shape)}")
        if used is not None and not (1 <= used[0] <= c.rows and 1 <= used[1] <= c.columns):
            raise InputError(f"used rows and columns {used} outside the {c.rows}x{c.columns} tile")
        inputs = c.rows if used is None else used[0]
        if voltages.shape[-1] != inputs:
            raise InputError(f"voltages must have {inputs} entries per vector, got {tuple(voltages.shape)}")
        # one pass per tensor: NaN fails every comparison, inf fails the range check
        for name, x, low, high, unit in (("conductances", conductances, c.g_off, c.g_on, "S"),
                                         ("voltages", voltages, c.v_min, c.v_max, "V")):
            smallest, largest = _extremes(x.detach())
            if not (math.isfinite(smallest) and math.isfinite(largest)):
                raise InputError(f"{name} contain NaN or inf")
            # the bounds as the tensor's precision represents them (float32 rounds g_off)
            slack = max(1e-9, 4 * torch.finfo(x.dtype).eps if x.is_floating_point() else 0.0) * high
            if smallest < low - slack or largest > high + slack:
                raise InputError(f"{name} outside the surrogate's range [{low:g}, {high:g}] {unit} "
                                 f"(got {smallest:g} ... {largest:g})")

    def forward(self, voltages: torch.Tensor, conductances: torch.Tensor,
                cell: dict[str, torch.Tensor] | None = None, used: tuple[int, int] | None = None) -> torch.Tensor:
        """`cell`: per-device model parameters shaped like the conductances (one chip's draw);
        by default the model's own (drawn from the device's seed). `used` = (m, n): a tile of
        which only the first m rows are driven (`voltages` (..., B, m); the other rows at 0 V)
        and the first n columns read (currents (..., B, n)), at the cost of that part."""
        self.check(voltages, conductances, used)
        c = self.config
        given: Mapping[str, float | torch.Tensor]
        if cell is not None:
            given = cell
        elif c.kind == "first-order" and self.common_cell is not None:
            given = self.common_cell  # every device alike: scalars, no per-call conversion
        else:
            given = self.cell
        if c.kind == "first-order" and self._inference_applies(voltages, conductances):
            arrays = {key: value if isinstance(value, float) else torch.as_tensor(value).detach().cpu().numpy()
                      for key, value in given.items()}
            single = voltages.ndim == 1  # one vector (M,): as a batch of one
            v = voltages.detach().numpy()
            out = self._inference()(v[None] if single else v, conductances.detach().numpy(),
                                    self.scales.detach().numpy(), arrays, v.dtype, used)
            return torch.from_numpy(out[..., 0, :] if single else out)
        dtype = getattr(torch, c.compute_dtype)
        tensors = {key: value if isinstance(value, float) else torch.as_tensor(value).to(dtype)
                   for key, value in given.items()}
        if c.kind == "first-order":
            currents = first_order(self.device_model, voltages.to(dtype), conductances.to(dtype), c.r_word, c.r_bit,
                                   self.modes.to(dtype), self.scales.to(dtype), tensors,
                                   slope_step=c.slope_step, word_kernel=self.word_kernel.to(dtype), used=used)
        else:
            if used is not None:  # the relaxation solves the whole tile
                voltages = torch.nn.functional.pad(voltages, (0, c.rows - used[0]))
            currents = relax(self.device_model, voltages.to(dtype), conductances.to(dtype), c.r_word, c.r_bit,
                             0.0, c.iterations, self.damping().to(dtype), tensors)
            if used is not None:
                currents = currents[..., : used[1]]
        return currents.to(voltages.dtype)

    def _inference_applies(self, voltages: torch.Tensor, conductances: torch.Tensor) -> bool:
        """The numpy inference path (same arithmetic, no autograd): CPU floating-point tensors,
        no gradient wanted, and batches of at most NUMPY_PATH_VECTORS vectors per tile (a
        convolution's thousands of patches per tile run faster through torch's kernels)."""
        if voltages.ndim >= 2 and voltages.shape[-2] > NUMPY_PATH_VECTORS:
            return False
        wants_gradient = torch.is_grad_enabled() and (voltages.requires_grad or conductances.requires_grad
                                                      or self.scales.requires_grad)
        return (not wants_gradient
                and all(x.device.type == "cpu" and x.dtype in (torch.float32, torch.float64)
                        for x in (voltages, conductances)))

    def _inference(self) -> FirstOrderInference:
        cache = getattr(self, "_inference_cache", None)
        if cache is None:
            c = self.config
            cache = self._inference_cache = FirstOrderInference(
                self.device_model, c.r_word, c.r_bit, self.modes.numpy(), self.word_kernel.numpy(), c.slope_step,
                np.dtype(c.compute_dtype))
        return cache

    def predict(self, voltages: Any, conductances: Any) -> np.ndarray:
        """numpy in, numpy out: (B, N) output currents for (B, M) or (M,) voltages and (M, N)
        conductances, checked as `forward` checks them."""
        v = torch.from_numpy(finite_array("voltages", voltages, (1, 2)))
        g = torch.from_numpy(finite_array("conductances", conductances, 2))
        with torch.no_grad():
            currents: np.ndarray = self(v[None] if v.ndim == 1 else v, g).numpy()
        return currents

    def save(self, path: str | Path) -> None:
        """Configuration and parameters in one file, written atomically."""
        save_torch_atomic(path, {"config": dataclasses.asdict(self.config), "state_dict": self.state_dict()})

    @classmethod
    def load(cls, path: str | Path) -> CrossbarSurrogate:
        """A saved surrogate from its file, or a shipped one by name (`load("powerlaw32")`)."""
        from ..shipped import surrogate_path

        path = surrogate_path(path)
        if not path.exists():
            raise InputError(f"surrogate model {path} does not exist")
        try:
            with warnings.catch_warnings():  # torch warns about foreign files before refusing them
                warnings.simplefilter("ignore")
                saved = torch.load(path, map_location="cpu", weights_only=True)
            if not (isinstance(saved, dict) and isinstance(saved.get("config"), dict)
                    and isinstance(saved.get("state_dict"), dict)):
                raise InputError(f"{path} is not a spicenn surrogate model (no config and state_dict)")
            for name, value in saved["state_dict"].items():
                if not isinstance(value, torch.Tensor) or (value.is_floating_point() and not value.isfinite().all()):
                    raise InputError(f"{path}: parameter {name!r} is not a finite tensor")
            config = SurrogateConfig(**saved["config"])  # ranges checked before anything is built
            model = cls(config)
            model.load_state_dict(saved["state_dict"])
            if config.kind == "first-order":
                # each scale multiplies one IR-drop term of the expansion: trained ones stay near 1
                scales = model.scales.detach()
                if not bool(((scales > 0) & (scales < MAX_TERM_SCALE)).all()):
                    raise InputError(f"{path}: its term scales {scales.tolist()} are outside (0, {MAX_TERM_SCALE:g}); "
                                     "not a trained surrogate")
        except InputError as error:
            if str(path) in str(error):
                raise
            raise InputError(f"{path}: {error}") from None
        except Exception as error:  # a wrong or damaged file
            raise InputError(f"{path} is not a spicenn surrogate model ({type(error).__name__})") from None
        return model
