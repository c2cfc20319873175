"""Running crossbars in ngspice: engines, batched simulation, power extraction."""

from .engines import ENGINES, SharedEngine, SubprocessEngine, get_engine
from .extract import SimulationResult
from .simulate import simulate

__all__ = ["simulate", "SimulationResult", "get_engine", "SharedEngine", "SubprocessEngine", "ENGINES"]
