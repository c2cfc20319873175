"""Damped relaxation of the crossbar's DC equations: a fixed number of sweeps, differentiable.

The same circuit as the Newton solver (`solver.py`), solved another way. Given the device
currents I (..., B, M, N), the lines are ladders whose node voltages follow exactly from
cumulative sums: the word-line segment before cell (i, j) carries sum_{l >= j} I[i, l], so
V_word(i, j) = V_i - r_source·S(i, 0) - r_word·sum_{k <= j} S(i, k); the bit-line segment below
cell (i, j) carries sum_{l <= i} I[l, j], so V_bit(i, j) = r_bit·sum_{k >= i} that.
Alternating "currents from voltages" (the device model) and "voltages from currents" (the
ladders), damped, converges to the Newton solver's solution where the lines load the devices
weakly enough (tests/test_physics.py holds the two equal). It is cheap per sweep, batches over
tiles and vectors in the layout (..., B, M, N), and its damping schedule can be learnt: the
physics half of the relaxation surrogate (`spicenn.surrogate.physics`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch

from ..devices import Device


def relax(device: Device, voltages: torch.Tensor, conductances: torch.Tensor, r_word: float, r_bit: float,
          r_source: float = 0.0, iterations: int = 30, damping: float | Sequence | torch.Tensor = 0.5,
          cell: Mapping[str, Any] | None = None) -> torch.Tensor:
    """Output currents (..., B, N) for voltages (..., B, M) and conductances (..., M, N).

    Leading dimensions batch tiles. `damping` in (0, 1] mixes each new voltage estimate into
    the old one; smaller is slower but stable for more strongly loaded lines. It may also be
    one value per iteration (a tensor: the trained surrogate learns that schedule).
    """
    if isinstance(damping, (int, float)):
        damping = [float(damping)] * iterations
    g = conductances.unsqueeze(-3)  # (..., 1, M, N)
    v_in = voltages.unsqueeze(-1)  # (..., B, M, 1)
    word = v_in.expand(*voltages.shape, conductances.shape[-1])
    bit = torch.zeros_like(word)
    # per-device parameters shaped like the conductances broadcast like them over vectors
    cell = {key: value.unsqueeze(-3) if value.ndim > 2 else value for key, value in (cell or {}).items()}
    for step in range(iterations):
        current = device.current(word - bit, g, torch, cell)
        # suffix sums as total - prefix sum + term: no flipped copies of the (B, M, N) tensors
        word_segment = current.sum(-1, keepdim=True) - torch.cumsum(current, -1) + current
        new_word = v_in - r_source * word_segment[..., :1] - r_word * torch.cumsum(word_segment, -1)
        bit_segment = torch.cumsum(current, -2)
        new_bit = r_bit * (bit_segment.sum(-2, keepdim=True) - torch.cumsum(bit_segment, -2) + bit_segment)
        word = word + damping[step] * (new_word - word)
        bit = bit + damping[step] * (new_bit - bit)
    return device.current(word - bit, g, torch, cell).sum(-2)
