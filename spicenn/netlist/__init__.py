"""Netlist text from a crossbar."""

from .writer import ReadPulse, SolverOptions, netlist_text

__all__ = ["ReadPulse", "SolverOptions", "netlist_text"]
