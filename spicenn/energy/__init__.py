"""Energy per MVM and TOPS/W from simulated circuits, with peripherals."""

from .crossbar import crossbar_energy
from .network import (Layer, ProgrammedLayer, file_network_energy, load_layers, network_energy,
                      programmed_layers)
from .peripherals import Peripherals, load_config
from .report import EnergyReport, dc_report, mvm_ops
from .transient import pulse_energies, transient_parts

__all__ = ["Peripherals", "load_config", "EnergyReport", "dc_report", "mvm_ops", "pulse_energies",
           "transient_parts", "Layer", "ProgrammedLayer", "load_layers", "programmed_layers", "network_energy",
           "file_network_energy", "crossbar_energy"]
