"""Device models and presets by name: an open registry. A user's own `Device` subclass,
registered once, works wherever a device name goes (simulate, every engine and backend,
the crossbar layers, energy, the command line's `-d`):

    >>> from dataclasses import dataclass
    >>> @register_device
    ... @dataclass(frozen=True, kw_only=True)
    ... class Cubic(Device):
    ...     name = "cubic-doc"  # a class attribute (no annotation), as in Device
    ...     a: float = 2.0
    ...     def formula(self, v, g, k, xp):
    ...         return g * (v + self.a * v * v * v)
    >>> get_device("cubic-doc", a=1.0)
    Cubic(g_off=None, g_on=None, a=1.0)
    >>> unregister("cubic-doc")
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..checks import build_dataclass
from ..errors import InputError
from .base import Device
from .dynamic import DYNAMIC_MODELS, DynamicDevice, get_dynamic_device
from .models import Linear, PooleFrenkel, PowerLaw, Sinh

MODELS: dict[str, type[Device]] = {cls.name: cls for cls in (Linear, Sinh, PowerLaw, PooleFrenkel)}

# Named device sets. SiOx Poole-Frenkel fits and power-law spreads: Joksas et al., Adv. Sci. 2022.
PRESETS: dict[str, tuple[type[Device], dict[str, Any]]] = {
    "poole-frenkel-low": (PooleFrenkel, dict(a1=-1.12, b1=0.628, a2=-1.34, b2=-25.9,
                                             g_off=6.90e-4, g_on=3.45e-3)),
    "poole-frenkel-high": (PooleFrenkel, dict(a1=-1.03, b1=-0.251, a2=-0.0901, b2=-37.1,
                                              g_off=5.25e-7, g_on=2.62e-6)),
    "powerlaw-low": (PowerLaw, dict(v_ref=0.25, n=2.13, n_std=0.095, g_off=9.97e-4, g_on=3.51e-3)),
    "powerlaw-high": (PowerLaw, dict(v_ref=0.25, n=2.99, n_std=0.369, g_off=5.25e-7, g_on=2.62e-6)),
}
BUILT_IN = frozenset(MODELS) | frozenset(PRESETS)


def _key(name: str, what: str) -> str:
    key = str(name).strip().lower()
    if not key or not key.replace("-", "").replace("_", "").isalnum():
        raise InputError(f"a {what} name must be letters, digits, '-' or '_', got {name!r}")
    return key


def register_device(cls: type[Device]) -> type[Device]:
    """Make a `Device` subclass available by its `name` (usable as a class decorator).
    Its formula must be written once for numpy, torch and ngspice (`Device.formula`)."""
    if not (isinstance(cls, type) and issubclass(cls, Device)) or not dataclasses.is_dataclass(cls):
        raise InputError(f"a device model must be a dataclass subclass of spicenn.devices.Device, got {cls!r}")
    key = _key(cls.name, "device model")
    if key in PRESETS:
        raise InputError(f"{key!r} already names a device preset")
    MODELS[key] = cls
    return cls


def register_preset(name: str, cls: type[Device], **defaults: Any) -> None:
    """A named device set: model `cls` (registered) with its parameter values."""
    key = _key(name, "device preset")
    if key in MODELS:
        raise InputError(f"{key!r} already names a device model")
    if cls not in MODELS.values():
        register_device(cls)
    cls(**defaults)  # refuses unknown or unphysical parameters now, not at first use
    PRESETS[key] = (cls, dict(defaults))


def unregister(name: str) -> None:
    """Remove a registered model or preset (the built-in ones stay)."""
    key = str(name).strip().lower()
    if key in BUILT_IN:
        raise InputError(f"{key!r} is built into spicenn and cannot be removed")
    MODELS.pop(key, None)
    PRESETS.pop(key, None)


def names() -> list[str]:
    """Every device model's and preset's name (built-in and registered), models first."""
    return sorted(MODELS) + sorted(PRESETS)


def get_device(name: str, **params: Any) -> Device | DynamicDevice:
    """A device model or preset by name, with parameters overriding its defaults: a static
    model (its I-V at a conductance) or a dynamic one (`vteam`, `yakopcic` — the Oblea et al.
    fit —: a state that writes move, `spicenn.devices.dynamic`).

    >>> get_device("sinh", k=2.5)
    Sinh(g_off=None, g_on=None, k=2.5)
    """
    if isinstance(name, (Device, DynamicDevice)):
        return dataclasses.replace(name, **params) if params else name
    key = str(name).strip().lower()
    if key in DYNAMIC_MODELS:
        return get_dynamic_device(key, **params)
    if key.endswith(".toml"):
        found = load_device_file(name)
        return dataclasses.replace(found, **params) if params else found
    return get_static_device(key, **params)


def get_writable_device(name: str, **params: Any) -> DynamicDevice:
    """A dynamic device by name or device file (`spicenn devices fit pulses --model vteam`):
    what writes and pulse responses take."""
    if not str(name).strip().lower().endswith(".toml") and str(name).strip().lower() not in MODELS | PRESETS:
        return get_dynamic_device(name, **params)  # a dynamic model, or one clear error naming them
    found = get_device(name, **params)
    if not isinstance(found, DynamicDevice):
        raise InputError(f"{name} is a static device (a read model); writes take a dynamic one: "
                         f"{', '.join(DYNAMIC_MODELS)}, or a device file of one")
    return found


def get_static_device(name: str, **params: Any) -> Device:
    """A static device model or preset by name (`get_device` for the models whose I-V a
    conductance sets).

    >>> get_static_device("linear")
    Linear(g_off=None, g_on=None)
    """
    if isinstance(name, Device):
        return dataclasses.replace(name, **params) if params else name
    if str(name).strip().lower().endswith(".toml"):
        found = load_device_file(name)
        if not isinstance(found, Device):
            raise InputError(f"device file {name} holds a dynamic device ({found.name}); reads take a static one")
        return dataclasses.replace(found, **params) if params else found
    key = str(name).strip().lower()
    defaults: dict[str, Any]
    if key in MODELS:
        cls, defaults = MODELS[key], {}
    elif key in PRESETS:
        cls, defaults = PRESETS[key]
    else:
        raise InputError(f"unknown device {name!r}; choose one of: {', '.join(names())}")
    return build_dataclass(cls, f"device {key!r}", {**defaults, **params})


def describe_all() -> list[tuple[str, str]]:
    """(name, description) of every model and preset, models first."""
    return [(name, get_device(name).describe()) for name in list(MODELS) + list(PRESETS)]


def load_device_file(path: str | Path) -> Device | DynamicDevice:
    """The device a device file describes (its [device] table: a fitted device from
    `spicenn devices fit iv` or `fit pulses --model vteam`, or any written by hand), wherever
    a device name goes."""
    from ..io import read_toml

    document = read_toml(path, "device")
    table = document.get("device")
    if not isinstance(table, Mapping):
        raise InputError(f"device file {path} has no [device] table")
    if str(table.get("name", "")).lower().endswith(".toml"):
        raise InputError(f"device file {path} names another file; a [device] table names a model")
    if str(table.get("name", "")).strip().lower() in DYNAMIC_MODELS:
        params = dict(table)
        return get_dynamic_device(params.pop("name"), **params)
    return from_dict(table)


def from_dict(description: Mapping[str, Any]) -> Device:
    """Inverse of `Device.to_dict`."""
    params = dict(description)
    try:
        name = params.pop("name")
    except KeyError:
        raise InputError("a device description needs a 'name'") from None
    return get_static_device(name, **params)
