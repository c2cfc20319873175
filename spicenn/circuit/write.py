"""The native write engine.

Within a slot the array is a DC network at the present states (nothing but the states stores
charge at these time scales), so every instant is one native-solver solve with driven columns
(`solver.solve_system`). The engine walks the program segment by segment — each slot's ramp,
then its hold — and

* skips the integration of a segment in which no cell can move: every node voltage of a
  network of wires and passive devices lies between the lowest and the highest driver
  voltage, so when that span lies inside the device's quiet band (its thresholds) the states
  stay as they are and only the energy is computed, by Simpson's rule on three solves (exact
  for ohmic devices, whose power is quadratic along a linear ramp);
* integrates the others by waveform relaxation: the cell voltages are solved at the start,
  middle and end of the segment at the states there and interpolated by a quadratic in time;
  every cell that can move integrates its own ODE under that waveform (an adaptive
  Dormand–Prince 5(4) scheme over all moving cells at once, no solve inside); then the
  network is solved again at the new states, until the states at the three instants change
  by less than `tolerance`. Cells couple only through the wires' IR drops, which the states
  move little within a segment, so two or three rounds do. A segment whose waveform is not
  quadratic enough — the states at its end under the quadratic and under the straight-line
  waveform differ by more than `split_tolerance` — or whose rounds do not settle is split in
  two.

A cell can move only where some node's voltage may leave the quiet band: a quadratic through
three values stays within 1.25 times their largest magnitude (the Lebesgue constant of the
nodes 0, ½, 1), so the cells whose node voltages stay within 0.8 of the band are not
integrated at all.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import torch

from ..crossbar.program import ENERGY_PARTS, DynamicCrossbar, WriteProgram, WriteResult, addressed
from ..devices.dynamic import DynamicDevice, dormand_prince
from ..errors import ConvergenceError, InputError
from .equations import Devices, Lines
from .solver import Solution, solve_system

MAX_ROUNDS = 8  # waveform-relaxation rounds before a segment is split
MAX_DEPTH = 24  # halvings of one segment
MAX_STEPS = 2_000_000  # integrator steps over a whole program
LEBESGUE = 1.25  # max |quadratic through values at 0, 1/2, 1| / max |value|


@dataclass
class _Instant:
    """The network at one instant: states (M, N), cell voltages (M, N), the power the drivers
    deliver (W) and each cell's (M, N), and the solution (for the next solve's start)."""

    states: np.ndarray
    across: np.ndarray
    drivers: float
    cells: np.ndarray
    currents: np.ndarray
    solution: Solution | None

    def power(self, masks: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
        """The power by part (`ENERGY_PARTS`), the cells split by how the slot addresses them."""
        selected, half = masks
        total = float(self.cells.sum())
        chosen, shared = float(self.cells[selected].sum()), float(self.cells[half].sum())
        return np.array([self.drivers, chosen, shared, total - chosen - shared, self.drivers - total])


class _Network:
    """The DC network of a write: cell voltages and powers at given states and drives."""

    def __init__(self, array: DynamicCrossbar, v_read: float):
        self.device: DynamicDevice = array.device
        self.shape = array.shape
        self.v_read = v_read
        self.lines = Lines.with_resistances(*array.shape, array.r_word, array.r_bit, array.r_source)
        # the DC solves read the cells through the device's static model: it must be the device's
        # own current at both polarities (not so for a Yakopcic device with a1 != a2)
        x, probe = np.array([0.3, 0.7]), np.array([-0.7, 0.9])
        static, g = self.device.read_device(x, v_read)
        if not np.allclose(static.current(probe, g), self.device.current(probe, x), rtol=1e-9, atol=0.0):
            raise InputError(f"the native write engine reads {self.device.name} cells through one static model, "
                             "which needs the same I-V at both polarities (e.g. a1 = a2); use engine='ngspice'")
        self.solves = 0

    def solve(self, states: np.ndarray, rows: np.ndarray, columns: np.ndarray,
              start: Solution | None) -> list[_Instant]:
        """The instants for states (B, M, N) under drives rows (B, M), columns (B, N)."""
        m, n = self.shape
        batch = states.shape[0]
        x = torch.as_tensor(np.ascontiguousarray(states.transpose(1, 2, 0)), dtype=torch.float64)
        static, g = self.device.read_device(x, self.v_read)
        devices = Devices(static, torch.clamp(torch.as_tensor(g, dtype=torch.float64), min=1e-300), {})
        v = torch.as_tensor(rows, dtype=torch.float64)
        c = torch.as_tensor(columns, dtype=torch.float64)
        if start is not None and start.word.shape[2] != batch:
            start = Solution(start.word[:, :, -1:].expand(-1, -1, batch).contiguous(),
                             start.bit[:, :, -1:].expand(-1, -1, batch).contiguous(), 0, 0)
        solution = solve_system(self.lines, devices, v, c, start)
        self.solves += 1
        across = solution.word.expand(m, n, batch) - solution.bit  # (M, N, B)
        current = self.device.current(across, x, torch)
        drivers = ((v.T * current.sum(1)).sum(0) - (c.T * current.sum(0)).sum(0)).numpy()
        power = (across * current).permute(2, 0, 1).numpy()
        across_np, current_np = across.permute(2, 0, 1).numpy(), current.permute(2, 0, 1).numpy()
        return [_Instant(states[b], across_np[b], float(drivers[b]), power[b], current_np[b],
                         Solution(solution.word[:, :, b:b + 1], solution.bit[:, :, b:b + 1], 0, 0))
                for b in range(batch)]


def _waveform(v: np.ndarray, s: float) -> np.ndarray:
    """The quadratic through v[0], v[1], v[2] at s = 0, 1/2, 1, at s."""
    return 2 * (s - 0.5) * (s - 1) * v[0] - 4 * s * (s - 1) * v[1] + 2 * s * (s - 0.5) * v[2]


class _Cells:
    """Each moving cell's own ODE under a given waveform, all cells at once.

    The waveform is the solved one — cell voltages w and currents c at the segment's three
    instants, interpolated — corrected for the cell's own pull on its lines: a cell whose
    current differs from the solved one by Δi sees its voltage move by −R·Δi, R its
    Thevenin resistance into the rest of the network. With R the waveform relaxation's rounds
    converge as fast as the cells' coupling to *each other* (weak), not to their own lines;
    at the instants whose states the solve used, Δi = 0 and the waveform is the solved one,
    so R changes how fast the rounds settle, not what they settle to."""

    def __init__(self, device: DynamicDevice, rtol: float, atol: float):
        self.device, self.rtol, self.atol = device, rtol, atol
        self.steps = 0

    def voltage(self, w: np.ndarray, c: np.ndarray, r: np.ndarray, s: float, x: np.ndarray) -> np.ndarray:
        """v = w − R·(i(v, x) − c), by one Newton step from w (exact for ohmic devices)."""
        ws, cs = _waveform(w, s), _waveform(c, s)
        current = self.device.current(ws, x)
        slope = (self.device.current(ws + 1e-4, x) - self.device.current(ws - 1e-4, x)) / 2e-4
        v: np.ndarray = ws - r * (current - cs) / (1.0 + r * slope)
        return v

    def integrate(self, x0: np.ndarray, w: np.ndarray, c: np.ndarray, r: np.ndarray,
                  duration: float) -> tuple[np.ndarray, np.ndarray]:
        """The states at the middle and the end of a segment of `duration` s from x0 (K,),
        the waveform through w, c (3, K) with self-resistances r (K,)."""
        def rate(s: float, state: np.ndarray) -> np.ndarray:  # s: the fraction of the segment
            result: np.ndarray = duration * self.device.rate(self.voltage(w, c, r, s, state), state)
            return result

        (middle, end), steps = dormand_prince(
            rate, x0.copy(), (0.5, 1.0), 0.25, self.rtol, self.atol, MAX_STEPS - self.steps,
            lambda: ConvergenceError(f"the write did not finish within {MAX_STEPS:,} integrator steps"))
        self.steps += steps
        return middle, end


class _Engine:
    def __init__(self, array: DynamicCrossbar, v_read: float, tolerance: float, split_tolerance: float,
                 rtol: float, atol: float):
        self.network = _Network(array, v_read)
        self.cells = _Cells(array.device, rtol, atol)
        self.tolerance, self.split_tolerance = tolerance, split_tolerance
        band = array.device.quiet_band()
        self.band = None if band is None else (float(band[0]), float(band[1]))
        # each cell's wires to its two drivers: its Thevenin resistance is below this (the
        # rest of the network only adds parallel paths), the first guess of the rounds
        m, n = array.shape
        rows, columns = np.arange(m)[:, None], np.arange(n)[None, :]
        self.path_resistance = ((array.r_source + array.r_word * (columns + 1) + array.r_bit * (m - rows))
                                * np.ones((m, n))).reshape(-1)
        self.resistance = self.path_resistance.copy()  # refined by every round, kept across segments

    def secant(self, old: _Instant, new: _Instant) -> None:
        """Each cell's Thevenin resistance from two solves: −Δv/Δi, kept within [0, its wires]."""
        dv = (new.across - old.across).reshape(-1)
        di = (new.currents - old.currents).reshape(-1)
        informative = np.abs(di) > 1e-9 * np.maximum(np.abs(new.currents.reshape(-1)), 1e-30)
        estimate = np.where(informative, -dv / np.where(informative, di, 1.0), self.resistance)
        self.resistance = np.clip(estimate, 0.0, self.path_resistance)

    def quiet(self, span: float) -> bool:
        """No cell can move while every driver lies within `span` V of every other."""
        return self.band is not None and self.band[0] <= -span and span <= self.band[1]

    def moving(self, across: np.ndarray) -> np.ndarray:
        """Flat indices of the cells whose waveform may leave the quiet band."""
        if self.band is None:
            return np.arange(across[0].size)
        peak = LEBESGUE * np.abs(across).max(0)
        return np.flatnonzero(peak > min(-self.band[0], self.band[1]))

    def segment(self, start: _Instant, d0: tuple[np.ndarray, np.ndarray], d1: tuple[np.ndarray, np.ndarray],
                duration: float, masks: tuple[np.ndarray, np.ndarray], depth: int = 0) -> tuple[_Instant, np.ndarray]:
        """The instant at the segment's end and its energy by part, the drives moving linearly
        from d0 to d1 over `duration` s."""
        drives = [np.concatenate(d) for d in (d0, d1)]
        span = float(max(d.max() for d in drives) - min(d.min() for d in drives))
        ramp = not np.array_equal(drives[0], drives[1])
        middle = tuple((a + b) / 2 for a, b in zip(d0, d1))
        rows, columns = np.stack([middle[0], d1[0]]), np.stack([middle[1], d1[1]])
        x0 = start.states
        if self.quiet(span):
            if span == 0.0:  # every node at the drivers' common voltage: no current
                zero = np.zeros_like(start.across)
                return _Instant(x0, zero, 0.0, zero, zero, start.solution), np.zeros(len(ENERGY_PARTS))
            if not ramp:
                return start, duration * start.power(masks)
            mid, end = self.network.solve(np.stack([x0, x0]), rows, columns, start.solution)
            return end, duration / 6 * (start.power(masks) + 4 * mid.power(masks) + end.power(masks))
        if ramp:
            nodes = [start, *self.network.solve(np.stack([x0, x0]), rows, columns, start.solution)]
        else:
            nodes = [start, start, start]
        for _ in range(MAX_ROUNDS):
            across = np.stack([node.across for node in nodes]).reshape(3, -1)
            current = np.stack([node.currents for node in nodes]).reshape(3, -1)
            cells = self.moving(across)
            states = np.stack([x0, x0, x0])
            if cells.size:
                w, c, r = across[:, cells], current[:, cells], self.resistance[cells]
                x_mid, x_end = self.cells.integrate(x0.reshape(-1)[cells], w, c, r, duration)
                states[1].reshape(-1)[cells] = x_mid
                states[2].reshape(-1)[cells] = x_end
            change = max(float(np.abs(states[i] - nodes[i].states).max()) for i in (1, 2))
            if change <= self.tolerance:  # the waveform the states were integrated under is theirs
                nodes = [start, *(replace(node, states=state) for node, state in zip(nodes[1:], states[1:]))]
                break
            previous = nodes[2]
            nodes = [start, *self.network.solve(states[1:], rows, columns, nodes[2].solution)]
            if previous is not start:
                self.secant(previous, nodes[2])
        else:
            return self.split(start, d0, middle, d1, duration, masks, depth, "did not settle")
        if cells.size and depth < MAX_DEPTH:
            straight = np.stack([w[0], (w[0] + w[2]) / 2, w[2]])
            straight_c = np.stack([c[0], (c[0] + c[2]) / 2, c[2]])
            _, x_straight = self.cells.integrate(x0.reshape(-1)[cells], straight, straight_c, r, duration)
            if float(np.abs(x_straight - states[2].reshape(-1)[cells]).max()) > self.split_tolerance:
                return self.split(start, d0, middle, d1, duration, masks, depth, "")
        return nodes[2], duration / 6 * (nodes[0].power(masks) + 4 * nodes[1].power(masks) + nodes[2].power(masks))

    def split(self, start: _Instant, d0: tuple[np.ndarray, np.ndarray], middle: tuple[np.ndarray, ...],
              d1: tuple[np.ndarray, np.ndarray], duration: float, masks: tuple[np.ndarray, np.ndarray],
              depth: int, why: str) -> tuple[_Instant, np.ndarray]:
        if depth >= MAX_DEPTH:
            raise ConvergenceError(f"the native write engine's waveform relaxation {why or 'did not settle'} "
                                   f"after {MAX_DEPTH} halvings of a segment")
        half = (middle[0], middle[1])
        first, e1 = self.segment(start, d0, half, duration / 2, masks, depth + 1)
        second, e2 = self.segment(first, half, d1, duration / 2, masks, depth + 1)
        return second, e1 + e2


