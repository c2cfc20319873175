"""spicenn's own crossbar solver: the DC equations of the circuit it writes as a netlist,
solved exactly by Newton's method with structured, batched linear solves (`solver`), or by a
fixed number of damped sweeps (`relaxation`, the relaxation surrogate's physics); torch, so
CPU or GPU."""

from .gradients import circuit_currents
from .native import simulate_native
from .relaxation import relax
from .solver import Solution, solve, solve_system

__all__ = ["Solution", "circuit_currents", "relax", "simulate_native", "solve", "solve_system"]
