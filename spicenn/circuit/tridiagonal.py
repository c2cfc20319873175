"""Batched tridiagonal systems with a constant off-diagonal: the equations of one wire.

A line of L nodes joined by segments of conductance g, with node k also tied to its own
terminal by a conductance that varies (its devices and boundary), has the matrix
d_k x_k - g x_{k-1} - g x_{k+1} = r_k. The Thomas algorithm factors it once (a pass along the
line) and then solves in two passes; every pass steps along one axis of the arrays and works
on all other axes (the other lines, the input vectors) at once. With the input vectors on
the last axis, a step's slice is made of contiguous runs whichever axis the lines follow.

The passes are sequential, a few small operations per node, so the cost of a call matters:
on the CPU they run on numpy views of the tensors' memory (a numpy call costs ~1.5 µs, a
torch call ~10 µs on these slices, measured); elsewhere (CUDA) on the tensors themselves.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

# CPU tensors are swept through numpy views (False: through torch, as on a GPU: the tests hold
# the two equal, so the GPU's code path is checked on machines without one)
NUMPY_SWEEPS = True


@dataclass
class Factored:
    """The factors of d_k x_k - g (x_{k-1} + x_{k+1}) = r_k along `axis`."""

    inverse_pivots: torch.Tensor  # 1/m_k, m_0 = d_0, m_k = d_k - g²/m_{k-1}
    back: torch.Tensor  # g/m_k: x_k = y_k + (g/m_k)·x_{k+1}
    g: float
    axis: int

    def solve(self, r: torch.Tensor) -> torch.Tensor:
        """x for right-hand sides r shaped like the diagonal (a new tensor)."""
        y = torch.empty_like(r)
        if y.device.type == "cpu" and NUMPY_SWEEPS:
            _solve_numpy(_lines(r.contiguous().numpy(), self.axis), _lines(y.numpy(), self.axis),
                         _lines(self.inverse_pivots.numpy(), self.axis), _lines(self.back.numpy(), self.axis), self.g)
            return y
        axis, g = self.axis, self.g
        y_, r_ = y.unbind(axis), r.unbind(axis)
        pivots, back = self.inverse_pivots.unbind(axis), self.back.unbind(axis)
        torch.mul(r_[0], pivots[0], out=y_[0])
        for k in range(1, len(y_)):
            torch.add(r_[k], y_[k - 1], alpha=g, out=y_[k])
            y_[k].mul_(pivots[k])
        for k in range(len(y_) - 2, -1, -1):
            y_[k].addcmul_(back[k], y_[k + 1])
        return y


def _lines(array: np.ndarray, axis: int) -> list[np.ndarray]:
    """The slices of `array` along `axis` (views)."""
    return [array[k] for k in range(array.shape[0])] if axis == 0 else \
        [array[:, k] for k in range(array.shape[1])]


def _solve_numpy(r: list[np.ndarray], y: list[np.ndarray], pivots: list[np.ndarray], back: list[np.ndarray],
                 g: float) -> None:
    np.multiply(r[0], pivots[0], out=y[0])
    scratch = np.empty_like(y[0])
    for k in range(1, len(y)):
        np.multiply(y[k - 1], g, out=scratch)
        np.add(r[k], scratch, out=y[k])
        y[k] *= pivots[k]
    for k in range(len(y) - 2, -1, -1):
        np.multiply(back[k], y[k + 1], out=scratch)
        y[k] += scratch


def factor(diagonal: torch.Tensor, g: float, axis: int) -> Factored:
    """Thomas factors of the matrix with `diagonal` and off-diagonal -g along `axis`. The
    matrices here are diagonally dominant (each node's diagonal is the sum of its
    conductances), so the factorisation needs no pivoting."""
    inverse = torch.empty_like(diagonal)
    g2 = g * g
    if diagonal.device.type == "cpu" and NUMPY_SWEEPS:
        d_, inverse_ = _lines(diagonal.contiguous().numpy(), axis), _lines(inverse.numpy(), axis)
        np.reciprocal(d_[0], out=inverse_[0])
        for k in range(1, len(d_)):
            # 1/m_k with m_k = d_k - g²/m_{k-1}
            np.multiply(inverse_[k - 1], -g2, out=inverse_[k])
            inverse_[k] += d_[k]
            np.reciprocal(inverse_[k], out=inverse_[k])
        return Factored(inverse, inverse * g, g, axis)
    dt_, it_ = diagonal.unbind(axis), inverse.unbind(axis)
    torch.reciprocal(dt_[0], out=it_[0])
    for k in range(1, len(dt_)):
        torch.add(dt_[k], it_[k - 1], alpha=-g2, out=it_[k])
        it_[k].reciprocal_()
    return Factored(inverse, inverse * g, g, axis)
