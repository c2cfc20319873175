"""Datasets of SPICE results for the surrogate: generated in parallel, resumable, in HDF5.

Work is split into tasks of a few cases. Each finished task is written atomically as an
.npz beside the target (`<out>.parts/`), so a killed job loses only the tasks in flight and
a rerun continues where it stopped; when every task is in, they are gathered into one HDF5
file (written to a temporary name, then renamed). Tasks run in this process (1 worker), in
worker processes, or on a Dask distributed cluster (`scheduler="tcp://host:8786"`).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import zipfile
from collections.abc import Iterable
from concurrent.futures import as_completed
from pathlib import Path
from typing import Any

import numpy as np

from ..crossbar import Crossbar
from ..errors import InputError
from ..io import atomic_path, folder_lock, remove_stale_parts, save_npz_atomic, write_text_atomic
from ..processes import dask_client, run_as_worker, worker_pool
from ..progress import progress_bar
from ..solvers import get_solver
from ..version import __version__
from .sampling import DatasetSpec, sample_case

RESULT_FIELDS = ("currents", "power", "device_power", "word_line_power", "bit_line_power")


def simulate_cases(spec_json: str, start: int, stop: int) -> dict[str, np.ndarray]:
    """Run cases [start, stop) through ngspice (a top-level function: it travels to workers)."""
    from ..solvers import simulate

    spec = DatasetSpec.from_json(spec_json)
    device = spec.device_model()
    out: dict[str, list[np.ndarray]] = {name: [] for name in ("conductances", "voltages") + RESULT_FIELDS}
    for index in range(start, stop):
        g, v = sample_case(spec, index)
        result = simulate(Crossbar(g, device, r_word=spec.r_word, r_bit=spec.r_bit), v, engine=spec.engine)
        out["conductances"].append(g)
        out["voltages"].append(v)
        for name in RESULT_FIELDS:
            out[name].append(getattr(result, name))
    return {name: np.stack(values) for name, values in out.items()}


def _tasks(ranges: list[tuple[int, int]], cases_per_task: int) -> list[tuple[int, int]]:
    """The case ranges cut into tasks of at most `cases_per_task` cases."""
    return [(start, min(stop, start + cases_per_task)) for first, stop in ranges
            for start in range(first, stop, cases_per_task)]


def _uncovered(cases: int, stored: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The case ranges of [0, cases) that no stored part holds."""
    gaps, position = [], 0
    for start, stop in sorted(stored):
        if start > position:
            gaps.append((position, start))
        position = max(position, stop)
    if position < cases:
        gaps.append((position, cases))
    return gaps


_PART_NAME = re.compile(r"^cases_(\d{9})_(\d{9})\.npz$")


def _part_path(parts: Path, start: int, stop: int) -> Path:
    return parts / f"cases_{start:09d}_{stop:09d}.npz"


def generate(spec: DatasetSpec, out: str | Path, workers: int = 1, scheduler: str | None = None,
             cases_per_task: int = 4, progress: bool = True) -> Path:
    """Generate (or finish) the dataset `spec` into the HDF5 file `out`. Finished parts are
    kept whatever `cases_per_task` made them; one process at a time works on a dataset."""
    out = Path(out)
    if out.exists():
        existing = read_spec(out)
        if existing != spec:
            raise InputError(f"{out} already holds a different dataset; choose another --out")
        return out
    if not out.parent.exists():
        raise InputError(f"folder {out.parent} does not exist")
    # everything that can refuse the job is tried before anything is written: a refused
    # command leaves nothing behind that would block the corrected one
    _check_can_run(spec, scheduler)
    parts = out.with_name(out.name + ".parts")
    if parts.exists() and not parts.is_dir():
        raise InputError(f"{parts} is a file; remove it or choose another --out")
    parts.mkdir(exist_ok=True)
    with folder_lock(parts, "dataset"):
        remove_stale_parts(parts)
        spec_file = parts / "spec.json"
        existing_parts = [path for path in parts.iterdir() if _PART_NAME.match(path.name)]
        if spec_file.exists() and existing_parts:  # checked before any part is judged or removed
            try:
                same = DatasetSpec.from_json(spec_file.read_text()) == spec
            except (InputError, ValueError, TypeError):
                same = False
            if not same:
                raise InputError(f"{parts} holds {len(existing_parts)} parts of a different dataset; "
                                 "remove it or choose another --out")
        stored = _stored_parts(parts, spec)
        write_text_atomic(spec_file, spec.to_json())
        todo = _tasks(_uncovered(spec.cases, stored), cases_per_task)
        done_cases = spec.cases - sum(stop - start for start, stop in todo)
        with progress_bar(progress, total=spec.cases, initial=done_cases, desc="SPICE cases", unit="case",
                          smoothing=0.1) as bar:
            for (start, stop), arrays in _run(spec, todo, workers, scheduler):
                save_npz_atomic(_part_path(parts, start, stop), arrays)
                bar.update(stop - start)
        _gather(spec, parts, out, sorted(stored + todo))
    shutil.rmtree(parts)
    return out


