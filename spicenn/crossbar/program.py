"""Writes: an array of dynamic devices, a write program, and what a write did.

A program is a sequence of slots. In slot s every row driver (at the row's left end, where a
read drives) and every column driver (at the column's end, where a read's sense node sits)
moves linearly over `t_edge` from the previous slot's level (0 V before the first) to its
level, and holds it for `durations[s]`. Both write engines (ngspice's transient and the
native one) drive exactly this waveform.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..checks import finite_array, finite_number, whole_number
from ..devices.dynamic import MAX_WRITE_VOLTAGE, DynamicDevice, get_dynamic_device
from ..errors import InputError
from .spec import Crossbar

MAX_SLOTS = 100_000


@dataclass(frozen=True)
class DynamicCrossbar:
    """A crossbar of dynamic devices: each cell's state (M, N) in [0, 1], the wires as for reads."""

    states: Any
    device: Any
    r_word: float = 0.0
    r_bit: float = 0.0
    r_source: float = 0.0
    line_capacitance: float = 0.0  # F per word or bit line: its charging is the part "line_charging"

    def __post_init__(self) -> None:
        finite_number("line_capacitance", self.line_capacitance, minimum=0.0, maximum=1e-6)
        states = finite_array("states", self.states, 2)
        if states.min() < 0 or states.max() > 1:
            raise InputError(f"states must lie in [0, 1], got [{states.min():g}, {states.max():g}]")
        object.__setattr__(self, "states", states)
        device = self.device if isinstance(self.device, DynamicDevice) else get_dynamic_device(self.device)
        object.__setattr__(self, "device", device)
        for name in ("r_word", "r_bit", "r_source"):
            object.__setattr__(self, name, finite_number(name, getattr(self, name), minimum=0.0))

    @property
    def shape(self) -> tuple[int, int]:
        shape: tuple[int, int] = self.states.shape
        return shape

    def read_crossbar(self, states: Any = None, v_read: float = 0.1) -> Crossbar:
        """The array as reads see it, at its states or at `states` (a write's result): each
        cell's conductance parameter of the device's static model (VTEAM: ohmic at 1/R(x);
        Yakopcic: the sinh model, G = a·x·b), the wires as they are. Everything that reads —
        `spicenn.simulate`, the energy, the nn backends — takes it."""
        x = self.states if states is None else np.asarray(states, dtype=float)
        if x.shape != self.shape:
            raise InputError(f"states of shape {x.shape} for a {self.shape[0]}x{self.shape[1]} array")
        static, g = self.device.read_device(x, v_read)
        return Crossbar(np.asarray(g, dtype=float), static, self.r_word, self.r_bit, self.r_source)


