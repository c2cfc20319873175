"""Energy per MVM and TOPS/W from simulated circuits, with peripherals."""

from .crossbar import crossbar_energy
from .network import Layer, load_layers, network_energy
from .peripherals import Peripherals, load_config
from .report import EnergyReport, dc_report
from .transient import pulse_energies, transient_parts

__all__ = ["Peripherals", "load_config", "EnergyReport", "dc_report", "pulse_energies", "transient_parts",
           "Layer", "load_layers", "network_energy", "crossbar_energy"]

