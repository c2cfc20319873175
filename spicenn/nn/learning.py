"""On-chip learning: layers whose weights are device conductances, changed only by pulses.

`DeviceLinear` holds each weight as a device conductance G and a reference device G_ref,
w = k_w·(G − G_ref) (bias row included); the conductances are the truth and the float
`weight` parameter only mirrors them for autograd. Update rules turn the training signal
into pulse counts per device and apply them through the device's programming model:

* `float`: plain SGD on the weights (the software baseline; no devices).
* `rounding`: the desired change −lr·∂L/∂w rounded stochastically to whole device steps.
* `pulse`: the stochastic pulse update of resistive processing units: row i fires in each of
  `pulse_length` (BL) slots with probability C·|x_i|, column j with C·|δ_j|; every
  coincidence is one step, down when x_i·δ_j > 0. With C = sqrt(lr/(BL·Δw_min)) the
  expected update is −lr·x·δ. Up and down coincidences of a batch are applied in that order.
* `binary`: binary stochastic learning (see `BinaryStochasticMLP`): one step per weight
  and batch, against the sign of the accumulated binary update.

Where the pulses go (`UpdateRule.writes`): None — the device's programming model takes them
as counted (every pulse lands as the model says; today's rules) — or through the layer's
arrays: tiles of `tile` x `tile` devices with `r_wire` Ω segments, each with its own drivers,
written under the V/2 scheme by `EngineWrites` (the native write engine: exact, slow) or
`SurrogateWrites` (the write surrogate: fast). The layer's devices are then a dynamic device
(`spicenn.devices.written.DevicePulses`) whose states are the truth. The pulse rule's
coincidences are written as the stochastic-coincidence program of its own bit streams, one
sample after another (each its + then its − phase); pulse counts (the rounding and binary
rules) as the row-by-row program (`row_by_row`: each row's + pulses, then its −). Reading
the weights is ideal (no IR drop in the forward pass); programming the initial weights and
zero-shifting are ideal one-time steps. `layer.write_energy` sums the writes' energy (J).
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from ..activations import activation as activation_function
from ..activations import check_activation
from ..checks import finite_number, whole_number
from ..crossbar.program import WriteProgram, coincidence_program, row_by_row
from ..devices.programming import ProgrammingModel, SoftBounds
from ..devices.written import DevicePulses
from ..errors import InputError
from ..surrogate.write import WriteSurrogate, load_write_surrogate

RULES = ("float", "rounding", "pulse", "binary")


@dataclass(frozen=True)
class ArrayWrites:
    """A layer's writes through its arrays: square tiles of `tile` devices a side, wires of
    `r_wire` Ω per segment on word and bit lines."""

    tile: int = 64
    r_wire: float = 1.0

    def __post_init__(self) -> None:
        whole_number("tile", self.tile, 1, 4096)
        finite_number("r_wire", self.r_wire, minimum=0.0, maximum=1e3)

    def preset(self, layer: DeviceLinear) -> DevicePulses:
        if not isinstance(layer.model, DevicePulses):
            raise InputError("writes through the arrays need dynamic devices (spicenn.devices.written, e.g. "
                             "write_preset('levels32')), not a programming model's abstract steps")
        return layer.model

    def coincidences(self, layer: DeviceLinear, row_bits: torch.Tensor, column_bits: torch.Tensor,
                     column_signs: torch.Tensor, row_probability: torch.Tensor,
                     column_probability: torch.Tensor) -> None:
        """Write B samples' coincidences (B, BL, R), (B, BL, C) with column polarities (B, C)
        (+1: +V, which lowers G) into the layer, one sample after another."""
        raise NotImplementedError

    def counts(self, layer: DeviceLinear, counts: torch.Tensor) -> None:
        """Write `counts` (R, C) pulses per device (positive: G up) row by row."""
        raise NotImplementedError


@dataclass(frozen=True)
class EngineWrites(ArrayWrites):
    """Through the native write engine (`spicenn.circuit.layer_write.write_layer`)."""

    def _write(self, layer: DeviceLinear, program: WriteProgram) -> None:
        from ..circuit.layer_write import write_layer

        preset = self.preset(layer)
        states = preset.state(layer.g).clamp(0.0, 1.0).numpy()
        result = write_layer(states, preset.device, program, self.tile, self.tile, self.r_wire, self.r_wire,
                             preset.v_read)
        layer.g = preset.conductance(torch.as_tensor(result.states))
        layer.write_energy += result.energy["drivers"]

    def coincidences(self, layer: DeviceLinear, row_bits: torch.Tensor, column_bits: torch.Tensor,
                     column_signs: torch.Tensor, row_probability: torch.Tensor,
                     column_probability: torch.Tensor) -> None:
        preset = self.preset(layer)
        for b in range(row_bits.shape[0]):
            self._write(layer, coincidence_program(row_bits[b].numpy(), column_bits[b].numpy(),
                                                   column_signs[b].numpy(), preset.voltage, preset.width,
                                                   t_edge=preset.t_edge))

    def counts(self, layer: DeviceLinear, counts: torch.Tensor) -> None:
        preset = self.preset(layer)
        if bool((counts != 0).any()):  # up is −V across the cell (toward R_on)
            self._write(layer, row_by_row(-counts.numpy(), preset.voltage, preset.width, t_edge=preset.t_edge))


@dataclass(frozen=True)
class SurrogateWrites(ArrayWrites):
    """Through the write surrogate `surrogate` (a shipped name or a JSON file)."""

    surrogate: str = "write-vteam-64"

    def model(self) -> WriteSurrogate:
        return _surrogate(self.surrogate)

    def coincidences(self, layer: DeviceLinear, row_bits: torch.Tensor, column_bits: torch.Tensor,
                     column_signs: torch.Tensor, row_probability: torch.Tensor,
                     column_probability: torch.Tensor) -> None:
        preset = self.preset(layer)
        states, energy = self.model().coincidences(
            preset.state(layer.g).clamp(0.0, 1.0), row_bits, column_bits, column_signs, preset,
            (self.tile, self.tile), self.r_wire, self.r_wire, row_probability, column_probability)
        layer.g = preset.conductance(states)
        layer.write_energy += energy

    def counts(self, layer: DeviceLinear, counts: torch.Tensor) -> None:
        preset = self.preset(layer)
        states, energy = self.model().counts(preset.state(layer.g).clamp(0.0, 1.0), -counts, preset,
                                             (self.tile, self.tile), self.r_wire, self.r_wire)
        layer.g = preset.conductance(states)
        layer.write_energy += energy


@functools.lru_cache(maxsize=8)
def _surrogate(name: str) -> WriteSurrogate:
    return load_write_surrogate(name)


@dataclass(frozen=True)
class UpdateRule:
    name: str = "rounding"
    learning_rate: float = 0.1
    pulse_length: int = 10  # BL, for the pulse update
    writes: ArrayWrites | None = None  # None: the programming model takes the pulses as counted

    def __post_init__(self) -> None:
        if self.name not in RULES:
            raise InputError(f"unknown update rule {self.name!r}; choose one of: {', '.join(RULES)}")
        finite_number("learning_rate", self.learning_rate, minimum=0.0, strict_minimum=True)
        whole_number("pulse_length", self.pulse_length, 1)
        if self.writes is not None and self.name == "float":
            raise InputError("the float rule has no devices to write")


class DeviceLinear(nn.Module):
    # buffers (nn.Module's attribute lookup is untyped)
    steps: torch.Tensor
    g_ref: torch.Tensor
    g: torch.Tensor
    init_counts: torch.Tensor

    def __init__(self, in_features: int, out_features: int, model: ProgrammingModel,
                 w_max: float = 1.0, generator: torch.Generator | None = None, reference: str = "middle",
                 calibration_error: float = 0.0, init_scale: float | None = None):
        """`reference`: "middle" (G_ref at the middle of the range) or "symmetry" (each
        reference device at its own device's symmetry point, as zero-shifting programs it);
        `calibration_error`: std of the reference's error, relative to G_max − G_min."""
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        self.model = model
        self.generator = generator or torch.Generator().manual_seed(0)
        shape = (in_features + 1, out_features)
        self.k_w = 2.0 * w_max / (model.g_max - model.g_min)  # weight per siemens
        self.register_buffer("steps", model.device_steps(shape, self.generator))
        self.register_buffer("g_ref", self._reference(reference, shape, calibration_error))
        self.register_buffer("g", self.g_ref.clone())
        self.weight = nn.Parameter(torch.zeros(shape, dtype=torch.float64))  # float64: the exact device weights
        self.last_input: torch.Tensor | None = None
        self.last_delta: torch.Tensor | None = None
        scale = init_scale if init_scale is not None else math.sqrt(6.0 / (in_features + out_features))
        target = (torch.rand(shape, generator=self.generator, dtype=torch.float64) * 2 - 1) * scale
        self.register_buffer("init_counts", torch.round(target / (self.k_w * model.step)))
        self.pulses = 0.0
        self.writes: ArrayWrites | None = None  # set by the training loop from its rule
        self.write_energy = 0.0  # J, of the writes through the arrays
        self.program(self.init_counts)
        self.pulses = 0.0

    def _reference(self, reference: str, shape: tuple[int, int], calibration_error: float) -> torch.Tensor:
        m = self.model
        if reference == "middle":
            g_ref = torch.full(shape, 0.5 * (m.g_min + m.g_max), dtype=torch.float64)
        elif reference == "symmetry":
            if not isinstance(m, SoftBounds):
                raise InputError("only soft-bounds devices have a symmetry point")
            g_ref = m.symmetry_point(self.steps[..., 0], self.steps[..., 1]).clone()
        else:
            raise InputError(f"unknown reference {reference!r}; choose middle or symmetry")
        if calibration_error:
            g_ref = g_ref + calibration_error * (m.g_max - m.g_min) * torch.randn(
                shape, generator=self.generator, dtype=torch.float64)
        return g_ref

    def sync(self) -> None:
        with torch.no_grad():
            self.weight.copy_(self.k_w * (self.g - self.g_ref))

    def program(self, count: torch.Tensor) -> None:
        """Apply `count` pulses per device (positive: up) and refresh the weights; `pulses`
        counts them (programming the initial weights excluded). With `writes` set the
        pulses go through the arrays."""
        if self.writes is not None:
            self.writes.counts(self, count)
        else:
            self.g = self.model.pulse(self.g, count, self.steps, self.generator)
        self.pulses += float(count.abs().sum())
        self.sync()

    def set_reference(self, g_ref: torch.Tensor) -> None:
        """Re-program the reference devices (and move G with them, keeping the weights)."""
        self.g = self.g + (g_ref - self.g_ref)
        self.g_ref = g_ref.clone()
        self.sync()

    def zero_shift(self, pulses: int = 2000) -> int:
        """Zero-shifting: pulse every device up and down alternately until it sits at its
        symmetry point, program its reference device to that conductance (w = 0 there), then
        program the initial weights again from it. Returns the pulses applied per device."""
        from ..devices.programming import find_symmetry_point

        if not isinstance(self.model, SoftBounds | DevicePulses):
            raise InputError("zero-shifting needs soft-bounds devices")
        found, count = find_symmetry_point(self.model, self.g, self.steps, self.generator, pulses)
        self.g_ref = found.clone()
        self.g = found.clone()
        self.program(self.init_counts)
        return count

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.cat([x, torch.ones(x.shape[0], 1, dtype=x.dtype)], dim=1)
        self.last_input = x.detach()
        out = x @ self.weight.to(x.dtype)
        if out.requires_grad:
            out.register_hook(self._keep_delta)
        return out

    def _keep_delta(self, grad: torch.Tensor) -> None:
        self.last_delta = grad.detach()

    @property
    def weight_step(self) -> float:
        return self.k_w * self.model.step


def apply_rule(layer: DeviceLinear, rule: UpdateRule) -> None:
    """One update of `layer` from the gradient / inputs and errors of the last batch."""
    if rule.name in ("float", "rounding") and layer.weight.grad is None:
        raise InputError(f"the {rule.name} rule needs the gradient of the last batch (call backward first)")
    if rule.name == "pulse" and (layer.last_input is None or layer.last_delta is None):
        raise InputError("the pulse rule needs the inputs and errors of the last batch (call backward first)")
    grad: torch.Tensor = layer.weight.grad  # type: ignore[assignment]  # checked above
    if rule.name == "float":
        with torch.no_grad():
            step = rule.learning_rate * grad.double()
            layer.g = layer.g_ref + (layer.weight.double() - step) / layer.k_w
        layer.sync()
        return
    layer.writes = rule.writes
    if rule.name == "rounding":
        desired = -rule.learning_rate * grad.double() / layer.weight_step
        floor = torch.floor(desired)
        up = torch.rand(desired.shape, generator=layer.generator, dtype=torch.float64) < (desired - floor)
        layer.program(floor + up.double())
        return
    if rule.name == "pulse":
        # δ_b is sample b's share of the batch loss's gradient, so Σ_b x_b·δ_b = ∂L/∂w and the
        # expected change equals the other rules' −lr·∂L/∂w
        x, delta = layer.last_input.double(), layer.last_delta.double()  # type: ignore[union-attr]  # checked
        bl = rule.pulse_length
        c = math.sqrt(rule.learning_rate / (bl * layer.weight_step))
        rows = torch.rand((x.shape[0], bl, x.shape[1]), generator=layer.generator, dtype=torch.float64) \
            < (c * x.abs()).clamp(max=1.0)[:, None, :]
        cols = torch.rand((x.shape[0], bl, delta.shape[1]), generator=layer.generator, dtype=torch.float64) \
            < (c * delta.abs()).clamp(max=1.0)[:, None, :]
        if rule.writes is not None:
            if bool((x < 0).any()):
                raise InputError("writes through the arrays pulse rows of one polarity: the pulse rule then needs "
                                 "inputs ≥ 0 (sigmoid or ReLU units, pixels)")
            # x ≥ 0: a coincidence lowers G where δ > 0 — a +V pulse across the cell
            rule.writes.coincidences(layer, rows, cols, torch.sign(delta), (c * x).clamp(max=1.0),
                                     (c * delta.abs()).clamp(max=1.0))
            # Σ over samples and slots of (rows pulsing)·(columns pulsing): the coincidences, counted
            layer.pulses += float((rows.sum(2) * cols.sum(2)).sum())
            layer.sync()
            return
        coincidences = torch.bmm(rows.transpose(1, 2).double(), cols.double())  # (B, in + 1, out)
        direction = -torch.sign(x)[:, :, None] * torch.sign(delta)[:, None, :]
        up = (coincidences * (direction > 0)).sum(0)
        down = (coincidences * (direction < 0)).sum(0)
        layer.program(up)
        layer.program(-down)
        return
    raise InputError("the binary rule trains a BinaryStochasticMLP (train_on_chip picks it)")


class DeviceMLP(nn.Module):
    """MLP of `DeviceLinear` layers with `activation` between them (logits out)."""

    layers: Sequence[DeviceLinear]  # an nn.ModuleList

    def __init__(self, sizes: Sequence[int], model: ProgrammingModel, seed: int = 0,
                 activation: str = "sigmoid", **layer_options: Any):
        super().__init__()
        self.activation = check_activation(activation)
        generator = torch.Generator().manual_seed(seed)
        self.sizes = tuple(sizes)
        self.layers = nn.ModuleList(DeviceLinear(a, b, model, generator=generator,  # type: ignore[assignment]
                                                 **layer_options) for a, b in itertools.pairwise(sizes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        act = activation_function(self.activation)
        for index, layer in enumerate(self.layers):
            x = layer(x)
            if index < len(self.layers) - 1:
                x = act(x)
        return x


class BinaryStochasticMLP(DeviceMLP):
    """Binary stochastic learning (after Li et al.): the forward signals of training are
    Bernoulli samples (inputs with probability equal to the pixel, hidden units with σ(h)),
    the activation derivative σ'(h) = σ(1 − σ) is replaced by a Bernoulli sample with
    probability 4σ'(h) (so it is 0 or 1), errors are replaced by their signs, and each weight
    takes at most one device step per batch, against the sign of S = Σ_b x_b·e_b (an integer:
    only AND and sign logic), with probability |S|/B. Inference uses the analog
    (deterministic) forward pass. Output errors are ternary, sign(p − t) where |p − t| exceeds
    `error_threshold` and 0 elsewhere (plain signs would push every wrong class down at every
    sample), with p = σ(logits) per class: softmax is blind to a shift common to all logits,
    and signed errors then drift every output weight together into its bounds (measured on
    the 8x8 digits: learning, then collapse to one class). Choices not given by the paper are
    these parameters."""

    error_threshold: float = 0.2

    def __init__(self, sizes: Sequence[int], model: ProgrammingModel, seed: int = 0,
                 activation: str = "sigmoid", **layer_options: Any):
        if activation != "sigmoid":  # the hidden units are Bernoulli samples with probability σ(h)
            raise InputError(f"binary stochastic learning needs sigmoid hidden units, not {activation!r}")
        super().__init__(sizes, model, seed, activation, **layer_options)

    def train_step(self, x: torch.Tensor, y: torch.Tensor, classes: int) -> tuple[torch.Tensor, int]:
        g = self.layers[0].generator
        signals = [(torch.rand(x.shape, generator=g) < x).double()]
        derivatives = []
        h = signals[0]
        for index, layer in enumerate(self.layers):
            h = torch.cat([h, torch.ones(h.shape[0], 1, dtype=h.dtype)], 1) @ layer.weight.double()
            if index < len(self.layers) - 1:
                s = torch.sigmoid(h)
                derivatives.append((torch.rand(h.shape, generator=g, dtype=h.dtype) < 4 * s * (1 - s)).double())
                h = (torch.rand(h.shape, generator=g, dtype=h.dtype) < s).double()
                signals.append(h)
        logits = h
        self.last_signals = signals + derivatives  # kept for inspection: all are 0/1
        residual = torch.sigmoid(logits) - nn.functional.one_hot(y, classes).double()
        error = torch.sign(residual) * (residual.abs() > self.error_threshold)
        self.last_errors = []
        for index in range(len(self.layers) - 1, -1, -1):
            layer = self.layers[index]
            inputs = torch.cat([signals[index], torch.ones(x.shape[0], 1, dtype=torch.float64)], 1)
            update = inputs.T @ error  # integer counts: only AND/sign logic, no multiplications
            previous_error = error
            if index > 0:
                previous_error = torch.sign((error @ layer.weight.double()[:-1].T) * derivatives[index - 1])
            # one step at most, taken with probability |Σ x·e|/B: the expected step follows the
            # batch's mean binary update, and weights with inconsistent signals stay put
            take = torch.rand(update.shape, generator=g, dtype=update.dtype) < update.abs() / x.shape[0]
            layer.program(-torch.sign(update) * take)
            self.last_errors.append(error)
            error = previous_error
        return logits, int((logits.argmax(1) == y).sum())
