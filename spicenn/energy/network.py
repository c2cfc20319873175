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

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..activations import activation as activation_function
from ..crossbar.config import CrossbarConfig
from ..crossbar.mapping import DifferentialMapping, input_voltages, pair_outputs
from ..crossbar.tiles import TileGrid
from ..errors import InputError
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

    @property
    def outputs(self) -> int:
        return self.conductances.shape[1] // 2

    @property
    def ops(self) -> int:
        """Operations of one MVM: a multiply and an add per weight (bias row included)."""
        return mvm_ops(self.conductances.shape[0], self.outputs)


def load_layers(path: str | Path) -> list[Layer]:
    """Layers from an .npz (`W0`, `b0`, `W1`, … with W as (inputs, outputs)) or a torch
    state_dict file (`*.weight` (outputs, inputs) and `*.bias`, in order)."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"network file {path} does not exist")
    if path.suffix == ".npz":
        try:
            data = np.load(path, allow_pickle=False)
        except (ValueError, OSError) as error:
            raise InputError(f"network file {path} is not an .npz archive ({error})") from None
        with data:
            count = 0
            layers = []
            while f"W{count}" in data.files:
                biases = data[f"b{count}"] if f"b{count}" in data.files else None
                layers.append(Layer(np.asarray(data[f"W{count}"], float),
                                    None if biases is None else np.asarray(biases, float)))
                count += 1
        if not layers:
            raise InputError(f"network file {path} has no W0 array (expected W0, b0, W1, b1, …)")
        return layers
    try:
        import torch

        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises many types for a bad file
        raise InputError(f"network file {path} is neither an .npz nor a torch state_dict "
                         f"({type(error).__name__})") from None
    if not isinstance(state, dict):
        raise InputError(f"network file {path} does not hold a state_dict")
    layers = []
    for key, value in state.items():
        if key.endswith("weight") and getattr(value, "ndim", 0) == 2:
            bias = state.get(key[: -len("weight")] + "bias")
            layers.append(Layer(value.detach().double().numpy().T.copy(),
                                None if bias is None else bias.detach().double().numpy().copy()))
    if not layers:
        raise InputError(f"network file {path} has no 2-D '*.weight' tensors")
    return layers


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
    x = np.asarray(inputs, dtype=float)
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
