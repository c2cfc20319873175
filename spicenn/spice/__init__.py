"""Running crossbars in ngspice: engines, batched DC sweeps with retries. The front door for
every solver, ngspice's and the native one, is `spicenn.solvers.simulate`."""

from .engines import ENGINES, SharedEngine, SubprocessEngine, get_engine
from .simulate import simulate_ngspice

__all__ = ["ENGINES", "SharedEngine", "SubprocessEngine", "get_engine", "simulate_ngspice"]
