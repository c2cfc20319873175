"""Signed weights <-> differential conductance pairs, inputs -> voltages, currents -> outputs.

A layer y = x·W + b (W: inputs x outputs) maps onto a crossbar with one row per input (plus
a bias row driven at k_V) and two columns per output, G+ and G-, interleaved:
column 2j carries G+ of output j, column 2j+1 its G-. With k_G = (G_on - G_off)/max|W|,
G± = G_off + k_G·max(±W, 0), so the ideal output is (I_2j - I_2j+1)/(k_G·k_V) = x·W + b.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..checks import finite_array, finite_number
from ..errors import InputError


@dataclass(frozen=True)
class DifferentialMapping:
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
    def fit(cls, weights: Any, g_off: float, g_on: float, k_v: float = 0.5, biases: Any = None) -> "DifferentialMapping":
        """The mapping whose largest |weight| (biases included) lands at G_on."""
        w = _stack(weights, biases)
        largest = float(np.max(np.abs(w)))
        k_g = (g_on - g_off) / largest if largest > 0 else g_on - g_off
        return cls(g_off=g_off, g_on=g_on, k_v=k_v, k_g=k_g, bias=biases is not None)

    def conductances(self, weights: Any, biases: Any = None) -> np.ndarray:
        """(inputs [+1], 2·outputs) conductances for weights (inputs, outputs) and biases (outputs,)."""
        if (biases is not None) != self.bias:
            raise InputError("this mapping was made " + ("with" if self.bias else "without") + " a bias row")
        w = _stack(weights, biases)
        g = np.empty((w.shape[0], 2 * w.shape[1]))
        g[:, 0::2] = self.g_off + self.k_g * np.maximum(w, 0.0)
        g[:, 1::2] = self.g_off + self.k_g * np.maximum(-w, 0.0)
        if np.max(g) > self.g_on * (1 + 1e-12):
            raise InputError(f"weights exceed the mapping's range: largest |w| is {np.max(np.abs(w)):g}, "
                             f"at most {(self.g_on - self.g_off) / self.k_g:g} fits")
        return g

    def weights(self, conductances: Any) -> tuple[np.ndarray, np.ndarray | None]:
        """The inverse of `conductances`: (weights, biases or None)."""
        g = finite_array("conductances", conductances, 2)
        w = (g[:, 0::2] - g[:, 1::2]) / self.k_g
        return (w[:-1], w[-1]) if self.bias else (w, None)

    def voltages(self, inputs: Any) -> np.ndarray:
        """(B, inputs) -> (B, inputs [+1]) voltages, V = k_V·x, with the bias row at k_V."""
        x = finite_array("inputs", inputs, (1, 2))
        x = x[None, :] if x.ndim == 1 else x
        v = self.k_v * x
        if self.bias:
            v = np.concatenate([v, np.full((x.shape[0], 1), self.k_v)], axis=1)
        return v

    def outputs(self, currents: Any) -> np.ndarray:
        """(B, 2·outputs) column currents -> (B, outputs) layer outputs."""
        i = finite_array("currents", currents, 2)
        if i.shape[1] % 2:
            raise InputError(f"differential currents need an even number of columns, got {i.shape[1]}")
        return (i[:, 0::2] - i[:, 1::2]) / (self.k_g * self.k_v)


def _stack(weights: Any, biases: Any) -> np.ndarray:
    w = finite_array("weights", weights, 2)
    if biases is None:
        return w
    b = finite_array("biases", biases, 1)
    if b.shape[0] != w.shape[1]:
        raise InputError(f"biases have {b.shape[0]} entries but weights have {w.shape[1]} outputs")
    return np.vstack([w, b[None, :]])
