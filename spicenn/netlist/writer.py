"""Crossbar -> ngspice netlist text.

One input vector gives a plain `.op` netlist with DC sources. A batch of B vectors gives one
DC sweep: every row driver is a behavioural source `V = pwl(temper, 0, v0, 1, v1, ...)` and
`.dc temp 0 B-1 1` solves all B vectors in one ngspice run, each point starting from the
previous solution, with one parse, one set-up and one matrix ordering.

Why the temperature: it is a sweep variable that is not a circuit node. Controlling every
driver from one swept node couples all rows through that node and makes each KLU
factorisation ~1.6-2x dearer (measured); nothing else in these circuits depends on
temperature (resistors have no temperature coefficients, the device models take their own
temperature parameter).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from ..checks import check_netlist, netlist_comment
from ..crossbar.graph import Topology, crossbar_topology
from ..crossbar.program import DynamicCrossbar, WriteProgram
from ..crossbar.spec import Crossbar
from ..devices import Linear
from ..devices.symbolic import number
from ..errors import InputError
from ..version import __version__

# Resistors below 1 mOhm are clamped to 1 mOhm by ngspice; write those as conductances.
NGSPICE_MIN_RESISTANCE = 1e-3
_NUMBERS_PER_LINE = 16


@dataclass(frozen=True)
class SolverOptions:
    """ngspice accuracy and solver settings.

    Newton converges quadratically, so ngspice's default relative tolerance already leaves
    results ~1e-9 from the exact solution, and the refining second visit ~1e-11. What matters
    is that the absolute tolerances sit above floating-point noise, or Newton never stops
    (measured: a tighter reltol or abstol can take hundreds of iterations per vector).
    `abstol` and `vntol` left as None are scaled to the circuit: 1e-10 of its largest column
    current (but above the noise of a voltage across its smallest resistance) and 1e-9 of
    its largest voltage. The tests check the results against an exact nodal solution.
    """

    klu: bool = True
    reltol: float = 1e-6
    abstol: float | None = None  # A; None: 1e-10 x the circuit's current scale
    vntol: float | None = None  # V; None: 1e-9 x the largest input voltage
    gmin_stepping: bool = False  # retries of failed cases turn these on
    source_stepping: bool = False
    # Solve each vector of a batch twice (see spice.simulate): ~1e-11 instead of ~1e-9
    # relative power balance for nonlinear devices, for ~2 more Newton iterations per vector.
    refine: bool = True
    accounting: bool = False  # ngspice prints where its time went (`.options acct`)

    def scaled(self, crossbar: Crossbar, voltages: np.ndarray) -> SolverOptions:
        """These options with absolute tolerances filled in for this circuit and input."""
        peak_voltage = float(np.max(np.abs(voltages))) or 1.0
        if self.abstol is not None and self.vntol is not None:
            return self
        column_current = float(np.max(np.abs(crossbar.device_currents(
            np.full(crossbar.shape, peak_voltage)).sum(axis=0))))
        wires = [r for r in (crossbar.r_word, crossbar.r_bit, crossbar.r_source) if r > 0]
        smallest_resistance = min(wires + [1.0 / float(np.max(crossbar.conductances))])
        noise_current = 1e-13 * peak_voltage / smallest_resistance
        return dataclasses.replace(
            self,
            abstol=self.abstol if self.abstol is not None else max(1e-10 * column_current, noise_current),
            vntol=self.vntol if self.vntol is not None else 1e-9 * peak_voltage)

    def lines(self) -> list[str]:
        options = []
        if self.klu:
            options.append("klu")
        if self.accounting:
            options.append("acct")
        options += [f"reltol={number(self.reltol)}", f"abstol={number(self.abstol or 1e-12)}",
                    f"vntol={number(self.vntol or 1e-6)}", "itl1=500", "itl2=200"]
        if self.gmin_stepping:
            options.append("gminsteps=100")
        if self.source_stepping:
            options.append("srcsteps=100")
        return [".options " + " ".join(options)]


def _wrap(head: str, items: list[str], close: str = "") -> list[str]:
    """One element over several lines ('+' continuations), so no line grows with the batch."""
    lines = [head]
    for start in range(0, len(items), _NUMBERS_PER_LINE):
        lines.append("+ " + ", ".join(items[start:start + _NUMBERS_PER_LINE])
                     + ("," if start + _NUMBERS_PER_LINE < len(items) else close))
    return lines


def _wire(name: str, a: str, b: str, r: float) -> str:
    if r >= NGSPICE_MIN_RESISTANCE:
        return f"{name} {a} {b} {number(r)}"
    # a voltage-controlled current source from a to b of 1/r siemens: an exact small resistor
    return f"G{name[1:]} {a} {b} {a} {b} {number(1.0 / r)}"


def wire_lines(topo: Topology, crossbar: Crossbar) -> list[str]:
    """The driver-resistance, word-line and bit-line segments of a crossbar's topology."""
    names = topo.node_names
    wires = {"source": crossbar.r_source, "word": crossbar.r_word, "bit": crossbar.r_bit}
    lines = []
    for kind in ("source", "word", "bit"):
        a, b, element_names = topo.wires[kind]
        if element_names:
            lines.append(f"* {kind} line resistance")
            lines += [_wire(name, names[p], names[n], wires[kind]) for name, p, n in zip(element_names, a, b)]
    return lines


