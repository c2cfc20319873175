"""A crossbar solved by ngspice for a batch of input vectors (DC sweeps, with retries)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import numpy as np

from ..crossbar.graph import Topology, crossbar_topology
from ..crossbar.results import SimulationResult, extract
from ..crossbar.spec import Crossbar
from ..devices import Linear
from ..errors import ConvergenceError, SpiceError
from ..netlist.writer import SolverOptions, netlist_text
from ..progress import tracked
from .engines import Engine, get_engine

# Values ngspice keeps per sweep (node voltages x points) before a batch is split into chunks.
MAX_VALUES_PER_RUN = 8_000_000
# Vectors per DC sweep: each sweep point evaluates every driver's PWL table, so a sweep's time
# grows with the square of its length (a 4x4 tile: 8,000 vectors in one sweep 1.2 s, in sweeps
# of 1,000 0.6 s; 200,000 in one sweep crashed ngspice after 40 s). Sweeps of this length keep
# it linear and bounded.
MAX_VECTORS_PER_SWEEP = 1000


def default_chunk(topo: Topology, batch: int) -> int:
    """Vectors per ngspice run: what fits in memory, at most MAX_VECTORS_PER_SWEEP."""
    by_memory = MAX_VALUES_PER_RUN // (topo.node_count + topo.rows + topo.columns)
    return max(1, min(batch, by_memory, MAX_VECTORS_PER_SWEEP))


Solved = tuple[np.ndarray, np.ndarray, np.ndarray]  # node voltages, driver currents, sense currents


def _collect(vectors: dict[str, np.ndarray], topo: Topology, batch: int, driver_prefix: str) -> Solved:
    try:
        node_voltages = np.stack([vectors[name] for name in topo.node_names], axis=1)
        drivers = np.stack([vectors[f"{driver_prefix}{i}#branch"] for i in range(topo.rows)], axis=1)
        sense = np.stack([vectors[f"vs{j}#branch"] for j in range(topo.columns)], axis=1)
    except KeyError as missing:
        raise SpiceError(f"ngspice returned no vector {missing}") from None
    if node_voltages.shape[0] != batch:
        raise SpiceError(f"ngspice solved {node_voltages.shape[0]} of {batch} input vectors")
    for array in (node_voltages, drivers, sense):
        if not np.all(np.isfinite(array)):
            raise SpiceError("ngspice returned non-finite values")
    return node_voltages, drivers, sense


def _solve(crossbar: Crossbar, topo: Topology, v: np.ndarray, engine: Engine, options: SolverOptions) -> Solved:
    # In a DC sweep ngspice accepts a point once a Newton step is below reltol, which leaves
    # nonlinear circuits ~1e-9 from the exact solution. Visiting every vector twice costs ~2
    # more iterations and polishes the second visit to ~1e-11 (a single .op already is).
    refine = options.refine and v.shape[0] > 1 and not isinstance(crossbar.device, Linear)
    run = np.repeat(v, 2, axis=0) if refine else v
    vectors = engine.run(netlist_text(crossbar, run, options), accounting=options.accounting)
    arrays = _collect(vectors, topo, run.shape[0], "vd" if run.shape[0] == 1 else "bd")
    if refine:
        node_voltages, drivers, sense = arrays
        return node_voltages[1::2], drivers[1::2], sense[1::2]
    return arrays


def _solve_with_retries(crossbar: Crossbar, topo: Topology, v: np.ndarray, engine: Engine, options: SolverOptions,
                        first_index: int) -> Solved:
    """A failed batch is re-solved vector by vector with gmin stepping, then source stepping."""
    try:
        return _solve(crossbar, topo, v, engine, options)
    except SpiceError as batch_error:
        if v.shape[0] == 1 and options.gmin_stepping and options.source_stepping:
            raise
        parts = []
        for k in range(v.shape[0]):
            last: SpiceError = batch_error
            for retry in (dataclasses.replace(options, gmin_stepping=True),
                          dataclasses.replace(options, gmin_stepping=True, source_stepping=True)):
                try:
                    parts.append(_solve(crossbar, topo, v[k:k + 1], engine, retry))
                    break
                except SpiceError as error:
                    last = error
            else:
                raise ConvergenceError(f"input vector {first_index + k} did not converge, even with gmin and "
                                       f"source stepping ({last})") from None
        node_voltages, drivers, sense = (np.concatenate(arrays) for arrays in zip(*parts))
        return node_voltages, drivers, sense


def iterate_chunks(batch: int, chunk: int) -> Iterator[slice]:
    for start in range(0, batch, chunk):
        yield slice(start, min(batch, start + chunk))


def simulate_ngspice(crossbar: Crossbar, v: np.ndarray, engine: str | Engine = "shared",
                     options: SolverOptions | None = None, chunk: int | None = None,
                     progress: bool = False) -> SimulationResult:
    """Solve the crossbar in ngspice for each checked input vector (rows of `v`, (B, M)).

    A batch runs as one ngspice DC sweep per chunk of `chunk` vectors (default: what fits
    in memory). The front door for every solver is `spicenn.solvers.simulate`."""
    engine = get_engine(engine)
    if options is None:
        options = SolverOptions(klu=engine.klu)
    elif options.klu and not engine.klu:
        options = dataclasses.replace(options, klu=False)
    topo = crossbar_topology(crossbar)
    chunk = chunk or default_chunk(topo, v.shape[0])
    slices = list(iterate_chunks(v.shape[0], chunk))
    parts = []
    for part in tracked(slices, progress and len(slices) > 1, desc="ngspice", unit="chunk"):
        node_voltages, drivers, sense = _solve_with_retries(crossbar, topo, v[part], engine, options, part.start)
        parts.append(extract(crossbar, topo, v[part], node_voltages, drivers, sense))
    return parts[0] if len(parts) == 1 else SimulationResult.concatenate(parts)
