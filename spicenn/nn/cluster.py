"""Network evaluation on a Dask cluster: every (backend, chip, block of images) is one task.

A task carries the run's configuration and weights (not a pickled model: the worker builds
the network from them, as `load_run` does) and returns how many of its images it classified
correctly, so the accuracies equal a local evaluation's exactly. Workers need spicenn and
ngspice installed, and any surrogate file of the run at the same path.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..processes import dask_client, run_as_worker
from ..progress import tracked
from .evaluation import correct_predictions
from .run_config import RunConfig


def count_correct(config: dict[str, Any], state: dict[str, Any], x: np.ndarray, y: np.ndarray, backend: str,
                  chip: int | None) -> int:
    """One task: the run's network rebuilt on the worker, its correct predictions on x."""
    from .training import build_model

    model = build_model(RunConfig.from_dict(config))
    model.load_state_dict(state)
    model.eval()
    # SPICE as one batch per tile, as a local evaluation reads it
    return correct_predictions(model, x, y, backend, chip, batch_size=len(y) if backend == "spice" else 500)


def cluster_accuracies(config: RunConfig, state: dict[str, Any], x: np.ndarray, y: np.ndarray,
                       backends: Sequence[str], seeds: Sequence[int | None], scheduler: str,
                       images_per_task: int = 100, progress: bool = False) -> dict[str, list[float]]:
    """Accuracy per backend and chip (as `evaluation.compare_backends`), the work spread over
    the cluster at `scheduler` in tasks of `images_per_task` images."""
    from distributed import as_completed

    blocks = [(start, min(start + images_per_task, len(y))) for start in range(0, len(y), images_per_task)]
    counts = {(backend, index): 0 for backend in backends for index in range(len(seeds))}
    with dask_client(scheduler) as client:
        # the arrays go to the cluster once, not once per task
        config_future, state_future = client.scatter(config.to_dict(), broadcast=True), \
            client.scatter(state, broadcast=True)
        futures = {client.submit(run_as_worker, os.getpid(), count_correct, config_future, state_future,
                                 x[start:stop], y[start:stop], backend, seed, pure=False): (backend, index)
                   for backend in backends for index, seed in enumerate(seeds) for start, stop in blocks}
        done = tracked(as_completed(futures), progress, desc="evaluation tasks", unit="task", total=len(futures))
        for future in done:
            counts[futures[future]] += future.result()
    return {backend: [counts[(backend, index)] / len(y) for index in range(len(seeds))] for backend in backends}