@dataclass(frozen=True)
class WriteProgram:
    """row_voltages (S, M), column_voltages (S, N) in V, durations (S,) in s, edges of t_edge s."""

    row_voltages: Any
    column_voltages: Any
    durations: Any
    t_edge: float = 1e-9

    def __post_init__(self) -> None:
        rows = finite_array("row voltages", self.row_voltages, 2)
        columns = finite_array("column voltages", self.column_voltages, 2)
        durations = finite_array("durations", self.durations, 1)
        if not rows.shape[0] == columns.shape[0] == durations.shape[0]:
            raise InputError(f"a program has one row of voltages per slot: rows {rows.shape}, columns "
                             f"{columns.shape}, durations {durations.shape}")
        if rows.shape[0] > MAX_SLOTS:
            raise InputError(f"a program of {rows.shape[0]:,} slots is over the limit of {MAX_SLOTS:,}")
        if durations.min() <= 0:
            raise InputError("every slot lasts a positive time")
        peak = max(float(np.abs(rows).max()), float(np.abs(columns).max()))
        if peak > MAX_WRITE_VOLTAGE:
            raise InputError(f"drivers at {peak:g} V: beyond the {MAX_WRITE_VOLTAGE:g} V this tool accepts")
        finite_number("t_edge", self.t_edge, minimum=0.0, strict_minimum=True)
        object.__setattr__(self, "row_voltages", rows)
        object.__setattr__(self, "column_voltages", columns)
        object.__setattr__(self, "durations", durations)

    @property
    def slots(self) -> int:
        return int(self.durations.shape[0])

    def slot_ends(self) -> np.ndarray:
        """The time at which each slot ends (s)."""
        return np.cumsum(self.durations + self.t_edge)

    def levels(self, t: float) -> tuple[np.ndarray, np.ndarray]:
        """Row and column driver voltages at time t."""
        ends = self.slot_ends()
        slot = min(int(np.searchsorted(ends, t, side="right")), self.slots - 1)
        start = ends[slot] - self.durations[slot] - self.t_edge
        fraction = min(1.0, max(0.0, (t - start) / self.t_edge))
        before_r = self.row_voltages[slot - 1] if slot else np.zeros_like(self.row_voltages[0])
        before_c = self.column_voltages[slot - 1] if slot else np.zeros_like(self.column_voltages[0])
        return (before_r + fraction * (self.row_voltages[slot] - before_r),
                before_c + fraction * (self.column_voltages[slot] - before_c))

    def across(self, slot: int) -> np.ndarray:
        """|row − column| driver voltage across every cell in the slot's hold (M, N): what each
        cell would see without wires."""
        across: np.ndarray = np.abs(self.row_voltages[slot][:, None] - self.column_voltages[slot][None, :])
        return across

    def written(self, slot: int) -> np.ndarray:
        """The cells (M, N) across which the slot puts its full voltage (none in a slot at 0 V)."""
        across = self.across(slot)
        peak = float(across.max())
        if peak == 0:
            return np.zeros(across.shape, dtype=bool)
        written: np.ndarray = np.isclose(across, peak, rtol=1e-9, atol=0.0)
        return written

    def check_fits(self, shape: tuple[int, int]) -> None:
        if self.row_voltages.shape[1] != shape[0] or self.column_voltages.shape[1] != shape[1]:
            raise InputError(f"the program drives {self.row_voltages.shape[1]} rows and "
                             f"{self.column_voltages.shape[1]} columns; the array is {shape[0]}x{shape[1]}")


