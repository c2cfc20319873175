"""Networks of crossbar layers, with chips and backends set for all layers at once:
`CrossbarNetwork` (what every such network can do), `CrossbarMLP` (spicenn's own
fully connected networks) and `AnalogModel` (a user's model after `spicenn.nn.convert`)."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

from ..activations import activation as activation_function
from ..activations import check_activation
from ..crossbar.config import CrossbarConfig
from ..errors import InputError
from .backends import check_backend
from .layer import CrossbarLinear


class CrossbarNetwork(nn.Module):
    """What a network of crossbar layers does as a whole; its layers are every
    `CrossbarLinear` inside it (a convolution's group cores included), in module order."""

    def crossbar_layers(self) -> list[CrossbarLinear]:
        return [module for module in self.modules() if isinstance(module, CrossbarLinear)]

    def set_backend(self, backend: str) -> None:
        check_backend(backend)
        for layer in self.crossbar_layers():
            layer.backend = backend

    def set_chip(self, seed: int | None) -> None:
        """One chip for the whole network (each layer gets its own stream from the seed)."""
        for layer in self.crossbar_layers():
            layer.set_chip(seed)

    def set_time(self, seconds: float | None) -> None:
        """Read every layer `seconds` after programming (conductance drift, compensated if the
        hardware says so); None: at once, as programmed."""
        if seconds is not None and not (np.isfinite(seconds) and seconds > 0):
            raise InputError(f"the time after programming must be a positive number of seconds, got {seconds!r}")
        for layer in self.crossbar_layers():
            layer.t_inference = None if seconds is None else float(seconds)

    def set_spice(self, workers: int = 1, progress: bool = False) -> None:
        for layer in self.crossbar_layers():
            layer.spice_workers, layer.progress = workers, progress

    def clamp_(self) -> None:
        for layer in self.crossbar_layers():
            layer.clamp_()

    def l1(self) -> torch.Tensor:
        return torch.stack([layer.l1() for layer in self.crossbar_layers()]).sum()

    @property
    def synapses(self) -> int:
        return sum(layer.synapses for layer in self.crossbar_layers())


class CrossbarMLP(CrossbarNetwork):
    """sizes = (784, 25, 10): crossbar layers with `activation` between them; returns logits."""

    layers: Sequence[CrossbarLinear]  # an nn.ModuleList

    def __init__(self, sizes: Sequence[int], hardware: CrossbarConfig | None = None, activation: str = "sigmoid",
                 backend: str = "ideal", seed: int = 0):
        super().__init__()
        if len(sizes) < 2:
            raise InputError(f"a network needs at least two sizes (inputs, outputs), got {list(sizes)}")
        self.activation = check_activation(activation)
        self.sizes = tuple(int(s) for s in sizes)
        generator = torch.Generator().manual_seed(seed)
        self.layers = nn.ModuleList(  # type: ignore[assignment]
            CrossbarLinear(a, b, hardware, backend, index, generator)
            for index, (a, b) in enumerate(itertools.pairwise(self.sizes)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_with(x, None)

    def forward_with(self, x: torch.Tensor, backend: str | None) -> torch.Tensor:
        """The logits with every layer on `backend` (None: each layer's own)."""
        return self.layer_inputs(x, backend)[-1]

    def layer_inputs(self, x: torch.Tensor, backend: str | None = None) -> list[torch.Tensor]:
        """What each layer sees when the network runs on `backend` (the first is x), and the
        logits last."""
        act = activation_function(self.activation)
        inputs = [x]
        for index, layer in enumerate(self.layers):
            x = layer(x) if backend is None else layer.forward_with(x, backend)
            if index < len(self.layers) - 1:
                x = act(x)
            inputs.append(x)
        return inputs



class AnalogModel(CrossbarNetwork):
    """A user's model with its Linear and Conv layers on crossbars (`spicenn.nn.convert`);
    `model` is the converted copy, `report` what was converted and what was left digital."""

    def __init__(self, model: nn.Module, report: Any = None):
        super().__init__()
        self.model = model
        self.report = report

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        return self.model(*args, **kwargs)

    def forward_with(self, x: torch.Tensor, backend: str | None) -> Any:
        """The model's output with every crossbar layer on `backend` (None: each layer's own)."""
        if backend is None:
            return self.model(x)
        layers = self.crossbar_layers()
        saved = [layer.backend for layer in layers]
        self.set_backend(backend)
        try:
            return self.model(x)
        finally:
            for layer, name in zip(layers, saved):
                layer.backend = name
