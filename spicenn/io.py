"""Reading user files with one-line errors, and writing files so that nothing half-written,
replaced or left over remains.

Writers (`atomic_path` and everything built on it) write a temporary file beside the target
and rename it into place, so a reader never sees half a file. Symbolic links are followed: the
file they name is written (the link stays). A character device (`/dev/null`, `/dev/stdout`)
is written into, never replaced; a FIFO, socket or block device is refused. One process at a
time writes a run or dataset folder (`folder_lock`).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from .errors import InputError


def check_input_file(path: str | Path, what: str, max_bytes: int | None = None) -> Path:
    """`path` if it is a regular, non-empty file (of at most `max_bytes`), else one line."""
    path = Path(path)
    try:
        info = path.stat()
    except FileNotFoundError:
        raise InputError(f"{what} file {path} does not exist") from None
    except OSError as error:
        raise InputError(f"{what} file {path}: {error.strerror or error}") from None
    if stat.S_ISDIR(info.st_mode):
        raise InputError(f"{what} file {path} is a folder")
    if not stat.S_ISREG(info.st_mode):
        raise InputError(f"{what} file {path} is not a regular file (a device, FIFO or socket)")
    if info.st_size == 0:
        raise InputError(f"{what} file {path} is empty")
    if max_bytes is not None and info.st_size > max_bytes:
        raise InputError(f"{what} file {path} is {info.st_size:,} bytes, more than such a file can be "
                         f"({max_bytes:,})")
    return path


def _npy_header(stream: Any, available: int, where: str) -> tuple[tuple[int, ...], np.dtype]:
    """Shape and dtype from a .npy header, checked against the bytes that follow it, before
    anything is allocated: a header may claim any shape."""
    try:
        version = np.lib.format.read_magic(stream)
        if version == (1, 0):
            shape, _fortran, dtype = np.lib.format.read_array_header_1_0(stream)
        elif version == (2, 0):
            shape, _fortran, dtype = np.lib.format.read_array_header_2_0(stream)
        else:
            raise ValueError(f".npy format version {version[0]}.{version[1]} is not read here")
    except (ValueError, OSError, EOFError, SyntaxError) as error:
        raise InputError(f"{where} is not a numeric .npy array ({error})") from None
    if dtype.kind not in "iuf" or dtype.hasobject:
        if dtype.kind == "c":
            raise InputError(f"{where} holds complex numbers, not real ones")
        raise InputError(f"{where} holds {dtype} data, not numbers")
    needed = int(np.prod(shape, dtype=np.float64)) * dtype.itemsize
    if needed > available - stream.tell():
        raise InputError(f"{where} declares shape {shape} ({needed:,} bytes) but holds "
                         f"{max(0, available - stream.tell()):,} bytes of data: truncated or forged")
    return shape, dtype


def load_arrays(path: str | Path, what: str) -> dict[str, np.ndarray]:
    """The real numeric arrays of an .npy (named "array") or .npz, never unpickling; every
    header is checked against the file's bytes before its array is read."""
    path = check_input_file(path, what)
    size = path.stat().st_size
    arrays: dict[str, np.ndarray] = {}
    with open(path, "rb") as stream:
        is_zip = stream.read(4) == b"PK\x03\x04"
        stream.seek(0)
        if not is_zip:
            _npy_header(stream, size, f"{what} file {path}")
            try:
                arrays["array"] = np.load(path, allow_pickle=False)
            except (ValueError, OSError, EOFError) as error:
                raise InputError(f"{what} file {path} is not a numeric .npy array ({error})") from None
            return arrays
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, EOFError) as error:
        raise InputError(f"{what} file {path} is not a numeric .npy/.npz array (not a readable zip: {error})") from None
    with archive:
        for info in archive.infolist():
            where = f"{what} file {path}, member {info.filename!r}"
            if not info.filename.endswith(".npy"):
                raise InputError(f"{where} is not a .npy array")
            try:
                with archive.open(info) as member:
                    _npy_header(member, info.file_size, where)
                with archive.open(info) as member:
                    arrays[info.filename[:-4]] = np.load(member, allow_pickle=False)
            except InputError:
                raise
            except (zipfile.BadZipFile, OSError, EOFError, ValueError) as error:
                raise InputError(f"{where} is truncated or corrupt ({error})") from None
    if not arrays:
        raise InputError(f"{what} file {path} holds no arrays")
    return arrays


def load_array(path: str | Path, what: str) -> np.ndarray:
    """A numeric array from .npy (or the only array of an .npz), never unpickling."""
    arrays = load_arrays(path, what)
    if len(arrays) != 1:
        raise InputError(f"{what} file {path} holds {len(arrays)} arrays; give one .npy")
    return next(iter(arrays.values()))


