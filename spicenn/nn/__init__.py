"""Crossbar layers for PyTorch, conversion of any model, training runs, and on-chip learning."""

from ..crossbar.config import CrossbarConfig
from .conv import CrossbarConv
from .convert import ConversionReport, calibrate, convert
from .data import load_data
from .layer import CrossbarLinear
from .model_energy import ModelEnergy, model_energy
from .network import AnalogModel, CrossbarMLP, CrossbarNetwork
from .run_config import RunConfig

__all__ = ["AnalogModel", "ConversionReport", "CrossbarConfig", "CrossbarConv", "CrossbarLinear", "CrossbarMLP",
           "CrossbarNetwork", "ModelEnergy", "RunConfig", "calibrate", "convert", "load_data", "model_energy"]
