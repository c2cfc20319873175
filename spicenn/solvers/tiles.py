"""A layer's tiles solved by any solver (ngspice by default): column currents summed over
row tiles, powers over tiles."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..crossbar.config import CrossbarConfig
from ..crossbar.spec import Crossbar
from ..crossbar.tiles import TileGrid
from ..devices import from_dict
from ..progress import progress_bar
from .simulate import simulate

VECTORS_PER_TASK = 50


def _tile_task(device: dict[str, Any], g: np.ndarray, cell: dict[str, np.ndarray], r_word: float, r_bit: float,
               v: np.ndarray, engine: str) -> dict[str, np.ndarray]:
    """One tile for a chunk of vectors (top level: it travels to worker processes)."""
    result = simulate(Crossbar(g, from_dict(device), r_word=r_word, r_bit=r_bit, cell=cell), v, engine=engine)
    return {name: getattr(result, name) for name in result.ARRAYS_SAVED}


def simulate_tiles(hardware: CrossbarConfig, grid: TileGrid, v: np.ndarray, g: np.ndarray,
                   cell: dict[str, np.ndarray], *, workers: int = 1, progress: bool = False,
                   engine: str = "shared") -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Every tile of a layer on `hardware` (its device and wires; padding at its G_off) solved
    by `engine` (a solver name): (currents (B, C), per-vector powers summed over the tiles,
    named as in `SimulationResult`). `v` (B, R) and `g` (R, C) are the whole layer's; `cell`
    holds per-device parameters on the padded grid."""
    device, r_word, r_bit = hardware.device, hardware.r_word, hardware.r_bit
    g_tiles, v_tiles = grid.pad(np.asarray(g, float), np.asarray(v, float), hardware.g_off)
    tile_cell = grid.tile_cells({k: np.asarray(c, float) for k, c in cell.items()})
    batch = v.shape[0]
    tasks = [(r, c, start) for r in range(grid.row_tiles) for c in range(grid.column_tiles)
             for start in range(0, batch, VECTORS_PER_TASK)]

    def arguments(r: int, c: int, start: int) -> tuple[Any, ...]:
        stop = start + VECTORS_PER_TASK
        return (device, np.ascontiguousarray(g_tiles[r, c]), {k: np.ascontiguousarray(x[r, c])
                for k, x in tile_cell.items()}, r_word, r_bit, np.ascontiguousarray(v_tiles[r, start:stop]), engine)

    currents = np.zeros((batch, grid.column_tiles * grid.tile_columns))
    powers: dict[str, np.ndarray] = {}

    def take(task: tuple[int, int, int], out: dict[str, np.ndarray]) -> None:
        _r, c, start = task
        stop = min(batch, start + VECTORS_PER_TASK)
        currents[start:stop, c * grid.tile_columns:(c + 1) * grid.tile_columns] += out["currents"]
        for name, value in out.items():
            if name != "currents":
                powers.setdefault(name, np.zeros(batch))[start:stop] += value

    with progress_bar(progress, total=len(tasks), desc="ngspice tiles", unit="task") as bar:
        if workers <= 1:
            for task in tasks:
                take(task, _tile_task(*arguments(*task)))
                bar.update(1)
        else:
            from concurrent.futures import as_completed

            from ..processes import worker_pool

            with worker_pool(workers) as pool:
                futures = {pool.submit(_tile_task, *arguments(*task)): task for task in tasks}
                for future in as_completed(futures):
                    take(futures[future], future.result())
                    bar.update(1)
    return currents[:, :grid.columns], powers
