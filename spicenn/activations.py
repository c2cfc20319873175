"""The activation functions between layers: one table for training, evaluation, on-chip
learning and network energy, each function taking numpy arrays and torch tensors alike.

>>> import numpy as np
>>> activation("sigmoid")(np.array([0.0]))
array([0.5])
>>> activation("relu")(np.array([-1.0, 2.0]))
array([0., 2.])
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from scipy.special import expit

from .arrays import namespace
from .errors import InputError


def _sigmoid(x: Any) -> Any:
    return expit(x) if namespace(x) is np else x.sigmoid()


def _relu(x: Any) -> Any:
    return x.clip(min=0.0)


def _tanh(x: Any) -> Any:
    return namespace(x).tanh(x)


def _identity(x: Any) -> Any:
    return x


ACTIVATIONS: dict[str, Callable[[Any], Any]] = {"sigmoid": _sigmoid, "relu": _relu, "tanh": _tanh,
                                                 "identity": _identity}


def check_activation(name: str) -> str:
    if name not in ACTIVATIONS:
        raise InputError(f"unknown activation {name!r}; choose one of: {', '.join(ACTIVATIONS)}")
    return name


def activation(name: str) -> Callable[[Any], Any]:
    """The function named `name` (numpy in, numpy out; torch in, torch out)."""
    return ACTIVATIONS[check_activation(name)]
