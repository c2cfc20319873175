"""One front door for every solver: `simulate(crossbar, voltages, engine=...)` with the
engines by name from one registry (ngspice's shared library and batch mode, the native
solver, and any a user registers), and a layer's tiles solved by any of them."""

from .registry import NativeSolver, NgspiceSolver, Solver, get_solver, register_solver, solver_names
from .simulate import VERIFY_TOLERANCE, check_against_ngspice, simulate
from .tiles import simulate_tiles
from .write import VerifyResult, write, write_verify

__all__ = [
           "VERIFY_TOLERANCE",
           "NativeSolver",
           "NgspiceSolver",
           "Solver",
           "VerifyResult",
           "check_against_ngspice",
           "get_solver",
           "register_solver",
           "simulate",
           "simulate_tiles",
           "solver_names",
           "write",
           "write_verify",
]
