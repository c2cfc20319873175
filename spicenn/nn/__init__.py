"""Crossbar layers for PyTorch, training runs, and on-chip learning."""

from .config import CrossbarConfig
from .data import load_data
from .layer import CrossbarLinear
from .network import CrossbarMLP
from .run_config import RunConfig

__all__ = ["CrossbarConfig", "CrossbarLinear", "CrossbarMLP", "RunConfig", "load_data"]
