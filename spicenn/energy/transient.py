"""Energy of transient reads: line capacitance charged by real pulses, from ngspice's .tran."""

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


def transient_parts(crossbar: Crossbar, voltages: np.ndarray, pulse: ReadPulse, dc_shares: dict[str, float],
                    engine: str | Engine = "shared") -> dict[str, float]:
    """Mean energy per read by part: the capacitive part is what the pulse costs with the line
    capacitance beyond the same pulse without it; the resistive remainder is split between
    devices and wires in the proportions of the DC read (exact for linear devices)."""
    with_capacitance = pulse_energies(crossbar, voltages, pulse, engine)
    without = pulse_energies(crossbar, voltages, dataclasses.replace(pulse, c_word=0.0, c_bit=0.0), engine)
    resistive = float(np.mean(without))
    parts = {part: share * resistive for part, share in dc_shares.items()}
    parts["capacitive"] = float(np.mean(with_capacitance - without))
    return parts
