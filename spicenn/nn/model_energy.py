"""Energy and TOPS/W of any crossbar network (a converted model included), per layer.

Each layer's inputs are recorded while the network runs on sample images (on the `device`
backend by default: TOPS/W of a 52 k-weight CNN within 0.3 % of recording on the `circuit`
backend, at a fraction of its time and memory — bench_analyze); then every
tile of that layer is solved on exactly those vectors by the network-energy path
(`energy.network.layer_energy`): devices, word and bit lines, every tile's DACs, ADCs and
TIAs. A convolution performs one MVM per output position, so its energy per inference is
the mean MVM's energy times its positions. The paper convention (memristors only, device
model without wires) is computed beside it, as for spicenn's MLPs.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..crossbar.config import CrossbarConfig
from ..crossbar.peripherals import Peripherals
from ..energy.network import layer_energy
from ..energy.report import NetworkEnergy, total_report
from ..errors import InputError
from .backends import check_backend
from .conv import CrossbarConv
from .layer import CrossbarLinear
from .network import CrossbarNetwork

ModelEnergy = NetworkEnergy  # the name of its first use, kept for existing imports


def named_layers(model: CrossbarNetwork) -> list[tuple[str, list[CrossbarLinear]]]:
    """Every crossbar layer by name with its cores (a convolution: one per group); a layer
    `convert` made is named as in the user's model (a recurrent layer's gates: `lstm.ih_l0`)."""
    out: list[tuple[str, list[CrossbarLinear]]] = []
    inside: set[int] = set()
    for name, module in model.named_modules():
        if isinstance(module, CrossbarConv):
            out.append((_short(name), list(module.cores)))
            inside.update(id(core) for core in module.cores)
        elif isinstance(module, CrossbarLinear) and id(module) not in inside:  # its name in the user's model
            out.append((module.module_name or _short(name), [module]))
    return out


def _short(name: str) -> str:
    return name[len("model."):] if name.startswith("model.") else (name or "layer")


@torch.no_grad()
def model_energy(model: CrossbarNetwork, images: Any, peripherals: Peripherals | None = None,
                 chip: int | None = None, backend: str = "device", engine: str = "native", workers: int = 1,
                 progress: bool = False) -> ModelEnergy:
    """Per-layer and total energy per inference of `model` on `images` (a batch as the
    model takes it), on chip `chip` (None: the nominal chip). `peripherals`: those of each
    layer's hardware unless given; either way the ADCs are those the layer reads out with
    (`CrossbarConfig.energy_peripherals`). `backend`: what the layers
    run while their inputs are recorded (the device model by default: each layer then sees
    what the one before computes without wires; "circuit" for the circuit's own
    activations, at many times the cost); `engine`: what solves every tile exactly on
    those inputs for the energy ("native": spicenn's exact solver; "shared"/"subprocess":
    ngspice)."""
    check_backend(backend)
    x = images if isinstance(images, torch.Tensor) else torch.as_tensor(np.asarray(images))
    if x.shape[0] < 1:
        raise InputError("energy needs at least one image")
    model.set_chip(chip)
    layers = model.crossbar_layers()
    inputs = _recorded_inputs(model, layers, x, backend)
    reports = []
    paper = 0.0
    for name, cores in named_layers(model):
        parts = []
        for core in cores:
            seen = inputs.get(id(core))
            if seen is None:
                raise InputError(f"layer {name} saw no input when the model ran on the sample")
            mvms = seen.shape[0] // x.shape[0]
            v = core.voltages(seen).double().numpy()
            hardware = core.hardware if peripherals is None else \
                dataclasses.replace(core.hardware, peripherals=peripherals)
            read_out = hardware.energy_peripherals()
            _, report = layer_energy(core.programmed(), v, hardware, engine=engine, workers=workers,
                                     progress=progress, mvms=mvms, label=name)
            parts.append(report)
            paper += float(core.device_power(seen).double().mean()) * mvms * read_out.t_read
        report = parts[0] if len(parts) == 1 else total_report(parts, label=name)
        report.mvms = parts[0].mvms
        reports.append(report)
    return NetworkEnergy(reports, total_report(reports), paper, int(x.shape[0]))


def _recorded_inputs(model: CrossbarNetwork, layers: list[CrossbarLinear], x: torch.Tensor,
                     backend: str) -> dict[int, torch.Tensor]:
    seen: dict[int, list[torch.Tensor]] = {}

    def hook(module: torch.nn.Module, args: tuple[Any, ...]) -> None:
        vectors = args[0].detach()  # a Linear on (B, T, C) makes B·T MVMs of C inputs
        seen.setdefault(id(module), []).append(vectors.reshape(-1, vectors.shape[-1]))

    handles = [layer.register_forward_pre_hook(hook) for layer in layers]
    saved = [layer.backend for layer in layers]
    try:
        model.set_backend(backend)
        model(x)
    finally:
        for handle in handles:
            handle.remove()
        for layer, name in zip(layers, saved):
            layer.backend = name
    return {key: torch.cat(values) for key, values in seen.items()}


def saved_model_energy(model: str, weights: str | Path, images: Any, hardware: CrossbarConfig,
                       engine: str = "native") -> NetworkEnergy:
    """`model_energy` of a saved model (`file.py:Class` and its state_dict) converted onto
    `hardware` and calibrated on `images` (the batch the energy is averaged over); `engine`
    solves the tiles (native, or an ngspice engine)."""
    from .convert import calibrate, convert
    from .user_model import check_takes, load_model

    x = np.asarray(images, dtype=np.float32)
    user_model = load_model(model, weights)
    check_takes(user_model, x, "these")
    analog = convert(user_model, hardware)
    calibrate(analog, torch.as_tensor(x))
    return model_energy(analog, torch.as_tensor(x), engine=engine)
