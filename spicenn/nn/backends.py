"""How a layer's crossbar tiles turn voltages into column currents: four interchangeable backends.

* `ideal`: V·G.
* `device`: the device I-V model for every cell, no wires (tiling changes nothing).
* `surrogate`: a trained SPICE surrogate for every tile (device nonlinearity and IR drop).
* `spice`: every tile solved by ngspice, in worker processes; forward only.

All take voltages (B, R) and conductances (R, C) of the whole layer, plus per-device model
parameters `cell` on the padded tile grid, and return currents (B, C) with the tiles' column
currents summed digitally.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import torch

from ..devices import Device
from ..errors import InputError

BACKENDS = ("ideal", "device", "surrogate", "spice")
SPICE_VECTORS_PER_TASK = 50
DEVICE_CELLS_PER_CHUNK = 8_000_000  # bounds the (B, R, C) tensor of the device backend


@dataclass(frozen=True)
class TileGrid:
    """A layer of `rows` x `columns` devices cut into tiles, the last ones padded."""

    rows: int
    columns: int
    tile_rows: int
    tile_columns: int

    @classmethod
    def of(cls, rows: int, columns: int, tile_rows: int | None, tile_columns: int | None) -> "TileGrid":
        return cls(rows, columns, tile_rows or rows, tile_columns or columns)

    @property
    def row_tiles(self) -> int:
        return -(-self.rows // self.tile_rows)

    @property
    def column_tiles(self) -> int:
        return -(-self.columns // self.tile_columns)

    @property
    def padded_shape(self) -> tuple[int, int]:
        return self.row_tiles * self.tile_rows, self.column_tiles * self.tile_columns

    @property
    def tiles(self) -> int:
        return self.row_tiles * self.column_tiles

    def pad(self, g: Any, v: Any, g_off: float, xp: Any = torch) -> tuple[Any, Any]:
        """(tiles_r, tiles_c, tile_rows, tile_columns) conductances, (tiles_r, B, tile_rows) voltages:
        unused devices at G_off, unused rows at 0 V."""
        pr, pc = self.padded_shape
        if xp is torch:
            g = torch.nn.functional.pad(g, (0, pc - self.columns, 0, pr - self.rows), value=g_off)
            v = torch.nn.functional.pad(v, (0, pr - self.rows))
        else:
            g = np.pad(g, ((0, pr - self.rows), (0, pc - self.columns)), constant_values=g_off)
            v = np.pad(v, ((0, 0), (0, pr - self.rows)))
        g = g.reshape(self.row_tiles, self.tile_rows, self.column_tiles, self.tile_columns)
        g = g.permute(0, 2, 1, 3) if xp is torch else g.transpose(0, 2, 1, 3)
        v = v.reshape(v.shape[0], self.row_tiles, self.tile_rows)
        v = v.permute(1, 0, 2) if xp is torch else v.transpose(1, 0, 2)
        return g, v

    def tile_cells(self, cell: dict[str, Any]) -> dict[str, Any]:
        """Per-device parameters on the padded grid -> per tile, like `pad`'s conductances."""
        return {key: value.reshape(self.row_tiles, self.tile_rows, self.column_tiles, self.tile_columns)
                .transpose(0, 2, 1, 3) for key, value in cell.items()}


