"""`CrossbarLinear`: a linear layer whose weights live in memristor conductances.

    layer = CrossbarLinear(784, 25, CrossbarConfig(device="poole-frenkel-high"), backend="device")
    y = layer(x)            # x in [0, 1], shape (B, 784)

Inputs become voltages V = k_V·x with a bias row at V = k_V; the (inputs + 1) x (2·outputs)
conductance matrix holds each output's G+ in column 2j and G− in column 2j+1, so the layer's
output is y_j = (I_2j − I_2j+1)/(k_V·k_G), which equals x·W + b for ideal devices.

A calibrated layer (`input_scale` s > 0, set by `spicenn.nn.calibrate`) takes any real
inputs: V = k_V·clip(x/s, −1, 1), the bias row holds b/s and the output is multiplied by s,
so that ideal devices still give x·W + b for |x| <= s.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from ..checks import affordable
from ..crossbar.config import CrossbarConfig
from ..crossbar.mapping import conductance_scale, input_voltages, pair_conductances, pair_outputs, weight_parts
from ..crossbar.tiles import TileGrid
from ..devices import ChipDraw
from ..devices.nonidealities import read_noise_std
from ..energy.network import ProgrammedLayer
from ..errors import InputError
from ..threads import fit_threads
from . import backends
from .backends import check_backend


@dataclass
class Chip:
    """One simulated chip's draw for one layer, on the padded tile grid."""

    seed: int
    draw: ChipDraw | None  # conductance non-idealities (None: none)
    cell: dict[str, np.ndarray]  # per-device model parameters (e.g. power-law n)


def layer_seed(chip_seed: int, layer_index: int) -> int:
    return int(np.random.SeedSequence([int(chip_seed), int(layer_index)]).generate_state(1)[0])


