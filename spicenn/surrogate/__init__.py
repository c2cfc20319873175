"""The PyTorch surrogate of the crossbar: SPICE datasets (and, next, the model and its training)."""

from .dataset import generate, load, metadata, read_spec
from .sampling import DatasetSpec, sample_case

__all__ = ["DatasetSpec", "sample_case", "generate", "load", "read_spec", "metadata"]
