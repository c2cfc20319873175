"""Deprecated name of `spicenn.shipped` (the models and configurations spicenn ships):
"models" also names the device models (`spicenn.devices.models`) and the checkout's
`models/` folder. This module stays for existing imports and says so once."""

import warnings

from .shipped import device_library, example, example_names, surrogate, surrogate_names, surrogate_path

warnings.warn("spicenn.models is now spicenn.shipped", DeprecationWarning, stacklevel=2)

__all__ = ["device_library", "example", "example_names", "surrogate", "surrogate_names", "surrogate_path"]
