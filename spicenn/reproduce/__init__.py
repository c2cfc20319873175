"""Reproductions of the papers spicenn grew from, one module each, listed in one catalog
(`catalog`: what the command line, the RESULTS tables and the README's list read)."""

from .catalog import Reproduction, get_reproduction, register_reproduction, reproductions

__all__ = ["Reproduction", "get_reproduction", "register_reproduction", "reproductions"]
