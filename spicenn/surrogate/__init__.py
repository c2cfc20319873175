"""The PyTorch surrogate of the crossbar: SPICE datasets, the model, its training and validation.

Datasets need only ngspice; the torch parts (`relax`, `spicenn.surrogate.model`) are imported
when first used, so that commands that do not need torch start fast.
"""

from typing import Any

from .dataset import generate, load, metadata, read_spec
from .sampling import DatasetSpec, sample_case

__all__ = ["DatasetSpec", "generate", "load", "metadata", "read_spec", "relax", "sample_case"]


def __getattr__(name: str) -> Any:
    if name == "relax":
        from .physics import relax

        return relax
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
