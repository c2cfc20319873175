"""Energy per MVM and TOPS/W from simulated circuits, with peripherals."""

from ..crossbar.peripherals import Peripherals, load_config
from .crossbar import crossbar_energy
from .network import Layer, ProgrammedLayer, file_network_energy, load_layers, network_energy, programmed_layers
from .report import EnergyReport, dc_report, mvm_ops
from .transient import pulse_energies, transient_parts

__all__ = [
                      "EnergyReport",
                      "Layer",
                      "Peripherals",
                      "ProgrammedLayer",
                      "crossbar_energy",
                      "dc_report",
                      "file_network_energy",
                      "load_config",
                      "load_layers",
                      "mvm_ops",
                      "network_energy",
                      "programmed_layers",
                      "pulse_energies",
                      "transient_parts",
]