def _check_can_run(spec: DatasetSpec, scheduler: str | None) -> None:
    """The first case builds (device, conductances, voltages) and ngspice is there (unless a
    cluster runs the cases)."""
    g, v = sample_case(spec, 0)
    Crossbar(g, spec.device_model(), r_word=spec.r_word, r_bit=spec.r_bit).check_voltages(v)
    if not scheduler and get_solver(spec.engine).runs_netlists:
        from ..spice.ngspice import program

        program()


def _stored_parts(parts: Path, spec: DatasetSpec) -> list[tuple[int, int]]:
    """The case ranges whose part files are whole (every array there, one row per case,
    finite), whatever task size made them; overlapping ones are not kept twice. A part that
    is not whole (a disk fault, a hand edit: parts are written atomically) is removed now,
    before any new work, and computed again."""
    stored: list[tuple[int, int]] = []
    if not parts.is_dir():
        return stored
    expected = {"conductances", "voltages", *RESULT_FIELDS}
    found = sorted((int(m.group(1)), int(m.group(2)), path) for path in parts.iterdir()
                   if (m := _PART_NAME.match(path.name)))
    covered_to = 0
    for start, stop, path in found:
        if not 0 <= start < stop <= spec.cases or start < covered_to:
            path.unlink()  # outside this dataset, or overlapping a kept part
            continue
        try:
            with np.load(path, allow_pickle=False) as part:
                whole = set(part.files) == expected and all(
                    part[name].shape[0] == stop - start and np.isfinite(part[name]).all() for name in expected)
        except (ValueError, OSError, EOFError, zipfile.BadZipFile):
            whole = False
        if whole:
            stored.append((start, stop))
            covered_to = stop
        else:
            path.unlink()
    return stored


def _run(spec: DatasetSpec, todo: list[tuple[int, int]], workers: int, scheduler: str | None) -> Iterable:
    text = spec.to_json()
    if scheduler:
        from distributed import as_completed as dask_completed

        with dask_client(scheduler) as client:
            futures = {client.submit(run_as_worker, os.getpid(), simulate_cases, text, start, stop,
                                     pure=False): (start, stop)
                       for start, stop in todo}
            for future in dask_completed(futures):
                yield futures[future], future.result()
        return
    if workers <= 1:
        for start, stop in todo:
            yield (start, stop), simulate_cases(text, start, stop)
        return
    with worker_pool(workers) as pool:
        local = {pool.submit(simulate_cases, text, start, stop): (start, stop) for start, stop in todo}
        for done in as_completed(local):
            yield local[done], done.result()