def write_layout(array: DynamicCrossbar) -> Crossbar:
    """The array's wires as a read crossbar's (its devices stand-ins): the one node layout of
    a write's netlist and of reading its results back."""
    return Crossbar(np.full(array.shape, 1e-6), Linear(), r_word=array.r_word, r_bit=array.r_bit,
                    r_source=array.r_source)


def write_netlist_text(array: DynamicCrossbar, program: WriteProgram) -> str:
    """The transient netlist of a write: the array's wires as for reads, every cell's dynamic
    device elements (its state on node x_i_j), PWL drivers at every row's left end and every
    column's end, solved with tolerances tight enough to be the reference (reltol 1e-7,
    steps of at most 1/300 of the shortest slot: at 1/100 the 124 slots of a
    stochastic update drifted 1.5e-4 from the converged native result)."""
    program.check_fits(array.shape)
    rows, columns = array.shape
    layout = write_layout(array)
    topo = crossbar_topology(layout)
    names = topo.node_names
    ends = program.slot_ends()
    # the time step is bounded by 1/300 of the shortest slot; ngspice adds the ramps'
    # corners as breakpoints and its truncation-error control (reltol 1e-7) refines around them
    step = float(program.durations.min()) / 300

    def pwl(levels: np.ndarray) -> list[str]:
        """0 V at 0; each slot's ramp from the level before to its own, then its hold."""
        points, start = ["0", "0"], 0.0
        for slot in range(program.slots):
            points += [number(start + program.t_edge), number(levels[slot]), number(ends[slot]), number(levels[slot])]
            start = float(ends[slot])
        return points

    lines = ["* spicenn write", f"* {rows}x{columns} array of {array.device.describe()}, r_word={array.r_word:g} "
             f"r_bit={array.r_bit:g} r_source={array.r_source:g} ohm, {program.slots} slot(s); "
             f"generated by spicenn {__version__}",
             ".options reltol=1e-7 abstol=1e-15 vntol=1e-10 itl4=100", "* row drivers"]
    for i in range(rows):
        lines += _wrap(f"Vd{i} {names[topo.source_node[i]]} 0 PWL(", pwl(program.row_voltages[:, i]), ")")
    lines += wire_lines(topo, layout)
    lines.append("* dynamic devices (current flows word -> bit), their states on x_i_j")
    for i in range(rows):
        for j in range(columns):
            lines += array.device.spice_lines(f"{i}_{j}", names[topo.word_node[i, j]], names[topo.bit_node[i, j]],
                                              float(array.states[i, j]))
    lines.append("* column drivers, at the end where a read's sense node sits")
    for j in range(columns):
        lines += _wrap(f"Vs{j} {names[topo.sense_node[j]]} 0 PWL(", pwl(program.column_voltages[:, j]), ")")
    lines.append(f".tran {number(step)} {number(float(ends[-1]))} 0 {number(step)} uic")
    lines.append(".save " + " ".join(f"i(Vd{i})" for i in range(rows)) + " " +
                 " ".join(f"i(Vs{j})" for j in range(columns)))
    for i in range(rows):
        lines.append("+ " + " ".join(f"v(x_{i}_{j}) v({names[topo.word_node[i, j]]}) v({names[topo.bit_node[i, j]]})"
                                     for j in range(columns)))
    lines.append(".end")
    return check_netlist("\n".join(lines) + "\n")


