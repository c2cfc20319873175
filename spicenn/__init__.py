"""spicenn: circuit-level SPICE co-simulation of memristive neural networks.

    >>> import numpy as np, spicenn
    >>> xbar = spicenn.Crossbar(np.full((4, 3), 1e-4), device="sinh", r_word=1.0, r_bit=1.0)
    >>> result = spicenn.simulate(xbar, np.full((2, 4), 0.2))
    >>> result.currents.shape
    (2, 3)
"""

from .crossbar import Crossbar, DifferentialMapping, SimulationResult
from .crossbar.program import DynamicCrossbar, WriteProgram
from .devices import get_device
from .errors import ConvergenceError, InputError, SpiceError, SpicennError, SpiceNotFoundError
from .solvers import simulate, write
from .version import __version__

__all__ = [
    "AnalogMatrix",
    "ConvergenceError",
    "Crossbar",
    "DifferentialMapping",
    "DynamicCrossbar",
    "InputError",
    "SimulationResult",
    "SpiceError",
    "SpiceNotFoundError",
    "SpicennError",
    "WriteProgram",
    "__version__",
    "get_device",
    "simulate",
    "write",
]


def __getattr__(name: str) -> type:  # torch is imported only when the torch parts are used
    if name == "AnalogMatrix":
        from .nn.matrix import AnalogMatrix

        return AnalogMatrix
    raise AttributeError(f"module 'spicenn' has no attribute {name!r}")