class CrossbarLinear(nn.Module):
    """A linear layer whose weights live in memristor conductances (the module's docstring
    gives the mapping): `CrossbarLinear(inputs, outputs, hardware, backend)` or
    `from_weights(weight, bias, hardware)`; `forward` on its backend, `forward_with(x, name)`
    on another; `set_chip(seed)` draws a chip's non-idealities."""

    input_scale: torch.Tensor
    output_scale: torch.Tensor
    weight_mask: torch.Tensor | None

    def __init__(self, in_features: int, out_features: int, hardware: CrossbarConfig | None = None,
                 backend: str = "ideal", layer_index: int = 0, generator: torch.Generator | None = None,
                 bias: bool = True, mask: torch.Tensor | None = None):
        super().__init__()
        if in_features < 1 or out_features < 1:
            raise InputError(f"a layer needs at least one input and one output, got {in_features}x{out_features}")
        self.in_features, self.out_features = int(in_features), int(out_features)
        self.has_bias = bool(bias)
        self.hardware = hardware or CrossbarConfig()
        self.device_model = self.hardware.device_model()
        self.layer_index = layer_index
        self.module_name = ""  # the converted module's name in the user's model, for messages
        # whether its inputs take both signs (found by calibrate): a surrogate must cover −k_V
        self.signed_inputs = False
        self.grid = TileGrid.of(self.in_features + int(self.has_bias), 2 * self.out_features,
                                self.hardware.tile_rows, self.hardware.tile_columns)
        # weights, their gradients and optimiser state, conductances and a chip's draw: ~12 copies
        affordable(f"a {self.in_features}x{self.out_features} crossbar layer", 12 * 8.0 * self.grid.padded_shape[0]
                   * self.grid.padded_shape[1])
        # 0: not calibrated (inputs taken as they are, in [0, 1] for the MLPs' own runs)
        self.register_buffer("input_scale", torch.zeros((), dtype=torch.float64))
        # the ADC's full-scale current, A (0: not calibrated; used only with adc_bits)
        self.register_buffer("output_scale", torch.zeros((), dtype=torch.float64))
        # (inputs [+1], outputs) of 0/1: the weights that exist (groups packed block-diagonally);
        # the others stay 0, their devices at G_off, whatever training does. None: all exist.
        if mask is not None and tuple(mask.shape) != (self.in_features + int(self.has_bias), self.out_features):
            raise InputError(f"a weight mask of shape {tuple(mask.shape)} does not fit a "
                             f"{self.in_features}x{self.out_features} layer")
        self.register_buffer("weight_mask", None if mask is None else mask.to(torch.get_default_dtype()))
        self.backend = check_backend(backend)
        self.spice_workers = 1
        self.spice_engine = "shared"  # the ngspice engine of the spice backend
        self.progress = False
        self._surrogate: list = []  # a list, so the surrogate is not registered as a submodule
        rows = self.in_features + int(self.has_bias)  # the bias row is the last
        std = 1.0 / math.sqrt(self.in_features)
        # Initialisation as in Joksas et al. 2022: double weights ~ N(0.5, 1/sqrt(fan-in)) with
        # biases 0.5 (clipped at 0); signed weights ~ N(0, 1/sqrt(fan-in)) with biases 0.
        if self.hardware.weights == "double":
            def double() -> torch.Tensor:
                w = 0.5 + std * torch.randn(rows, out_features, generator=generator)
                if self.has_bias:
                    w[-1] = 0.5
                return w.clamp_(min=0.0)
            self.w_pos = nn.Parameter(double())
            self.w_neg = nn.Parameter(double())
        else:
            w = std * torch.randn(rows, out_features, generator=generator)
            if self.has_bias:
                w[-1] = 0.0
            self.weight = nn.Parameter(w)
        self.chip: Chip | None = None
        self.t_inference: float | None = None  # s after programming at which it is read (None: at once)
        self._reads: torch.Generator | None = None  # the chip's read-noise stream

    def _load_from_state_dict(self, state_dict: dict[str, Any], prefix: str, *args: Any, **kwargs: Any) -> None:
        # run folders saved before layers had calibration buffers load as uncalibrated
        for name in ("input_scale", "output_scale"):
            state_dict.setdefault(prefix + name, torch.zeros((), dtype=torch.float64))
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    @classmethod
    def from_weights(cls, weight: torch.Tensor, bias: torch.Tensor | None, hardware: CrossbarConfig | None = None,
                     backend: str = "ideal", layer_index: int = 0) -> CrossbarLinear:
        """The crossbar twin of `nn.Linear` weights: `weight` (outputs, inputs) as in torch,
        `bias` (outputs,) or None (then the layer has no bias row)."""
        weight = weight.detach()
        if weight.ndim != 2:
            raise InputError(f"a crossbar layer takes a 2-D weight matrix, got shape {tuple(weight.shape)}")
        if not bool(torch.isfinite(weight).all()) or (bias is not None and not bool(torch.isfinite(bias).all())):
            raise InputError("the weights or biases contain NaN or inf")
        layer = cls(weight.shape[1], weight.shape[0], hardware, backend, layer_index, bias=bias is not None)
        layer.to(weight.dtype)
        rows = weight.T if bias is None else torch.cat([weight.T, bias.detach().to(weight.dtype)[None]])
        layer.load_signed_(rows)
        return layer

    @torch.no_grad()
    def load_signed_(self, rows: torch.Tensor) -> None:
        """Set the weights from signed (inputs [+1], outputs) rows, the bias row last."""
        if self.hardware.weights == "double":
            positive, negative = weight_parts(rows)
            self.w_pos.copy_(positive)
            self.w_neg.copy_(negative)
        else:
            self.weight.copy_(rows)

    # --- weights and conductances -------------------------------------------------------
    def signed_weights(self) -> torch.Tensor:
        """(inputs + 1, outputs): weights with the bias row last."""
        positive, negative = self.weight_pairs()
        return positive - negative

    def weight_pairs(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The non-negative parts (w+, w-) that the G+ and G- devices hold (a calibrated
        layer's bias row divided by its input scale)."""
        positive: torch.Tensor
        negative: torch.Tensor
        if self.hardware.weights == "double":
            positive, negative = self.w_pos, self.w_neg
        else:
            positive, negative = weight_parts(self.weight)
        if self.weight_mask is not None:
            mask = self.weight_mask.to(positive.dtype)
            positive, negative = positive * mask, negative * mask
        if self.has_bias and self.calibrated:
            scale = self.input_scale.to(positive.dtype)
            positive = torch.cat([positive[:-1], positive[-1:] / scale])
            negative = torch.cat([negative[:-1], negative[-1:] / scale])
        return positive, negative

    @property
    def calibrated(self) -> bool:
        return bool(self.input_scale > 0)

    def k_g(self) -> torch.Tensor:
        """Siemens per unit weight: the layer's largest weight lands at G_on (held constant
        within a step: the gradient does not flow through the max)."""
        positive, negative = self.weight_pairs()
        return conductance_scale(positive.detach(), negative.detach(), self.hardware.g_off, self.hardware.g_on)

    def target_conductances(self) -> torch.Tensor:
        """(inputs + 1, 2·outputs) conductances the weights are programmed to, G+ and G− interleaved."""
        positive, negative = self.weight_pairs()
        return pair_conductances(positive, negative, self.k_g(), self.hardware.g_off)

    def conductances(self) -> torch.Tensor:
        """The conductances on the current chip at its `t_inference` (targets when no chip is
        drawn, drifted with the mean exponent)."""
        return self._chip_conductances(self.t_inference)

    def _chip_conductances(self, t: float | None) -> torch.Tensor:
        g = self.target_conductances()
        if self.chip is not None and self.chip.draw is not None:
            pr, pc = self.grid.padded_shape
            padded = torch.nn.functional.pad(g, (0, pc - g.shape[1], 0, pr - g.shape[0]), value=self.hardware.g_off)
            g = self.hardware.nonidealities().apply(padded, self.hardware.g_off, self.hardware.g_on,
                                                    draw=self.chip.draw)[: g.shape[0], : g.shape[1]]
        return g * self._drift(t, g)

    def _drift(self, t: float | None, g: torch.Tensor) -> torch.Tensor | float:
        """What `t` seconds after programming do to the conductances `g`: (t/t0)^(−ν) per device."""
        draw = self.chip.draw if self.chip is not None else None
        factor = self.hardware.nonidealities().drift_factor(t, draw, g)
        if isinstance(factor, torch.Tensor) and factor.ndim == 2:  # the draw's padded grid
            factor = factor[: g.shape[0], : g.shape[1]]
        return factor

    def drift_gain(self) -> torch.Tensor | float:
        """The global drift compensation's read-out gain at `t_inference`: the summed current
        of a reference input (all rows at k_V) as programmed over the same now, ΣG(t0)/ΣG(t)
        (1 without drift or compensation). Measured without gradient, as the chip measures it."""
        nonidealities = self.hardware.nonidealities()
        t = self.t_inference
        if not self.hardware.drift_compensation or not nonidealities.drifts or t is None \
                or t <= nonidealities.drift_t0:
            return 1.0
        with torch.no_grad():
            programmed = self._chip_conductances(None)
            return programmed.sum() / (programmed * self._drift(t, programmed)).sum()

    @torch.no_grad()
    def programmed(self) -> ProgrammedLayer:
        """The layer as the current chip holds it, for the network-energy path."""
        return ProgrammedLayer(self.conductances().double().numpy(), float(self.k_g()), self.grid,
                               self.hardware.g_off, bias=self.has_bias, cell=self.padded_cell(),
                               weights_used=None if self.weight_mask is None else self.synapses)

    @torch.no_grad()
    def clamp_(self) -> None:
        """Keep double weights non-negative (call after each optimiser step)."""
        if self.hardware.weights == "double":
            self.w_pos.clamp_(min=0.0)
            self.w_neg.clamp_(min=0.0)

    def l1(self) -> torch.Tensor:
        """Σ|w| over the devices' weights (biases included): pulls conductances toward G_off."""
        positive, negative = self.weight_pairs()
        return positive.abs().sum() + negative.abs().sum()

    @property
    def synapses(self) -> int:
        """Weights held (bias row included); a packed layer's idle cells are not weights."""
        if self.weight_mask is not None:
            return int(self.weight_mask.sum())
        return (self.in_features + int(self.has_bias)) * self.out_features

    # --- chips --------------------------------------------------------------------------
    def set_chip(self, seed: int | None) -> None:
        """Draw a chip (device variation, stuck devices, programming noise, drift exponents,
        per-device model parameters, its stream of read noise) from `seed`, held until the next
        call; None: the nominal chip, without variation or read noise."""
        shape = self.grid.padded_shape
        if seed is None:
            self.chip = Chip(-1, None, self.device_model.nominal_cell_parameters(shape))
            self._reads = None
            return
        seed = layer_seed(seed, self.layer_index)
        nonidealities = self.hardware.nonidealities()
        draw = None if nonidealities.is_ideal else nonidealities.draw(shape, seed + 1)
        self.chip = Chip(seed, draw, self.device_model.cell_parameters(shape, seed=seed))
        self._reads = torch.Generator().manual_seed(seed + 2) if self.hardware.read_noise else None

    def padded_cell(self) -> dict[str, np.ndarray]:
        """Per-device model parameters of the current chip on the padded tile grid."""
        if self.chip is None:
            self.set_chip(None)
        assert self.chip is not None
        return self.chip.cell

    # --- forward ------------------------------------------------------------------------
    @property
    def label(self) -> str:
        """How messages name this layer: its module in the user's model, else its position."""
        return repr(self.module_name) if self.module_name else f"layer {self.layer_index}"

    def voltages(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim != 2 or x.shape[1] != self.in_features:
            raise InputError(f"{self.label} takes (..., {self.in_features}) inputs, got {tuple(x.shape)}")
        if self.calibrated:
            x = (x / self.input_scale.to(x.dtype)).clamp(-1.0, 1.0)
        if self.hardware.dac_bits is not None:  # the input DACs: signed levels over [-1, 1]
            x = quantised(x, torch.ones((), dtype=x.dtype), self.hardware.dac_bits)
        v: torch.Tensor = input_voltages(x, self.hardware.k_v, self.has_bias)
        return v

    def column_currents(self, x: torch.Tensor, backend: str | None = None) -> torch.Tensor:
        v = self.voltages(x)
        # torch's threads fitted to the work and the free cores (held for the backward pass)
        fit_threads(v.shape[0] * self.grid.padded_shape[0] * self.grid.padded_shape[1])
        g = self.conductances().to(v.dtype)
        currents = backends.get_backend(backend or self.backend).currents(self, v, g)
        if self._reads is not None:  # a drawn chip's reads are noisy, on every backend alike
            noise = torch.randn(currents.shape, generator=self._reads, dtype=currents.dtype)
            currents = currents + read_noise_std(v.detach(), g.detach(), self.hardware.read_noise) * noise
        return currents

    def spice(self, x: torch.Tensor) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """Every tile solved by ngspice: column currents and per-vector powers."""
        with torch.no_grad():
            v = self.voltages(x).double()
            return backends.spice_tiles(self, v, self.conductances().double())

    def read_out(self, currents: torch.Tensor) -> torch.Tensor:
        """The column currents as the ADCs report them: with `adc_bits` and a calibrated full
        scale, rounded to 2^(bits−1) − 1 signed levels and clipped (straight-through gradient)."""
        bits = self.hardware.adc_bits
        if bits is None or not bool(self.output_scale > 0):
            return currents
        return quantised(currents, self.output_scale.to(currents.dtype), bits)

    def outputs(self, currents: torch.Tensor) -> torch.Tensor:
        """Column currents (B, 2·outputs) -> layer outputs (I+ − I−)/(k_V·k_G) (times the
        input scale of a calibrated layer)."""
        y: torch.Tensor = pair_outputs(self.read_out(currents), self.hardware.k_v * self.k_g().to(currents.dtype))
        y = y * self.drift_gain()
        if self.calibrated:
            y = y * self.input_scale.to(y.dtype)
        return y

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_with(x, self.backend)

    def forward_with(self, x: torch.Tensor, backend: str) -> torch.Tensor:
        """As torch's Linear: any leading dimensions (flattened into one batch of vectors, the
        shape restored), or one unbatched vector."""
        if x.ndim == 2:
            return self.outputs(self.column_currents(x, backend))
        if x.ndim == 0 or x.shape[-1] != self.in_features:
            raise InputError(f"{self.label} takes (..., {self.in_features}) inputs, got {tuple(x.shape)}")
        flat = self.outputs(self.column_currents(x.reshape(-1, self.in_features), backend))
        return flat.reshape(*x.shape[:-1], flat.shape[-1])

    def device_power(self, x: torch.Tensor) -> torch.Tensor:
        """(B,) power in the memristors alone, Σ|V|·|I|, device model without wires."""
        v = self.voltages(x)
        g = self.conductances().to(v.dtype)
        rows, columns = g.shape
        cell = {k: torch.as_tensor(c[:rows, :columns], dtype=v.dtype) for k, c in self.padded_cell().items()}
        return backends.device_power(self.device_model, v, g, cell)

    # --- surrogate ----------------------------------------------------------------------
    def surrogate_model(self):
        if not self._surrogate:
            from ..surrogate.model import CrossbarSurrogate

            if not self.hardware.surrogate:
                raise InputError("the surrogate backend needs `surrogate = <model path>` in the crossbar settings")
            model = CrossbarSurrogate.load(self.hardware.surrogate)
            check_surrogate_fits(model.config, self.hardware, self.grid, self.signed_inputs, self.label)
            model.requires_grad_(False)
            self._surrogate.append(model)
        return self._surrogate[0]

    def extra_repr(self) -> str:
        return (f"{self.in_features}, {self.out_features}, bias={self.has_bias}, "
                f"device={self.device_model.describe()}, "
                f"tiles={self.grid.row_tiles}x{self.grid.column_tiles} of {self.grid.tile_rows}x"
                f"{self.grid.tile_columns}, backend={self.backend}")


def quantised(values: torch.Tensor, full_scale: torch.Tensor, bits: int) -> torch.Tensor:
    """`values` through a signed converter of `bits` bits: clipped to ±full_scale, rounded to
    2^(bits−1) − 1 levels a side; the gradient passes straight through (the DACs and ADCs)."""
    levels = 2 ** (bits - 1) - 1
    rounded = torch.round(values.clamp(-full_scale, full_scale) / full_scale * levels) * (full_scale / levels)
    return values + (rounded - values).detach()


def check_surrogate_fits(config: Any, hardware: CrossbarConfig, grid: TileGrid, signed: bool = False,
                         label: str = "the layer") -> None:
    """Refuse a surrogate trained for another tile, device, wiring or value range (`signed`:
    the layer's inputs take both signs, so its voltages span [−k_V, k_V])."""
    wanted = {"tile size": (grid.tile_rows, grid.tile_columns), "device": hardware.device,
              "r_word": hardware.r_word, "r_bit": hardware.r_bit}
    has = {"tile size": (config.rows, config.columns), "device": config.device,
           "r_word": config.r_word, "r_bit": config.r_bit}
    for key in wanted:
        if wanted[key] != has[key]:
            raise InputError(f"surrogate {hardware.surrogate} was trained for {key} {has[key]}, "
                             f"{label} has {wanted[key]}")
    v_min = config.v_min
    needed_low = -hardware.k_v if signed else 0.0
    if hardware.g_off < config.g_off or hardware.g_on > config.g_on or hardware.k_v > config.v_max \
            or needed_low < v_min:
        raise InputError(f"surrogate {hardware.surrogate} covers G in [{config.g_off:g}, {config.g_on:g}] S and "
                         f"V in [{v_min:g}, {config.v_max:g}] V; {label} uses [{hardware.g_off:g}, "
                         f"{hardware.g_on:g}] S, V in [{needed_low:g}, {hardware.k_v:g}] V"
                         + (" (its inputs take both signs: it needs a surrogate trained on signed voltages)"
                            if signed and v_min >= 0 else ""))
