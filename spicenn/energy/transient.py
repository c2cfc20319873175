"""Energy of transient reads: real pulses on the rows and line capacitance, from ngspice's .tran.

Line charging is counted as a switched (CMOS) driver spends it: charging a capacitance C to
a swing V through any resistance draws C·V² from the supply (half dissipated while charging,
the stored half when discharging), so a read costs Σ C_k·V_k² over the charged nodes, V_k
each node's peak in that read. It is *not* the difference between the ideal sources' energy
with and without the capacitance: an ideal ramped source takes the stored energy back when it
ramps down (charging is adiabatic when the ramp is slow against the lines' RC), so that
difference is ~0 and its sign is integration noise (−7e-14 J was measured on a 64x64 tile).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from ..crossbar.graph import crossbar_topology
from ..crossbar.spec import Crossbar
from ..errors import SpiceError
from ..netlist.writer import ReadPulse, SolverOptions, netlist_text
from ..spice.engines import Engine, get_engine


def pulse_energies(crossbar: Crossbar, voltages: np.ndarray, pulse: ReadPulse,
                   engine: str | Engine = "shared") -> np.ndarray:
    """Energy (J) the row drivers deliver during each input vector's pulse window, (B,).

    The drivers' power Σ_i V_i(t)·I_i(t) is integrated (trapezoid rule on ngspice's time
    points, which include every corner of the pulses) over each window of length `pulse.period`.
    """
    engine = get_engine(engine)
    v = crossbar.check_voltages(voltages)
    topo = crossbar_topology(crossbar)
    vectors = engine.run(netlist_text(crossbar, v, SolverOptions(klu=engine.klu), pulse=pulse))
    try:
        time = vectors["time"]
        power = sum(vectors[topo.node_names[topo.source_node[i]]] * -vectors[f"vd{i}#branch"]
                    for i in range(crossbar.rows))
    except KeyError as missing:
        raise SpiceError(f"ngspice returned no vector {missing} from the transient read") from None
    if not np.all(np.isfinite(power)):
        raise SpiceError("ngspice returned non-finite values in the transient read")
    cumulative = np.concatenate([[0.0], np.cumsum(np.diff(time) * (power[1:] + power[:-1]) / 2)])
    edges = np.arange(v.shape[0] + 1) * pulse.period
    at_edges = np.interp(edges, time, cumulative)
    return np.diff(at_edges)


def charging_energies(crossbar: Crossbar, voltages: np.ndarray, pulse: ReadPulse,
                      engine: str | Engine = "shared") -> np.ndarray:
    """Line-charging energy (J) of each input vector's pulse, (B,): Σ C_k·V_k² over the
    capacitances, V_k the peak |voltage| of node k within that pulse's window (module docstring)."""
    if pulse.c_word == 0 and pulse.c_bit == 0:
        return np.zeros(len(voltages))
    engine = get_engine(engine)
    v = crossbar.check_voltages(voltages)
    topo = crossbar_topology(crossbar)
    vectors = engine.run(netlist_text(crossbar, v, SolverOptions(klu=engine.klu), pulse=pulse))
    names = topo.node_names
    try:
        time = vectors["time"]
        charged = [(value, np.stack([vectors[names[k]] for k in nodes.ravel()]))
                   for value, nodes in ((pulse.c_word, topo.word_node), (pulse.c_bit, topo.bit_node)) if value > 0]
    except KeyError as missing:
        raise SpiceError(f"ngspice returned no vector {missing} from the transient read") from None
    window = np.minimum((time // pulse.period).astype(int), v.shape[0] - 1)
    energies = np.zeros(v.shape[0])
    for value, node_voltages in charged:
        if not np.all(np.isfinite(node_voltages)):
            raise SpiceError("ngspice returned non-finite values in the transient read")
        for k in range(v.shape[0]):
            peaks = np.max(np.abs(node_voltages[:, window == k]), axis=1)
            energies[k] += value * float(np.sum(peaks**2))
    return energies


def transient_parts(crossbar: Crossbar, voltages: np.ndarray, pulse: ReadPulse, dc_shares: dict[str, float],
                    engine: str | Engine = "shared") -> dict[str, float]:
    """Mean energy per read by part: the drivers' energy over the real pulses without line
    capacitance, split between devices and wires in the proportions of the DC read (exact for
    linear devices), and the line charging Σ C·V² of the same pulses with it."""
    without = pulse_energies(crossbar, voltages, dataclasses.replace(pulse, c_word=0.0, c_bit=0.0), engine)
    resistive = float(np.mean(without))
    parts = {part: share * resistive for part, share in dc_shares.items()}
    parts["capacitive"] = float(np.mean(charging_energies(crossbar, voltages, pulse, engine)))
    return parts
