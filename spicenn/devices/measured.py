"""Measured device data in, checked: I-V sweeps from CSV or .npz.

An I-V file has a voltage and a current column and, optionally, a `state` column (the
programmed state or sweep each point belongs to: several states of one device, or one label
per device and state), a `device` column (which device), and a `resistance` column (Ω, the
state's programmed resistance as the experiment states it; Poole–Frenkel's parameters are
functions of it — without it, a state's resistance is read from its sweep at `read_voltage`).
Column names may carry their unit in brackets — `current (uA)`, `voltage [mV]` — and the
values are scaled to V and A. Lines starting with `#` before the header hold settings as
`key = value` (or `key: value`): `read_voltage` (V, where a state's resistance is read;
default 0.1 V), `temperature` (K).

Every problem is refused with one line that says where: a missing column, a non-number or a
non-finite value (row and column), a row of the wrong length, a state with too few points or
no voltage range.
"""

from __future__ import annotations

import csv
import hashlib
import io
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import InputError
from ..io import check_input_file, load_arrays

MIN_POINTS = 5  # per state: fewer cannot separate a conductance from a nonlinearity
MAX_DATA_BYTES = 64 << 20
UNITS = {"v": 1.0, "mv": 1e-3, "a": 1.0, "ma": 1e-3, "ua": 1e-6, "µa": 1e-6, "μa": 1e-6, "na": 1e-9, "pa": 1e-12,
         "ohm": 1.0, "kohm": 1e3, "s": 1.0, "ms": 1e-3, "us": 1e-6, "µs": 1e-6, "μs": 1e-6, "ns": 1e-9}
VOLTAGE_NAMES = ("voltage", "v")
CURRENT_NAMES = ("current", "i")


@dataclass
class IVData:
    """Points of I-V sweeps (V, A), each with its state's label (and device's, if given)."""

    voltage: np.ndarray
    current: np.ndarray
    state: np.ndarray  # str labels, one per point
    device: np.ndarray  # str labels, one per point ("" when not given)
    settings: dict[str, float] = field(default_factory=dict)
    resistance: np.ndarray | None = None  # Ω, each point's state's stated resistance, if the file gives one
    source: str = ""
    sha256: str = ""

    @property
    def states(self) -> list[str]:
        """The state labels in the order they first appear."""
        return list(dict.fromkeys(self.state.tolist()))

    def subset(self, mask: np.ndarray) -> IVData:
        """The points where `mask` holds (one device's, say)."""
        return IVData(self.voltage[mask], self.current[mask], self.state[mask], self.device[mask], self.settings,
                      None if self.resistance is None else self.resistance[mask], self.source, self.sha256)

    @property
    def read_voltage(self) -> float:
        return float(self.settings.get("read_voltage", 0.1))

    def state_resistance(self) -> dict[str, float] | None:
        """Each state's stated resistance (Ω), or None if the file states none."""
        if self.resistance is None:
            return None
        return {label: float(self.resistance[self.state == label][0]) for label in self.states}

    def check(self) -> IVData:
        for label in self.states:
            mask = self.state == label
            if self.resistance is not None:
                values = self.resistance[mask]
                if values.min() <= 0 or np.ptp(values) > 1e-9 * values.max():
                    raise InputError(f"state {label!r}: its resistance must be one positive value for all its "
                                     f"points, got {values.min():g} to {values.max():g}")
            if mask.sum() < MIN_POINTS:
                raise InputError(f"state {label!r} has {int(mask.sum())} point(s); a fit needs at least {MIN_POINTS}")
            if np.ptp(self.voltage[mask]) == 0:
                raise InputError(f"state {label!r}: every point is at {self.voltage[mask][0]:g} V — a sweep needs "
                                 "a voltage range")
        return self


def find_column(names: list[str], wanted: tuple[str, ...]) -> tuple[int, float] | None:
    """The index of the column named one of `wanted` (unit in brackets allowed) and its scale to SI."""
    for index, raw in enumerate(names):
        name = raw.strip().lower()
        unit = ""
        for open_, close in (("(", ")"), ("[", "]")):
            if open_ in name and name.endswith(close):
                name, unit = name[:name.index(open_)].strip(), name[name.index(open_) + 1:-1].strip()
        if name in wanted:
            if unit and unit not in UNITS:
                raise InputError(f"column {raw.strip()!r}: unknown unit {unit!r}; use one of "
                                 f"{', '.join(sorted(set(UNITS)))}")
            return index, UNITS.get(unit, 1.0)
    return None


