"""A few Adam steps on a crossbar network, for tests that a device trains at all."""

from __future__ import annotations

import torch


def training_losses(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor, steps: int,
                    lr: float = 0.05) -> list[float]:
    """The cross-entropy after each of `steps` Adam steps (conductances clamped after each)."""
    optimiser = torch.optim.Adam(model.parameters(), lr=lr)
    losses = []
    for _ in range(steps):
        optimiser.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(x), y)
        loss.backward()
        optimiser.step()
        model.clamp_()  # type: ignore[operator]
        losses.append(loss.item())
    return losses
