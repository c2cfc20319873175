"""A user's saved model for the command line: a class in a Python file (or an importable
module) and a state_dict.

The Python file is the user's own code and is **executed** as such, as `python file.py`
would run it: its folder is importable (a module beside it can be imported), and whatever it
raises or exits with — `sys.exit`, KeyboardInterrupt included — is reported in one line as
the model file's doing. The weights are data: `torch.load(..., weights_only=True)`, never
unpickled.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import torch
from torch import nn

from ..errors import InputError

T = TypeVar("T")


def run_user_code(what: str, call: Callable[[], T]) -> T:
    """`call()`, the user's code: anything it raises, exits with or is interrupted by becomes
    one line naming `what` (spicenn's own exit status follows, not the code's)."""
    try:
        return call()
    except SystemExit as stop:
        raise InputError(f"{what} exited (sys.exit({stop.code!r})) while spicenn ran it") from None
    except KeyboardInterrupt:
        raise InputError(f"{what} stopped with KeyboardInterrupt while spicenn ran it") from None
    except Exception as error:
        raise InputError(f"{what} failed: {type(error).__name__}: {error}") from None


def load_class(spec: str) -> type:
    """`path/to/file.py:ClassName` (the file is executed, its folder importable) or
    `package.module:ClassName` (imported) -> the class."""
    path_text, _, name = spec.rpartition(":")
    if not path_text or not name:
        raise InputError(f"--model takes path/to/file.py:ClassName or package.module:ClassName, got {spec!r}")
    if not path_text.endswith(".py") and "/" not in path_text and not Path(path_text).exists():
        module = run_user_code(f"importing {path_text}", lambda: importlib.import_module(path_text))
        where = path_text
    else:
        path = Path(path_text)
        if not path.is_file() or path.suffix != ".py":
            raise InputError(f"model file {path} is not a Python file")
        module_name = f"spicenn_user_model_{abs(hash(str(path.resolve())))}"
        loader_spec = importlib.util.spec_from_file_location(module_name, path)
        if loader_spec is None or loader_spec.loader is None:
            raise InputError(f"cannot load {path} as a Python module")
        loader = loader_spec.loader
        module = importlib.util.module_from_spec(loader_spec)
        sys.modules[module_name] = module
        folder = str(path.resolve().parent)
        if folder not in sys.path:  # as `python file.py` has it: modules beside the file import
            sys.path.insert(0, folder)
        run_user_code(f"model file {path}", lambda: loader.exec_module(module))
        where = str(path)
    cls = getattr(module, name, None)
    if not isinstance(cls, type) or not issubclass(cls, nn.Module):
        raise InputError(f"{where} has no torch.nn.Module class named {name!r}")
    return cls


def load_model(spec: str, weights: str | Path | None = None) -> nn.Module:
    """An instance of the class (built without arguments) with the state_dict in `weights`."""
    cls = load_class(spec)
    model = run_user_code(f"{cls.__name__}() (the class must build without arguments)", cls)
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


def first_layer(model: nn.Module) -> nn.Module | None:
    """The model's first Linear, convolution or recurrent layer, in definition order."""
    kinds = (nn.Linear, nn.modules.conv._ConvNd, nn.RNNBase)
    return next((module for module in model.modules() if isinstance(module, kinds)), None)


def parse_shape(text: str) -> tuple[int, ...]:
    """'1,28,28' -> (1, 28, 28): one sample's shape, without the batch."""
    try:
        shape = tuple(int(part) for part in text.replace("x", ",").split(",") if part.strip())
    except ValueError:
        shape = ()
    if not shape or min(shape) < 1:
        raise InputError(f"--input-shape takes positive sizes separated by commas (e.g. 1,28,28), got {text!r}")
    return shape


