"""Your own device model: one formula, registered once, then everywhere — ngspice, the native
solver, and a small network trained on the device and circuit backends.

    python examples/python/own_device.py
"""

from dataclasses import dataclass

import numpy as np
import torch

import spicenn
from spicenn.devices import Device, register_device
from spicenn.nn import CrossbarConfig, CrossbarMLP


@register_device
@dataclass(frozen=True, kw_only=True)
class Cubic(Device):
    """I = G·(V + a·V³)."""

    name = "cubic"
    a: float = 2.0

    def formula(self, v, g, k, xp):  # numpy, torch and ngspice's expression text alike
        return g * (v + self.a * v * v * v)


xbar = spicenn.Crossbar(np.full((8, 8), 1e-4), device="cubic", r_word=1.0, r_bit=1.0)
v = np.full((2, 8), 0.3)
difference = np.max(np.abs(spicenn.simulate(xbar, v, engine="native").currents
                           - spicenn.simulate(xbar, v).currents))
print(f"native vs ngspice on the cubic device: {difference:.1e} A")

hardware = CrossbarConfig(device="cubic", tile_rows=4, tile_columns=4, r_word=2.0, r_bit=2.0)
x = torch.rand(64, 6, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
y = (x[:, :3].sum(1) > x[:, 3:].sum(1)).long()
for backend in ("device", "circuit"):
    net = CrossbarMLP((6, 4, 2), hardware, backend=backend, seed=0).double()
    optimiser = torch.optim.Adam(net.parameters(), lr=0.05)
    for _ in range(30):
        optimiser.zero_grad()
        loss = torch.nn.functional.cross_entropy(net(x), y)
        loss.backward()
        optimiser.step()
        net.clamp_()
    accuracy = float((net(x).argmax(1) == y).double().mean())
    print(f"{backend:<8} backend: loss {loss.item():.3f}, training accuracy {accuracy:.0%}")
