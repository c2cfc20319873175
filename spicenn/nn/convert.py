"""Any PyTorch model onto crossbars: `convert` and `calibrate`.

    analog = spicenn.nn.convert(model, CrossbarConfig(device="poole-frenkel-high", tile_rows=64,
                                tile_columns=64), backend="device")
    spicenn.nn.calibrate(analog, images[:256])
    logits = analog(images)

`convert` copies the model and replaces every `nn.Linear`, `nn.Conv1d/2d/3d`,
`nn.ConvTranspose1d/2d/3d`, `nn.MultiheadAttention`, `nn.RNN`, `nn.LSTM` and `nn.GRU` (wherever
it sits: Sequential, nested or custom modules, transformer layers) by its crossbar twin
carrying the same weights and biases (attention: its four projections on crossbars, the
attention products digital; recurrent layers: their gate matrices on crossbars, the
recurrence digital); every other module is kept as it was and the report says why.
`calibrate` maps each layer's inputs onto its devices' voltage range.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn

from ..crossbar.config import CrossbarConfig
from ..errors import InputError
from .attention import CrossbarMultiheadAttention
from .backends import check_backend
from .conv import CrossbarConv
from .layer import CrossbarLinear
from .network import AnalogModel, CrossbarNetwork
from .recurrent import CrossbarRecurrent

CONVERTIBLE = (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.ConvTranspose1d, nn.ConvTranspose2d,
               nn.ConvTranspose3d,
               nn.MultiheadAttention, nn.RNN, nn.LSTM, nn.GRU)
# modules whose weights no crossbar layer of spicenn holds (not descended into: their
# inner weights are used directly, not through their submodules' forward)
OPAQUE = (nn.RNNBase,)
NORMALISATION = (nn.modules.batchnorm._BatchNorm, nn.LayerNorm, nn.GroupNorm, nn.modules.instancenorm._InstanceNorm)


@dataclass
class ConvertedLayer:
    name: str
    kind: str
    tiles: int  # tiles of all its cores
    devices: int  # programmed devices (two per weight and bias)
    mvms_per_input: str  # "1" or "one per output position"


@dataclass
class ConversionReport:
    """What `convert` did: the layers put onto crossbars, and those kept digital with why."""

    converted: list[ConvertedLayer] = field(default_factory=list)
    digital: list[tuple[str, str, str]] = field(default_factory=list)  # (name, kind, why)
    notes: list[str] = field(default_factory=list)  # e.g. tied weights split

    def text(self) -> str:
        lines = [f"{'module':<24} {'kind':<12} {'tiles':>6} {'devices':>9}  MVMs"]
        for layer in self.converted:
            lines.append(f"{layer.name:<24} {layer.kind:<12} {layer.tiles:>6} {layer.devices:>9}  "
                         f"{layer.mvms_per_input}")
        for name, kind, why in self.digital:
            lines.append(f"{name:<24} {kind:<12} digital: {why}")
        lines.extend(f"note: {note}" for note in self.notes)
        return "\n".join(lines)


def convert(model: nn.Module, hardware: CrossbarConfig | None = None, backend: str = "ideal",
            digital: Iterable[str] = (), keep_first: bool = False, keep_last: bool = False) -> AnalogModel:
    """A copy of `model` on crossbars (the model itself is left untouched).

    `digital`: qualified module names (as `model.named_modules()` gives them) to keep
    digital; `keep_first` / `keep_last`: keep the first / last convertible layer digital.
    """
    if not isinstance(model, nn.Module):
        raise InputError(f"convert takes a torch.nn.Module, got {type(model).__name__}")
    hardware = hardware or CrossbarConfig()
    check_backend(backend)
    copied = copy.deepcopy(model)
    keep = set(digital)
    known = {name for name, _ in copied.named_modules()}
    unknown = sorted(keep - known)
    if unknown:
        raise InputError(f"no module named {unknown[0]!r} in the model (digital= takes names from named_modules())")
    report = ConversionReport()
    candidates: list[tuple[str, nn.Module]] = []
    _collect(copied, "", candidates, report)
    if keep_first and candidates:
        keep.add(candidates[0][0])
    if keep_last and candidates:
        keep.add(candidates[-1][0])
    replacements: dict[int, nn.Module] = {}
    index = 0
    holders: dict[int, list[tuple[str, int]]] = {}  # parameter -> the modules holding it (tied weights)
    for module_name, module in copied.named_modules(remove_duplicate=False):
        for parameter in module.parameters(recurse=False):
            holders.setdefault(id(parameter), []).append((module_name or "(model)", id(module)))
    for name, module in candidates:
        kind = type(module).__name__
        if name in keep:
            report.digital.append((name, kind, "kept digital as asked"))
            continue
        weight = (module.out_proj.weight if isinstance(module, nn.MultiheadAttention)
                  else module.weight_ih_l0 if isinstance(module, nn.RNNBase) else module.weight)
        assert isinstance(weight, torch.Tensor)
        if isinstance(weight, nn.parameter.UninitializedParameter):
            report.digital.append((name, kind, "lazy module not initialised yet (run one batch first)"))
            continue
        new: CrossbarLinear | CrossbarConv | CrossbarMultiheadAttention | CrossbarRecurrent
        names = [name or "(model)"]
        inside = {id(part) for part in module.modules()}  # the module itself, wherever else it is used
        tied = sorted({holder for parameter in module.parameters()
                       for holder, owner in holders.get(id(parameter), []) if owner not in inside})
        if tied:
            report.notes.append(f"{name or '(model)'} shares parameters with {', '.join(tied)}: its crossbars hold "
                                "their own copy (tied weights split)")
        if isinstance(module, nn.Linear):
            new = CrossbarLinear.from_weights(module.weight, module.bias, hardware, backend, index)
            cores = [new]
            mvms = "1"
        elif isinstance(module, nn.MultiheadAttention):
            try:
                new = CrossbarMultiheadAttention.from_attention(module, hardware, backend, index)
            except InputError as why:
                report.digital.append((name, kind, str(why)))
                continue
            cores = new.cores
            names = [f"{name}.{part}" if name else part for part in ("q_proj", "k_proj", "v_proj", "out_proj")]
            mvms = "one per token, each projection"
            report.digital.append((name or "(model)", "attention", "Q·Kᵀ, softmax and ·V: both operands change "
                                   "with the input, no fixed matrix to program"))
        elif isinstance(module, nn.RNNBase):
            new = CrossbarRecurrent.from_recurrent(module, hardware, backend, index)
            cores = list(new.cores)  # type: ignore[arg-type]
            names = [f"{name}.{part}" if name else part for part in new.parts]
            mvms = "one per token (input gates) and one per step (recurrent gates)"
            report.digital.append((name or "(model)", "recurrence", "gate nonlinearities, cell state and "
                                   "elementwise products run digitally"))
        else:
            new = CrossbarConv.from_conv(module, hardware, backend, index)  # type: ignore[arg-type]
            cores = list(new.cores)
            mvms = "one per output position"
        new.to(weight.dtype)
        for core, core_name in zip(cores, names * len(cores) if len(names) == 1 else names):
            core.module_name = core_name
        index += len(cores)
        replacements[id(module)] = new
        report.converted.append(ConvertedLayer(name or "(model)", kind, sum(c.grid.row_tiles * c.grid.column_tiles
                                                                              for c in cores),
                                               sum(c.synapses * 2 for c in cores), mvms))
    for module in copied.modules():
        if isinstance(module, nn.TransformerEncoder):  # its nested-tensor fast path reads the weights itself
            module.use_nested_tensor = False
    if id(copied) in replacements:  # the model is itself one layer
        root: nn.Module = replacements[id(copied)]
    else:
        root = copied
        for module in list(copied.modules()):
            for child_name, child in list(module._modules.items()):
                if child is not None and id(child) in replacements:
                    setattr(module, child_name, replacements[id(child)])
    return AnalogModel(root, report)


def _collect(module: nn.Module, prefix: str, candidates: list[tuple[str, nn.Module]],
             report: ConversionReport) -> None:
    seen: set[int] = set()

    def visit(current: nn.Module, name: str) -> None:
        if id(current) in seen:
            return
        seen.add(id(current))
        kind = type(current).__name__
        if type(current) in CONVERTIBLE:
            candidates.append((name, current))
            return
        if isinstance(current, CONVERTIBLE):
            report.digital.append((name, kind, f"a subclass of {type(current).__mro__[1].__name__} "
                                   "(its forward may differ)"))
            return
        if isinstance(current, OPAQUE):
            report.digital.append((name, kind, "no crossbar equivalent in spicenn"))
            return
        if any(True for _ in current.parameters(recurse=False)):
            why = "normalisation runs digitally" if isinstance(current, NORMALISATION) else \
                "no crossbar equivalent in spicenn"
            report.digital.append((name, kind, why))
        for child_name, child in current.named_children():
            visit(child, f"{name}.{child_name}" if name else child_name)

    visit(module, prefix)


@torch.no_grad()
def calibrate(model: CrossbarNetwork, batch: torch.Tensor, percentile: float = 99.99,
              adc_backend: str = "device") -> dict[str, float]:
    """Map each crossbar layer's inputs onto its devices' voltages: the `percentile` of |x|
    over `batch` (seen by that layer with the layers on the ideal backend) maps to the read
    voltage k_V; larger inputs are clipped (100: nothing of this batch is); a layer whose
    inputs take both signs is marked `signed_inputs` (its surrogate must cover −k_V). With `adc_bits`
    set, each layer's ADC full scale is then the same percentile of |I| over its column
    currents on `adc_backend`. Returns the input scale per layer (by position)."""
    if not 0.0 < float(percentile) <= 100.0:
        raise InputError(f"percentile must be in (0, 100], got {percentile!r}")
    if not isinstance(batch, torch.Tensor):
        batch = torch.as_tensor(np.asarray(batch))
    if not bool(torch.isfinite(batch).all()):
        raise InputError("the calibration batch contains NaN or inf")
    layers = model.crossbar_layers()
    if not layers:
        raise InputError("the model has no crossbar layers to calibrate")
    check_backend(adc_backend)
    for layer in layers:
        layer.input_scale.zero_()
        layer.output_scale.zero_()
    _, seen = record(model, layers, batch, "ideal", lambda layer, x, currents: x)
    scales = {}
    for position, layer in enumerate(layers):
        values = seen.get(position)
        if values is None:
            raise InputError(f"crossbar layer {position} saw no input on the calibration batch")
        if not bool(torch.isfinite(values).all()):
            raise InputError(f"crossbar layer {position} sees NaN or inf inputs on the calibration batch")
        scale = _percentile(values, percentile)
        layer.input_scale.fill_(scale if scale > 0 else 1.0)
        layer.signed_inputs = bool((values < 0).any())
        layer._surrogate.clear()  # checked again against the range now known
        scales[f"layer {position}"] = float(layer.input_scale)
    quantised = [p for p, layer in enumerate(layers) if layer.hardware.adc_bits is not None]
    if quantised:
        _, currents = record(model, layers, batch, adc_backend, lambda layer, x, currents: currents)
        for position in quantised:
            full_scale = _percentile(currents[position], percentile)
            layers[position].output_scale.fill_(full_scale if full_scale > 0 else 1.0)
    return scales


def _percentile(values: torch.Tensor, percentile: float) -> float:
    magnitudes = values.detach().abs().double().reshape(-1).numpy()
    return float(np.percentile(magnitudes, percentile))


def record(model: CrossbarNetwork, layers: list[CrossbarLinear], batch: torch.Tensor, backend: str,
           pick: Callable[[CrossbarLinear, torch.Tensor, torch.Tensor], torch.Tensor]
           ) -> tuple[Any, dict[int, torch.Tensor]]:
    """Run `batch` with every layer on `backend`: the model's output, and per layer (by
    position) pick(layer, inputs, column currents) over its calls, concatenated."""
    seen: dict[int, list[torch.Tensor]] = {}
    saved = [layer.backend for layer in layers]
    originals = [layer.column_currents for layer in layers]

    def recorder(position: int, layer: CrossbarLinear) -> Callable[..., torch.Tensor]:
        def column_currents(x: torch.Tensor, backend: str | None = None) -> torch.Tensor:
            currents = originals[position](x, backend)
            seen.setdefault(position, []).append(pick(layer, x, currents))
            return currents
        return column_currents

    try:
        for position, layer in enumerate(layers):
            layer.backend = backend
            layer.column_currents = recorder(position, layer)  # type: ignore[method-assign]
        output = model(batch)
    finally:
        for layer, name in zip(layers, saved):
            layer.backend = name
            del layer.column_currents  # back to the class's method
    return output, {position: torch.cat(values) for position, values in seen.items()}