def candidate_shapes(model: nn.Module, x: np.ndarray, natural: tuple[int, ...] | None) -> list[tuple[int, ...]]:
    """The sample shapes to offer the model, likeliest first: what its first layer takes
    (a convolution's channels first, with the data's own image shape or a square/line of
    the features; tokens or steps of a first Linear's or recurrent layer's input size), then
    the data as stored, then its natural shape."""
    stored = tuple(x.shape[1:])
    features = int(np.prod(stored))
    shapes: list[tuple[int, ...]] = []
    layer = first_layer(model)
    if isinstance(layer, nn.modules.conv._ConvNd):
        dims = len(layer.kernel_size)
        channels = layer.in_channels
        for shape in (natural, stored):
            if shape is not None and len(shape) == dims + 1 and shape[0] == channels:
                shapes.append(shape)
        if features % channels == 0:
            side = round((features // channels) ** (1 / dims))
            if side ** dims == features // channels:
                shapes.append((channels, *(side,) * dims))
    elif isinstance(layer, nn.Linear) and features == layer.in_features:
        shapes.append((features,))
    elif isinstance(layer, (nn.Linear, nn.RNNBase)):  # tokens or steps of its input size
        width = layer.in_features if isinstance(layer, nn.Linear) else layer.input_size
        if features % width == 0:
            shapes.append((features // width, width))
    for shape in (stored, natural, (features,)):
        if shape is not None:
            shapes.append(shape)
    return list(dict.fromkeys(shapes))


def _refusal(model: nn.Module, batch: torch.Tensor) -> str | None:
    """None if the model takes `batch` and returns (batch, classes) logits, else why not
    (a model that takes it and returns anything else is refused here)."""
    try:
        with torch.no_grad():
            out = model(batch)
    except (SystemExit, KeyboardInterrupt) as stop:
        raise InputError(f"the model's forward stopped with {type(stop).__name__} while spicenn ran it") from None
    except Exception as error:
        return f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"
    if not isinstance(out, torch.Tensor) or out.ndim != 2:
        shape: Any = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
        raise InputError(f"the model must return (batch, classes) logits, got {shape}")
    return None


def input_shape(model: nn.Module, x: np.ndarray, dataset: str, natural: tuple[int, ...] | None = None,
                given: tuple[int, ...] | None = None) -> tuple[int, ...]:
    """The shape of one sample as the model takes it: `given` (checked), else the first of
    `candidate_shapes` that the model's forward accepts. One line if none does."""
    features = int(np.prod(x.shape[1:]))
    if given is not None:
        if int(np.prod(given)) != features:
            raise InputError(f"--input-shape {','.join(map(str, given))} holds {int(np.prod(given))} values; "
                             f"{dataset}'s samples hold {features}")
        why = _refusal(model, torch.as_tensor(x[:2]).reshape(-1, *given))
        if why is not None:
            raise InputError(f"the model refuses {dataset} inputs of shape (2, {', '.join(map(str, given))}): {why}")
        return given
    tried = []
    for shape in candidate_shapes(model, x, natural):
        why = _refusal(model, torch.as_tensor(x[:2]).reshape(-1, *shape))
        if why is None:
            return shape
        tried.append((shape, why))
    shapes = " or ".join(str((2, *shape)) for shape, _ in tried)
    raise InputError(f"the model refuses {dataset} inputs shaped {shapes}: {tried[0][1]} "
                     "(give the shape it takes with --input-shape)")


def check_takes(model: nn.Module, x: np.ndarray, dataset: str) -> None:
    """Refuse, in one line, a dataset whose inputs (as stored) the model cannot take."""
    why = _refusal(model, torch.as_tensor(x[:2]))
    if why is not None:
        raise InputError(f"the model refuses {dataset} inputs of shape {tuple(x[:2].shape)}: {why}")


def check_labels(model: nn.Module, x: np.ndarray, labels: np.ndarray, dataset: str) -> None:
    """Refuse labels the model's logits cannot name (a label >= its number of outputs)."""
    with torch.no_grad():
        classes = int(model(torch.as_tensor(x[:1])).shape[1])
    if labels.size and int(labels.max()) >= classes:
        raise InputError(f"{dataset} has label {int(labels.max())}; the model gives {classes} logits "
                         f"(classes 0-{classes - 1})")
