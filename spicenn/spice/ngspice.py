"""Finding ngspice: the program, its version, KLU, and the shared library PySpice loads."""

from __future__ import annotations

import ctypes.util
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from ..errors import SpiceNotFoundError

MIN_KLU_VERSION = 41
_LIBRARY_DIRS = ("/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/lib64", "/usr/lib",
                 "/usr/local/lib")


@dataclass(frozen=True)
class NgspiceProgram:
    path: str
    version: int
    klu: bool


def parse_version(text: str) -> tuple[int, bool]:
    """(major version, compiled with KLU) from `ngspice -v` or `version -f` output."""
    match = re.search(r"ngspice-(\d+)", text)
    if not match:
        raise SpiceNotFoundError("could not read the ngspice version from its output")
    return int(match.group(1)), "KLU" in text


@lru_cache(maxsize=1)
def program() -> NgspiceProgram:
    """The `ngspice` program on PATH (or $SPICENN_NGSPICE), with its version and KLU support."""
    path = os.environ.get("SPICENN_NGSPICE") or shutil.which("ngspice")
    if not path or not os.path.exists(path):
        raise SpiceNotFoundError("ngspice is not installed (no 'ngspice' on PATH); run `make setup` "
                                 "or install ngspice >= 41 with KLU")
    try:
        out = subprocess.run([path, "-v"], capture_output=True, text=True, timeout=30,
                             stdin=subprocess.DEVNULL)
    except OSError as error:
        raise SpiceNotFoundError(f"ngspice at {path} cannot run: {error}") from None
    version, klu = parse_version(out.stdout + out.stderr)
    return NgspiceProgram(path, version, klu)


def library_path() -> str:
    """The libngspice that PySpice should load.

    PySpice 1.5 opens the unversioned `libngspice.so` (from the -dev package) unless
    $NGSPICE_LIBRARY_PATH says otherwise; fall back to the versioned runtime library.
    """
    explicit = os.environ.get("NGSPICE_LIBRARY_PATH")
    if explicit:
        if not Path(explicit).exists():
            raise SpiceNotFoundError(f"NGSPICE_LIBRARY_PATH={explicit} does not exist")
        return explicit
    for directory in _LIBRARY_DIRS:
        candidate = Path(directory) / "libngspice.so"
        if candidate.exists():
            return str(candidate)
    found = ctypes.util.find_library("ngspice")
    if found:
        for directory in _LIBRARY_DIRS:
            candidate = Path(directory) / found
            if candidate.exists():
                return str(candidate)
        return found
    raise SpiceNotFoundError("the ngspice shared library (libngspice) is not installed; "
                             "install libngspice0 or set NGSPICE_LIBRARY_PATH")
