"""The native write engine: within a slot the array is a DC network at the present states
(nothing but the states stores charge at these time scales), so every instant is one
native-solver solve with driven columns (`solver.solve_system`), and the states are
integrated over the program by an adaptive Dormand–Prince 5(4) scheme, the drivers' ramps
included. The energies (drivers, devices by addressing, wires) are integrated with the
same stages."""

from __future__ import annotations

import numpy as np
import torch

from ..crossbar.program import ENERGY_PARTS, DynamicCrossbar, WriteProgram, WriteResult, addressed
from ..devices.dynamic import DP_A, DP_B4, DP_B5, DP_C, next_step
from ..errors import ConvergenceError, InputError
from .equations import Devices, Lines
from .solver import solve_system

MAX_STEPS = 200_000


class _Array:
    """The DC network of a write at given states and drives: rates and powers."""

    def __init__(self, array: DynamicCrossbar):
        self.array = array
        self.lines = Lines.with_resistances(*array.shape, array.r_word, array.r_bit, array.r_source)
        if getattr(array.device, "a1", None) is not None and array.device.a1 != array.device.a2:
            raise InputError("the native write engine reads Yakopcic devices through one sinh model: a1 must equal a2")

    def evaluate(self, x: torch.Tensor, rows: np.ndarray, columns: np.ndarray,
                 masks: tuple[torch.Tensor, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        """(dx/dt (M, N), powers (5,): drivers, selected, half-selected, unselected, wires)."""
        static, g = self.array.device.read_device(x, 0.1)
        g = torch.as_tensor(g, dtype=torch.float64)
        devices = Devices(static, torch.clamp(g, min=1e-300), {})
        v = torch.as_tensor(rows, dtype=torch.float64)[None]
        c = torch.as_tensor(columns, dtype=torch.float64)[None]
        solution = solve_system(self.lines, devices, v, c)
        m, n = self.array.shape
        word = solution.word.expand(m, n, -1) if solution.word.shape[1] == 1 else solution.word
        across = (word - solution.bit)[:, :, 0]
        current = self.array.device.current(across, x, torch)
        rate = self.array.device.rate(across, x, torch)
        drivers = (v[0] * current.sum(1)).sum() - (c[0] * current.sum(0)).sum()
        device_power = across * current
        selected, half = masks
        parts = torch.stack([drivers, (device_power * selected).sum(), (device_power * half).sum(),
                             (device_power * ~(selected | half)).sum(), drivers - device_power.sum()])
        return rate, parts


def write_native(array: DynamicCrossbar, program: WriteProgram, rtol: float = 1e-7, atol: float = 1e-9,
                 v_read: float = 0.1) -> WriteResult:
    """The states after every slot and the energy of `program` written into `array`."""
    program.check_fits(array.shape)
    network = _Array(array)
    x = torch.as_tensor(array.states, dtype=torch.float64).clone()
    ends = program.slot_ends()
    states, slot_energy = [], np.zeros(program.slots)
    energy = torch.zeros(len(ENERGY_PARTS), dtype=torch.float64)
    t, h, steps = 0.0, float(program.t_edge) / 4, 0
    with torch.no_grad():
        for slot in range(program.slots):
            selected, half = addressed(program, slot)
            masks = (torch.as_tensor(selected), torch.as_tensor(half))
            start_energy = float(energy[0])
            # the ramp, then the hold: the drive's corner at the ramp's end is a step boundary
            for stop in (ends[slot] - program.durations[slot], ends[slot]):
                while t < stop - 1e-18 * max(1.0, stop):
                    h = min(h, stop - t)
                    k: list[torch.Tensor] = []
                    p: list[torch.Tensor] = []
                    for stage in range(6):
                        xs = x + h * sum(a * k[j] for j, a in enumerate(DP_A[stage])) if stage else x
                        rate, power = network.evaluate(xs, *program.levels(t + DP_C[stage] * h), masks)
                        k.append(rate)
                        p.append(power)
                    fifth = x + h * sum(b * kk for b, kk in zip(DP_B5, k))
                    rate, power = network.evaluate(fifth, *program.levels(t + h), masks)
                    k.append(rate)
                    fourth = x + h * sum(b * kk for b, kk in zip(DP_B4, k))
                    scale = atol + rtol * torch.maximum(x.abs(), fifth.abs())
                    error = float(((fifth - fourth).abs() / scale).max())
                    if error <= 1.0:
                        energy += h * sum(b * pp for b, pp in zip(DP_B5, p))
                        t, x = t + h, fifth
                    h = next_step(h, error)
                    steps += 1
                    if steps > MAX_STEPS:
                        raise ConvergenceError(f"the write did not finish within {MAX_STEPS:,} steps")
            states.append(x.numpy().copy())
            slot_energy[slot] = float(energy[0]) - start_energy
    final = np.stack(states)
    parts = {name: float(value) for name, value in zip(ENERGY_PARTS, energy)}
    return WriteResult(final, np.asarray(array.device.conductance(final, v_read)), parts, slot_energy, v_read,
                       {"steps": steps})
