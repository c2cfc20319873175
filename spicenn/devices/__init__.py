"""Memristor models: static I-V models (numpy, torch and ngspice from one formula) and
conductance-level non-idealities."""

from .base import Device
from .library import lib_text
from .models import Linear, PooleFrenkel, PowerLaw, Sinh
from .nonidealities import ChipDraw, ConductanceNonidealities
from .registry import (
                       MODELS,
                       PRESETS,
                       describe_all,
                       from_dict,
                       get_device,
                       names,
                       register_device,
                       register_preset,
                       unregister,
)

__all__ = [
           "MODELS",
           "PRESETS",
           "ChipDraw",
           "ConductanceNonidealities",
           "Device",
           "Linear",
           "PooleFrenkel",
           "PowerLaw",
           "Sinh",
           "describe_all",
           "from_dict",
           "get_device",
           "lib_text",
           "names",
           "register_device",
           "register_preset",
           "unregister",
]
