"""A network written in plain PyTorch, trained on scikit-learn's 8x8 digits, put onto
crossbars: accuracy per backend over simulated chips, and energy per layer.

    python examples/python/convert_network.py
"""

import numpy as np
import torch
from sklearn.datasets import load_digits
from torch import nn

from spicenn.nn import CrossbarConfig, calibrate, convert, model_energy
from spicenn.nn.evaluation import accuracy

torch.manual_seed(0)
digits = load_digits()
x = torch.tensor(digits.data / 16.0, dtype=torch.float32)
y = torch.tensor(digits.target)
train, test = slice(0, 1400), slice(1400, None)

model = nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10))
optimiser = torch.optim.Adam(model.parameters(), lr=1e-2)
for _ in range(60):
    optimiser.zero_grad()
    nn.functional.cross_entropy(model(x[train]), y[train]).backward()
    optimiser.step()

hardware = CrossbarConfig(device="powerlaw-high", tile_rows=32, tile_columns=32, r_word=1.0, r_bit=1.0,
                          spread=0.05)
analog = convert(model, hardware, backend="device")
calibrate(analog, x[train][:200])
print(analog.report.text())
xt, yt = x[test].numpy(), y[test].numpy()
for backend in ("ideal", "device", "circuit"):
    chips = [None] if backend == "ideal" else [1, 2, 3]
    values = [accuracy(analog, xt, yt, backend, chip) for chip in chips]
    print(f"{backend:<8} accuracy {100 * np.median(values):.1f}% (median over {len(chips)} chip(s))")
print(model_energy(analog, x[test][:4]).text())