def _gather(spec: DatasetSpec, parts: Path, out: Path, ranges: list[tuple[int, int]]) -> None:
    import h5py

    from ..spice.ngspice import program

    with atomic_path(out) as temporary, h5py.File(temporary, "w") as h5:
        h5.attrs["spec"] = spec.to_json()
        h5.attrs["spicenn_version"] = __version__
        h5.attrs["ngspice_version"] = program().version
        datasets = {}
        for start, stop in ranges:
            with np.load(_part_path(parts, start, stop)) as part:
                for name in part.files:
                    if name not in datasets:
                        shape = (spec.cases,) + part[name].shape[1:]
                        datasets[name] = h5.create_dataset(name, shape=shape, dtype="f8")
                    datasets[name][start:stop] = part[name]


def read_spec(path: str | Path) -> DatasetSpec:
    """The `DatasetSpec` a dataset file was made from (its arrays are not read)."""
    return load(path, arrays=False)[0]


def load(path: str | Path, arrays: bool = True) -> tuple[DatasetSpec, dict[str, np.ndarray]]:
    """(spec, arrays): conductances (C, M, N), voltages (C, V, M), currents (C, V, N), powers (C, V).

    Checked as it is read: the spec, every array there with the spec's shapes, finite values;
    anything else is a one-line InputError naming the file and the field."""
    import h5py

    path = Path(path)
    if not path.exists():
        raise InputError(f"dataset {path} does not exist")
    if path.is_dir():
        raise InputError(f"dataset {path} is a folder")
    try:
        with h5py.File(path, "r") as h5:
            if "spec" not in h5.attrs:
                raise InputError(f"dataset {path} has no spec attribute: not a spicenn dataset")
            try:
                spec = DatasetSpec.from_json(h5.attrs["spec"])
            except (ValueError, TypeError, KeyError) as error:
                raise InputError(f"dataset {path}: its spec is not readable ({error})") from None
            if not arrays:
                return spec, {}
            data = {name: _dataset_array(h5, name, path, spec) for name in h5}
    except OSError as error:
        raise InputError(f"{path} is not a spicenn HDF5 dataset ({error})") from None
    expected = {"conductances": (spec.cases, spec.rows, spec.columns),
                "voltages": (spec.cases, spec.vectors, spec.rows),
                "currents": (spec.cases, spec.vectors, spec.columns)}
    for name, shape in expected.items():
        if name not in data:
            raise InputError(f"dataset {path} has no {name!r} array")
        if data[name].shape != shape:
            raise InputError(f"dataset {path}: {name!r} is {data[name].shape}, its spec says {shape}")
    for name, values in data.items():
        if values.dtype.kind in "fc" and not np.isfinite(values).all():
            bad = np.argwhere(~np.isfinite(values))[0].tolist()
            raise InputError(f"dataset {path}: {name!r} holds NaN or inf (first at index {bad})")
    return spec, data


def _dataset_array(h5: Any, name: str, path: Path, spec: DatasetSpec) -> np.ndarray:
    """One member of a dataset file, checked before it is read: an array of real floats
    stored in this file (no group, no link to another file) of at most the size its spec allows."""
    import h5py

    link = h5.get(name, getlink=True)
    if isinstance(link, (h5py.ExternalLink, h5py.SoftLink)):
        raise InputError(f"dataset {path}: {name!r} is a link, not an array stored in the file")
    member = h5[name]
    if not isinstance(member, h5py.Dataset):
        raise InputError(f"dataset {path}: {name!r} is a group, not an array")
    if member.dtype.kind != "f":
        raise InputError(f"dataset {path}: {name!r} holds {member.dtype} values, not real floats")
    largest = spec.cases * max(spec.vectors, spec.rows) * max(spec.rows, spec.columns)
    if member.size > largest:
        raise InputError(f"dataset {path}: {name!r} holds {member.size:,} values, more than its spec allows")
    values: np.ndarray = member[()]
    return values


def metadata(path: str | Path) -> dict:
    """A dataset file's attributes: its spec and the spicenn and ngspice versions that made it."""
    import h5py

    with h5py.File(path, "r") as h5:
        return {key: (json.loads(value) if key == "spec" else value) for key, value in h5.attrs.items()}
