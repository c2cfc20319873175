"""The circuit backend's cost: the adjoint solve against the forward solve, and a layer's
forward + backward against the ideal backend's on the wires study's 64x64 tiles — its tiles
solved one at a time or batched into shared solves — with the floor that the device model
alone sets (one evaluation of every cell's current and slope).

    python scripts/bench_circuit_backend.py            # writes its table into BENCHMARKS.md
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import time

import torch

from spicenn.circuit import circuit_currents, gradients
from spicenn.circuit.equations import Devices, Lines
from spicenn.circuit.solver import solve_system
from spicenn.devices import get_device
from spicenn.nn import CrossbarConfig, CrossbarLinear

CHUNKS = (0, 2**18, 2**20, 2**22)  # cells x vectors per solve; 0: one tile per solve


def median_time(function, rounds: int = 5) -> float:
    function()
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    from bench_spice import publish

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    torch.manual_seed(0)
    device = get_device("sinh", k=3.0)
    g = (1e-6 + 99e-6 * torch.rand(64, 64, dtype=torch.float64)).requires_grad_()
    v = (0.5 * torch.rand(64, 64, dtype=torch.float64)).requires_grad_()
    forward = median_time(lambda: circuit_currents(v, g, device, 1.0, 1.0))
    both = median_time(lambda: circuit_currents(v, g, device, 1.0, 1.0).sum().backward())
    rows = ["| what | time | / ideal forward + backward |", "|---|---|---|"]
    hardware = CrossbarConfig(device="powerlaw-high", tile_rows=64, tile_columns=64, r_word=1.0, r_bit=1.0)
    layer = CrossbarLinear(784, 25, hardware)
    layer.set_chip(None)
    x = torch.rand(64, 784)

    def step(backend: str) -> None:
        layer.zero_grad()
        layer.forward_with(x, backend).sum().backward()

    ideal = median_time(lambda: step("ideal"), rounds=21)
    rows.append(f"| ideal backend, forward + backward | {1e3 * ideal:.2f} ms | 1x |")
    for chunk in CHUNKS:
        gradients.CELLS_PER_SOLVE = chunk or 1
        seconds = median_time(lambda: step("circuit"), rounds=3)
        label = "one tile per solve" if chunk == 0 else f"tiles batched, {chunk // 2**10}k cells x vectors per solve"
        rows.append(f"| circuit backend, {label} | {1e3 * seconds:.0f} ms | **{seconds / ideal:.0f}x** |")
    small = CrossbarLinear(784, 25, dataclasses.replace(hardware, tile_rows=16, tile_columns=16))
    small.set_chip(None)
    for chunk in (0, 2**18):
        gradients.CELLS_PER_SOLVE = chunk or 1

        def small_step() -> None:
            small.zero_grad()
            small.forward_with(x, "circuit").sum().backward()

        seconds = median_time(small_step, rounds=3)
        label = "one tile per solve" if chunk == 0 else "tiles batched, 256k cells x vectors per solve"
        rows.append(f"| the same layer on {small.grid.tiles} tiles of 16x16, {label} | {1e3 * seconds:.0f} ms | "
                    f"**{seconds / ideal:.0f}x** |")
    gradients.CELLS_PER_SOLVE = 2**18
    # the floor: Newton evaluates every cell's current and slope at least once per step
    tiles = 13
    powerlaw = get_device("powerlaw-high")
    g_cells = 1e-6 + 2e-6 * torch.rand(64, 64, tiles * 64, dtype=torch.float64)
    drawn = powerlaw.cell_parameters((64, 64), seed=0)
    cell = {key: torch.as_tensor(value)[:, :, None] for key, value in drawn.items()}
    across = 0.5 * torch.rand(64, 64, tiles * 64, dtype=torch.float64)
    evaluation = median_time(lambda: powerlaw.current_and_slope(across, g_cells, cell))
    lines = Lines.with_resistances(64, 64, 1.0, 1.0)
    solution = solve_system(lines, Devices(powerlaw, g_cells[:, :, :64], cell), across[:, 0, :64].T.contiguous())
    rows.append(f"| floor: one current + slope evaluation of all {tiles} x 64 x 64 cells x 64 images | "
                f"{1e3 * evaluation:.0f} ms | {evaluation / ideal:.0f}x |")
    rows += ["", f"A Newton solve of these tiles takes {solution.newton_steps} steps (each evaluates every cell at "
             "least once, more when a step is backtracked), and the adjoint one more: the device model alone costs "
             f"~{(solution.newton_steps + 1) * evaluation / ideal:.0f}x the ideal backend here.", "",
             f"64x64 sinh tile, 64 vectors: forward {1e3 * forward:.1f} ms, adjoint (backward) "
             f"{1e3 * (both - forward):.1f} ms = **{(both - forward) / forward:.2f}** of a forward (target <= 0.5)."]
    note = ("784x25 layer, powerlaw-high devices on 13 tiles of 64x64 with 1 ohm wires, 64 images; "
            "float64 solves; medians of 3-21 rounds")
    publish("bench_circuit_backend", "python scripts/bench_circuit_backend.py", note, rows, not args.no_write)


if __name__ == "__main__":
    main()
