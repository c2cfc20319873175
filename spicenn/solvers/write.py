"""`write`: a write program through an array of dynamic devices, by any solver that has a
write engine (the native one, or ngspice's transient as the reference)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from ..checks import finite_array, finite_number, whole_number
from ..crossbar.program import DynamicCrossbar, WriteProgram, WriteResult, line_charging, row_by_row
from ..errors import InputError
from .registry import Solver, get_solver


def write(array: DynamicCrossbar, program: WriteProgram | tuple[Any, Any, Any],
          engine: str | Solver = "native") -> WriteResult:
    """Write `program` into `array`: a `WriteProgram` (e.g. from `crossbar.program.single_cell`)
    or a raw `(row_voltages (S, M), column_voltages (S, N), durations (S,))` in V, V, s.
    Returns the states after every slot, the read conductances, and the energy by part."""
    if not isinstance(program, WriteProgram):
        try:
            rows, columns, durations = program
        except (TypeError, ValueError):
            raise InputError("a write program is a WriteProgram or (row_voltages, column_voltages, "
                             "durations)") from None
        program = WriteProgram(rows, columns, durations)
    result = get_solver(engine).write(array, program)
    if array.line_capacitance > 0:  # the lines' charging, the same for every engine: the drivers pay it
        charging = line_charging(program, array.line_capacitance)
        result.energy["line_charging"] = float(charging.sum())
        result.energy["drivers"] += float(charging.sum())
        result.slot_energy = result.slot_energy + charging
    return result


@dataclass
class VerifyResult:
    """What a write-verify did: the final states and read conductances, the rounds run, each
    cell's pulses (signed: + toward a higher conductance), which cells ended within the
    tolerance, the read conductances after every round (R+1, M, N, the first before any
    pulse) and the drivers' energy of every round (J)."""

    states: np.ndarray
    conductances: np.ndarray
    rounds: int
    pulses: np.ndarray
    converged: np.ndarray
    history: np.ndarray
    energy: np.ndarray


def write_verify(array: DynamicCrossbar, targets: Any, voltage: float, width: float, tolerance: float = 0.02,
                 max_rounds: int = 50, engine: str | Solver = "native", v_read: float = 0.1) -> VerifyResult:
    """Write-verify: read every cell (its conductance at `v_read`), compare with `targets`
    (M, N) in S, and give each cell farther than `tolerance` (relative) one pulse of
    `voltage` toward its target — all such cells at once, row by row under V/2 through the
    circuit (`row_by_row`, wires and disturb included) — then read again, for at most
    `max_rounds` rounds. The pulses start `width` long and halve whenever a cell overshoots
    its target (its error changes sign), down to width/1024. The read is the cell's own
    conductance at its written state (a verify read biases one cell at a time, so the wires
    hardly matter to it)."""
    goal = finite_array("targets", targets, 2)
    if goal.shape != array.shape:
        raise InputError(f"targets of shape {goal.shape} for a {array.shape[0]}x{array.shape[1]} array")
    finite_number("tolerance", tolerance, minimum=0.0, strict_minimum=True, maximum=1.0)
    max_rounds = whole_number("max_rounds", max_rounds, 1, 10_000)
    device = array.device
    g_range = np.asarray(device.conductance(np.array([0.0, 1.0]), v_read), dtype=float)
    if goal.min() < g_range.min() * (1 - 1e-9) or goal.max() > g_range.max() * (1 + 1e-9):
        raise InputError(f"targets must lie within the device's range [{g_range.min():g}, {g_range.max():g}] S "
                         f"at {v_read:g} V")
    # the polarity that raises the conductance: the way +V moves the state, times the way G follows it
    raises_g = int(np.sign(float(device.rate(voltage, 0.5))) * np.sign(g_range[1] - g_range[0]))
    states = np.array(array.states, dtype=float)
    pulses = np.zeros(array.shape, dtype=int)
    history, energy = [np.asarray(device.conductance(states, v_read), dtype=float)], []
    rounds, pulse, previous = 0, float(width), np.zeros(array.shape, dtype=int)
    for rounds in range(1, int(max_rounds) + 1):
        error = history[-1] - goal
        off = np.abs(error) > tolerance * goal
        if not off.any():
            rounds -= 1
            break
        step = np.where(off, -np.sign(error), 0).astype(int)  # +1: raise G
        if np.any(step * previous < 0) and pulse > width / 1024:  # an overshoot: finer pulses
            pulse /= 2
        previous = step
        result = write(replace(array, states=states), row_by_row(step * raises_g, voltage, pulse), engine)
        states = result.final_states.copy()
        pulses += step
        energy.append(result.energy["drivers"])
        history.append(np.asarray(device.conductance(states, v_read), dtype=float))
    final = history[-1]
    return VerifyResult(states, final, rounds, pulses, np.abs(final - goal) <= tolerance * goal,
                        np.stack(history), np.array(energy))


def plot_write(result: WriteResult, initial: Any, path: Any, title: str = "") -> None:
    """The change of every cell's state (a disturb map) and the energy by part, as PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    from ..io import save_figure

    change = result.final_states - np.asarray(initial)
    figure, (left, right) = plt.subplots(1, 2, figsize=(9, 3.8), gridspec_kw={"width_ratios": [1.2, 1]})
    limit = float(np.abs(change).max()) or 1.0
    image = left.imshow(change, cmap="RdBu_r", vmin=-limit, vmax=limit)
    figure.colorbar(image, ax=left, label="Δ state")
    left.set_xlabel("column")
    left.set_ylabel("row")
    parts = ["selected", "half_selected", "unselected", "wires"]
    right.bar(parts, [result.energy[p] * 1e12 for p in parts])
    right.set_ylabel("energy (pJ)")
    right.set_title(f"drivers: {result.energy['drivers'] * 1e12:.4g} pJ", fontsize=9)
    right.tick_params(axis="x", labelrotation=20, labelsize=8)
    figure.suptitle(title, fontsize=8)
    figure.tight_layout()
    save_figure(figure, path)
