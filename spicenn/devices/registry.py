"""Device models and presets by name."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from ..errors import InputError
from .base import Device
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


def names() -> list[str]:
    return sorted(MODELS) + sorted(PRESETS)


def get_device(name: str, **params: Any) -> Device:
    """A device model or preset by name, with parameters overriding its defaults.

    >>> get_device("sinh", k=2.5)
    Sinh(g_off=None, g_on=None, k=2.5)
    """
    if isinstance(name, Device):
        return dataclasses.replace(name, **params) if params else name
    key = str(name).strip().lower()
    defaults: dict[str, Any]
    if key in MODELS:
        cls, defaults = MODELS[key], {}
    elif key in PRESETS:
        cls, defaults = PRESETS[key]
    else:
        raise InputError(f"unknown device {name!r}; choose one of: {', '.join(names())}")
    allowed = {field.name for field in dataclasses.fields(cls)}
    unknown = sorted(set(params) - allowed)
    if unknown:
        raise InputError(f"device {key!r} has no parameter {unknown[0]!r}; "
                         f"its parameters are: {', '.join(sorted(allowed))}")
    return cls(**{**defaults, **params})


def describe_all() -> list[tuple[str, str]]:
    """(name, description) of every model and preset, models first."""
    return [(name, get_device(name).describe()) for name in list(MODELS) + list(PRESETS)]


def from_dict(description: Mapping[str, Any]) -> Device:
    """Inverse of `Device.to_dict`."""
    params = dict(description)
    try:
        name = params.pop("name")
    except KeyError:
        raise InputError("a device description needs a 'name'") from None
    return get_device(name, **params)
