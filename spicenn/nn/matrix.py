"""`AnalogMatrix`: one weight matrix on a crossbar, with a NumPy face.

    >>> import numpy as np, spicenn
    >>> W = np.array([[1.0, -2.0, 0.5], [0.0, 1.0, -1.0]])
    >>> core = spicenn.AnalogMatrix(W, backend="ideal")
    >>> np.allclose(core @ np.array([0.2, 0.1, -0.4]), W @ np.array([0.2, 0.1, -0.4]))
    True

`W` (outputs, inputs) becomes differential pairs of devices (`CrossbarConfig`: device,
range, tiles, wires, chips); `core @ x` takes a vector (inputs,) or a batch (inputs, B) as
NumPy does, drives it as voltages (the largest |x| of the call, or `input_range`, at the
read voltage k_V) and reads the column currents back as W @ x through the chosen backend.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from ..crossbar.config import CrossbarConfig
from ..errors import InputError
from .layer import CrossbarLinear


class AnalogMatrix:
    """A weight matrix W (outputs, inputs) programmed onto crossbar tiles, read as `core @ x`.

    `hardware`: a `CrossbarConfig` (or its dict; default: differential weights on linear
    devices); `backend`: ideal | device | surrogate | circuit | spice (or a registered one);
    `engine`: the solver of the spice backend; `chip`: the seed of the drawn chip (None:
    nominal); `input_range`: the |x| driven at the read voltage (None: each call's largest).
    """

    def __init__(self, weights: Any, hardware: CrossbarConfig | dict[str, Any] | None = None,
                 backend: str = "device", engine: str = "shared", chip: int | None = None,
                 input_range: float | None = None):
        w = torch.as_tensor(np.asarray(weights, dtype=float))
        if w.ndim != 2:
            raise InputError(f"AnalogMatrix takes a 2-D weight matrix, got shape {tuple(w.shape)}")
        if isinstance(hardware, dict):
            hardware = CrossbarConfig.from_dict(hardware)
        if hardware is None:
            hardware = CrossbarConfig(weights="differential")
        if input_range is not None and not (np.isfinite(input_range) and input_range > 0):
            raise InputError(f"input_range must be a positive number, got {input_range!r}")
        self.layer = CrossbarLinear.from_weights(w, None, hardware, backend).double()
        self.layer.spice_engine = engine
        self.layer.set_chip(chip)
        self.input_range = input_range

    @property
    def shape(self) -> tuple[int, int]:
        return self.layer.out_features, self.layer.in_features

    def set_chip(self, seed: int | None) -> None:
        self.layer.set_chip(seed)

    @torch.no_grad()
    def __matmul__(self, x: Any) -> np.ndarray:
        values = np.asarray(x, dtype=float)
        if values.ndim not in (1, 2) or values.shape[0] != self.shape[1]:
            raise InputError(f"this {self.shape[0]}x{self.shape[1]} matrix takes ({self.shape[1]},) or "
                             f"({self.shape[1]}, B) inputs, got {values.shape}")
        if not np.isfinite(values).all():
            raise InputError("the inputs contain NaN or inf")
        largest = float(np.abs(values).max()) if values.size else 0.0
        scale = self.input_range or (largest if largest > 0 else 1.0)
        self.layer.input_scale.fill_(scale)
        batch = torch.as_tensor(values.reshape(self.shape[1], -1).T.copy())
        y = self.layer(batch).numpy().T
        return y[:, 0] if values.ndim == 1 else y

    def __repr__(self) -> str:
        return f"AnalogMatrix({self.shape[0]}x{self.shape[1]}, {self.layer.extra_repr()})"