def ideal(v: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
    return v @ g


def device_currents(device: Device, v: torch.Tensor, g: torch.Tensor, cell: dict[str, torch.Tensor]) -> torch.Tensor:
    """Σ_i I(V_i, G_ij) over rows, in batch chunks that keep the (B, R, C) tensor bounded."""
    chunk = max(1, DEVICE_CELLS_PER_CHUNK // max(1, g.numel()))
    parts = [device.current(v[start:start + chunk, :, None], g, torch, cell).sum(1)
             for start in range(0, v.shape[0], chunk)]
    return parts[0] if len(parts) == 1 else torch.cat(parts)


def device_power(device: Device, v: torch.Tensor, g: torch.Tensor, cell: dict[str, torch.Tensor]) -> torch.Tensor:
    """(B,) Σ_ij |V_i|·|I(V_i, G_ij)|: the devices' Joule power with no wires."""
    chunk = max(1, DEVICE_CELLS_PER_CHUNK // max(1, g.numel()))
    parts = [(v[start:start + chunk, :, None].abs() * device.current(v[start:start + chunk, :, None], g, torch, cell)
              .abs()).sum((1, 2)) for start in range(0, v.shape[0], chunk)]
    return parts[0] if len(parts) == 1 else torch.cat(parts)


def surrogate_currents(model: Callable, grid: TileGrid, v: torch.Tensor, g: torch.Tensor,
                       tile_cell: dict[str, torch.Tensor], g_off: float) -> torch.Tensor:
    """Every tile through the surrogate at once (tiles batched), column currents summed over row tiles."""
    g_tiles, v_tiles = grid.pad(g, v, g_off)
    v_tiles = v_tiles[:, None].expand(-1, grid.column_tiles, -1, -1)
    currents = model(v_tiles, g_tiles, cell=tile_cell)  # (row tiles, column tiles, B, tile columns)
    currents = currents.sum(0).permute(1, 0, 2).reshape(v.shape[0], -1)
    return currents[:, :grid.columns]


def _spice_task(device: dict, g: np.ndarray, cell: dict[str, np.ndarray], r_word: float, r_bit: float,
                v: np.ndarray, engine: str) -> dict[str, np.ndarray]:
    """One tile for a chunk of vectors (top level: it travels to worker processes)."""
    from ..crossbar import Crossbar
    from ..devices import from_dict
    from ..spice import simulate

    result = simulate(Crossbar(g, from_dict(device), r_word=r_word, r_bit=r_bit, cell=cell), v, engine=engine)
    return {name: getattr(result, name) for name in result.ARRAYS_SAVED}


def spice_tiles(device: Device, grid: TileGrid, v: np.ndarray, g: np.ndarray, cell: dict[str, np.ndarray],
                g_off: float, r_word: float, r_bit: float, workers: int = 1, progress: bool = False,
                engine: str = "shared") -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Every tile solved by ngspice: (currents (B, C), per-vector powers summed over tiles)."""
    g_tiles, v_tiles = grid.pad(np.asarray(g, float), np.asarray(v, float), g_off, xp=np)
    tile_cell = grid.tile_cells({k: np.asarray(c, float) for k, c in cell.items()})
    batch = v.shape[0]
    tasks = [(r, c, start) for r in range(grid.row_tiles) for c in range(grid.column_tiles)
             for start in range(0, batch, SPICE_VECTORS_PER_TASK)]

    def arguments(r: int, c: int, start: int) -> tuple:
        stop = start + SPICE_VECTORS_PER_TASK
        return (device.to_dict(), np.ascontiguousarray(g_tiles[r, c]), {k: np.ascontiguousarray(x[r, c])
                for k, x in tile_cell.items()}, r_word, r_bit, np.ascontiguousarray(v_tiles[r, start:stop]), engine)

    currents = np.zeros((batch, grid.column_tiles * grid.tile_columns))
    powers: dict[str, np.ndarray] = {}
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=len(tasks) * 1, desc="ngspice tiles", unit="task")

    def take(task: tuple, out: dict[str, np.ndarray]) -> None:
        r, c, start = task
        stop = min(batch, start + SPICE_VECTORS_PER_TASK)
        currents[start:stop, c * grid.tile_columns:(c + 1) * grid.tile_columns] += out["currents"]
        for name, value in out.items():
            if name != "currents":
                powers.setdefault(name, np.zeros(batch))[start:stop] += value
        if bar is not None:
            bar.update(1)

    try:
        if workers <= 1:
            for task in tasks:
                take(task, _spice_task(*arguments(*task)))
        else:
            from concurrent.futures import ProcessPoolExecutor, as_completed
            from multiprocessing import get_context

            # spawn: each worker loads its own ngspice (the shared library keeps global state)
            with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn")) as pool:
                futures = {pool.submit(_spice_task, *arguments(*task)): task for task in tasks}
                for future in as_completed(futures):
                    take(futures[future], future.result())
    finally:
        if bar is not None:
            bar.close()
    return currents[:, :grid.columns], powers


def check_backend(name: str) -> str:
    if name not in BACKENDS:
        raise InputError(f"unknown backend {name!r}; choose one of: {', '.join(BACKENDS)}")
    return name
