"""Array-generic helpers: one function body serves numpy arrays and torch tensors."""

from __future__ import annotations

from types import ModuleType
from typing import Any

import numpy as np


def namespace(*arrays: Any) -> ModuleType:
    """torch if any argument is a torch tensor, else numpy (torch is imported only then)."""
    for array in arrays:
        if type(array).__module__.startswith("torch"):
            import torch

            return torch
    return np
