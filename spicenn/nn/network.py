"""A multilayer perceptron of crossbar layers, with chips and backends set for all layers at once."""

from __future__ import annotations

from typing import Sequence

import torch
from torch import nn

from ..errors import InputError
from .backends import check_backend
from .config import CrossbarConfig
from .layer import CrossbarLinear

ACTIVATIONS = {"sigmoid": torch.sigmoid, "relu": torch.relu, "tanh": torch.tanh}


class CrossbarMLP(nn.Module):
    """sizes = (784, 25, 10): crossbar layers with `activation` between them; returns logits."""

    def __init__(self, sizes: Sequence[int], hardware: CrossbarConfig | None = None, activation: str = "sigmoid",
                 backend: str = "ideal", seed: int = 0):
        super().__init__()
        if len(sizes) < 2:
            raise InputError(f"a network needs at least two sizes (inputs, outputs), got {list(sizes)}")
        if activation not in ACTIVATIONS:
            raise InputError(f"unknown activation {activation!r}; choose one of: {', '.join(ACTIVATIONS)}")
        self.sizes = tuple(int(s) for s in sizes)
        self.activation = activation
        generator = torch.Generator().manual_seed(seed)
        self.layers = nn.ModuleList(CrossbarLinear(a, b, hardware, backend, index, generator)
                                    for index, (a, b) in enumerate(zip(self.sizes[:-1], self.sizes[1:])))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        act = ACTIVATIONS[self.activation]
        for index, layer in enumerate(self.layers):
            x = layer(x)
            if index < len(self.layers) - 1:
                x = act(x)
        return x

    def set_backend(self, backend: str) -> None:
        check_backend(backend)
        for layer in self.layers:
            layer.backend = backend

    def set_chip(self, seed: int | None) -> None:
        """One chip for the whole network (each layer gets its own stream from the seed)."""
        for layer in self.layers:
            layer.set_chip(seed)

    def set_spice(self, workers: int = 1, progress: bool = False) -> None:
        for layer in self.layers:
            layer.spice_workers, layer.progress = workers, progress

    def clamp_(self) -> None:
        for layer in self.layers:
            layer.clamp_()

    def l1(self) -> torch.Tensor:
        return sum(layer.l1() for layer in self.layers)

    @property
    def synapses(self) -> int:
        return sum(layer.synapses for layer in self.layers)
