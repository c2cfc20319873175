"""A whole network's energy efficiency: each layer's tiles solved in ngspice on real inputs.

This is the one network-energy path. A layer is described by what a chip holds
(`ProgrammedLayer`: its conductances, the scale that reads them back, its tile grid and
per-device parameters); a weight file (`load_layers` + `programmed_layers`) and a trained
crossbar network (`spicenn.nn`) both become such layers, so the same tiles give the same
figure. Per layer: every tile is solved by ngspice (devices, word and bit lines), the array
energy is the DC read of those tiles, the peripherals are those of every tile (each tile
has its own DACs, ADCs and TIAs, padding included, as a fixed-size tile has them), and
ops = `mvm_ops(weights + bias rows, outputs)`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..activations import activation as activation_function
from ..checks import finite_array
from ..crossbar.config import CrossbarConfig
from ..crossbar.mapping import DifferentialMapping, input_voltages, pair_outputs
from ..crossbar.tiles import TileGrid
from ..errors import InputError
from ..io import check_input_file, load_arrays
from ..solvers.tiles import simulate_tiles
from .report import EnergyReport, NetworkEnergy, combine, dc_array_energy, mvm_ops, tile_peripherals, total_report


@dataclass
class Layer:
    """One fully connected layer of a weight file: weights (inputs, outputs), biases or None."""

    weights: np.ndarray  # (inputs, outputs)
    biases: np.ndarray | None


@dataclass
class ProgrammedLayer:
    """One layer as a chip holds it.

    conductances (inputs [+1], 2·outputs) S, G+ and G- interleaved (`crossbar.mapping`);
    k_g siemens per unit weight; grid the tiles it runs on; cell per-device model parameters
    on the padded grid (empty: the device model's own draw for that grid, as a `Crossbar`
    of the device would take).
    """

    conductances: np.ndarray
    k_g: float
    grid: TileGrid
    g_off: float
    bias: bool = True
    cell: dict[str, np.ndarray] = field(default_factory=dict)
    # weights the layer holds where fewer than its rows x outputs (groups packed block-diagonally:
    # the idle cells at G_off compute nothing)
    weights_used: int | None = None

    @property
    def outputs(self) -> int:
        return self.conductances.shape[1] // 2

    @property
    def ops(self) -> int:
        """Operations of one MVM: a multiply and an add per weight (bias row included)."""
        if self.weights_used is not None:
            return 2 * self.weights_used
        return mvm_ops(self.conductances.shape[0], self.outputs)


def _checked_layers(path: Path, arrays: dict[str, np.ndarray]) -> list[Layer]:
    """W0, b0, W1, … as layers: no gap, no stray or unknown array, shapes that chain, finite."""
    names = {}
    for name in arrays:
        match = re.fullmatch(r"([Wb])(\d+)", name)
        if match is None:
            raise InputError(f"network file {path}: unknown array {name!r} (expected W0, b0, W1, b1, …)")
        names[name] = (match.group(1), int(match.group(2)))
    count = sum(1 for kind, _ in names.values() if kind == "W")
    if count == 0:
        raise InputError(f"network file {path} has no W0 array (expected W0, b0, W1, b1, …)")
    for name, (_kind, index) in names.items():
        if index >= count:
            missing = next(f"W{k}" for k in range(count + 1) if f"W{k}" not in arrays)
            raise InputError(f"network file {path} has {name} but no {missing}: a layer is missing")
    layers: list[Layer] = []
    for index in range(count):
        weights, biases = arrays[f"W{index}"], arrays.get(f"b{index}")
        if weights.ndim != 2 or 0 in weights.shape:
            raise InputError(f"network file {path}: W{index} must be a non-empty (inputs, outputs) matrix, "
                             f"got shape {weights.shape}")
        if biases is not None and biases.shape != (weights.shape[1],):
            raise InputError(f"network file {path}: b{index} must have shape ({weights.shape[1]},), "
                             f"got {biases.shape}")
        if layers and layers[-1].weights.shape[1] != weights.shape[0]:
            raise InputError(f"network file {path}: W{index - 1} has {layers[-1].weights.shape[1]} outputs but "
                             f"W{index} takes {weights.shape[0]} inputs")
        for name, values in ((f"W{index}", weights), (f"b{index}", biases)):
            if values is not None and not np.all(np.isfinite(values)):
                raise InputError(f"network file {path}: {name} holds NaN or inf")
        layers.append(Layer(np.asarray(weights, float), None if biases is None else np.asarray(biases, float)))
    return layers


def load_layers(path: str | Path) -> list[Layer]:
    """Layers from an .npz (`W0`, `b0`, `W1`, … with W as (inputs, outputs)) or a torch
    state_dict file (`*.weight` (outputs, inputs) and `*.bias`, in order)."""
    path = check_input_file(path, "network")
    if path.suffix == ".npz":
        return _checked_layers(path, load_arrays(path, "network"))
    try:
        import torch

        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises many types for a bad file
        raise InputError(f"network file {path} is neither an .npz nor a torch state_dict "
                         f"({type(error).__name__})") from None
    if not isinstance(state, dict):
        raise InputError(f"network file {path} does not hold a state_dict")
    arrays: dict[str, np.ndarray] = {}
    for key, value in state.items():
        if key.endswith("weight") and getattr(value, "ndim", 0) == 2:
            if value.is_complex() or not value.dtype.is_floating_point:
                raise InputError(f"network file {path}: {key} holds {value.dtype} values, not real numbers")
            index = sum(1 for name in arrays if name.startswith("W"))
            arrays[f"W{index}"] = value.detach().double().numpy().T.copy()
            bias = state.get(key[: -len("weight")] + "bias")
            if bias is not None:
                arrays[f"b{index}"] = bias.detach().double().numpy().copy()
    if not arrays:
        raise InputError(f"network file {path} has no 2-D '*.weight' tensors")
    return _checked_layers(path, arrays)


def programmed_layers(layers: list[Layer], g_off: float, g_on: float, tile_rows: int | None = None,
                      tile_columns: int | None = None) -> list[ProgrammedLayer]:
    """Signed weight layers on differential pairs (largest |w| at G_on, per layer), cut into
    tiles of `tile_rows` x `tile_columns` (None: one tile spans the layer)."""
    programmed = []
    for layer in layers:
        mapping = DifferentialMapping.fit(layer.weights, g_off, g_on, biases=layer.biases)
        g = mapping.conductances(layer.weights, layer.biases)
        grid = TileGrid.of(g.shape[0], g.shape[1], tile_rows, tile_columns)
        programmed.append(ProgrammedLayer(g, mapping.k_g, grid, g_off,
                                          bias=layer.biases is not None))
    return programmed


def layer_energy(layer: ProgrammedLayer, voltages: np.ndarray, hardware: CrossbarConfig, *, engine: str = "shared",
                 workers: int = 1, progress: bool = False, mvms: int = 1,
                 label: str = "layer") -> tuple[np.ndarray, EnergyReport]:
    """One layer's tiles on `hardware` (device, wires, peripherals) solved on `voltages`
    (B, rows): its column currents (B, columns) and its report per inference, `mvms` MVMs of
    the mean vector's energy (a convolution performs one per output position), every tile's
    DACs, ADCs and TIAs included. Only distinct vectors are solved (a convolution's patches
    repeat)."""
    if not np.isclose(layer.g_off, hardware.g_off, rtol=1e-12, atol=0.0):
        raise InputError(f"{label} was programmed with G_off = {layer.g_off:g} S, the hardware has "
                         f"{hardware.g_off:g} S")
    peripherals = hardware.energy_peripherals()
    cell = layer.cell or hardware.device_model().cell_parameters(layer.grid.padded_shape)
    distinct, inverse = np.unique(np.asarray(voltages, float), axis=0, return_inverse=True)
    inverse = inverse.reshape(-1)
    currents, powers = simulate_tiles(hardware, layer.grid, distinct, layer.conductances, cell, workers=workers,
                                      progress=progress, engine=engine)
    currents, powers = currents[inverse], {name: value[inverse] for name, value in powers.items()}
    energy = combine(dc_array_energy(powers, peripherals), tile_peripherals(peripherals, layer.grid))
    energy = {part: value * mvms for part, value in energy.items()}
    return currents, EnergyReport(layer.ops * mvms, energy, peripherals, label=label, mvms=mvms)


def network_energy(layers: list[ProgrammedLayer], inputs: Any, hardware: CrossbarConfig | None = None,
                   activation: str = "sigmoid", engine: str = "shared", workers: int = 1,
                   progress: bool = False) -> NetworkEnergy:
    """Per-layer reports and the network's total, per inference averaged over `inputs`
    (B, inputs), for a chain of fully connected layers on `hardware` (its device, input
    scale k_V, wires and peripherals; default: `CrossbarConfig()`). Each layer's outputs
    (from the circuit) pass through `activation` to the next layer."""
    hardware = hardware or CrossbarConfig()
    k_v = hardware.k_v
    act = activation_function(activation)
    x = finite_array("network inputs", inputs, 2)
    reports = []
    for index, layer in enumerate(layers):
        expected = layer.conductances.shape[0] - int(layer.bias)
        if x.ndim != 2 or x.shape[1] != expected:
            raise InputError(f"layer {index} takes {expected} inputs, got shape {x.shape}")
        currents, report = layer_energy(layer, input_voltages(x, k_v, layer.bias), hardware, engine=engine,
                                        workers=workers, progress=progress, label=f"layer {index}")
        reports.append(report)
        x = act(pair_outputs(currents, layer.k_g * k_v))
    return NetworkEnergy(reports, total_report(reports), images=int(x.shape[0]))


def file_network_energy(path: str | Path, inputs: Any, hardware: CrossbarConfig | None = None,
                        **options: Any) -> NetworkEnergy:
    """`network_energy` of the layers in a weight file (`load_layers`), mapped by
    `programmed_layers` onto the hardware's conductance range and tiles."""
    hardware = hardware or CrossbarConfig()
    layers = programmed_layers(load_layers(path), hardware.g_off, hardware.g_on, hardware.tile_rows,
                               hardware.tile_columns)
    return network_energy(layers, inputs, hardware, **options)
