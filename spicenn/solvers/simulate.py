"""`simulate`: the front door for every solver, with verification against ngspice and a
fallback to it."""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

import numpy as np

from ..checks import affordable
from ..crossbar.results import SimulationResult
from ..crossbar.spec import Crossbar
from ..errors import ConvergenceError, InputError, SpiceError
from .registry import Solver, get_solver

if TYPE_CHECKING:
    from ..netlist.writer import SolverOptions
    from ..spice.engines import Engine

# the native solver's answer against ngspice's refined one (both ~1e-11 from exact)
VERIFY_TOLERANCE = 1e-9
REFERENCE = "shared"  # the ngspice engine that verification and fallback use


def simulate(crossbar: Crossbar, voltages: Any, engine: str | Solver | Engine = "shared",
             options: SolverOptions | None = None, chunk: int | None = None,
             progress: bool = False, verify: int = 0, fallback: str | None = None) -> SimulationResult:
    """Solve the crossbar for each input vector (rows of `voltages`, (B, M) or (M,)).

    Returns output currents (B, N) and the power drawn and dissipated per vector.
    `engine`: a solver's name (`solver_names()`: ngspice's "shared" and "subprocess", the
    native solver "native", and any registered one), a `Solver`, or an ngspice engine object.
    ngspice runs a batch as one DC sweep per chunk of `chunk` vectors (default: what fits in
    memory). `verify=k` also solves the first k vectors in ngspice and raises `SpiceError`
    if any output current or power differs by more than 1e-9 relative; `fallback="ngspice"`
    solves the batch in ngspice (with a warning) if the solver does not converge, instead of
    raising `ConvergenceError`.
    """
    v = crossbar.check_voltages(voltages)
    rows, columns = crossbar.shape
    # the result keeps both terminals' voltages of every cell: (B, M, N) twice, plus working arrays
    affordable(f"simulating {v.shape[0]:,} vectors on a {rows}x{columns} crossbar",
               3 * 8.0 * v.shape[0] * rows * columns)
    if fallback not in (None, "ngspice"):
        raise InputError(f"fallback must be 'ngspice' or None, got {fallback!r}")
    if isinstance(verify, bool) or not isinstance(verify, int) or verify < 0:
        raise InputError(f"verify must be a whole number of vectors >= 0, got {verify!r}")
    if not isinstance(engine, (str, Solver)):  # an ngspice engine object
        from ..spice.simulate import simulate_ngspice

        return simulate_ngspice(crossbar, v, engine, options, chunk, progress)
    solver = get_solver(engine)
    try:
        result = solver.solve(crossbar, v, options, chunk, progress)
    except ConvergenceError as error:
        if fallback is None or solver.runs_netlists:
            raise
        warnings.warn(f"{error}; solved by ngspice instead", stacklevel=2)
        return get_solver(REFERENCE).solve(crossbar, v, options, chunk, progress)
    if verify and not solver.runs_netlists:
        check_against_ngspice(crossbar, v[:verify], result)
    return result


def check_against_ngspice(crossbar: Crossbar, v: np.ndarray, result: SimulationResult) -> None:
    """Raise SpiceError unless ngspice gives the same currents and powers for vectors `v`
    (the first len(v) of `result`), to VERIFY_TOLERANCE relative to each quantity's scale."""
    reference = get_solver(REFERENCE).solve(crossbar, v)
    for name in SimulationResult.ARRAYS_SAVED:
        ours, theirs = getattr(result, name)[: len(v)], getattr(reference, name)
        scale = float(np.max(np.abs(theirs))) or 1.0
        worst = float(np.max(np.abs(ours - theirs))) / scale
        if worst > VERIFY_TOLERANCE:
            raise SpiceError(f"the solver and ngspice differ: {name} by {worst:.2e} relative "
                             f"(tolerance {VERIFY_TOLERANCE:g}) on the {len(v)} verified vector(s)")
