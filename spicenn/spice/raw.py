"""Reading ngspice raw files (binary or ASCII), as written by `ngspice -b -r FILE`."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import SpiceError


def normalise_name(name: str) -> str:
    """Vector names as the shared library gives them: `v(x)` -> `x`, `i(v1)` -> `v1#branch`."""
    name = name.strip().lower()
    if name.startswith("v(") and name.endswith(")"):
        return name[2:-1]
    if name.startswith("i(") and name.endswith(")"):
        return name[2:-1] + "#branch"
    return name


def read_raw(path: str | Path) -> dict[str, np.ndarray]:
    """All vectors of the last plot in a raw file, by normalised name (real data only)."""
    data = Path(path).read_bytes()
    vectors: dict[str, np.ndarray] = {}
    position = 0
    while position < len(data):
        header: dict[str, str] = {}
        names: list[str] = []
        while True:
            end = data.find(b"\n", position)
            if end < 0:
                raise SpiceError(f"truncated raw file {path}")
            line = data[position:end].decode("latin-1")
            position = end + 1
            key, _, value = line.partition(":")
            key = key.strip().lower()
            if key == "variables":
                count = int(header["no. variables"])
                for _ in range(count):
                    end = data.find(b"\n", position)
                    names.append(data[position:end].decode("latin-1").split()[1])
                    position = end + 1
                continue
            if key in ("binary", "values"):
                break
            header[key] = value.strip()
        count, points = int(header["no. variables"]), int(header["no. points"])
        if "complex" in header.get("flags", ""):
            raise SpiceError("complex raw data is not supported")
        if key == "binary":
            size = count * points * 8
            block = np.frombuffer(data, dtype="<f8", count=count * points, offset=position)
            position += size
            table = block.reshape(points, count)
        else:
            table = np.empty((points, count))
            tokens = data[position:].split()
            # each point: index, then `count` values
            cursor = 0
            for point in range(points):
                cursor += 1
                table[point] = [float(token) for token in tokens[cursor:cursor + count]]
                cursor += count
            position = len(data)
        vectors = {normalise_name(name): table[:, k].copy() for k, name in enumerate(names)}
        while position < len(data) and data[position:position + 1] in (b"\n", b"\r"):
            position += 1
    return vectors
