"""Memristor models: static I-V models (numpy, torch and ngspice from one formula) and
conductance-level non-idealities."""

from .base import Device
from .dynamic import DYNAMIC_MODELS, VTEAM, DynamicDevice, Yakopcic, get_dynamic_device, pulse_response
from .library import lib_text
from .models import Linear, PooleFrenkel, PowerLaw, Sinh
from .nonidealities import ChipDraw, ConductanceNonidealities
from .registry import (
                       MODELS,
                       PRESETS,
                       describe_all,
                       from_dict,
                       get_device,
                       get_static_device,
                       names,
                       register_device,
                       register_preset,
                       unregister,
)

__all__ = [
                       "DYNAMIC_MODELS",
                       "MODELS",
                       "PRESETS",
                       "VTEAM",
                       "ChipDraw",
                       "ConductanceNonidealities",
                       "Device",
                       "DynamicDevice",
                       "Linear",
                       "PooleFrenkel",
                       "PowerLaw",
                       "Sinh",
                       "Yakopcic",
                       "describe_all",
                       "from_dict",
                       "get_device",
                       "get_dynamic_device",
                       "get_static_device",
                       "lib_text",
                       "names",
                       "pulse_response",
                       "register_device",
                       "register_preset",
                       "unregister",
]
