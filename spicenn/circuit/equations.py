"""The DC equations of the circuit spicenn writes as a netlist, as batched tensors.

Unknowns, laid out (M, N, B) — row i, column j, input vector b — so that a step along a
word line (axis 1) or a bit line (axis 0) touches contiguous runs of the input vectors:

* word node voltages W: row i's line, driven at its left end by V_i through r_source + r_word
  (the driver node has no other branch, so the two are one series conductance), with r_word
  between neighbouring cells. With r_word = 0 the row is one node ("node": W has one column)
  or, with r_source = 0 too, the driver itself ("fixed": no unknowns).
* bit node voltages B: column j's line from row 0 to M-1, r_bit between cells and one more
  r_bit to the sense node at 0 V. With r_bit = 0 every bit node is at 0 V ("fixed").

KCL residuals, currents leaving each node: F_W = wires + I(W - B), F_B = wires - I(W - B),
with the device current I from the device model (numpy and torch from one formula). The
Jacobian is [[A, -D], [-D, C]] with D the devices' slopes dI/dV, A = word lines + D and
C = bit lines + D: symmetric, and positive definite for the increasing I-V curves here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from ..crossbar.spec import Crossbar
from ..devices import Device
from .tridiagonal import Factored, factor


@dataclass
class Lines:
    """Conductances of the wires of one crossbar (siemens; 0 where a resistance is 0)."""

    rows: int
    columns: int
    word: str  # "ladder" | "node" | "fixed"
    bit: str  # "ladder" | "fixed"
    g_word: float  # between neighbouring word nodes
    g_drive: float  # from the driver's ideal source into the row's first node (series r_source + r_word)
    g_bit: float  # between neighbouring bit nodes, and from the last one to the sense node

    @classmethod
    def of(cls, crossbar: Crossbar) -> Lines:
        return cls.with_resistances(crossbar.rows, crossbar.columns, crossbar.r_word, crossbar.r_bit,
                                    crossbar.r_source)

    @classmethod
    def with_resistances(cls, rows: int, columns: int, r_word: float, r_bit: float, r_source: float = 0.0) -> Lines:
        if r_word > 0:
            word, g_drive = "ladder", 1.0 / (r_word + r_source)
        elif r_source > 0:
            word, g_drive = "node", 1.0 / r_source
        else:
            word, g_drive = "fixed", 0.0
        return cls(rows, columns, word, "ladder" if r_bit > 0 else "fixed",
                   1.0 / r_word if r_word > 0 else 0.0, g_drive, 1.0 / r_bit if r_bit > 0 else 0.0)

    # --- the wires' currents leaving each node ------------------------------------------
    def word_wires(self, w: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        """(M, N or 1, B) currents leaving each word node through wires, for drivers v (M, 1, B)."""
        out = torch.zeros_like(w)
        out[:, :1] += self.g_drive * (w[:, :1] - v)
        if self.word == "ladder" and self.columns > 1:
            segment = self.g_word * (w[:, 1:] - w[:, :-1])  # from node j+1 into node j
            out[:, :-1] -= segment
            out[:, 1:] += segment
        return out

    def bit_wires(self, b: torch.Tensor, ends: torch.Tensor | None = None) -> torch.Tensor:
        """(M, N, B) currents leaving each bit node through wires (the last into its column's
        end: the sense node at 0 V, or a write driver at `ends` (1, N, B))."""
        out = torch.zeros_like(b)
        if self.rows > 1:
            segment = self.g_bit * (b[1:] - b[:-1])
            out[:-1] -= segment
            out[1:] += segment
        out[-1] += self.g_bit * (b[-1] if ends is None else b[-1] - ends[0])
        return out

    # --- the diagonal blocks, factored ---------------------------------------------------
    def word_block(self, slopes: torch.Tensor) -> WordBlock:
        """A = word wires + D, for the word unknowns' layout."""
        if self.word == "node":
            return WordBlock(self, None, self.g_drive + slopes.sum(1, keepdim=True))
        wire = torch.full((self.columns,), 2 * self.g_word, dtype=slopes.dtype, device=slopes.device)
        wire[0] = self.g_drive + (self.g_word if self.columns > 1 else 0.0)
        if self.columns > 1:
            wire[-1] = self.g_word
        # word lines along the first axis of a transposed copy: a numpy step over (M, B) slices
        # of the (M, N, B) layout costs 4x one over a contiguous block (measured)
        diagonal = (slopes + wire[None, :, None]).transpose(0, 1).contiguous()
        return WordBlock(self, factor(diagonal, self.g_word, axis=0), None)

    def bit_block(self, slopes: torch.Tensor) -> Factored:
        """C = bit wires + D, factored along the bit lines."""
        wire = torch.full((self.rows,), 2 * self.g_bit, dtype=slopes.dtype, device=slopes.device)
        wire[0] = self.g_bit  # the top node has one neighbour (or, alone, only its sense node)
        return factor(slopes + wire[:, None, None], self.g_bit, axis=0)


@dataclass
class WordBlock:
    """A^{-1} for the word unknowns: Thomas along the rows' lines, or one node per row."""

    lines: Lines
    factored: Factored | None
    node_diagonal: torch.Tensor | None

    def solve(self, r: torch.Tensor) -> torch.Tensor:
        if self.node_diagonal is not None:
            return r / self.node_diagonal
        assert self.factored is not None
        return self.factored.solve(r.transpose(0, 1).contiguous()).transpose(0, 1)

    def gather(self, bit_space: torch.Tensor) -> torch.Tensor:
        """A bit-node quantity (M, N, B) onto the word unknowns (a row node sums its cells)."""
        return bit_space.sum(1, keepdim=True) if self.lines.word == "node" else bit_space


class Devices:
    """Device currents and slopes for (M, N, B) voltages across the cells.

    Conductances and per-device parameters are (M, N) — one crossbar for every input vector —
    or (M, N, B), one crossbar per input vector: tiles of a layer solved as one batch."""

    def __init__(self, device: Device, conductances: torch.Tensor, cell: Mapping[str, Any]):
        self.device = device
        self.g = _per_vector(conductances)
        self.cell = {key: _per_vector(torch.as_tensor(np.asarray(value) if not isinstance(value, torch.Tensor)
                                                      else value, dtype=conductances.dtype, device=conductances.device))
                     for key, value in cell.items()}

    def current(self, across: torch.Tensor) -> torch.Tensor:
        result: torch.Tensor = self.device.current(across, self.g, torch, self.cell)
        return result

    def current_and_slope(self, across: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """I and dI/dV (`Device.current_and_slope`)."""
        current, slope = self.device.current_and_slope(across, self.g, self.cell)
        return current, slope


def _per_vector(array: torch.Tensor) -> torch.Tensor:
    """(M, N) -> (M, N, 1), broadcast over the input vectors; (M, N, B) as it is."""
    return array[:, :, None] if array.ndim == 2 else array