def driver_lines(topo: Topology, voltages: np.ndarray) -> list[str]:
    names = topo.node_names
    if voltages.shape[0] == 1:
        return [f"Vd{i} {names[topo.source_node[i]]} 0 DC {number(voltages[0, i])}" for i in range(topo.rows)]
    lines = []
    batch = voltages.shape[0]
    for i in range(topo.rows):
        points = []
        for k in range(batch):
            points += [str(k), number(voltages[k, i])]
        points += [str(batch), number(voltages[batch - 1, i])]  # flat past the end: no interpolation at k = B-1
        lines += _wrap(f"Bd{i} {names[topo.source_node[i]]} 0 V=pwl(temper,", points, ")")
    return lines


MAX_TRANSIENT_STEPS = 1_000_000  # minutes for a small tile; beyond, a setting is almost surely a slip


@dataclass(frozen=True)
class ReadPulse:
    """A transient read: trapezoidal pulses (one per input vector, `t_gap` apart) on the rows,
    and wire capacitance per word-line and bit-line segment (to ground)."""

    t_width: float = 50e-9
    t_rise: float = 1e-9
    t_fall: float = 1e-9
    t_gap: float = 20e-9
    c_word: float = 0.0  # F per word-line segment
    c_bit: float = 0.0  # F per bit-line segment

    def __post_init__(self) -> None:
        from ..checks import finite_number

        for name in ("t_width", "t_rise", "t_fall", "t_gap"):
            finite_number(name, getattr(self, name), minimum=0.0, strict_minimum=True)
        for name in ("c_word", "c_bit"):
            finite_number(name, getattr(self, name), minimum=0.0, maximum=1e-6)

    @property
    def period(self) -> float:
        return self.t_rise + self.t_width + self.t_fall + self.t_gap

    def check_cost(self, vectors: int) -> None:
        """Refuse, before ngspice starts, a read whose time steps would run into the millions
        (a pulse far shorter than its gap or its ramps): ngspice would not return for hours."""
        steps = vectors * self.period / self.max_step()
        if steps > MAX_TRANSIENT_STEPS:
            raise InputError(f"this transient read needs ~{steps:.3g} time steps (limit {MAX_TRANSIENT_STEPS:,}): "
                             f"{vectors} pulse(s) of period {self.period:g} s at steps of t_read/20 = "
                             f"{self.max_step():g} s; lengthen t_read or shorten the ramps and gaps")

    def max_step(self) -> float:
        # ngspice lands on every pulse corner (breakpoints) and refines where capacitors
        # change fast; without capacitance a ramp is integrated over few steps (its share of
        # the energy is small for rise, fall << width).
        return self.t_width / 20


def _capacitor_lines(topo: Topology, pulse: ReadPulse) -> list[str]:
    names = topo.node_names
    lines = []
    for prefix, nodes, value in (("Cw", topo.word_node, pulse.c_word), ("Cb", topo.bit_node, pulse.c_bit)):
        if value > 0:
            lines.append(f"* {'word' if prefix == 'Cw' else 'bit'}-line capacitance per segment")
            lines += [f"{prefix}{i}_{j} {names[nodes[i, j]]} 0 {number(value)}"
                      for i in range(topo.rows) for j in range(topo.columns)]
    return lines


