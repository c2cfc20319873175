"""Energy report of one crossbar read, DC or transient."""

from __future__ import annotations

from typing import Any

from ..crossbar.peripherals import Peripherals
from ..crossbar.spec import Crossbar
from ..netlist.writer import ReadPulse
from ..solvers import get_solver, simulate
from .report import ARRAY_PARTS, EnergyReport, combine, dc_report
from .transient import transient_parts


def crossbar_energy(crossbar: Crossbar, voltages: Any, peripherals: Peripherals | None = None,
                    pulse: ReadPulse | None = None, engine: str = "shared", verify: int = 0) -> EnergyReport:
    """Energy report of one crossbar for a batch of input vectors: DC reads (power x t_read)
    or, with a `ReadPulse`, transient reads whose line charging is its own part (ngspice only).
    `engine` and `verify` as for `spice.simulate`."""
    netlist_engine = get_solver(engine).netlist_engine() if pulse is not None else None  # refused early
    peripherals = peripherals or Peripherals()
    result = simulate(crossbar, voltages, engine=engine, verify=verify)
    report = dc_report(result, peripherals)
    if pulse is None:
        return report
    resistive = ("devices", "word_lines", "bit_lines", "driver_resistance")
    dc_total = sum(report.energy_j[p] for p in resistive)
    shares = {p: report.energy_j[p] / dc_total if dc_total else 0.0 for p in resistive}
    assert netlist_engine is not None
    parts = transient_parts(crossbar, voltages, pulse, shares, netlist_engine)
    reads = peripherals.reads_per_mvm
    energy = combine({p: parts.get(p, 0.0) * reads for p in ARRAY_PARTS},
                     {p: report.energy_j[p] for p in ("dac", "adc", "tia")})
    return EnergyReport(report.ops, energy, peripherals, report.label)
