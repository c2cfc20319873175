"""The write surrogate: every cell's state change under a learning rule's write, fast.

Physics first. A cell's state moves by its device's exact pulse map: one pulse of peak cell
voltage V_c is a dose D(V_c) (`VTEAM.pulse_dose`) and doses add in the window's coordinate
(`VTEAM.advance`), so n pulses at the same voltage are one dose n·D(V_c). What the array
changes is V_c: the selected cell's row and column drivers put ±V/2 on its lines, and the
currents of every cell on them — half-selected cells at V/2, the other selected ones at V —
drop voltage along the wires. That is what is learned.

The voltage model, per tile (each tile has its own drivers: word lines from the column-0
end, bit lines from the last row's end). With T(j, l) = min(j, l) + 1 the segments two cells
share on their line (counted from the driver), the first-order drops relative to V are

    ρ_w = r_w/2 · Σ_l T(j, l)·G(i, l)        (the row's cells at V/2: background)
    π_w = r_w/2 · Σ_l T(j, l)·G(i, l)·c_l    (the other active columns' cells at V: pattern)

and ρ_b, π_b alike along the bit line with the active rows. The model is linear in its
parameters θ — V_c / V = 1 − θ·(ρ_w, π_w, ρ_b, π_b, u_w², u_b², u_w·u_b) with u = ρ + π —
fitted by least squares to the native solver's DC solves of random tiles, states, patterns
and wires (first order says θ = (1, 1, 1, 1, 0, 0, 0); the fit finds the higher orders).
In a stochastic-coincidence update the pattern of each slot is random: the surrogate uses
its expectation (the firing probabilities; the selected cell's own line exactly) and the
fit, made on the same expected features, learns the conditional mean. The write energy is
that of the ideal voltages, (V/2)²·(r_i + c_j)² across each cell.

    surrogate = load_write_surrogate("write-vteam-64")
    states, energy = surrogate.coincidences(states, rows, columns, signs, preset, tile=64, r_wire=1.0)

Datasets (HDF5, chunked, resumed after an interrupt), the fit, and the validation against
the native write engine on held-out updates (per-cell Δx NRMSE per tile, parity plots) are
`write_dataset`, `fit_write_surrogate`, `validate_write_surrogate`; `build_write_surrogate`
runs the three (`spicenn write-surrogate build`).
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..checks import finite_number, whole_number
from ..circuit.equations import Devices, Lines
from ..circuit.solver import solve_system
from ..devices.models import Linear
from ..devices.written import DevicePulses
from ..errors import InputError
from ..io import atomic_path, check_input_file
from ..progress import progress_bar

FEATURES = ("rho_word", "pi_word", "rho_bit", "pi_bit", "u_word^2", "u_bit^2", "u_word*u_bit")
FIRST_ORDER = (1.0, 1.0, 1.0, 1.0, 0.0, 0.0, 0.0)
FORMAT = "spicenn-write-surrogate/1"
MAX_MODEL_BYTES = 10_000_000  # a model is a few numbers and its reports: anything larger is not one
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")


# --- tiles: each cell's position counted from its drivers -----------------------------
class TileGeometry:
    """A (rows, columns) layer on tiles of (tile_rows, tile_columns), laid out padded so that
    within every tile row index 0 is next to the bit lines' drivers (the tile's last row)
    and column index 0 next to the word lines' drivers: the line sums become cumulative sums."""

    def __init__(self, rows: int, columns: int, tile_rows: int, tile_columns: int):
        self.rows, self.columns = rows, columns
        self.tile_rows, self.tile_columns = min(tile_rows, rows), min(tile_columns, columns)
        self.row_tiles, self.column_tiles = math.ceil(rows / self.tile_rows), math.ceil(columns / self.tile_columns)
        row = np.arange(rows)
        start = (row // self.tile_rows) * self.tile_rows
        size = np.minimum(self.tile_rows, rows - start)
        self.row_position = torch.as_tensor(start + (size - 1 - (row - start)))  # flipped within its tile
        self.row_distance = torch.as_tensor(size - 1 - (row - start), dtype=torch.float64)  # segments to driver - 1
        column = np.arange(columns)
        self.column_position = torch.as_tensor(column)
        self.column_distance = torch.as_tensor(column % self.tile_columns, dtype=torch.float64)
        self.padded = (self.row_tiles * self.tile_rows, self.column_tiles * self.tile_columns)

    def to_tiles(self, a: torch.Tensor) -> torch.Tensor:
        out = a.new_zeros(a.shape[:-2] + self.padded)
        out[..., self.row_position[:, None], self.column_position[None, :]] = a
        return out

    def from_tiles(self, a: torch.Tensor) -> torch.Tensor:
        return a[..., self.row_position[:, None], self.column_position[None, :]]

    @staticmethod
    def _shared_segments(a: torch.Tensor, dim: int, size: int) -> torch.Tensor:
        """Σ_l (min(j, l) + 1)·a_l within blocks of `size` along `dim` (j, l from the driver):
        Σ_{l≤j} (l + 1)·a_l + (j + 1)·Σ_{l>j} a_l, by two prefix sums."""
        shape = a.shape
        dim = dim % a.dim()
        blocks = a.reshape(shape[:dim] + (shape[dim] // size, size) + shape[dim + 1:])
        d = dim + 1
        weight = torch.arange(1, size + 1, dtype=a.dtype).reshape((size,) + (1,) * (blocks.dim() - d - 1))
        first = blocks.cumsum(d)
        total = first.narrow(d, size - 1, 1)
        return ((blocks * weight).cumsum(d) + weight * (total - first)).reshape(shape)

    def word_tiled(self, tiled: torch.Tensor) -> torch.Tensor:
        """`along_word` of an array already in the tiles' layout (…, PR, PC), left in it."""
        return self._shared_segments(tiled, -1, self.tile_columns)

    def bit_tiled(self, tiled: torch.Tensor) -> torch.Tensor:
        return self._shared_segments(tiled, -2, self.tile_rows)

    def rows_to_tiles(self, a: torch.Tensor) -> torch.Tensor:
        """(…, R) per-row values in the tiles' layout (…, PR)."""
        out = a.new_zeros(a.shape[:-1] + (self.padded[0],))
        out[..., self.row_position] = a
        return out

    def columns_to_tiles(self, a: torch.Tensor) -> torch.Tensor:
        out = a.new_zeros(a.shape[:-1] + (self.padded[1],))
        out[..., self.column_position] = a
        return out

    def along_row(self, a: torch.Tensor) -> torch.Tensor:
        """(P, C) values on P word lines → Σ_l T(j, l)·a(l) within each tile of the line."""
        return self._shared_segments(self.columns_to_tiles(a), -1, self.tile_columns)[..., self.column_position]

    def along_word(self, a: torch.Tensor) -> torch.Tensor:
        """(…, R, C) → Σ_l T(j, l)·a(i, l) within each tile's word line."""
        return self.from_tiles(self._shared_segments(self.to_tiles(a), -1, self.tile_columns))

    def along_bit(self, a: torch.Tensor) -> torch.Tensor:
        return self.from_tiles(self._shared_segments(self.to_tiles(a), -2, self.tile_rows))


def _stack(rho_w: torch.Tensor, pi_w: torch.Tensor, rho_b: torch.Tensor, pi_b: torch.Tensor) -> torch.Tensor:
    """The feature vector (…, 7) in `FEATURES`' order from the four first-order drops."""
    u_w, u_b = rho_w + pi_w, rho_b + pi_b
    return torch.stack([rho_w, pi_w, rho_b, pi_b, u_w * u_w, u_b * u_b, u_w * u_b], dim=-1)


def features(geometry: TileGeometry, g: torch.Tensor, row_activity: torch.Tensor, column_activity: torch.Tensor,
             r_word: float, r_bit: float) -> torch.Tensor:
    """The model's features (…, R, C, 7) at every cell, as if it were selected: g (R, C) or
    (…, R, C); row/column activity (…, R) / (…, C) the probability (or indicator) that each
    other line pulses in a slot; the selected cell's own row and column always do."""
    own_word = (geometry.column_distance + 1.0) * g  # the selected cell's own term of π_w
    own_bit = (geometry.row_distance[:, None] + 1.0) * g
    rho_w = 0.5 * r_word * geometry.along_word(g)
    rho_b = 0.5 * r_bit * geometry.along_bit(g)
    c = column_activity[..., None, :]
    r = row_activity[..., :, None]
    pi_w = 0.5 * r_word * (geometry.along_word(g * c) + own_word * (1.0 - c))
    pi_b = 0.5 * r_bit * (geometry.along_bit(g * r) + own_bit * (1.0 - r))
    rho_w, rho_b = torch.broadcast_tensors(rho_w, pi_w)[0], torch.broadcast_tensors(rho_b, pi_b)[0]
    return _stack(rho_w, pi_w, rho_b, pi_b)


# --- the model ----------------------------------------------------------------------------
@dataclass
class WriteSurrogate:
    """θ of the voltage model (see the module) and what it was fitted on."""

    theta: tuple[float, ...] = FIRST_ORDER
    fitted_on: dict[str, Any] = field(default_factory=dict)
    validation: dict[str, Any] = field(default_factory=dict)
    name: str = "first-order"

    def voltage_ratio(self, f: torch.Tensor) -> torch.Tensor:
        """V_c / V of a selected cell from its features (…, 7)."""
        return 1.0 - f @ torch.as_tensor(self.theta, dtype=f.dtype)

    def coincidences(self, states: torch.Tensor, row_bits: torch.Tensor, column_bits: torch.Tensor,
                     column_signs: torch.Tensor, preset: DevicePulses, tile: tuple[int, int],
                     r_word: float, r_bit: float, row_probability: torch.Tensor | None = None,
                     column_probability: torch.Tensor | None = None) -> tuple[torch.Tensor, float]:
        """The states (R, C) after the stochastic-coincidence updates of B samples written one
        after another (`coincidence_program`'s order: each sample's + phase, then its −):
        row_bits (B, BL, R), column_bits (B, BL, C), column_signs (B, C) in {−1, 0, 1}; and the
        write energy (J). The firing probabilities (B, R), (B, C) the bits were drawn with
        give the expected pattern (default: each line's fraction of slots). The voltages of
        all B samples are those of the states before the first (one solve's worth of error:
        a sample moves a cell by a few steps at most); each sample's pulses then move the
        states exactly by the device's pulse map, in order."""
        geometry = TileGeometry(states.shape[0], states.shape[1], tile[0], tile[1])
        dtype = states.dtype
        rows_f, columns_f = row_bits.to(dtype), column_bits.to(dtype)
        q = rows_f.mean(1) if row_probability is None else row_probability.to(dtype)
        p = columns_f.mean(1) if column_probability is None else column_probability.to(dtype)
        signs = column_signs.to(dtype)
        phases = torch.stack([(signs > 0), (signs < 0)], 1).to(dtype)  # (B, 2, C): + phase, − phase
        phase_columns = columns_f[:, None] * phases[:, :, None, :]  # (B, 2, BL, C)
        hits = torch.einsum("bsr,bpsc->bprc", rows_f, phase_columns)  # (B, 2, R, C) coincidences
        g = preset.conductance(states)
        energy = _coincidence_energy(g, rows_f, phase_columns, hits, preset)
        moved = hits > 0
        if not bool(moved.any()):
            return states.clone(), energy
        b, phase, i, j = torch.nonzero(moved, as_tuple=True)
        # features at the moved cells, in the tiles' layout (see `features`)
        tiled = geometry.to_tiles(g)
        ti, tj = geometry.row_position[i], geometry.column_position[j]
        own_w = (geometry.column_distance[j] + 1.0) * g[i, j]
        own_b = (geometry.row_distance[i] + 1.0) * g[i, j]
        rho_w = 0.5 * r_word * geometry.word_tiled(tiled)[ti, tj]
        rho_b = 0.5 * r_bit * geometry.bit_tiled(tiled)[ti, tj]
        # the pattern terms, per sample on the lines its moved cells lie on only: the word
        # lines of its rows that pulsed, the bit lines of its columns that did
        pi_w, pi_b = torch.empty_like(rho_w), torch.empty_like(rho_b)
        column_activity = geometry.columns_to_tiles(p[:, None, :] * phases)  # (B, 2, PC)
        row_activity = geometry.rows_to_tiles(q)  # (B, PR)
        for sample in range(row_bits.shape[0]):
            mine = torch.nonzero(b == sample).squeeze(1)
            if not mine.numel():
                continue
            lines_r, at_r = torch.unique(ti[mine], return_inverse=True)
            lines_c, at_c = torch.unique(tj[mine], return_inverse=True)
            word = geometry.word_tiled(tiled[lines_r][None] * column_activity[sample][:, None, :])  # (2, n, PC)
            bit = geometry.bit_tiled(tiled[:, lines_c] * row_activity[sample][:, None])  # (PR, m)
            pi_w[mine] = word[phase[mine], at_r, tj[mine]]
            pi_b[mine] = bit[ti[mine], at_c]
        c_own = (p[:, None, :] * phases)[b, phase, j]
        pi_w = 0.5 * r_word * (pi_w + own_w * (1.0 - c_own))
        pi_b = 0.5 * r_bit * (pi_b + own_b * (1.0 - q[b, i]))
        f = _stack(rho_w, pi_w, rho_b, pi_b)
        polarity = 1.0 - 2.0 * phase.to(dtype)  # + phase: +V
        v = polarity * preset.voltage * self.voltage_ratio(f)
        dose = hits[b, phase, i, j] * torch.as_tensor(preset.dose(v.numpy()), dtype=dtype)
        out = states.clone()
        for sample in range(row_bits.shape[0]):  # in order: a cell is written in one phase per sample
            mine = b == sample
            if bool(mine.any()):
                ii, jj = i[mine], j[mine]
                out[ii, jj] = preset.device.advance(out[ii, jj], dose[mine], torch)
        return out, energy

    def counts(self, states: torch.Tensor, counts: torch.Tensor, preset: DevicePulses, tile: tuple[int, int],
               r_word: float, r_bit: float) -> tuple[torch.Tensor, float]:
        """The states after `counts` (R, C) whole pulses per device (positive: +V across the
        cell) written row by row under V/2 (`row_by_row`'s program: each row's + pulses,
        then its −, one pulse per slot), and the write energy (J). Every slot's pattern is
        known — one row, the columns still owed a pulse — so the features are exact; the
        voltages are those of the states before the program."""
        geometry = TileGeometry(states.shape[0], states.shape[1], tile[0], tile[1])
        dtype = states.dtype
        out = states.clone()
        g = preset.conductance(out)
        tiled = geometry.to_tiles(g)
        rho_w = 0.5 * r_word * geometry.from_tiles(geometry.word_tiled(tiled))
        rho_b = 0.5 * r_bit * geometry.from_tiles(geometry.bit_tiled(tiled))
        # only the slot's own row pulses: along the bit line the selected cell's own current
        pi_b = 0.5 * r_bit * (geometry.row_distance[:, None] + 1.0) * g
        energy = 0.0
        for sign in (1.0, -1.0):
            remaining = torch.clamp(sign * counts.to(dtype), min=0.0)
            for k in range(int(remaining.max()) if remaining.numel() else 0):
                active = (remaining > k).to(dtype)  # (R, C): row i's k-th slot writes these
                pulsing = torch.nonzero(active.any(1)).squeeze(1)
                if not pulsing.numel():
                    continue
                a = active[pulsing]
                # each pulsing row's word line with its slot's columns at −V/2 (cells at V)
                pi_w = 0.5 * r_word * geometry.along_row(g[pulsing] * a)
                rw, rb, pb = rho_w[pulsing], rho_b[pulsing], pi_b[pulsing]
                f = _stack(rw, pi_w, rb, pb)
                v = sign * preset.voltage * self.voltage_ratio(f)
                dose = a * torch.as_tensor(preset.dose(v.numpy()), dtype=dtype)
                moving = dose != 0
                block = out[pulsing]
                block[moving] = preset.device.advance(block[moving], dose[moving], torch)
                out[pulsing] = block
                # each slot: its row's cells at V/2, its columns' cells at V/2, the selected at V
                energy += _ideal_energy(g[pulsing].sum(), (a @ g.sum(0)).sum(), (a * g[pulsing]).sum(), preset)
        return out, energy

    def to_dict(self) -> dict[str, Any]:
        return {"format": FORMAT, "name": self.name, "features": list(FEATURES), "theta": list(self.theta),
                "fitted_on": self.fitted_on, "validation": self.validation}

    def save(self, path: str | Path) -> None:
        with atomic_path(Path(path)) as temporary:
            temporary.write_text(json.dumps(self.to_dict(), indent=1))


def _ideal_energy(per_row: Any, per_column: Any, both: Any, preset: DevicePulses) -> float:
    """J of slots at the ideal voltages, (V/2)·(r_i + c_j) across each cell: Σ G·(V/2)²·(r + c)²
    is (V/2)²·(Σ_rows ΣG + Σ_columns ΣG + 2·Σ_selected G), each times the pulse's square time."""
    return float((preset.voltage / 2) ** 2 * preset.square_time * (per_row + per_column + 2.0 * both).sum())


def _coincidence_energy(g: torch.Tensor, rows: torch.Tensor, phase_columns: torch.Tensor, hits: torch.Tensor,
                        preset: DevicePulses) -> float:
    """`_ideal_energy` of every sample's phases: rows (B, BL, R), phase_columns (B, 2, BL, C),
    hits (B, 2, R, C); a phase none of whose columns pulses is not written (its rows idle)."""
    present = phase_columns.sum((2, 3)) > 0  # (B, 2)
    per_row = (rows.sum(1) @ g.sum(1))[:, None] * present  # (B, 2)
    per_column = phase_columns.sum(2) @ g.sum(0)  # (B, 2)
    return _ideal_energy(per_row, per_column, (hits * g).sum((2, 3)), preset)


def load_write_surrogate(name: str | Path) -> WriteSurrogate:
    """A write surrogate by shipped name (`write-vteam-64`) or JSON file; `first-order`: θ of
    first-order physics (no fit)."""
    from ..shipped import write_surrogate

    if str(name) == "first-order":
        return WriteSurrogate()
    path = Path(name)
    if not (path.suffix or len(path.parts) > 1):
        path = write_surrogate(str(name))
    path = check_input_file(path, "write surrogate", max_bytes=MAX_MODEL_BYTES)
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise InputError(f"{path}: not a write surrogate ({error})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT or len(data.get("theta", ())) != len(FEATURES):
        raise InputError(f"{path}: not a write surrogate of format {FORMAT}")
    theta = tuple(finite_number(f"theta[{k}]", v) for k, v in enumerate(data["theta"]))
    return WriteSurrogate(theta, data.get("fitted_on", {}), data.get("validation", {}),
                          str(data.get("name", path.stem)))


# --- datasets: DC solves of random tiles ------------------------------------------------
def _random_case(rng: np.random.Generator, tile: int) -> dict[str, Any]:
    """One tile's states, wires and firing probabilities, drawn as training moves them."""
    rows = tile if rng.random() < 0.75 else int(rng.integers(4, tile + 1))
    columns = tile if rng.random() < 0.75 else int(rng.integers(4, tile + 1))
    kind = rng.integers(3)
    if kind == 0:
        x = rng.random((rows, columns))
    elif kind == 1:
        x = np.clip(0.5 + rng.normal(0.0, rng.uniform(0.05, 0.3), (rows, columns)), 0.0, 1.0)
    else:
        x = np.where(rng.random((rows, columns)) < rng.random(), rng.uniform(0.0, 0.2, (rows, columns)),
                     rng.uniform(0.8, 1.0, (rows, columns)))
    r_wire = float(rng.choice([0.5, 1.0, 2.0, 5.0]))
    q = rng.random(rows) * rng.uniform(0.05, 1.0)
    p = rng.random(columns) * rng.uniform(0.02, 0.6)
    return {"states": x, "r_word": r_wire, "r_bit": r_wire, "rows_p": q, "columns_p": p}


def solve_slots(states: np.ndarray, preset: DevicePulses, r_word: float, r_bit: float, row_bits: np.ndarray,
                column_bits: np.ndarray) -> np.ndarray:
    """The voltage across every cell (S, R, C) in slots with rows (S, R) at +V/2 and columns
    (S, C) at −V/2, by the native solver (the DC network the write engine solves)."""
    g = torch.as_tensor(preset.conductance(states), dtype=torch.float64)
    lines = Lines.with_resistances(states.shape[0], states.shape[1], r_word, r_bit)
    devices = Devices(Linear(g_off=preset.g_min, g_on=preset.g_max), g, {})
    v = torch.as_tensor(row_bits, dtype=torch.float64) * preset.voltage / 2
    c = -torch.as_tensor(column_bits, dtype=torch.float64) * preset.voltage / 2
    solution = solve_system(lines, devices, v, c)
    across = solution.word.expand(*states.shape, v.shape[0]) - solution.bit
    return across.permute(2, 0, 1).numpy()


def write_dataset(path: str | Path, preset: DevicePulses, cases: int = 400, slots: int = 8, tile: int = 64,
                  seed: int = 0, chunk: int = 50, progress: bool = False) -> Path:
    """Random tiles' DC solves (see `_random_case`): per selected cell its features (with
    the expected pattern) and the solved V_c / V, in an HDF5 file written chunk by chunk (an
    interrupted run resumes at its next chunk; the file is complete when it says so)."""
    import h5py

    cases = whole_number("cases", cases, 1, 1_000_000)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    setup = json.dumps({"preset": preset.describe(), "device": preset.device.to_dict(), "cases": cases,
                        "slots": slots, "tile": tile, "seed": seed, "chunk": chunk}, sort_keys=True)
    if path.exists():
        with _open_dataset(path) as h5:
            if h5.attrs.get("setup") != setup:
                raise InputError(f"{path} holds another dataset; choose another file or delete it")
            done = {name for name in h5 if name.startswith("chunk")}
    else:
        with atomic_path(path) as temporary, h5py.File(temporary, "w") as h5:
            h5.attrs["setup"] = setup
            h5.attrs["complete"] = False
        done = set()
    chunks = math.ceil(cases / chunk)
    with progress_bar(progress, total=chunks, initial=len(done), desc="write dataset") as bar:
        for k in range(chunks):
            if f"chunk{k:05d}" in done:
                continue
            rng = np.random.default_rng([seed, k])
            x_rows, y_rows = [], []
            for _ in range(min(chunk, cases - k * chunk)):
                case = _random_case(rng, tile)
                f, y = _case_samples(case, preset, slots, rng)
                x_rows.append(f)
                y_rows.append(y)
            with h5py.File(path, "a") as h5:
                group = h5.create_group(f"chunk{k:05d}")
                group["features"] = np.concatenate(x_rows)
                group["ratio"] = np.concatenate(y_rows)
            bar.update(1)
    with h5py.File(path, "a") as h5:
        h5.attrs["complete"] = True
    return path


def _case_samples(case: dict[str, Any], preset: DevicePulses, slots: int,
                  rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    x = case["states"]
    rows_bits = rng.random((slots, x.shape[0])) < case["rows_p"]
    columns_bits = rng.random((slots, x.shape[1])) < case["columns_p"]
    across = solve_slots(x, preset, case["r_word"], case["r_bit"], rows_bits, columns_bits)
    geometry = TileGeometry(x.shape[0], x.shape[1], x.shape[0], x.shape[1])
    g = torch.as_tensor(preset.conductance(x), dtype=torch.float64)
    f = features(geometry, g, torch.as_tensor(case["rows_p"]), torch.as_tensor(case["columns_p"]),
                 case["r_word"], case["r_bit"]).numpy()
    selected = rows_bits[:, :, None] & columns_bits[:, None, :]
    s, i, j = np.nonzero(selected)
    return f[i, j], across[s, i, j] / preset.voltage


def _open_dataset(path: Path) -> Any:
    """The HDF5 file at `path` for reading, or one line saying it is not one."""
    import h5py

    try:
        return h5py.File(check_input_file(path, "write dataset"), "r")
    except OSError as error:
        raise InputError(f"{path} is not an HDF5 write dataset ({error}); delete it or choose another "
                         "folder") from None


def read_dataset(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    with _open_dataset(Path(path)) as h5:
        if not h5.attrs.get("complete"):
            raise InputError(f"{path} is not complete: run write_dataset again to finish it")
        names = sorted(name for name in h5 if name.startswith("chunk"))
        return (np.concatenate([h5[n]["features"][()] for n in names]),
                np.concatenate([h5[n]["ratio"][()] for n in names]))


def fit_write_surrogate(dataset: str | Path, name: str = "write-surrogate") -> WriteSurrogate:
    """θ by least squares: 1 − V_c/V against the features (every selected cell a row)."""
    f, ratio = read_dataset(dataset)
    theta, *_ = np.linalg.lstsq(f, 1.0 - ratio, rcond=None)
    predicted = 1.0 - f @ theta
    return WriteSurrogate(tuple(float(t) for t in theta),
                          {"cells": int(ratio.size), "voltage_rmse": float(np.sqrt(np.mean((predicted - ratio) ** 2))),
                           "voltage_max_error": float(np.abs(predicted - ratio).max()),
                           "first_order_rmse": float(np.sqrt(np.mean((1.0 - f @ np.array(FIRST_ORDER) - ratio) ** 2)))},
                          name=name)


# --- validation against the native write engine ----------------------------------------
def held_out_update(rng: np.random.Generator, tile: int, bits: int) -> dict[str, Any]:
    """A random tile and one sample's stochastic-coincidence update of it (BL = `bits`)."""
    case = _random_case(rng, tile)
    x = case["states"]
    signs = rng.choice([-1.0, 1.0], x.shape[1])
    return {**case, "row_bits": rng.random((bits, x.shape[0])) < case["rows_p"],
            "column_bits": rng.random((bits, x.shape[1])) < case["columns_p"], "signs": signs}


def validate_write_surrogate(surrogate: WriteSurrogate, preset: DevicePulses, updates: int = 24, tile: int = 64,
                             bits: int = 10, seed: int = 1, progress: bool = False,
                             plot: str | Path | None = None) -> dict[str, Any]:
    """Held-out updates (seeds apart from the dataset's) written by the native write engine
    and by the surrogate: per update the NRMSE of every cell's Δx (RMSE over the RMS of the
    engine's Δx), pooled and worst, and the write energy's ratio; by wire resistance."""
    from ..circuit.write import write_native
    from ..crossbar.program import DynamicCrossbar, coincidence_program

    rng = np.random.default_rng([seed, 7919])
    rows_out = []
    pairs: list[tuple[np.ndarray, np.ndarray]] = []
    with progress_bar(progress, total=updates, desc="validate (engine)") as bar:
        for _ in range(updates):
            u = held_out_update(rng, tile, bits)
            x = u["states"]
            program = coincidence_program(u["row_bits"], u["column_bits"], u["signs"], preset.voltage, preset.width,
                                          t_edge=preset.t_edge)
            engine = write_native(DynamicCrossbar(x, preset.device, u["r_word"], u["r_bit"]), program,
                                  v_read=preset.v_read)
            states, energy = surrogate.coincidences(
                torch.as_tensor(x), torch.as_tensor(u["row_bits"])[None], torch.as_tensor(u["column_bits"])[None],
                torch.as_tensor(u["signs"])[None], preset, x.shape, u["r_word"], u["r_bit"],
                torch.as_tensor(u["rows_p"])[None], torch.as_tensor(u["columns_p"])[None])
            truth, guess = engine.final_states - x, states.numpy() - x
            scale = float(np.sqrt(np.mean(truth ** 2)))
            rows_out.append({"r_wire": u["r_word"], "moved": int((truth != 0).sum()), "scale": scale,
                             "nrmse": float(np.sqrt(np.mean((guess - truth) ** 2)) / scale) if scale else 0.0,
                             "energy_ratio": energy / engine.energy["drivers"]})
            pairs.append((truth[truth != 0], guess[truth != 0]))
            bar.update(1)
    truth_all = np.concatenate([t for t, _ in pairs])
    guess_all = np.concatenate([g for _, g in pairs])
    pooled = float(np.sqrt(np.mean((guess_all - truth_all) ** 2)) / np.sqrt(np.mean(truth_all ** 2)))
    report: dict[str, Any] = {"updates": updates, "tile": tile, "bits": bits, "pooled_nrmse": pooled,
                              "worst_nrmse": max(r["nrmse"] for r in rows_out),
                              "energy_ratio": [min(r["energy_ratio"] for r in rows_out),
                                               max(r["energy_ratio"] for r in rows_out)],
                              "by_wire": {}, "per_update": rows_out}
    for r_wire in sorted({r["r_wire"] for r in rows_out}):
        picked = [k for k, r in enumerate(rows_out) if r["r_wire"] == r_wire]
        t = np.concatenate([pairs[k][0] for k in picked])
        g = np.concatenate([pairs[k][1] for k in picked])
        report["by_wire"][f"{r_wire:g}"] = {"updates": len(picked), "pooled_nrmse":
                                            float(np.sqrt(np.mean((g - t) ** 2)) / np.sqrt(np.mean(t ** 2))),
                                            "worst_nrmse": max(rows_out[k]["nrmse"] for k in picked)}
    if plot is not None:
        _parity_plot(pairs, rows_out, Path(plot))
    return report


def _parity_plot(pairs: list[tuple[np.ndarray, np.ndarray]], rows: list[dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ..io import save_figure

    figure, (left, right) = plt.subplots(1, 2, figsize=(9, 3.8))
    for (t, g), row in zip(pairs, rows):
        left.plot(t, g, ".", ms=2, alpha=0.4, color="tab:red" if row["r_wire"] >= 5 else "tab:blue")
    low = min(float(t.min()) for t, _ in pairs if t.size)
    high = max(float(t.max()) for t, _ in pairs if t.size)
    left.plot([low, high], [low, high], "k-", lw=0.6)
    left.set_xlabel("Δx, native write engine")
    left.set_ylabel("Δx, write surrogate")
    left.set_title("every moved cell (red: 5 Ω segments)", fontsize=8)
    right.plot([r["r_wire"] for r in rows], [100 * r["nrmse"] for r in rows], "o")
    right.set_xscale("log")
    right.set_xlabel("wire resistance per segment (Ω)")
    right.set_ylabel("per-update NRMSE of Δx (%)")
    figure.tight_layout()
    save_figure(figure, path)


def build_write_surrogate(out: str | Path, presets: tuple[str, ...] = ("levels32", "soft-bounds"), cases: int = 1000,
                          updates: int = 24, seed: int = 0, name: str = "write-vteam-64",
                          progress: bool = False) -> dict[str, Any]:
    """Datasets of each preset's devices (HDF5, resumed), θ fitted on them all, and each
    preset's validation against the native write engine on `updates` held-out updates of
    64x64 tiles (parity plots); writes `<name>.json` (the model, its fit and validation)
    and `validation.json` into `out`."""
    from ..devices.written import write_preset

    if not NAME.fullmatch(name) or name.endswith("."):
        raise InputError(f"the model's name {name!r} must be letters, digits, '_', '.', '-' (at most 64, "
                         "no folders): it names its file")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    datasets = [write_dataset(out / f"dataset-{preset}.h5", write_preset(preset), cases, seed=seed + k,
                              progress=progress) for k, preset in enumerate(presets)]
    fits = [read_dataset(path) for path in datasets]
    f = np.concatenate([x for x, _ in fits])
    ratio = np.concatenate([y for _, y in fits])
    theta, *_ = np.linalg.lstsq(f, 1.0 - ratio, rcond=None)
    predicted = 1.0 - f @ theta
    surrogate = WriteSurrogate(tuple(float(t) for t in theta), {
        "presets": list(presets), "cases_per_preset": cases, "cells": int(ratio.size),
        "voltage_rmse": float(np.sqrt(np.mean((predicted - ratio) ** 2))),
        "voltage_max_error": float(np.abs(predicted - ratio).max()),
        "first_order_rmse": float(np.sqrt(np.mean((1.0 - f @ np.array(FIRST_ORDER) - ratio) ** 2)))}, name=name)
    report = {preset: validate_write_surrogate(surrogate, write_preset(preset), updates, seed=seed + 100 + k,
                                               progress=progress, plot=out / f"parity-{preset}.png")
              for k, preset in enumerate(presets)}
    surrogate.validation = {preset: {key: value for key, value in r.items() if key != "per_update"}
                            for preset, r in report.items()}
    surrogate.save(out / f"{name}.json")
    with atomic_path(out / "validation.json") as temporary:
        temporary.write_text(json.dumps({"fit": surrogate.fitted_on, "validation": report}, indent=1))
    return {"fit": surrogate.fitted_on, "validation": surrogate.validation}
