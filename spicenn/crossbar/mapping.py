"""Signed weights <-> differential conductance pairs, inputs -> voltages, currents -> outputs.

A layer y = x·W + b (W: inputs x outputs) maps onto a crossbar with one row per input (plus
a bias row driven at k_V) and two columns per output, G+ and G-, interleaved:
column 2j carries G+ of output j, column 2j+1 its G-. Each weight is a pair of non-negative
parts (w+, w-): for signed weights w+ = max(w, 0), w- = max(-w, 0); "double weights" train
both parts directly. With k_G = (G_on - G_off)/max(w+, w-), G± = G_off + k_G·w±, so the ideal
output is (I_2j - I_2j+1)/(k_G·k_V) = x·W + b.

The functions below are the one implementation of that mapping: each body serves numpy
arrays and torch tensors alike (torch keeps the gradient), so the crossbar tools, the
crossbar layers and on-chip learning share it. An all-zero layer takes k_G = G_on - G_off,
as if its largest weight were 1: every device sits at G_off and the outputs are 0.

>>> import numpy as np
>>> m = DifferentialMapping.fit(np.array([[1.0, -0.5]]), g_off=1e-6, g_on=1e-4)
>>> m.conductances(np.array([[1.0, -0.5]]))
array([[1.00e-04, 1.00e-06, 1.00e-06, 5.05e-05]])
>>> print(f"{m.k_g:.3g} S per unit weight")
9.9e-05 S per unit weight
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..arrays import namespace
from ..checks import finite_array, finite_number
from ..errors import InputError


def weight_parts(weights: Any) -> tuple[Any, Any]:
    """Signed weights -> their non-negative parts (w+, w-), w = w+ - w-."""
    return weights.clip(min=0.0), (-weights).clip(min=0.0)


def conductance_scale(positive: Any, negative: Any, g_off: float, g_on: float) -> Any:
    """k_G, siemens per unit weight: the largest weight part lands at G_on; an all-zero layer
    gets G_on - G_off. numpy in: a float; torch in: a 0-d tensor (detach the parts to keep the
    gradient out of it)."""
    xp = namespace(positive, negative)
    largest = xp.maximum(positive.max(), negative.max())
    span = g_on - g_off
    if xp is np:
        return span / float(largest) if largest > 0 else span
    return span / xp.where(largest > 0, largest, xp.ones_like(largest))


def interleave(plus: Any, minus: Any) -> Any:
    """(R, C) and (R, C) -> (R, 2C): column 2j from `plus`, column 2j+1 from `minus`."""
    xp = namespace(plus, minus)
    return xp.stack([plus, minus], -1).reshape(plus.shape[0], -1)


def pair_conductances(positive: Any, negative: Any, k_g: Any, g_off: float) -> Any:
    """(R, outputs) weight parts -> (R, 2·outputs) conductances G± = G_off + k_G·w±, interleaved."""
    return g_off + k_g * interleave(positive, negative)


def pair_outputs(currents: Any, scale: Any) -> Any:
    """(..., 2·outputs) column currents -> (..., outputs) outputs (I+ - I-)/scale."""
    return (currents[..., 0::2] - currents[..., 1::2]) / scale


def input_voltages(inputs: Any, k_v: float, bias: bool = True) -> Any:
    """(B, inputs) -> (B, inputs [+1]) voltages V = k_V·x, with the bias row last at k_V."""
    v = k_v * inputs
    if not bias:
        return v
    xp = namespace(inputs)
    return xp.concatenate([v, xp.ones_like(v[:, :1]) * k_v], 1)


@dataclass(frozen=True)
class DifferentialMapping:
    """The mapping of one signed weight matrix, for numpy users of a single crossbar."""

    g_off: float
    g_on: float
    k_v: float = 0.5  # volts per unit input; the bias row is driven at k_v
    k_g: float = 1.0  # siemens per unit weight (set by `fit`)
    bias: bool = True

    def __post_init__(self) -> None:
        finite_number("g_off", self.g_off, minimum=0.0, strict_minimum=True)
        finite_number("g_on", self.g_on, minimum=self.g_off, strict_minimum=True)
        finite_number("k_v", self.k_v, minimum=0.0, strict_minimum=True)
        finite_number("k_g", self.k_g, minimum=0.0, strict_minimum=True)

    @classmethod
    def fit(cls, weights: Any, g_off: float, g_on: float, k_v: float = 0.5, biases: Any = None) -> DifferentialMapping:
        """The mapping whose largest |weight| (biases included) lands at G_on."""
        k_g = conductance_scale(*weight_parts(_stack(weights, biases)), g_off, g_on)
        return cls(g_off=g_off, g_on=g_on, k_v=k_v, k_g=k_g, bias=biases is not None)

    def conductances(self, weights: Any, biases: Any = None) -> np.ndarray:
        """(inputs [+1], 2·outputs) conductances for weights (inputs, outputs) and biases (outputs,)."""
        if (biases is not None) != self.bias:
            raise InputError("this mapping was made " + ("with" if self.bias else "without") + " a bias row")
        w = _stack(weights, biases)
        g: np.ndarray = pair_conductances(*weight_parts(w), self.k_g, self.g_off)
        if np.max(g) > self.g_on * (1 + 1e-12):
            raise InputError(f"weights exceed the mapping's range: largest |w| is {np.max(np.abs(w)):g}, "
                             f"at most {(self.g_on - self.g_off) / self.k_g:g} fits")
        return g

    def weights(self, conductances: Any) -> tuple[np.ndarray, np.ndarray | None]:
        """The inverse of `conductances`: (weights, biases or None)."""
        w: np.ndarray = pair_outputs(finite_array("conductances", conductances, 2), self.k_g)
        return (w[:-1], w[-1]) if self.bias else (w, None)

    def voltages(self, inputs: Any) -> np.ndarray:
        """(B, inputs) -> (B, inputs [+1]) voltages, V = k_V·x, with the bias row at k_V."""
        x = finite_array("inputs", inputs, (1, 2))
        v: np.ndarray = input_voltages(x[None, :] if x.ndim == 1 else x, self.k_v, self.bias)
        return v

    def outputs(self, currents: Any) -> np.ndarray:
        """(B, 2·outputs) column currents -> (B, outputs) layer outputs."""
        i = finite_array("currents", currents, 2)
        if i.shape[1] % 2:
            raise InputError(f"differential currents need an even number of columns, got {i.shape[1]}")
        y: np.ndarray = pair_outputs(i, self.k_g * self.k_v)
        return y


def _stack(weights: Any, biases: Any) -> np.ndarray:
    w = finite_array("weights", weights, 2)
    if biases is None:
        return w
    b = finite_array("biases", biases, 1)
    if b.shape[0] != w.shape[1]:
        raise InputError(f"biases have {b.shape[0]} entries but weights have {w.shape[1]} outputs")
    return np.vstack([w, b[None, :]])
