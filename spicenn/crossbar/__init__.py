"""Crossbar arrays: the circuit specification, its graph, and weight <-> conductance mapping."""

from .mapping import DifferentialMapping
from .results import SimulationResult
from .spec import Crossbar

__all__ = ["Crossbar", "DifferentialMapping", "SimulationResult"]
