"""Hardware-aware fine-tuning of a crossbar network with the user's optimizer and loss."""

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


def finetune(model: CrossbarNetwork, x: Any, y: Any, epochs: int = 1, backend: str = "surrogate",
             optimizer: torch.optim.Optimizer | None = None, loss: Callable[..., torch.Tensor] | None = None,
             batch_size: int = 64, learning_rate: float = 1e-3, new_chip_per_batch: bool = True, seed: int = 0,
             progress: bool = False) -> list[float]:
    """Train `model` on (x, y) with every crossbar layer on `backend` (the surrogate or the
    device model in the loop). `optimizer` defaults to Adam over the model's parameters,
    `loss` to cross-entropy. With `new_chip_per_batch`, each batch runs on a freshly drawn
    chip (seeded), so the weights learn to tolerate device variation. Returns the mean loss
    of each epoch; double weights are kept non-negative after every step."""
    check_backend(backend)
    if backend == "spice":
        raise InputError("the spice backend has no gradients; fine-tune with surrogate, circuit or device")
    whole_number("epochs", epochs, 1)
    whole_number("batch_size", batch_size, 1)
    inputs = x if isinstance(x, torch.Tensor) else torch.as_tensor(np.asarray(x))
    targets = y if isinstance(y, torch.Tensor) else torch.as_tensor(np.asarray(y))
    if len(inputs) != len(targets) or len(inputs) == 0:
        raise InputError(f"fine-tuning needs as many targets as inputs (got {len(inputs)} and {len(targets)})")
    optimizer = optimizer or torch.optim.Adam(model.parameters(), lr=learning_rate)
    loss = loss or torch.nn.CrossEntropyLoss()
    generator = torch.Generator().manual_seed(seed)
    model.set_backend(backend)
    model.set_chip(None)
    model.train()
    losses = []
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
