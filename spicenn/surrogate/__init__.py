"""The PyTorch surrogate of the crossbar: SPICE datasets (and, next, the model and its training)."""

from .dataset import generate, load, metadata, read_spec
from .physics import relax
from .sampling import DatasetSpec, sample_case

__all__ = ["DatasetSpec", "generate", "load", "metadata", "read_spec", "relax", "sample_case"]
