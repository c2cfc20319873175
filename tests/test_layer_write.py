"""A layer's write through its tiles (`spicenn.circuit.layer_write`): the layer-wide
stochastic-coincidence program sliced per tile, each tile written by the native engine with
its own wires. Without wires tiling changes nothing (every cell sees its drivers'
difference), which an independent per-cell ODE integration confirms; with wires each tile
is the engine's write of that tile alone, and longer lines lose more."""

from __future__ import annotations

import numpy as np
import pytest

from spicenn.circuit.layer_write import write_layer
from spicenn.circuit.write import write_native
from spicenn.crossbar.program import DynamicCrossbar, WriteProgram, stochastic_update
from spicenn.devices.dynamic import VTEAM, integrate
from spicenn.errors import InputError


def _program(rows: int, columns: int, bits: int = 4) -> WriteProgram:
    rng = np.random.default_rng(3)
    x = rng.uniform(0.2, 1.0, rows)
    delta = rng.uniform(-1.0, 1.0, columns)
    return stochastic_update(x, delta, 1.2, 20e-9, bits=bits, seed=5)


def _cell_ode(device: VTEAM, program: WriteProgram, i: int, j: int, x: float, substeps: int = 100) -> float:
    """Cell (i, j) under its drivers' difference, ramps included, integrated on its own."""
    before = 0.0
    for slot in range(program.slots):
        level = float(program.row_voltages[slot, i] - program.column_voltages[slot, j])
        for k in range(substeps):  # the ramp from the slot before, t_edge long
            v = before + (level - before) * (k + 0.5) / substeps
            x = integrate(device, v, program.t_edge / substeps, x)
        x = integrate(device, level, float(program.durations[slot]), x)
        before = level
    return x


def test_without_wires_tiles_change_nothing_and_cells_follow_their_own_ode():
    device = VTEAM()
    states = np.random.default_rng(0).uniform(0.2, 0.8, (5, 6))
    program = _program(5, 6)
    tiled = write_layer(states, device, program, tile_rows=2, tile_columns=4)
    whole = write_layer(states, device, program)
    assert tiled.tiles_written == 6 and whole.tiles_written == 1
    np.testing.assert_allclose(tiled.states, whole.states, atol=1e-9)
    assert tiled.energy["drivers"] == pytest.approx(whole.energy["drivers"], rel=1e-6)  # Σ V·I over cells
    moved = np.argwhere(np.abs(tiled.states - states) > 1e-3)
    assert len(moved) >= 5
    for i, j in moved[:3]:
        assert tiled.states[i, j] == pytest.approx(_cell_ode(device, program, i, j, states[i, j]), abs=1e-5)


def test_with_wires_each_tile_is_its_own_array_and_longer_lines_lose_more():
    device = VTEAM()
    states = np.full((8, 8), 0.5)
    program = _program(8, 8, bits=3)
    tiled = write_layer(states, device, program, tile_rows=4, tile_columns=4, r_word=5.0, r_bit=5.0)
    corner = write_native(DynamicCrossbar(states[4:, 4:], device, 5.0, 5.0),
                          WriteProgram(program.row_voltages[:, 4:], program.column_voltages[:, 4:],
                                       program.durations, program.t_edge))
    np.testing.assert_allclose(tiled.states[4:, 4:], corner.final_states, atol=1e-12)
    whole = write_layer(states, device, program, r_word=5.0, r_bit=5.0)
    ideal = write_layer(states, device, program)
    far = (slice(4, 8), slice(4, 8))  # the far quarter: 8 segments of line on one tile, 4 on four
    lost_whole = np.abs(ideal.states[far] - states[far]).sum() - np.abs(whole.states[far] - states[far]).sum()
    lost_tiled = np.abs(ideal.states[far] - states[far]).sum() - np.abs(tiled.states[far] - states[far]).sum()
    assert lost_whole > lost_tiled > 0
    assert tiled.energy["wires"] > 0 and abs(ideal.energy["wires"]) < 1e-12 * ideal.energy["drivers"]


def test_idle_tiles_are_not_written_and_bad_states_are_refused():
    program = stochastic_update(np.array([1.0, 0.0, 0.0, 0.0]), np.array([0.5, 0.0, 0.0, 0.0]), 1.2, 20e-9, bits=2)
    result = write_layer(np.full((4, 4), 0.5), "vteam", program, tile_rows=2, tile_columns=2)
    assert result.tiles_written < 4  # the tile of rows 2-3 and columns 2-3 never leaves 0 V
    with pytest.raises(InputError, match="states must lie"):
        write_layer(np.full((4, 4), 1.5), "vteam", program)
    with pytest.raises(InputError, match="drives"):
        write_layer(np.full((3, 4), 0.5), "vteam", program)
