"""How a layer's crossbar tiles turn voltages into column currents: interchangeable backends,
one object each in an open registry (`register_backend` adds one; the config names it, the
layer never dispatches on the name).

* `ideal`: V·G.
* `device`: the device I-V model for every cell, no wires (tiling changes nothing).
* `surrogate`: a trained SPICE surrogate for every tile (device nonlinearity and IR drop).
* `circuit`: every tile solved exactly by spicenn's native solver (`spicenn.circuit`), with
  exact gradients by implicit differentiation: training with the circuit in the loop.
* `spice`: every tile solved by ngspice (`spicenn.solvers.tiles`), in worker processes; forward only.

All take voltages (B, R) and conductances (R, C) of the whole layer, plus per-device model
parameters `cell` on the padded tile grid, and return currents (B, C) with the tiles' column
currents summed digitally.

    >>> backend_names()
    ['ideal', 'device', 'surrogate', 'circuit', 'spice']
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any, Protocol

import numpy as np
import torch

from ..crossbar.tiles import TileGrid
from ..devices import Device
from ..errors import InputError

DEVICE_CELLS_PER_CHUNK = 8_000_000  # bounds the (B, R, C) tensor of the device backend
SURROGATE_CELLS_PER_CHUNK = 16_000_000  # likewise for the surrogate's per-cell work
# cells x vectors per chunk of the circuit backend: its solver holds some tens of float64
# arrays of this size; at 2**18 a CNN forward of 8 images ran faster and ~1/30 the memory of one
# unchunked solve (bench_circuit_memory)
CIRCUIT_CELLS_PER_CHUNK = 2**18


def ideal(v: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
    return v @ g


def device_currents(device: Device, v: torch.Tensor, g: torch.Tensor, cell: dict[str, torch.Tensor]) -> torch.Tensor:
    """Σ_i I(V_i, G_ij) over rows: one matmul where the model has exact separable terms
    (`Device.exact_row_terms`), else per device in batch chunks that keep the (B, R, C)
    tensor bounded."""
    terms = device.exact_row_terms(v, g, cell)
    if terms is not None:
        features, weights = terms
        return features @ weights
    chunk = max(1, DEVICE_CELLS_PER_CHUNK // max(1, g.numel()))
    parts = [device.current(v[start:start + chunk, :, None], g, torch, cell).sum(1)
             for start in range(0, v.shape[0], chunk)]
    return parts[0] if len(parts) == 1 else torch.cat(parts)


def device_power(device: Device, v: torch.Tensor, g: torch.Tensor, cell: dict[str, torch.Tensor]) -> torch.Tensor:
    """(B,) Σ_ij V_i·I(V_i, G_ij) (`Device.power`): the devices' power with no wires."""
    terms = device.exact_row_terms(v, g, cell)
    if terms is not None:
        features, weights = terms
        repeats = features.shape[-1] // v.shape[-1]
        return ((features * v.repeat(1, repeats)) @ weights).sum(-1)
    chunk = max(1, DEVICE_CELLS_PER_CHUNK // max(1, g.numel()))
    parts = [device.power(v[start:start + chunk, :, None], g, torch, cell).sum((1, 2))
             for start in range(0, v.shape[0], chunk)]
    return parts[0] if len(parts) == 1 else torch.cat(parts)


def surrogate_currents(model: Callable, grid: TileGrid, v: torch.Tensor, g: torch.Tensor,
                       tile_cell: dict[str, torch.Tensor], g_off: float) -> torch.Tensor:
    """Every tile through the surrogate at once (tiles batched), column currents summed over
    row tiles; in batch chunks that bound the surrogate's (tiles, B, R, C) work tensors.
    A layer smaller than one tile (in rows or columns) costs only its part of the tile."""
    g_tiles, v_tiles = grid.pad(g, v, g_off)
    # the driven rows and read columns common to every tile: all of them, unless one tile spans the layer
    used = (grid.rows if grid.row_tiles == 1 else grid.tile_rows,
            grid.columns if grid.column_tiles == 1 else grid.tile_columns)
    v_tiles = v_tiles[..., : used[0]]
    chunk = max(1, SURROGATE_CELLS_PER_CHUNK // max(1, g_tiles.numel()))
    parts = []
    for start in range(0, v.shape[0], chunk):
        v_chunk = v_tiles[:, None, start:start + chunk].expand(-1, grid.column_tiles, -1, -1)
        currents = model(v_chunk, g_tiles, cell=tile_cell, used=used)  # (row tiles, column tiles, b, used columns)
        parts.append(currents.sum(0).permute(1, 0, 2).reshape(v_chunk.shape[2], -1))
    currents = parts[0] if len(parts) == 1 else torch.cat(parts)
    return currents[:, :grid.columns]


def circuit_tiles(device: Device, grid: TileGrid, v: torch.Tensor, g: torch.Tensor,
                  tile_cell: dict[str, torch.Tensor], g_off: float, r_word: float, r_bit: float) -> torch.Tensor:
    """Every tile's exact currents (differentiable), column currents summed over row tiles;
    all tiles in one batched solve, in batch chunks of at most CIRCUIT_CELLS_PER_CHUNK
    cells x vectors (the solver's working arrays, and so its memory, are bounded whatever
    the batch)."""
    from ..circuit import circuit_currents

    g_tiles, v_tiles = grid.pad(g, v, g_off)  # (R, C, rows, columns), (R, B, rows)
    row_tiles, column_tiles, rows, columns = g_tiles.shape
    cell = {key: value.reshape(-1, rows, columns) for key, value in tile_cell.items()}
    g_all = g_tiles.reshape(-1, rows, columns)
    chunk = max(1, CIRCUIT_CELLS_PER_CHUNK // g_tiles.numel())
    parts = []
    for start in range(0, v.shape[0], chunk):
        v_part = v_tiles[:, start:start + chunk]
        batch = v_part.shape[1]
        # tile (r, c) reads row tile r's inputs
        v_all = v_part[:, None].expand(row_tiles, column_tiles, batch, rows).reshape(-1, batch, rows)
        currents = circuit_currents(v_all, g_all, device, r_word, r_bit, cell)
        per_column_tile = currents.reshape(row_tiles, column_tiles, batch, columns).sum(0)  # (C, b, columns)
        parts.append(per_column_tile.permute(1, 0, 2).reshape(batch, -1)[:, :grid.columns])
    return parts[0] if len(parts) == 1 else torch.cat(parts)


class Layer(Protocol):
    """What a backend reads from the crossbar layer it computes (`CrossbarLinear`)."""

    device_model: Device
    grid: TileGrid
    hardware: Any  # CrossbarConfig
    spice_workers: int
    spice_engine: str
    progress: bool

    def padded_cell(self) -> dict[str, np.ndarray]: ...

    def surrogate_model(self) -> Callable: ...


class Backend(ABC):
    """Column currents (B, C) of a layer for its voltages v (B, R) and conductances g (R, C)."""

    name: str
    summary: str
    differentiable: bool = True

    @abstractmethod
    def currents(self, layer: Layer, v: torch.Tensor, g: torch.Tensor) -> torch.Tensor: ...


def _tile_cell(layer: Layer) -> dict[str, torch.Tensor]:
    return {k: torch.as_tensor(c) for k, c in layer.grid.tile_cells(layer.padded_cell()).items()}


class Ideal(Backend):
    name, summary = "ideal", "V·G"

    def currents(self, layer: Layer, v: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
        return ideal(v, g)


class DeviceModel(Backend):
    name, summary = "device", "the device I-V model for every cell, no wires"

    def currents(self, layer: Layer, v: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
        rows, columns = g.shape
        cell = {k: torch.as_tensor(c[:rows, :columns], dtype=v.dtype) for k, c in layer.padded_cell().items()}
        return device_currents(layer.device_model, v, g, cell)


class Surrogate(Backend):
    name, summary = "surrogate", "a trained SPICE surrogate for every tile"

    def currents(self, layer: Layer, v: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
        return surrogate_currents(layer.surrogate_model(), layer.grid, v, g, _tile_cell(layer), layer.hardware.g_off)


class Circuit(Backend):
    name, summary = "circuit", "every tile solved exactly by the native solver, exact gradients"

    def currents(self, layer: Layer, v: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
        h = layer.hardware
        return circuit_tiles(layer.device_model, layer.grid, v, g, _tile_cell(layer), h.g_off, h.r_word, h.r_bit)


def spice_tiles(layer: Layer, v: torch.Tensor, g: torch.Tensor) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Every tile solved by the layer's solver (ngspice by default): column currents and
    per-vector powers. Only distinct input vectors are simulated (a conv layer's patches
    repeat, e.g. blank ones)."""
    from ..solvers.tiles import simulate_tiles

    v_np, g_np = v.detach().double().numpy(), g.detach().double().numpy()
    distinct, inverse = np.unique(v_np, axis=0, return_inverse=True)
    currents, powers = simulate_tiles(layer.hardware, layer.grid, distinct, g_np, layer.padded_cell(),
                                      workers=layer.spice_workers, progress=layer.progress, engine=layer.spice_engine)
    inverse = inverse.reshape(-1)
    return currents[inverse], {name: value[inverse] for name, value in powers.items()}


class Spice(Backend):
    name, summary = "spice", "every tile solved by ngspice, in worker processes; forward only"
    differentiable = False

    def currents(self, layer: Layer, v: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
        return torch.as_tensor(spice_tiles(layer, v, g)[0], dtype=v.dtype)


BACKENDS: dict[str, Backend] = {}


def register_backend(backend: Backend) -> Backend:
    """Make `backend` available by its name to every layer, network, command and config."""
    if not isinstance(backend, Backend):
        raise InputError(f"a backend must be a spicenn.nn.backends.Backend, got {type(backend).__name__}")
    BACKENDS[str(backend.name)] = backend
    return backend


def backend_names() -> list[str]:
    """The registered backends' names, built-in ones first."""
    return list(BACKENDS)


def get_backend(name: str) -> Backend:
    """The backend registered under `name`, or one clear error listing them."""
    if name not in BACKENDS:
        raise InputError(f"unknown backend {name!r}; choose one of: {', '.join(BACKENDS)}")
    return BACKENDS[name]


def check_backend(name: str) -> str:
    """`name` if a backend has it, else one clear error."""
    return get_backend(name).name


for _backend in (Ideal(), DeviceModel(), Surrogate(), Circuit(), Spice()):
    register_backend(_backend)