def _setting(line: str, settings: dict[str, float], source: str) -> None:
    text = line.lstrip("#").strip()
    for separator in ("=", ":"):
        if separator in text:
            key, value = (part.strip() for part in text.split(separator, 1))
            key = key.lower().replace(" ", "_")
            if key in ("read_voltage", "temperature", "pulse_voltage", "pulse_width"):
                try:
                    number = float(value.split()[0])
                except (ValueError, IndexError):
                    raise InputError(f"{source}: setting {key!r} is not a number: {value!r}") from None
                if not math.isfinite(number):
                    raise InputError(f"{source}: setting {key!r} is not finite")
                settings[key] = number
            return


@dataclass
class Table:
    """A measurement CSV: its header (stripped), its data rows with their line numbers (blank
    rows dropped, every row as long as the header), the `#` settings above the header."""

    header: list[str]
    rows: list[tuple[int, list[str]]]
    settings: dict[str, float]
    source: str

    def number(self, line: int, row: list[str], column: int, scale: float = 1.0) -> float:
        """Field `column` of a row as a finite number (times `scale`), or one line saying where."""
        where = f"{self.source}, line {line}, column {self.header[column]!r}"
        try:
            value = float(row[column]) * scale
        except ValueError:
            raise InputError(f"{where}: {row[column]!r} is not a number") from None
        if not math.isfinite(value):
            raise InputError(f"{where}: not finite")
        return value


def read_table(path: Path) -> Table:
    """`path` (already checked) as a measurement `Table`."""
    lines = path.read_text(errors="replace").splitlines()
    start = next((k for k, line in enumerate(lines) if line.strip() and not line.strip().startswith("#")), None)
    if start is None:
        raise InputError(f"{path.name}: no header row and no data")
    settings: dict[str, float] = {}
    for line in lines[:start]:
        _setting(line, settings, path.name)
    parsed = list(csv.reader(io.StringIO("\n".join(lines[start:]))))
    header = [name.strip() for name in parsed[0]]
    rows = []
    for number, row in enumerate(parsed[1:], start=start + 2):
        if not row or all(not cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            raise InputError(f"{path.name}, line {number}: {len(row)} fields, the header has {len(header)}")
        rows.append((number, row))
    if not rows:
        raise InputError(f"{path.name}: a header but no data rows")
    return Table(header, rows, settings, path.name)


def read_iv(path: str | Path) -> IVData:
    """The I-V points of a CSV (see the module) or an .npz with arrays `voltage`, `current`
    and optionally `state` / `device` (numbers), in V and A."""
    path = check_input_file(path, "I-V data", max_bytes=MAX_DATA_BYTES)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if path.suffix.lower() == ".npz":
        arrays = load_arrays(path, "I-V data")
        missing = [name for name in ("voltage", "current") if name not in arrays]
        if missing:
            raise InputError(f"{path.name}: no array {missing[0]!r} (it has {', '.join(sorted(arrays))})")
        voltage, current = (np.asarray(arrays[name], dtype=float).ravel() for name in ("voltage", "current"))
        if voltage.shape != current.shape:
            raise InputError(f"{path.name}: voltage has {voltage.size} points, current {current.size}")
        labels = {key: np.asarray(arrays[key]).ravel().astype(str) if key in arrays else None
                  for key in ("state", "device")}
        for key, value in labels.items():
            if value is not None and value.shape != voltage.shape:
                raise InputError(f"{path.name}: {key} has {value.size} labels for {voltage.size} points")
        for name, values in (("voltage", voltage), ("current", current)):
            bad = np.flatnonzero(~np.isfinite(values))
            if bad.size:
                raise InputError(f"{path.name}: {name}[{bad[0]}] is not finite")
        data = IVData(voltage, current, labels["state"] if labels["state"] is not None else np.full(voltage.shape, "0"),
                      labels["device"] if labels["device"] is not None else np.full(voltage.shape, ""),
                      {}, source=path.name, sha256=digest)
        return data.check()
    table = read_table(path)
    header = table.header
    found_v, found_i = find_column(header, VOLTAGE_NAMES), find_column(header, CURRENT_NAMES)
    if found_v is None or found_i is None:
        absent = "voltage" if found_v is None else "current"
        raise InputError(f"{path.name}: no {absent} column in the header {', '.join(header)}")
    columns = {name.lower(): index for index, name in enumerate(header)}
    found_r = find_column(header, ("resistance", "r"))
    read = [found_v, found_i] + ([found_r] if found_r else [])
    points = np.array([[table.number(line, row, index, scale) for index, scale in read] for line, row in table.rows])
    tags = {key: np.array([row[columns[key]].strip() if key in columns else default for _, row in table.rows])
            for key, default in (("state", "0"), ("device", ""))}
    return IVData(points[:, 0], points[:, 1], tags["state"], tags["device"], table.settings,
                  resistance=points[:, 2] if found_r else None, source=path.name, sha256=digest).check()