def write_native(array: DynamicCrossbar, program: WriteProgram, tolerance: float = 1e-9,
                 split_tolerance: float = 1e-6, rtol: float = 1e-8, atol: float = 1e-10,
                 v_read: float = 0.1) -> WriteResult:
    """The states after every slot and the energy of `program` written into `array`."""
    program.check_fits(array.shape)
    engine = _Engine(array, v_read, tolerance, split_tolerance, rtol, atol)
    m, n = array.shape
    zero = (np.zeros(m), np.zeros(n))
    states, slot_energy = [], np.zeros(program.slots)
    energy = np.zeros(len(ENERGY_PARTS))
    with torch.no_grad():
        instant = engine.network.solve(np.asarray(array.states, dtype=float)[None], zero[0][None], zero[1][None],
                                       None)[0]
        before = zero
        for slot in range(program.slots):
            masks = addressed(program, slot)
            level = (program.row_voltages[slot], program.column_voltages[slot])
            instant, ramp = engine.segment(instant, before, level, float(program.t_edge), masks)
            instant, hold = engine.segment(instant, level, level, float(program.durations[slot]), masks)
            energy += ramp + hold
            slot_energy[slot] = ramp[0] + hold[0]
            states.append(instant.states.copy())
            before = level
    final = np.stack(states)
    parts = {name: float(value) for name, value in zip(ENERGY_PARTS, energy)}
    return WriteResult(final, np.asarray(array.device.conductance(final, v_read)), parts, slot_energy, v_read,
                       {"steps": engine.cells.steps, "solves": engine.network.solves})
