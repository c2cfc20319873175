"""The reference write engine: the write's transient in ngspice (`netlist.write_netlist_text`),
its states read at every slot's end and its energies integrated from the saved waveforms."""

from __future__ import annotations

import numpy as np

from ..crossbar.graph import crossbar_topology
from ..crossbar.program import ENERGY_PARTS, DynamicCrossbar, WriteProgram, WriteResult, addressed
from ..errors import SpiceError
from ..netlist.writer import write_layout, write_netlist_text
from .engines import Engine, get_engine


def _integral(time: np.ndarray, power: np.ndarray) -> np.ndarray:
    """Cumulative trapezoid of power over time, starting at 0."""
    return np.concatenate([[0.0], np.cumsum(np.diff(time) * (power[1:] + power[:-1]) / 2)])


def write_ngspice(array: DynamicCrossbar, program: WriteProgram, engine: str | Engine = "shared",
                  v_read: float = 0.1) -> WriteResult:
    """The states after every slot and the energy of `program` written into `array`, by ngspice."""
    engine = get_engine(engine)
    vectors = engine.run(write_netlist_text(array, program))
    rows, columns = array.shape
    topo = crossbar_topology(write_layout(array))
    names = topo.node_names
    try:
        time = vectors["time"]
        x = np.stack([[vectors[f"x_{i}_{j}"] for j in range(columns)] for i in range(rows)])  # (M, N, T)
        word = np.stack([[vectors[names[topo.word_node[i, j]]] for j in range(columns)] for i in range(rows)])
        bit = np.stack([[vectors[names[topo.bit_node[i, j]]] for j in range(columns)] for i in range(rows)])
        row_current = np.stack([vectors[f"vd{i}#branch"] for i in range(rows)])
        column_current = np.stack([vectors[f"vs{j}#branch"] for j in range(columns)])
    except KeyError as missing:
        raise SpiceError(f"ngspice returned no vector {missing} from the write") from None
    if not all(np.all(np.isfinite(a)) for a in (x, word, bit, row_current, column_current)):
        raise SpiceError("ngspice returned non-finite values in the write")
    ends = program.slot_ends()
    states = np.stack([[[np.interp(end, time, x[i, j]) for j in range(columns)] for i in range(rows)] for end in ends])
    levels = np.array([np.concatenate(program.levels(t)) for t in time])  # (T, M + N) ideal driver voltages
    drivers = -(levels[:, :rows] * row_current.T).sum(1) - (levels[:, rows:] * column_current.T).sum(1)
    across = word - bit
    device_power = across * array.device.current(across, x)  # (M, N, T)
    slot_of = np.minimum(np.searchsorted(ends, time, side="left"), program.slots - 1)
    parts = dict.fromkeys(ENERGY_PARTS, 0.0)
    cumulative = _integral(time, drivers)
    parts["drivers"] = float(cumulative[-1])
    slot_energy = np.diff(np.interp(np.concatenate([[0.0], ends]), time, cumulative))
    by_class = np.zeros((3, len(time)))
    for slot in range(program.slots):
        selected, half = addressed(program, slot)
        inside = slot_of == slot
        for k, mask in enumerate((selected, half, ~(selected | half))):
            by_class[k, inside] = device_power[mask][:, inside].sum(0)
    for k, name in enumerate(("selected", "half_selected", "unselected")):
        parts[name] = float(_integral(time, by_class[k])[-1])
    parts["wires"] = parts["drivers"] - float(_integral(time, device_power.sum((0, 1)))[-1])
    return WriteResult(states, np.asarray(array.device.conductance(states, v_read)), parts, slot_energy, v_read)
