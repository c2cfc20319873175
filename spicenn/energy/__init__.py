"""Energy per MVM and TOPS/W from simulated circuits, with peripherals."""

from .network import Layer, load_layers, network_energy
from .peripherals import Peripherals, load_config
from .report import EnergyReport, dc_report
from .transient import pulse_energies, transient_parts

__all__ = ["Peripherals", "load_config", "EnergyReport", "dc_report", "pulse_energies", "transient_parts",
           "Layer", "load_layers", "network_energy", "crossbar_energy"]


def crossbar_energy(crossbar, voltages, peripherals=None, pulse=None, engine="shared") -> EnergyReport:
    """Energy report of one crossbar for a batch of input vectors: DC reads (power x t_read)
    or, with a `ReadPulse`, transient reads whose line charging is its own part."""
    from ..spice import simulate

    peripherals = peripherals or Peripherals()
    result = simulate(crossbar, voltages, engine=engine)
    report = dc_report(result, peripherals)
    if pulse is None:
        return report
    from .report import ARRAY_PARTS, combine

    resistive = ("devices", "word_lines", "bit_lines", "driver_resistance")
    dc_total = sum(report.energy_j[p] for p in resistive)
    shares = {p: report.energy_j[p] / dc_total if dc_total else 0.0 for p in resistive}
    parts = transient_parts(crossbar, voltages, pulse, shares, engine)
    reads = peripherals.reads_per_mvm
    energy = combine({p: parts.get(p, 0.0) * reads for p in ARRAY_PARTS},
                     {p: report.energy_j[p] for p in ("dac", "adc", "tia")})
    return EnergyReport(report.ops, energy, peripherals, report.label)