def single_cell(shape: tuple[int, int], cell: tuple[int, int], voltage: float, width: float, pulses: int = 1,
                scheme: str = "v/2", gap: float | None = None, t_edge: float = 1e-9) -> WriteProgram:
    """`pulses` write pulses of `voltage` across one cell (negative: the other direction),
    each followed by a rest at 0 V of `gap` (default: `width`), under the V/2 scheme (selected
    row +V/2, selected column −V/2, the rest 0 V: half-selected cells see V/2) or V/3 (selected
    row V, other rows V/3, selected column 0, other columns 2V/3: every other cell sees ±V/3)."""
    rows, columns = shape
    i, j = cell
    if not (0 <= i < rows and 0 <= j < columns):
        raise InputError(f"cell {cell} is outside the {rows}x{columns} array")
    row, column = np.zeros(rows), np.zeros(columns)
    if scheme == "v/2":
        row[i], column[j] = voltage / 2, -voltage / 2
    elif scheme == "v/3":
        row[:], column[:] = voltage / 3, 2 * voltage / 3
        row[i], column[j] = voltage, 0.0
    else:
        raise InputError(f"unknown write scheme {scheme!r}; choose v/2 or v/3")
    pulses = whole_number("pulses", pulses, 1, MAX_SLOTS // 2)
    rest = width if gap is None else gap
    zeros_r, zeros_c = np.zeros(rows), np.zeros(columns)
    return WriteProgram(np.array([row, zeros_r] * int(pulses)), np.array([column, zeros_c] * int(pulses)),
                        np.array([width, rest] * int(pulses)), t_edge)


def row_by_row(pulses: Any, voltage: float, width: float, gap: float | None = None,
               t_edge: float = 1e-9) -> WriteProgram:
    """A whole array written one row at a time under V/2: `pulses` (M, N) whole numbers, the
    pulses each cell gets (positive: `voltage` across it, word to bit; negative: the other
    way). For each row the positive pulses come first — the row at +V/2, the columns whose
    cells still need one at −V/2, the rest at 0 V (half-selected cells see V/2) — then the
    negative ones with the polarities swapped. Each pulse slot is followed by a rest at 0 V
    of `gap` (default: `width`)."""
    counts = finite_array("pulses", pulses, 2)
    if np.any(counts != np.round(counts)) or np.abs(counts).max() > MAX_SLOTS // 4:
        raise InputError(f"pulses are whole numbers of at most {MAX_SLOTS // 4:,} per cell")
    counts = counts.astype(int)
    rows, columns = counts.shape
    rest = width if gap is None else gap
    row_slots: list[np.ndarray] = []
    column_slots: list[np.ndarray] = []
    for i in range(rows):
        for sign in (1, -1):
            remaining = np.maximum(sign * counts[i], 0)
            for k in range(int(remaining.max())):
                row, column = np.zeros(rows), np.zeros(columns)
                row[i] = sign * voltage / 2
                column[remaining > k] = -sign * voltage / 2
                row_slots += [row, np.zeros(rows)]
                column_slots += [column, np.zeros(columns)]
    if not row_slots:
        raise InputError("no cell gets a pulse: every count is 0")
    durations = np.array([width, rest] * (len(row_slots) // 2))
    return WriteProgram(np.array(row_slots), np.array(column_slots), durations, t_edge)


def stochastic_update(x: Any, delta: Any, voltage: float, width: float, bits: int = 31, seed: int = 0,
                      gap: float | None = None, t_edge: float = 1e-9) -> WriteProgram:
    """The row-parallel stochastic-coincidence update (Gokmen & Vlasov 2016) of x (M,) in
    [0, 1] and δ (N,) in [−1, 1]: in each of `bits` slots row i carries a pulse with
    probability x_i and column j one with probability |δ_j|, rows at +V/2 and columns at −V/2,
    so only a coincidence puts the full V across a cell (about x_i·|δ_j|·bits times). Two sign
    phases: the columns with δ > 0 first (cells see +V), then those with δ < 0 with the
    polarities swapped (−V). Every pulse slot is followed by a rest at 0 V of `gap` (default:
    `width`); the bit streams are drawn from `seed`."""
    rows_p = finite_array("x", x, 1)
    columns_d = finite_array("delta", delta, 1)
    if rows_p.min() < 0 or rows_p.max() > 1 or np.abs(columns_d).max() > 1:
        raise InputError("the stochastic update takes x in [0, 1] and delta in [-1, 1]")
    bits = whole_number("bits", bits, 1, 1024)
    rng = np.random.default_rng(seed)
    rest = width if gap is None else gap
    row_slots, column_slots = [], []
    for sign in (1.0, -1.0):
        active = columns_d * sign > 0
        for _ in range(int(bits)):
            row_bits = rng.random(rows_p.shape) < rows_p
            column_bits = (rng.random(columns_d.shape) < np.abs(columns_d)) & active
            row_slots += [sign * voltage / 2 * row_bits, np.zeros(rows_p.shape)]
            column_slots += [-sign * voltage / 2 * column_bits, np.zeros(columns_d.shape)]
    durations = np.array([width, rest] * (2 * int(bits)))
    return WriteProgram(np.array(row_slots), np.array(column_slots), durations, t_edge)


def coincidence_program(row_bits: Any, column_bits: Any, column_signs: Any, voltage: float, width: float,
                        gap: float | None = None, t_edge: float = 1e-9) -> WriteProgram:
    """The stochastic-coincidence update of given bit streams: `row_bits` (BL, M) and
    `column_bits` (BL, N) whether each line pulses in each slot, `column_signs` (N,) the
    polarity each column's cells are written with (+1: +V across them, word to bit; −1: −V;
    0: never). Two phases, + then −, each of the BL slots with rows at ±V/2 and that phase's
    columns at ∓V/2 (a phase without columns is left out, as are slots in which no line
    pulses), every pulse slot followed by a rest at 0 V of `gap` (default: `width`). A cell
    gets a full ±V pulse in each slot in which its row and column both pulse: the learning
    rule's coincidences, exactly."""
    rows = np.asarray(row_bits, dtype=bool)
    columns = np.asarray(column_bits, dtype=bool)
    signs = np.sign(finite_array("column_signs", column_signs, 1))
    if rows.ndim != 2 or columns.ndim != 2 or rows.shape[0] != columns.shape[0] or columns.shape[1] != signs.size:
        raise InputError("row_bits (BL, M), column_bits (BL, N) and column_signs (N,) must agree")
    rest = width if gap is None else gap
    row_slots, column_slots = [], []
    for sign in (1.0, -1.0):
        phase = columns & (signs == sign)
        if not phase.any():
            continue
        for r, c in zip(rows, phase):
            if r.any() or c.any():
                row_slots += [sign * voltage / 2 * r, np.zeros(r.size)]
                column_slots += [-sign * voltage / 2 * c, np.zeros(c.size)]
    if not row_slots:  # nothing to write: one rest slot keeps the program well formed
        row_slots, column_slots = [np.zeros(rows.shape[1])], [np.zeros(columns.shape[1])]
        return WriteProgram(np.array(row_slots), np.array(column_slots), np.array([rest]), t_edge)
    durations = np.array([width, rest] * (len(row_slots) // 2))
    return WriteProgram(np.array(row_slots), np.array(column_slots), durations, t_edge)


@dataclass
class WriteResult:
    """What a write did: the states after every slot (S, M, N) (the last is the final one),
    the conductances a read at `v_read` then sees, and the energy by part (J): the drivers'
    total, the devices by how they were addressed (the full write voltage, part of it, none),
    and the wires; `slot_energy` the drivers' energy per slot."""

    states: np.ndarray
    conductances: np.ndarray
    energy: dict[str, float]
    slot_energy: np.ndarray
    v_read: float = 0.1
    extras: dict[str, Any] = field(default_factory=dict)

    @property
    def final_states(self) -> np.ndarray:
        final: np.ndarray = self.states[-1]
        return final


ENERGY_PARTS = ("drivers", "selected", "half_selected", "unselected", "wires")


def line_charging(program: WriteProgram, capacitance: float) -> np.ndarray:
    """J per slot that the drivers spend charging their lines (capacitance C each): a driver
    moving its line from V_a to V_b draws the charge C·(V_b − V_a) at V_b when that moves
    the line away from 0 V, C·max(0, V_b·(V_b − V_a)), and gets nothing back when it
    returns — C·V² per line and pulse."""
    levels = np.concatenate([program.row_voltages, program.column_voltages], axis=1)
    before = np.vstack([np.zeros((1, levels.shape[1])), levels[:-1]])
    charged: np.ndarray = capacitance * np.maximum(0.0, levels * (levels - before)).sum(1)
    return charged


def addressed(program: WriteProgram, slot: int) -> tuple[np.ndarray, np.ndarray]:
    """Masks (M, N) of the cells the slot writes — those across which the drivers put the
    slot's full voltage (selected) — and of the half-selected ones, which share a row or a
    column with a selected cell; the rest are unselected."""
    # a slot's ramp comes from the slot before: its cells are addressed until the ramp ends
    across = np.maximum(program.across(slot), program.across(slot - 1)) if slot else program.across(slot)
    peak = float(across.max())
    if peak == 0:
        empty = np.zeros(across.shape, dtype=bool)
        return empty, empty
    selected = np.isclose(across, peak, rtol=1e-9, atol=0.0)
    shares = selected.any(1, keepdims=True) | selected.any(0, keepdims=True)
    return selected, shares & ~selected
