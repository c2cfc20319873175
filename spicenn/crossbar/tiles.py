"""A layer's conductance matrix cut into fixed-size tiles, the last ones padded."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..arrays import namespace


@dataclass(frozen=True)
class TileGrid:
    """A layer of `rows` x `columns` devices cut into tiles of `tile_rows` x `tile_columns`;
    unused devices of the last tiles sit at G_off on rows driven at 0 V."""

    rows: int
    columns: int
    tile_rows: int
    tile_columns: int

    @classmethod
    def of(cls, rows: int, columns: int, tile_rows: int | None, tile_columns: int | None) -> TileGrid:
        """A grid of the given tile size (None: one tile spans the whole dimension)."""
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

    def pad(self, g: Any, v: Any, g_off: float) -> tuple[Any, Any]:
        """(tiles_r, tiles_c, tile_rows, tile_columns) conductances, (tiles_r, B, tile_rows)
        voltages, numpy or torch as given: unused devices at G_off, unused rows at 0 V."""
        pr, pc = self.padded_shape
        xp = namespace(g, v)
        if xp is np:
            g = np.pad(g, ((0, pr - self.rows), (0, pc - self.columns)), constant_values=g_off)
            v = np.pad(v, ((0, 0), (0, pr - self.rows)))
        else:
            g = xp.nn.functional.pad(g, (0, pc - self.columns, 0, pr - self.rows), value=g_off)
            v = xp.nn.functional.pad(v, (0, pr - self.rows))
        g = g.reshape(self.row_tiles, self.tile_rows, self.column_tiles, self.tile_columns).swapaxes(1, 2)
        v = v.reshape(v.shape[0], self.row_tiles, self.tile_rows).swapaxes(0, 1)
        return g, v

    def tile_cells(self, cell: dict[str, Any]) -> dict[str, Any]:
        """Per-device parameters on the padded grid -> per tile, like `pad`'s conductances."""
        return {key: value.reshape(self.row_tiles, self.tile_rows, self.column_tiles, self.tile_columns)
                .swapaxes(1, 2) for key, value in cell.items()}
