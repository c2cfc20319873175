"""Fast evaluations of model formulas where the generic path is the bottleneck.

Each one computes exactly what `Device.current` computes (tests hold them equal to float
precision). Torch tensors get the formula's analytic gradient; numpy arrays (the surrogate's
inference path) may pass `scratch`, a function (name, shape, dtype) -> array giving buffers
kept between calls: on this kind of machine a page fault on freshly allocated memory costs
microseconds, and fresh temporaries cost more than the arithmetic.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
from torch.autograd.function import once_differentiable

Scratch = Callable[[str, tuple, np.dtype], np.ndarray]


def allocate(name: str, shape: tuple, dtype: np.dtype) -> np.ndarray:
    """The `scratch` that keeps nothing: a fresh array per call."""
    return np.empty(shape, dtype)


def _signed_power(x: np.ndarray, v_ref: float, exponent: float, out: np.ndarray) -> np.ndarray:
    """sign(x)·v_ref·(|x|/v_ref)^exponent into `out`, as exp2(exponent·log2(|x|/v_ref)):
    numpy's SIMD log2 and exp2 take ~1/5 of the time of torch's pow here. Overwrites x."""
    np.abs(x, out=out)
    out *= 1.0 / v_ref
    with np.errstate(divide="ignore"):  # log2(0) = -inf, and exp2(-inf) = 0: the right value at 0 V
        np.log2(out, out=out)
    out *= exponent
    np.exp2(out, out=out)
    out *= v_ref
    # x's sign bit into out (>= 0) with integer SIMD; numpy's copysign is not vectorised and
    # cost as much as everything else here
    integer = np.int32 if out.dtype == np.float32 else np.int64
    x_bits: np.ndarray = x.view(integer)
    x_bits &= np.array(1 << (8 * out.itemsize - 1), dtype=np.uint64).astype(integer)
    out_bits: np.ndarray = out.view(integer)
    out_bits |= x_bits
    return out


def _points(values: np.ndarray, step: float, out: np.ndarray) -> np.ndarray:
    """(v, v + step, v - step) stacked into `out`."""
    out[0] = values
    np.add(values, step, out=out[1])
    np.subtract(values, step, out=out[2])
    return out


def _response(values: np.ndarray, step: float, v_ref: float, exponent: float, scratch: Scratch = allocate,
              currents: np.ndarray | None = None):
    """φ at (v, v + step, v - step) and the secant slope, as numpy arrays."""
    shape, dtype = (3, *values.shape), values.dtype
    points = _points(values, step, scratch("points", shape, dtype))
    if currents is None:
        currents = scratch("currents", shape, dtype)
    currents = _signed_power(points, v_ref, exponent, currents)
    slope = np.subtract(currents[1], currents[2], out=scratch("slope", values.shape, dtype))
    slope *= 1.0 / (2 * step)
    return currents, slope


def _derivative(points: torch.Tensor, currents: torch.Tensor, exponent: float) -> torch.Tensor:
    """φ'(x) = exponent·φ(x)/x; at 0 it is 0 for exponent > 1 and 1 for a linear device.
    Differentiable itself (x = 0 is kept out of the division, so no NaN leaks into a second
    derivative)."""
    nonzero = points != 0
    at_zero = torch.tensor(1.0 if exponent == 1 else 0.0, dtype=points.dtype)
    return torch.where(nonzero, exponent * currents / torch.where(nonzero, points, 1.0), at_zero)


class _PowerLaw(torch.autograd.Function):
    @staticmethod
    def forward(ctx, v: torch.Tensor, v_ref: float, exponent: float):
        values = v.detach().numpy()
        currents = torch.from_numpy(_signed_power(values.copy(), v_ref, exponent, np.empty_like(values)))
        ctx.exponent = exponent
        if ctx.needs_input_grad[0]:
            # v and the output itself: the backward below is then differentiable again (the
            # first-order model's tangent slope takes φ' by autograd and trains through it)
            ctx.save_for_backward(v, currents)
        return currents

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        v, currents = ctx.saved_tensors
        return grad * _derivative(v, currents, ctx.exponent), None, None


class _PowerLawResponse(torch.autograd.Function):
    @staticmethod
    def forward(ctx, v: torch.Tensor, step: float, v_ref: float, exponent: float):
        values = v.detach().numpy()
        currents = np.empty((3, *values.shape), values.dtype)  # fresh: saved, and φ is returned from it
        currents, slope = _response(values, step, v_ref, exponent, currents=currents)
        ctx.constants = (step, exponent)
        saved = torch.from_numpy(currents)
        if ctx.needs_input_grad[0]:
            ctx.save_for_backward(v.detach(), saved)
        # φ is a view of the saved currents: changing it in place would be caught by autograd
        return saved[0], torch.from_numpy(slope)

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_phi: torch.Tensor, grad_slope: torch.Tensor):
        values, currents = ctx.saved_tensors
        step, exponent = ctx.constants
        points = torch.stack((values, values + step, values - step))
        derivative = _derivative(points, currents, exponent)
        grad = grad_phi * derivative[0] + grad_slope * (derivative[1] - derivative[2]) / (2 * step)
        return grad, None, None, None


def power_law(v, v_ref: float, exponent: float):
    """φ(v) = sign(v)·v_ref·(|v|/v_ref)^exponent, for a numpy array or a torch tensor
    (differentiable twice in v)."""
    if isinstance(v, np.ndarray):
        return _signed_power(v.copy(), v_ref, exponent, np.empty_like(v))
    return _PowerLaw.apply(v, v_ref, exponent)


def power_law_response(v, step: float, v_ref: float, exponent: float, scratch: Scratch | None = None):
    """φ(v) and its secant slope (φ(v + step) - φ(v - step))/(2·step), for a torch tensor
    (differentiable once in v) or a numpy array (into `scratch` buffers if given)."""
    if isinstance(v, np.ndarray):
        currents, slope = _response(v, step, v_ref, exponent, scratch or allocate)
        return currents[0], slope
    return _PowerLawResponse.apply(v, step, v_ref, exponent)