def pulse_lines(topo: Topology, voltages: np.ndarray, pulse: ReadPulse) -> list[str]:
    names = topo.node_names
    lines = []
    for i in range(topo.rows):
        points = ["0", "0"]
        for k in range(voltages.shape[0]):
            start = k * pulse.period
            value = number(voltages[k, i])
            for t, level in ((start + pulse.t_gap / 2, "0"), (start + pulse.t_gap / 2 + pulse.t_rise, value),
                             (start + pulse.t_gap / 2 + pulse.t_rise + pulse.t_width, value),
                             (start + pulse.t_gap / 2 + pulse.t_rise + pulse.t_width + pulse.t_fall, "0")):
                points += [number(t), level]
        lines += _wrap(f"Vd{i} {names[topo.source_node[i]]} 0 PWL(", points, ")")
    return lines


def netlist_text(crossbar: Crossbar, voltages: np.ndarray, options: SolverOptions | None = None,
                 title: str | None = None, pulse: ReadPulse | None = None) -> str:
    """The complete netlist for `crossbar` driven by `voltages` (B, M); runs with `ngspice -b`.

    With `pulse`, a transient read instead: one pulse per input vector, wire capacitances."""
    v = crossbar.check_voltages(voltages)
    if pulse is not None:
        pulse.check_cost(v.shape[0])
    options = (options or SolverOptions()).scaled(crossbar, v)
    topo = crossbar_topology(crossbar)
    names = topo.node_names
    rows, columns = crossbar.shape
    title = "spicenn crossbar" if title is None else netlist_comment("title", title)
    lines = [f"* {title}",
             f"* {rows}x{columns} crossbar, device {crossbar.device.describe()}, "
             f"r_word={crossbar.r_word:g} r_bit={crossbar.r_bit:g} r_source={crossbar.r_source:g} ohm, "
             f"{v.shape[0]} input vector(s); generated by spicenn {__version__}"]
    lines += options.lines()
    lines.append("* row drivers")
    lines += driver_lines(topo, v) if pulse is None else pulse_lines(topo, v, pulse)
    lines += wire_lines(topo, crossbar)
    lines.append("* devices (current flows word -> bit)")
    cell_names = [f"c{i}_{j}" for i in range(rows) for j in range(columns)]
    lines += crossbar.device.spice_lines(cell_names,
                                         [names[k] for k in topo.word_node.ravel()],
                                         [names[k] for k in topo.bit_node.ravel()],
                                         crossbar.conductances.ravel(),
                                         {key: value.ravel() for key, value in crossbar.cell.items()})
    lines.append("* sense amplifiers: virtual ground, the current into the column")
    lines += [f"Vs{j} {names[topo.sense_node[j]]} 0 DC 0" for j in range(columns)]
    if pulse is not None:
        lines += _capacitor_lines(topo, pulse)
        stop = v.shape[0] * pulse.period
        lines.append(f".tran {number(pulse.max_step())} {number(stop)} 0 {number(pulse.max_step())}")
        lines.append(".save " + " ".join(f"v({names[topo.source_node[i]]}) i(Vd{i})" for i in range(rows)))
        # the charged nodes' voltages, for the line-charging energy (one continuation line each row)
        for value, nodes in ((pulse.c_word, topo.word_node), (pulse.c_bit, topo.bit_node)):
            if value > 0:
                lines += ["+ " + " ".join(f"v({names[k]})" for k in row) for row in nodes]
    elif v.shape[0] == 1:
        lines.append(".op")
    else:
        lines.append(f".dc temp 0 {v.shape[0] - 1} 1")
        # what `ngspice -b file.cir` prints: the column currents at each input vector
        currents = [f"i(Vs{j})" for j in range(columns)]
        lines += [".print dc " + " ".join(currents[:_NUMBERS_PER_LINE])]
        lines += ["+ " + " ".join(currents[k:k + _NUMBERS_PER_LINE])
                  for k in range(_NUMBERS_PER_LINE, columns, _NUMBERS_PER_LINE)]
    lines.append(".end")
    return check_netlist("\n".join(lines) + "\n")
