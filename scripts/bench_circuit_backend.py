"""The circuit backend's gradient: the adjoint solve against the forward solve, and a layer's
forward + backward against the ideal backend's, on the wires study's 64x64 tiles.

    python scripts/bench_circuit_backend.py
"""

from __future__ import annotations

import statistics
import time

import torch

from spicenn.circuit import circuit_currents
from spicenn.devices import get_device
from spicenn.nn import CrossbarConfig, CrossbarLinear


def median_time(function, rounds: int = 5) -> float:
    function()
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    torch.manual_seed(0)
    device = get_device("sinh", k=3.0)
    g = (1e-6 + 99e-6 * torch.rand(64, 64, dtype=torch.float64)).requires_grad_()
    v = (0.5 * torch.rand(64, 64, dtype=torch.float64)).requires_grad_()
    forward = median_time(lambda: circuit_currents(v, g, device, 1.0, 1.0))
    both = median_time(lambda: circuit_currents(v, g, device, 1.0, 1.0).sum().backward())
    print(f"64x64 tile, 64 vectors: forward {1e3 * forward:.1f} ms, backward {1e3 * (both - forward):.1f} ms "
          f"({(both - forward) / forward:.2f} of a forward)")
    hardware = CrossbarConfig(device="powerlaw-high", tile_rows=64, tile_columns=64, r_word=1.0, r_bit=1.0)
    layer = CrossbarLinear(784, 25, hardware)
    layer.set_chip(None)
    x = torch.rand(64, 784)
    times = {}
    for backend in ("ideal", "circuit"):
        def step(backend: str = backend) -> None:
            layer.zero_grad()
            layer.forward_with(x, backend).sum().backward()
        times[backend] = median_time(step, rounds=3)
    print(f"784x25 layer on 13 tiles of 64x64 (1 ohm wires), 64 images, forward + backward: ideal "
          f"{1e3 * times['ideal']:.1f} ms, circuit {1e3 * times['circuit']:.0f} ms "
          f"({times['circuit'] / times['ideal']:.0f}x)")


if __name__ == "__main__":
    main()
