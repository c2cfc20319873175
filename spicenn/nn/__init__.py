"""Crossbar layers for PyTorch, conversion of any model, training runs, and on-chip learning."""

from ..crossbar.config import CrossbarConfig
from .analyze import analyze
from .attention import CrossbarMultiheadAttention
from .conv import CrossbarConv
from .convert import ConversionReport, calibrate, convert
from .data import load_data, read_data_file
from .evaluation import accuracy
from .finetune import finetune, noise_aware
from .layer import CrossbarLinear
from .model_energy import ModelEnergy, model_energy
from .network import AnalogModel, CrossbarMLP, CrossbarNetwork
from .recurrent import CrossbarRecurrent
from .run_config import RunConfig

__all__ = ["AnalogModel", "ConversionReport", "CrossbarConfig", "CrossbarConv", "CrossbarLinear", "CrossbarMLP",
           "CrossbarMultiheadAttention", "CrossbarNetwork", "CrossbarRecurrent", "ModelEnergy", "RunConfig", "accuracy",
           "analyze", "calibrate", "convert", "finetune", "load_data", "model_energy", "noise_aware",
           "read_data_file"]
