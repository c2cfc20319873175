"""Training loops for on-chip learning, evaluation under input noise, and the SPICE check."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import torch

from ..activations import activation
from ..crossbar import Crossbar
from ..crossbar.mapping import input_voltages, interleave, pair_outputs
from ..devices import Linear
from ..progress import tracked
from ..solvers import simulate
from .data import Data
from .learning import BinaryStochasticMLP, DeviceMLP, UpdateRule, apply_rule


def train_on_chip(model: DeviceMLP, data: Data, rule: UpdateRule, epochs: int, batch_size: int = 10,
                  seed: int = 0, progress: bool = False) -> list[float]:
    """Train in place; returns the validation accuracy after each epoch."""
    x = torch.as_tensor(data.train.x, dtype=torch.float64)
    y = torch.as_tensor(data.train.y)
    classes = model.sizes[-1]
    for layer in model.layers:
        layer.writes = rule.writes  # every pulse of the rule, the binary rule's too, goes where it says
    history = []
    for epoch in tracked(range(epochs), progress, desc=f"{rule.name} updates", unit="epoch"):
        order = torch.from_numpy(np.random.default_rng([seed, epoch]).permutation(len(y)))
        for start in range(0, len(y), batch_size):
            index = order[start:start + batch_size]
            if isinstance(model, BinaryStochasticMLP):
                with torch.no_grad():
                    model.train_step(x[index], y[index], classes)
                continue
            model.zero_grad()
            # summed over the batch: each sample contributes a full SGD step, as in on-chip learning
            loss = torch.nn.functional.cross_entropy(model(x[index]), y[index], reduction="sum")
            loss.backward()
            for layer in model.layers:
                apply_rule(layer, rule)
        history.append(onchip_accuracy(model, data.validation.x, data.validation.y))
    return history


def accuracy(model: DeviceMLP, x: np.ndarray, y: np.ndarray, noise_std: float = 0.0, seed: int = 0) -> float:
    """Deprecated name of `onchip_accuracy` (`spicenn.nn.evaluation.accuracy` is that of
    crossbar networks)."""
    warnings.warn("spicenn.nn.onchip.accuracy is now onchip_accuracy", DeprecationWarning, stacklevel=2)
    return onchip_accuracy(model, x, y, noise_std, seed)


@torch.no_grad()
def onchip_accuracy(model: DeviceMLP, x: np.ndarray, y: np.ndarray, noise_std: float = 0.0, seed: int = 0) -> float:
    """Test accuracy of an on-chip-learning network, optionally with Gaussian pixel noise of
    std `noise_std` (clipped to [0, 1])."""
    images = torch.as_tensor(x, dtype=torch.float64)
    if noise_std:
        generator = torch.Generator().manual_seed(seed)
        noise = torch.randn(images.shape, generator=generator, dtype=torch.float64)
        images = (images + noise_std * noise).clamp(0.0, 1.0)
    return float((model(images).argmax(1).numpy() == np.asarray(y)).mean())


def spice_accuracy(model: DeviceMLP, x: np.ndarray, y: np.ndarray, k_v: float = 0.5, r_word: float = 0.0,
                   r_bit: float = 0.0, engine: str = "shared") -> dict[str, Any]:
    """The trained network read out in ngspice: each layer a crossbar of its devices (ohmic)
    with every weight's device and reference device in neighbouring columns (the mapping's
    interleaved pairs), inputs at V = k_V·x plus a bias row at k_V; y = k_w·(I_device −
    I_reference)/k_V, through the network's own activation."""
    act = activation(model.activation)
    inputs = np.asarray(x, dtype=float)
    for index, layer in enumerate(model.layers):
        g = interleave(layer.g, layer.g_ref).numpy()
        v = input_voltages(inputs, k_v)
        currents = simulate(Crossbar(g, Linear(), r_word=r_word, r_bit=r_bit), v, engine=engine).currents
        out = pair_outputs(currents, k_v / layer.k_w)
        inputs = act(out) if index < len(model.layers) - 1 else out
    predicted = inputs.argmax(1)
    return {"accuracy": float((predicted == np.asarray(y)).mean()), "logits": inputs}
