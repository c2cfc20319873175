"""A whole network's energy efficiency: every layer's weights on a crossbar, real inputs."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..crossbar.mapping import DifferentialMapping
from ..crossbar.spec import Crossbar
from ..devices import Device, get_device
from ..errors import InputError
from ..spice.simulate import simulate
from .peripherals import Peripherals
from .report import ARRAY_PARTS, PERIPHERAL_PARTS, EnergyReport, combine, dc_report

ACTIVATIONS = {"sigmoid": lambda x: 1.0 / (1.0 + np.exp(-x)), "relu": lambda x: np.maximum(x, 0.0),
               "identity": lambda x: x}


@dataclass
class Layer:
    weights: np.ndarray  # (inputs, outputs)
    biases: np.ndarray | None


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
                layers.append(Layer(np.asarray(data[f"W{count}"], float), None if biases is None else np.asarray(biases, float)))
                count += 1
        if not layers:
            raise InputError(f"network file {path} has no W0 array (expected W0, b0, W1, b1, …)")
        return layers
    try:
        import torch

        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises many types for a bad file
        raise InputError(f"network file {path} is neither an .npz nor a torch state_dict ({type(error).__name__})") from None
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


def network_energy(layers: list[Layer], inputs: np.ndarray, device: Device | str = "linear",
                   g_off: float | None = None, g_on: float | None = None, k_v: float = 0.5,
                   r_word: float = 0.0, r_bit: float = 0.0, activation: str = "sigmoid",
                   peripherals: Peripherals | None = None, engine: str = "shared") -> tuple[list[EnergyReport], EnergyReport]:
    """Per-layer reports and the network's total. Each layer maps onto one crossbar with the
    differential mapping the crossbar layers use; its outputs (from the circuit) pass through
    `activation` to the next layer. ops = 2 × (weights + biases) per layer."""
    device = get_device(device) if isinstance(device, str) else device
    g_off = g_off if g_off is not None else device.g_off
    g_on = g_on if g_on is not None else device.g_on
    if g_off is None or g_on is None:
        raise InputError(f"device {device.name} has no conductance range: give g_off and g_on")
    if activation not in ACTIVATIONS:
        raise InputError(f"unknown activation {activation!r}; choose one of: {', '.join(ACTIVATIONS)}")
    peripherals = peripherals or Peripherals()
    x = np.asarray(inputs, dtype=float)
    reports = []
    for index, layer in enumerate(layers):
        if x.ndim != 2 or x.shape[1] != layer.weights.shape[0]:
            raise InputError(f"layer {index} takes {layer.weights.shape[0]} inputs, got shape {x.shape}")
        mapping = DifferentialMapping.fit(layer.weights, g_off, g_on, k_v=k_v, biases=layer.biases)
        crossbar = Crossbar(mapping.conductances(layer.weights, layer.biases), device, r_word=r_word, r_bit=r_bit)
        result = simulate(crossbar, mapping.voltages(x), engine=engine)
        ops = 2 * (layer.weights.size + (0 if layer.biases is None else layer.biases.size))
        reports.append(dc_report(result, peripherals, ops=ops, label=f"layer {index}"))
        x = ACTIVATIONS[activation](mapping.outputs(result.currents))
    parts = {part: sum(r.energy_j[part] for r in reports) for part in ARRAY_PARTS + PERIPHERAL_PARTS}
    total = EnergyReport(sum(r.ops for r in reports), combine(parts, parts), peripherals, label="network")
    return reports, total
