"""A user's saved model for the command line: a class in a Python file and a state_dict.

The Python file is the user's own code and is run as such (as `python file.py` would);
the weights are data: `torch.load(..., weights_only=True)`, never unpickled.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from ..errors import InputError


def load_class(spec: str) -> type:
    """`path/to/file.py:ClassName` -> the class."""
    path_text, _, name = spec.rpartition(":")
    if not path_text or not name:
        raise InputError(f"--model takes path/to/file.py:ClassName, got {spec!r}")
    path = Path(path_text)
    if not path.is_file() or path.suffix != ".py":
        raise InputError(f"model file {path} is not a Python file")
    module_name = f"spicenn_user_model_{abs(hash(str(path.resolve())))}"
    loader_spec = importlib.util.spec_from_file_location(module_name, path)
    if loader_spec is None or loader_spec.loader is None:
        raise InputError(f"cannot load {path} as a Python module")
    module = importlib.util.module_from_spec(loader_spec)
    sys.modules[module_name] = module
    try:
        loader_spec.loader.exec_module(module)
    except Exception as error:  # the user's code: any failure is reported in one line
        raise InputError(f"running {path} failed: {type(error).__name__}: {error}") from None
    cls = getattr(module, name, None)
    if not isinstance(cls, type) or not issubclass(cls, nn.Module):
        raise InputError(f"{path} has no torch.nn.Module class named {name!r}")
    return cls


def load_model(spec: str, weights: str | Path | None = None) -> nn.Module:
    """An instance of the class (built without arguments) with the state_dict in `weights`."""
    cls = load_class(spec)
    try:
        model = cls()
    except Exception as error:
        raise InputError(f"{cls.__name__}() failed (the class must build without arguments): "
                         f"{type(error).__name__}: {error}") from None
    if weights is not None:
        path = Path(weights)
        if not path.is_file():
            raise InputError(f"weights file {path} does not exist")
        try:
            state = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as error:  # torch raises many types for a bad or unsafe file
            raise InputError(f"weights file {path} is not a torch state_dict that loads without "
                             f"unpickling code ({type(error).__name__})") from None
        if isinstance(state, nn.Module) or not isinstance(state, dict):
            raise InputError(f"weights file {path} does not hold a state_dict")
        try:
            model.load_state_dict(state)
        except RuntimeError as error:
            first = str(error).strip().splitlines()
            detail = first[1].strip() if len(first) > 1 else first[0]
            raise InputError(f"weights in {path} do not fit {cls.__name__}: {detail}") from None
    return model.eval()


def check_takes(model: nn.Module, x: np.ndarray, dataset: str) -> None:
    """Refuse, in one line, a dataset whose images the model cannot take."""
    try:
        with torch.no_grad():
            out = model(torch.as_tensor(x[:2]))
    except Exception as error:
        raise InputError(f"the model refuses {dataset} inputs of shape {tuple(x[:2].shape)}: "
                         f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}") from None
    if not isinstance(out, torch.Tensor) or out.ndim != 2:
        shape: Any = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
        raise InputError(f"the model must return (batch, classes) logits, got {shape}")
