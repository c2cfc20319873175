"""Running crossbars in ngspice: engines, batched simulation, power extraction."""

from .engines import ENGINES, SharedEngine, SubprocessEngine, get_engine
from .extract import SimulationResult
from .simulate import simulate

__all__ = ["ENGINES", "SharedEngine", "SimulationResult", "SubprocessEngine", "get_engine", "simulate"]
