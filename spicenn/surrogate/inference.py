"""The first-order surrogate's inference path: `physics.first_order` evaluated in numpy with
buffers kept between calls.

Same arithmetic as the torch function (tests hold the two equal to float precision), for
calls that need no gradient. Why a second path: at the batches a network layer sends (tens
of vectors per tile) a call of the torch function is ~25 small operations, and on this kind
of machine each costs more in dispatch and in page faults on freshly allocated buffers than
in arithmetic. Here each step is one numpy ufunc or matmul writing into a buffer reused by
the next call of the same shapes, and the whole call costs a few matmuls (BENCHMARKS.md).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping

import numpy as np

from ..devices import Device
from ..devices.base import uniform_cell
from .physics import resum


class FirstOrderInference:
    """Callable (voltages (..., B, M), conductances (..., M, N), scales (1 + R)) -> currents
    (..., B, N), numpy in and out; the leading dimensions broadcast like a matmul's."""

    def __init__(self, device: Device, r_word: float, r_bit: float, modes: np.ndarray, word_kernel: np.ndarray,
                 slope_step: float, dtype: np.dtype):
        self.device, self.r_word, self.r_bit, self.slope_step = device, r_word, r_bit, slope_step
        self.dtype = np.dtype(dtype)
        self.modes = np.ascontiguousarray(modes, dtype=self.dtype)  # (M, R)
        self.word_kernel = np.ascontiguousarray(word_kernel, dtype=self.dtype)  # (N, N)
        # one set of buffers per thread: a model may serve several threads at once
        self._local = threading.local()

    def __getstate__(self) -> dict:
        # the buffers are a cache: a copied or pickled model (copy.deepcopy of a network, a
        # worker process) starts without them
        state = dict(self.__dict__)
        del state["_local"]
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._local = threading.local()

    def _buffer(self, name: str, shape: tuple[int, ...], dtype: np.dtype | None = None) -> np.ndarray:
        """This thread's buffer `name`, kept between calls while the shape stays the same."""
        buffers = self._local.__dict__.setdefault("buffers", {})
        dtype = np.dtype(dtype or self.dtype)
        array = buffers.get(name)
        if array is None or array.shape != shape or array.dtype != dtype:
            array = buffers[name] = np.empty(shape, dtype)
        return array

    def _device_buffer(self, name: str, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
        return self._buffer("device." + name, shape, dtype)

    def __call__(self, voltages: np.ndarray, conductances: np.ndarray, scales: np.ndarray,
                 cell: Mapping[str, float | np.ndarray] | None = None, out_dtype: np.dtype | None = None,
                 used: tuple[int, int] | None = None) -> np.ndarray:
        """`cell`: the devices' parameters, floats (all alike) or arrays shaped like the
        conductances (then the device term is the model's series, `Device.row_terms`);
        `used` = (m, n): voltages of the first m rows only, currents of the first n columns
        (`physics.first_order`)."""
        cell = dict(cell or {})
        tiles = conductances.shape[:-2]
        count = self.modes.shape[1]
        # per tile: G, the scaled word-line drop kernel G∘(G·C) (over the whole tile), the modes
        # folded into G (u_r·G side by side) and scaled (what `first_order` builds, scales folded in)
        whole = self._buffer("g", conductances.shape)
        np.copyto(whole, conductances, casting="same_kind")
        word_drop = np.matmul(whole, self.word_kernel, out=self._buffer("word_drop", whole.shape))
        word_drop *= whole
        word_drop *= self.dtype.type(self.r_word * scales[0])
        g, modes = whole, self.modes
        if used is not None:
            m, n = used
            g, word_drop, modes = whole[..., :m, :n], word_drop[..., :m, :n], self.modes[:m]
            cell = {key: value if isinstance(value, float) else value[..., :m, :n] for key, value in cell.items()}
        rows, columns = g.shape[-2:]
        by_mode = self._buffer("by_mode", (*tiles, rows, count * columns))
        for mode in range(count):
            np.multiply(g, modes[:, mode : mode + 1], out=by_mode[..., mode * columns : (mode + 1) * columns])
        mode_scales = np.repeat((self.r_bit * np.asarray(scales[1:])).astype(self.dtype), columns)
        by_mode_scaled = np.multiply(by_mode, mode_scales, out=self._buffer("by_mode_scaled", by_mode.shape))
        # per vector: four matmuls and a few element-wise steps on (..., B, N)
        v = self._buffer("v", voltages.shape)
        np.copyto(v, voltages, casting="same_kind")
        phi, slope = self.device.response(v, self.slope_step, uniform_cell(cell) or {}, np, self._device_buffer)
        shape = (*np.broadcast_shapes(v.shape[:-2], tiles), v.shape[-2])
        # the device term: φ @ G where the devices are alike, else the model's series
        terms = self.device.row_terms(v, g, cell, xp=np, phi=phi, scratch=self._device_buffer)
        assert terms is not None, "the first-order surrogate refuses devices without separable terms"
        features, weights = terms
        device_only = np.matmul(features, weights, out=self._buffer("device_only", (*shape, columns)))
        phi_projected = np.matmul(phi, by_mode, out=self._buffer("phi_projected", (*shape, count * columns)))
        slope_projected = np.matmul(slope, by_mode_scaled, out=self._buffer("slope_projected", phi_projected.shape))
        if rows < whole.shape[-2]:
            # the idle rows at 0 V carry no current of their own but see the bit-line drop
            # (back-biased): their slope at 0 V against their modes' conductance sums
            _, slope_at_zero = self.device.response(np.zeros(1, self.dtype), self.slope_step,
                                                    uniform_cell(cell) or {}, np)
            idle = np.matmul(self.modes[rows:].T, whole[..., rows:, :columns])  # (..., R, n)
            idle = idle.reshape(*tiles, 1, count * columns) * mode_scales
            slope_projected += slope_at_zero[0] * idle
        slope *= phi
        loss = np.matmul(slope, word_drop, out=self._buffer("loss", device_only.shape))
        slope_projected *= phi_projected
        if count == 1:
            loss += slope_projected
        else:
            loss += slope_projected.reshape(*shape, count, columns).sum(-2)
        out = resum(device_only, loss, np)
        return out if out_dtype is None else out.astype(out_dtype, copy=False)
