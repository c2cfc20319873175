"""`engine="native"`: the crossbar's DC solution by spicenn's own solver, as a SimulationResult."""

from __future__ import annotations

import numpy as np
import torch

from ..crossbar.results import SimulationResult
from ..crossbar.spec import Crossbar
from ..threads import fitted_threads
from .equations import Devices, Lines
from .solver import Solution, solve


def result_of(crossbar: Crossbar, voltages: torch.Tensor, solution: Solution) -> SimulationResult:
    """Output currents and where the power goes, from the node voltages (same conventions as
    `crossbar.results.extract`: drivers' power, device power V·I, wire and driver-resistance losses)."""
    lines = Lines.of(crossbar)
    m, n = crossbar.shape
    v = voltages.T[:, None, :]  # (M, 1, B)
    word = solution.word.expand(m, n, -1) if solution.word.shape[1] == 1 else solution.word
    bit = solution.bit
    g = torch.tensor(crossbar.conductances, dtype=voltages.dtype, device=voltages.device)
    devices = Devices(crossbar.device, g, crossbar.cell)
    across = word - bit
    current = devices.current(across)
    row_current = current.sum(1)  # (M, B): what each driver delivers
    if lines.bit == "ladder":
        sense = lines.g_bit * bit[-1]  # (N, B)
        drops = torch.diff(torch.cat([bit, torch.zeros_like(bit[:1])]), dim=0)
        bit_power = lines.g_bit * (drops**2).sum((0, 1))
    else:
        sense = current.sum(0)
        bit_power = torch.zeros(voltages.shape[0], dtype=voltages.dtype, device=voltages.device)
    word_power = torch.zeros_like(bit_power)
    if lines.word == "ladder":
        word_power = crossbar.r_word * (row_current**2).sum(0)  # the first segment carries the row's current
        if n > 1:
            word_power = word_power + lines.g_word * (torch.diff(word, dim=1) ** 2).sum((0, 1))
    source_power = crossbar.r_source * (row_current**2).sum(0)

    def out(x: torch.Tensor) -> np.ndarray:
        return x.detach().cpu().double().numpy()

    return SimulationResult(
        currents=out(sense.T),
        power=out((v[:, 0] * row_current).sum(0)),
        device_power=out((across * current).sum((0, 1))),
        word_line_power=out(word_power),
        bit_line_power=out(bit_power),
        source_power=out(source_power),
        word_voltages=out(word.permute(2, 0, 1)),
        bit_voltages=out(bit.permute(2, 0, 1)),
    )


# Vectors per solve: the passes over (M, N, B) arrays are memory-bound, and at 128x128 a batch
# of 16 ran 1.2x faster per vector than one of 64 and 2x faster than one of 256 (bench_native).
ELEMENTS_PER_CHUNK = 2**18


def simulate_native(crossbar: Crossbar, voltages: np.ndarray, dtype: torch.dtype = torch.float64,
                    on: str | torch.device = "cpu") -> SimulationResult:
    """The DC solution of (B, M) checked voltages by the native solver, in chunks of vectors
    whose arrays stay in the processor's caches; `on` a torch device ("cuda" where there is one)."""
    chunk = max(1, ELEMENTS_PER_CHUNK // (crossbar.rows * crossbar.columns))
    parts = []
    work = crossbar.rows * crossbar.columns * min(chunk, voltages.shape[0])
    with torch.no_grad(), fitted_threads(work):
        for start in range(0, voltages.shape[0], chunk):
            v = torch.as_tensor(voltages[start:start + chunk], dtype=dtype, device=on)
            parts.append(result_of(crossbar, v, solve(crossbar, v)))
    return parts[0] if len(parts) == 1 else SimulationResult.concatenate(parts)
