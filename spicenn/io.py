"""Reading user files with one-line errors."""

from __future__ import annotations

import contextlib
import os
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from .errors import InputError


def load_array(path: str | Path, what: str) -> np.ndarray:
    """A numeric array from .npy (or the only array of an .npz), never unpickling."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"{what} file {path} does not exist")
    if path.is_dir():
        raise InputError(f"{what} file {path} is a folder")
    if path.stat().st_size == 0:
        raise InputError(f"{what} file {path} is empty")
    try:
        loaded = np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as error:
        raise InputError(f"{what} file {path} is not a numeric .npy/.npz array ({error})") from None
    if isinstance(loaded, np.lib.npyio.NpzFile):
        with loaded:
            if len(loaded.files) != 1:
                raise InputError(f"{what} file {path} holds {len(loaded.files)} arrays; give one .npy")
            try:
                loaded = loaded[loaded.files[0]]
            except (ValueError, OSError, EOFError, zipfile.BadZipFile) as error:
                raise InputError(f"{what} file {path} is truncated or corrupt ({error})") from None
    if loaded.dtype.kind not in "iuf":
        raise InputError(f"{what} file {path} holds {loaded.dtype} data, not numbers")
    return loaded


def check_output(path: str | Path, folder: bool = False, what: str = "output") -> Path:
    """`path` if spicenn can write there, else a one-line InputError; checked before any work.

    A file: not an existing folder, in an existing folder it may write in. A folder: not an
    existing file; it, or the nearest folder above it that exists (it is created later), writable."""
    path = Path(path)
    if folder:
        if path.exists() and not path.is_dir():
            raise InputError(f"{what} {path} is a file; give a folder")
        existing = path
        while not existing.exists() and existing != existing.parent:
            existing = existing.parent
        if not existing.is_dir():
            raise InputError(f"{what} {path}: {existing} is a file, not a folder")
        if not os.access(existing, os.W_OK | os.X_OK):
            raise InputError(f"{what} {path}: cannot write in {existing}")
        return path
    if path.is_dir():
        raise InputError(f"{what} {path} is a folder; give a file name")
    parent = path.parent
    if not parent.exists():
        raise InputError(f"{what} {path}: folder {parent} does not exist")
    if not parent.is_dir():
        raise InputError(f"{what} {path}: {parent} is not a folder")
    if not os.access(parent, os.W_OK | os.X_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise InputError(f"{what} {path}: cannot write there")
    return path


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """A temporary path beside `path`; renamed onto `path` when the block succeeds, removed
    when it fails, so readers never see a half-written file."""
    path = Path(path)
    if not path.parent.exists():
        raise InputError(f"folder {path.parent} does not exist")
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".part")
    os.close(handle)
    os.chmod(temporary, 0o644)
    try:
        yield Path(temporary)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def save_npz_atomic(path: str | Path, arrays: dict[str, np.ndarray]) -> None:
    """Write an .npz through `atomic_path`."""
    with atomic_path(path) as temporary, open(temporary, "wb") as stream:
        np.savez(stream, **arrays)  # type: ignore[arg-type]  # numpy's stub types allow_pickle as **kwds


def write_text_atomic(path: str | Path, text: str) -> None:
    """Write a text file through `atomic_path`."""
    with atomic_path(path) as temporary:
        temporary.write_text(text)


def read_toml(path: str | Path) -> dict[str, Any]:
    """A TOML file as a dict, with one-line errors for a missing or malformed file."""
    import tomllib

    path = Path(path)
    if not path.exists():
        raise InputError(f"config file {path} does not exist")
    if path.is_dir():
        raise InputError(f"config file {path} is a folder")
    try:
        return tomllib.loads(path.read_text())
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise InputError(f"config file {path} is not valid TOML: {error}") from None


def save_figure(figure: Any, path: str | Path, dpi: int = 120) -> None:
    """Write a matplotlib figure as PNG atomically and release it."""
    import matplotlib.pyplot as plt

    with atomic_path(path) as temporary:
        figure.savefig(temporary, dpi=dpi, format="png")
    plt.close(figure)
