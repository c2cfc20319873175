"""A layer's write through its tiles (the first step of on-chip learning with updates from the
circuit).

A layer's devices (R, C) sit on tiles of `tile_rows` x `tile_columns`, each with its own
drivers and wires, as in hardware. A layer-wide program — the row and column driver
voltages of the whole matrix in every slot, e.g. the stochastic-coincidence update of the
layer's x and δ (`spicenn.crossbar.program.stochastic_update`), whose bit streams every tile
of a row or column shares — is sliced per tile, and every tile is written by the native
write engine (`write_native`): exact, with the IR drop of its own wires and its half-selected
cells. Returns the layer's states after the program and the write energy by part, summed
over the tiles.

    result = write_layer(states, "vteam", stochastic_update(x, -delta, 1.2, 10e-9, bits=31),
                         tile_rows=64, tile_columns=64, r_word=1.0, r_bit=1.0)
    result.states, result.energy["drivers"]
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..checks import finite_array, whole_number
from ..crossbar.program import ENERGY_PARTS, DynamicCrossbar, WriteProgram
from ..errors import InputError
from .write import write_native


@dataclass
class LayerWrite:
    """The layer's states after a program (R, C), the energy by part summed over its tiles (J),
    and how many tiles were written (a tile whose drivers all stay at 0 V is not)."""

    states: np.ndarray
    energy: dict[str, float]
    tiles_written: int


def write_layer(states: Any, device: Any, program: WriteProgram, tile_rows: int | None = None,
                tile_columns: int | None = None, r_word: float = 0.0, r_bit: float = 0.0,
                v_read: float = 0.1, **engine: Any) -> LayerWrite:
    """Write `program` (its drivers span the whole layer: (S, R) rows, (S, C) columns) into the
    layer's `states` (R, C) in [0, 1] of `device` (a dynamic device or its name), tile by
    tile (None: one tile), each tile with its own wires; `engine` options go to
    `write_native` (tolerances)."""
    states = finite_array("states", states, 2)
    rows, columns = states.shape
    program.check_fits((rows, columns))
    tile_rows = rows if tile_rows is None else whole_number("tile_rows", tile_rows, 1)
    tile_columns = columns if tile_columns is None else whole_number("tile_columns", tile_columns, 1)
    if states.min() < 0 or states.max() > 1:
        raise InputError(f"states must lie in [0, 1], got [{states.min():g}, {states.max():g}]")
    out = states.copy()
    energy = dict.fromkeys(ENERGY_PARTS, 0.0)
    written = 0
    for r0 in range(0, rows, tile_rows):
        for c0 in range(0, columns, tile_columns):
            r1, c1 = min(rows, r0 + tile_rows), min(columns, c0 + tile_columns)
            row_voltages = program.row_voltages[:, r0:r1]
            column_voltages = program.column_voltages[:, c0:c1]
            if not (row_voltages.any() or column_voltages.any()):
                continue  # its drivers never leave 0 V: nothing moves, nothing is spent
            tile_program = WriteProgram(row_voltages, column_voltages, program.durations, program.t_edge)
            array = DynamicCrossbar(states[r0:r1, c0:c1], device, r_word, r_bit)
            result = write_native(array, tile_program, v_read=v_read, **engine)
            out[r0:r1, c0:c1] = result.final_states
            for part, value in result.energy.items():
                energy[part] += value
            written += 1
    return LayerWrite(out, energy, written)
