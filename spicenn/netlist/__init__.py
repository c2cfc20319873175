"""Netlist text from a crossbar."""

from .writer import SolverOptions, netlist_text

__all__ = ["SolverOptions", "netlist_text"]
