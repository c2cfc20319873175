"""The solvers by name: one registry that every list of engine names reads.

A solver turns a crossbar and checked input voltages (B, M) into a `SimulationResult`.
Three ship with spicenn — ngspice's shared library ("shared"), ngspice in a child process
("subprocess") and spicenn's own exact solver ("native") — and `register_solver` adds one:

    >>> from spicenn.solvers import solver_names
    >>> solver_names()
    ['shared', 'subprocess', 'native']
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING

import numpy as np

from ..crossbar.results import SimulationResult
from ..crossbar.spec import Crossbar
from ..errors import InputError

if TYPE_CHECKING:
    from ..crossbar.program import DynamicCrossbar, WriteProgram, WriteResult
    from ..netlist.writer import SolverOptions
    from ..spice.engines import Engine


class Solver(ABC):
    """One way to solve a crossbar's DC read. Subclasses set `name` and `summary`."""

    name: str
    summary: str
    # whether ngspice itself runs the netlist (then transient reads and `.lib` includes work)
    runs_netlists: bool = False

    @abstractmethod
    def solve(self, crossbar: Crossbar, v: np.ndarray, options: SolverOptions | None = None,
              chunk: int | None = None, progress: bool = False) -> SimulationResult:
        """The DC solution for checked voltages `v` (B, M)."""

    def write(self, array: DynamicCrossbar, program: WriteProgram) -> WriteResult:
        """A write program through the array (`spicenn.write`); solvers without one refuse."""
        raise InputError(f"the {self.name} solver has no write engine")

    def netlist_engine(self) -> Engine:
        """The ngspice engine that runs this solver's netlists (transient reads)."""
        raise InputError(f"the {self.name} solver computes DC reads; a transient read needs an ngspice engine "
                         f"({', '.join(n for n, s in SOLVERS.items() if s.runs_netlists)})")


class NgspiceSolver(Solver):
    """ngspice, through one of its engines (`spicenn.spice.engines`); the reference."""

    runs_netlists = True

    def __init__(self, engine: str, summary: str) -> None:
        self.name, self.summary = engine, summary

    def netlist_engine(self) -> Engine:
        from ..spice.engines import get_engine

        return get_engine(self.name)

    def write(self, array: DynamicCrossbar, program: WriteProgram) -> WriteResult:
        """The write's transient in ngspice: the reference."""
        from ..spice.write import write_ngspice

        return write_ngspice(array, program, self.netlist_engine())

    def solve(self, crossbar: Crossbar, v: np.ndarray, options: SolverOptions | None = None,
              chunk: int | None = None, progress: bool = False) -> SimulationResult:
        from ..spice.simulate import simulate_ngspice

        return simulate_ngspice(crossbar, v, self.netlist_engine(), options, chunk, progress)


class NativeSolver(Solver):
    """spicenn's own solver of the same equations (`spicenn.circuit`): exact, much faster."""

    name = "native"
    summary = "spicenn's own exact solver (torch; equal to ngspice to 1e-9)"

    def solve(self, crossbar: Crossbar, v: np.ndarray, options: SolverOptions | None = None,
              chunk: int | None = None, progress: bool = False) -> SimulationResult:
        from ..circuit import simulate_native

        return simulate_native(crossbar, v)

    def write(self, array: DynamicCrossbar, program: WriteProgram) -> WriteResult:
        """The native write engine: DC solves with driven columns, states integrated adaptively."""
        from ..circuit.write import write_native

        return write_native(array, program)


SOLVERS: dict[str, Solver] = {}


def register_solver(solver: Solver) -> Solver:
    """Make `solver` available by its name everywhere an engine is named (API and CLI)."""
    if not isinstance(solver, Solver):
        raise InputError(f"a solver must be a spicenn.solvers.Solver, got {type(solver).__name__}")
    key = str(solver.name).strip().lower()
    if not key or not key.replace("-", "").replace("_", "").isalnum():
        raise InputError(f"a solver's name must be a word, got {solver.name!r}")
    SOLVERS[key] = solver
    return solver


def solver_names() -> list[str]:
    """The registered solvers' names, in registration order (the built-in ones first)."""
    return list(SOLVERS)


def get_solver(name: str | Solver) -> Solver:
    """A solver by name (or the solver itself)."""
    if isinstance(name, Solver):
        return name
    key = str(name).strip().lower()
    if key not in SOLVERS:
        raise InputError(f"unknown engine {name!r}; choose one of: {', '.join(SOLVERS)}")
    return SOLVERS[key]


def _register_builtin() -> None:
    from ..spice.engines import ENGINES

    for name, engine in ENGINES.items():
        register_solver(NgspiceSolver(name, engine.summary))  # type: ignore[attr-defined]
    register_solver(NativeSolver())


_register_builtin()
