"""spicenn: circuit-level SPICE co-simulation of memristive neural networks.

    >>> import numpy as np, spicenn
    >>> xbar = spicenn.Crossbar(np.full((4, 3), 1e-4), device="sinh", r_word=1.0, r_bit=1.0)
    >>> result = spicenn.simulate(xbar, np.full((2, 4), 0.2))
    >>> result.currents.shape
    (2, 3)
"""

from .version import __version__  # noqa: E402
from .crossbar import Crossbar, DifferentialMapping  # noqa: E402
from .devices import get_device  # noqa: E402
from .errors import ConvergenceError, InputError, SpiceError, SpicennError, SpiceNotFoundError  # noqa: E402
from .spice import SimulationResult, simulate  # noqa: E402

__all__ = ["Crossbar", "DifferentialMapping", "get_device", "simulate", "SimulationResult", "SpicennError",
           "InputError", "SpiceError", "SpiceNotFoundError", "ConvergenceError", "__version__"]
