"""spicenn's own crossbar solver: the DC equations of the circuit it writes as a netlist,
solved exactly by Newton's method with structured, batched linear solves (torch: CPU or GPU)."""

from .gradients import circuit_currents
from .native import simulate_native
from .solver import Solution, solve

__all__ = ["Solution", "circuit_currents", "simulate_native", "solve"]