def write_target(path: str | Path, what: str = "output") -> tuple[Path, bool]:
    """Where a write to `path` lands: the path itself, or the file a symbolic link names; and
    whether that is a character device (written into, never replaced). A FIFO, socket or
    block device, or a folder, is a one-line InputError."""
    path = Path(path)
    target = Path(os.path.realpath(path)) if path.is_symlink() else path
    try:
        mode = target.stat().st_mode
    except (FileNotFoundError, NotADirectoryError):  # a new file (its folder is checked by the caller)
        return target, False
    except OSError as error:
        raise InputError(f"{what} {path}: {error.strerror or error}") from None
    if stat.S_ISCHR(mode):
        return target, True
    if stat.S_ISDIR(mode):
        raise InputError(f"{what} {path} is a folder; give a file name")
    if not stat.S_ISREG(mode):
        kind = "a FIFO" if stat.S_ISFIFO(mode) else "a socket" if stat.S_ISSOCK(mode) else "a block device"
        raise InputError(f"{what} {path} is {kind}; give a file (or a character device such as /dev/null)")
    return target, False


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
    target, device = write_target(path, what)
    if device:
        if not os.access(target, os.W_OK):
            raise InputError(f"{what} {path}: cannot write there")
        return path
    parent = target.parent
    if not parent.exists():
        raise InputError(f"{what} {path}: folder {parent} does not exist")
    if not parent.is_dir():
        raise InputError(f"{what} {path}: {parent} is not a folder")
    if not os.access(parent, os.W_OK | os.X_OK) or (target.exists() and not os.access(target, os.W_OK)):
        raise InputError(f"{what} {path}: cannot write there")
    return path


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """A temporary path beside `path`; renamed onto `path` when the block succeeds, removed
    when it fails, so readers never see a half-written file. A symbolic link's file is
    written (the link stays); a character device is written into after the block."""
    target, device = write_target(path)
    if not device and not target.parent.exists():
        raise InputError(f"folder {target.parent} does not exist")
    handle, temporary = tempfile.mkstemp(dir=None if device else target.parent, prefix=target.name + ".",
                                         suffix=PART_SUFFIX)
    os.close(handle)
    os.chmod(temporary, 0o644)
    try:
        yield Path(temporary)
        if device:
            with open(temporary, "rb") as source, open(target, "wb") as sink:
                shutil.copyfileobj(source, sink)
            Path(temporary).unlink()
        else:
            os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


PART_SUFFIX = ".part"


def remove_stale_parts(folder: str | Path) -> int:
    """Remove the temporary files an interrupted writer left in `folder` (call it holding the
    folder's lock, so that no writer is at work there); returns how many."""
    removed = 0
    for part in Path(folder).glob("*" + PART_SUFFIX):
        if part.is_file():
            part.unlink(missing_ok=True)
            removed += 1
    return removed


LOCK_FILE = ".spicenn.lock"


@contextlib.contextmanager
def folder_lock(folder: str | Path, what: str = "folder") -> Iterator[None]:
    """Hold `folder` (which must exist) for this process: a second spicenn process that asks
    for it gets a one-line InputError naming the holder, instead of both computing the same
    work. The lock is the kernel's (flock): a killed holder releases it."""
    import fcntl

    folder = Path(folder)
    path = folder / LOCK_FILE
    while True:
        handle = open(path, "a+")  # noqa: SIM115 - held past this function, closed in the finally below
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "unknown"
            handle.close()
            raise InputError(f"{what} {folder} is being written by another spicenn process (pid {holder}); "
                             "wait for it to finish or choose another one") from None
        try:  # the file may have been removed by the holder we waited for: lock the one that is there
            same = os.fstat(handle.fileno()).st_ino == os.stat(path).st_ino
        except FileNotFoundError:
            same = False
        if same:
            break
        handle.close()
    try:
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        yield
    finally:
        path.unlink(missing_ok=True)
        handle.close()


def save_torch_atomic(path: str | Path, obj: Any) -> None:
    """`torch.save` through `atomic_path`: serialised in memory first, then written as plain
    bytes, so a full disk is an ordinary OSError ("No space left on device") and not torch's
    internal RuntimeError, and nothing is left behind."""
    import io as _io

    import torch

    buffer = _io.BytesIO()
    torch.save(obj, buffer)
    with atomic_path(path) as temporary:
        temporary.write_bytes(buffer.getbuffer())


def save_npz_atomic(path: str | Path, arrays: dict[str, np.ndarray]) -> None:
    """Write an .npz through `atomic_path`."""
    with atomic_path(path) as temporary, open(temporary, "wb") as stream:
        np.savez(stream, **arrays)  # type: ignore[arg-type]  # numpy's stub types allow_pickle as **kwds


def write_text_atomic(path: str | Path, text: str) -> None:
    """Write a text file through `atomic_path`."""
    with atomic_path(path) as temporary:
        temporary.write_text(text)


def read_toml(path: str | Path, what: str = "config") -> dict[str, Any]:
    """A TOML file as a dict, with one-line errors for a missing or malformed file."""
    import tomllib

    path = check_input_file(path, what, max_bytes=MAX_CONFIG_BYTES)
    try:
        return tomllib.loads(path.read_text())
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise InputError(f"{what} file {path} is not valid TOML: {error}") from None
    except RecursionError:
        raise InputError(f"{what} file {path} nests tables or arrays too deeply") from None


MAX_CONFIG_BYTES = 1 << 20  # a configuration is a page of settings, not megabytes


def save_figure(figure: Any, path: str | Path, dpi: int = 120) -> None:
    """Write a matplotlib figure as PNG atomically and release it."""
    import matplotlib.pyplot as plt

    with atomic_path(path) as temporary:
        figure.savefig(temporary, dpi=dpi, format="png")
    plt.close(figure)
