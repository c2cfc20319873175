"""Hardware-aware fine-tuning of a crossbar network with the user's optimizer and loss.

Two recipes, one loop:
* `finetune(..., backend="surrogate")` — hardware in the loop: every batch runs on the
  surrogate (or the device model, or the exact circuit) of a freshly drawn chip;
* `noise_aware(...)` — noise-aware training: the ideal backend (V·G, cheap) on a freshly
  drawn chip per batch, so the weights see the conductance noise of the chips' own spread
  (variation, programming noise, stuck devices, levels, read noise) — as aihwkit trains.
Both say what they train: the crossbar layers' weights and, unless `train_digital=False`,
the model's digital parameters (BatchNorm, LayerNorm, embeddings...), listed by name.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from ..checks import whole_number
from ..errors import InputError
from ..progress import progress_bar
from .backends import check_backend
from .network import CrossbarNetwork


class Losses(list):
    """The mean loss of each epoch (a list), with what was trained: `digital_parameters`
    (names of the digital parameters trained beside the crossbar weights) and `crossbar_weights`."""

    digital_parameters: list[str]
    crossbar_weights: int


def digital_parameters(model: CrossbarNetwork) -> list[str]:
    """Names of the model's trainable parameters that no crossbar holds (they run digitally)."""
    held = {id(p) for layer in model.crossbar_layers() for p in layer.parameters()}
    return [name for name, p in model.named_parameters() if p.requires_grad and id(p) not in held]


def finetune(model: CrossbarNetwork, x: Any, y: Any, epochs: int = 1, backend: str = "surrogate",
             optimizer: torch.optim.Optimizer | None = None, loss: Callable[..., torch.Tensor] | None = None,
             batch_size: int = 64, learning_rate: float = 1e-3, new_chip_per_batch: bool = True, seed: int = 0,
             progress: bool = False, train_digital: bool = True) -> Losses:
    """Train `model` on (x, y) with every crossbar layer on `backend` (the surrogate or the
    device model in the loop). `optimizer` defaults to Adam over the crossbar weights and,
    with `train_digital`, the digital parameters (listed in the result; with a progress bar,
    also printed); `loss` to cross-entropy. With `new_chip_per_batch`, each batch runs on a
    freshly drawn chip (seeded), so the weights learn to tolerate device variation. Returns
    the mean loss of each epoch; double weights are kept non-negative after every step."""
    check_backend(backend)
    if backend == "spice":
        raise InputError("the spice backend has no gradients; fine-tune with surrogate, circuit or device")
    whole_number("epochs", epochs, 1)
    whole_number("batch_size", batch_size, 1)
    inputs = x if isinstance(x, torch.Tensor) else torch.as_tensor(np.asarray(x))
    targets = y if isinstance(y, torch.Tensor) else torch.as_tensor(np.asarray(y))
    if len(inputs) != len(targets) or len(inputs) == 0:
        raise InputError(f"fine-tuning needs as many targets as inputs (got {len(inputs)} and {len(targets)})")
    named = dict(model.named_parameters())
    if optimizer is None:
        digital = digital_parameters(model) if train_digital else []
        crossbar = [p for layer in model.crossbar_layers() for p in layer.parameters() if p.requires_grad]
        optimizer = torch.optim.Adam(list(dict.fromkeys(crossbar + [named[n] for n in digital])), lr=learning_rate)
    else:  # the user's optimizer decides; say which digital parameters it holds
        given = {id(p) for group in optimizer.param_groups for p in group["params"]}
        digital = [name for name in digital_parameters(model) if id(named[name]) in given]
    loss = loss or torch.nn.CrossEntropyLoss()
    generator = torch.Generator().manual_seed(seed)
    model.set_backend(backend)
    model.set_chip(None)
    model.train()
    losses = Losses()
    losses.digital_parameters = digital
    losses.crossbar_weights = model.synapses
    if progress:
        print(f"fine-tuning {model.synapses} crossbar weights on {backend}; digital parameters trained: "
              f"{', '.join(digital) if digital else 'none'}", flush=True)
    with progress_bar(progress, total=epochs * -(-len(inputs) // batch_size), desc="fine-tuning", unit="batch") as bar:
        for _ in range(epochs):
            order = torch.randperm(len(inputs), generator=generator)
            total, count = 0.0, 0
            for start in range(0, len(inputs), batch_size):
                index = order[start:start + batch_size]
                if new_chip_per_batch:
                    model.set_chip(int(torch.randint(0, 2**31 - 1, (1,), generator=generator)))
                optimizer.zero_grad()
                value = loss(model(inputs[index]), targets[index])
                if not torch.isfinite(value):
                    raise InputError("the loss became NaN or inf; lower the learning rate")
                value.backward()
                optimizer.step()
                model.clamp_()
                total += float(value.detach()) * len(index)
                count += len(index)
                bar.update(1)
            losses.append(total / count)
        model.eval()
        model.set_chip(None)
    return losses


def noise_aware(model: CrossbarNetwork, x: Any, y: Any, **options: Any) -> Losses:
    """Noise-aware training: `finetune` on the ideal backend with a fresh chip per batch, so
    every step sees the conductance noise the hardware's chips are drawn with. Refused for
    hardware whose chips are all alike (nothing to train against)."""
    layers = model.crossbar_layers()
    if layers and all(layer.hardware.nonidealities().is_ideal and not layer.hardware.read_noise for layer in layers):
        raise InputError("noise-aware training needs chips that differ: set spread, programming_noise, "
                         "p_stuck_off/on, levels, drift_nu_spread or read_noise in the hardware")
    for fixed in ("backend", "new_chip_per_batch"):
        if fixed in options:
            raise InputError(f"noise_aware sets {fixed} itself; use finetune to choose it")
    return finetune(model, x, y, backend="ideal", new_chip_per_batch=True, **options)
