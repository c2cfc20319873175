"""Datasets of SPICE results for the surrogate: generated in parallel, resumable, in HDF5.

Work is split into tasks of a few cases. Each finished task is written atomically as an
.npz beside the target (`<out>.parts/`), so a killed job loses only the tasks in flight and
a rerun continues where it stopped; when every task is in, they are gathered into one HDF5
file (written to a temporary name, then renamed). Tasks run in this process (1 worker), in
worker processes, or on a Dask distributed cluster (`scheduler="tcp://host:8786"`).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor, as_completed
from multiprocessing import get_context
from pathlib import Path

import numpy as np

from ..crossbar import Crossbar
from ..errors import InputError
from ..io import atomic_path, save_npz_atomic
from ..version import __version__
from .sampling import DatasetSpec, sample_case

RESULT_FIELDS = ("currents", "power", "device_power", "word_line_power", "bit_line_power")


def simulate_cases(spec_json: str, start: int, stop: int) -> dict[str, np.ndarray]:
    """Run cases [start, stop) through ngspice (a top-level function: it travels to workers)."""
    from ..spice import simulate

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


def _tasks(spec: DatasetSpec, cases_per_task: int) -> list[tuple[int, int]]:
    return [(start, min(spec.cases, start + cases_per_task)) for start in range(0, spec.cases, cases_per_task)]


def _part_path(parts: Path, start: int, stop: int) -> Path:
    return parts / f"cases_{start:09d}_{stop:09d}.npz"


def generate(spec: DatasetSpec, out: str | Path, workers: int = 1, scheduler: str | None = None,
             cases_per_task: int = 4, progress: bool = True) -> Path:
    """Generate (or finish) the dataset `spec` into the HDF5 file `out`."""
    out = Path(out)
    if out.exists():
        existing = read_spec(out)
        if existing != spec:
            raise InputError(f"{out} already holds a different dataset; choose another --out")
        return out
    if not out.parent.exists():
        raise InputError(f"folder {out.parent} does not exist")
    parts = out.with_name(out.name + ".parts")
    parts.mkdir(exist_ok=True)
    spec_file = parts / "spec.json"
    if spec_file.exists():
        if DatasetSpec.from_json(spec_file.read_text()) != spec:
            raise InputError(f"{parts} holds an unfinished different dataset; remove it or choose another --out")
    else:
        spec_file.write_text(spec.to_json())
    todo = [task for task in _tasks(spec, cases_per_task) if not _part_path(parts, *task).exists()]
    done_cases = spec.cases - sum(stop - start for start, stop in todo)

    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=spec.cases, initial=done_cases, desc="SPICE cases", unit="case", smoothing=0.1)
    try:
        for (start, stop), arrays in _run(spec, todo, workers, scheduler):
            save_npz_atomic(_part_path(parts, start, stop), arrays)
            if bar is not None:
                bar.update(stop - start)
    finally:
        if bar is not None:
            bar.close()
    _gather(spec, parts, out, cases_per_task)
    shutil.rmtree(parts)
    return out


def _run(spec: DatasetSpec, todo: list[tuple[int, int]], workers: int, scheduler: str | None) -> Iterable:
    text = spec.to_json()
    if scheduler:
        from distributed import Client
        from distributed import as_completed as dask_completed

        try:
            client = Client(scheduler, timeout=10)
        except (OSError, TimeoutError, ValueError) as error:
            raise InputError(f"cannot reach the Dask scheduler at {scheduler!r}: {error}") from None
        with client:
            futures = {client.submit(simulate_cases, text, start, stop, pure=False): (start, stop)
                       for start, stop in todo}
            for future in dask_completed(futures):
                yield futures[future], future.result()
        return
    if workers <= 1:
        for start, stop in todo:
            yield (start, stop), simulate_cases(text, start, stop)
        return
    # spawn: each worker loads its own ngspice (the shared library keeps global state)
    with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn")) as pool:
        local = {pool.submit(simulate_cases, text, start, stop): (start, stop) for start, stop in todo}
        for done in as_completed(local):
            yield local[done], done.result()


def _gather(spec: DatasetSpec, parts: Path, out: Path, cases_per_task: int) -> None:
    import h5py

    from ..spice.ngspice import program

    with atomic_path(out) as temporary, h5py.File(temporary, "w") as h5:
        h5.attrs["spec"] = spec.to_json()
        h5.attrs["spicenn_version"] = __version__
        h5.attrs["ngspice_version"] = program().version
        datasets = {}
        for start, stop in _tasks(spec, cases_per_task):
            with np.load(_part_path(parts, start, stop)) as part:
                for name in part.files:
                    if name not in datasets:
                        shape = (spec.cases,) + part[name].shape[1:]
                        datasets[name] = h5.create_dataset(name, shape=shape, dtype="f8")
                    datasets[name][start:stop] = part[name]


def read_spec(path: str | Path) -> DatasetSpec:
    import h5py

    with h5py.File(path, "r") as h5:
        return DatasetSpec.from_json(h5.attrs["spec"])


def load(path: str | Path) -> tuple[DatasetSpec, dict[str, np.ndarray]]:
    """(spec, arrays): conductances (C, M, N), voltages (C, V, M), currents (C, V, N), powers (C, V)."""
    import h5py

    path = Path(path)
    if not path.exists():
        raise InputError(f"dataset {path} does not exist")
    try:
        with h5py.File(path, "r") as h5:
            spec = DatasetSpec.from_json(h5.attrs["spec"])
            return spec, {name: h5[name][()] for name in h5}
    except OSError as error:
        raise InputError(f"{path} is not a spicenn HDF5 dataset ({error})") from None


def metadata(path: str | Path) -> dict:
    import h5py

    with h5py.File(path, "r") as h5:
        return {key: (json.loads(value) if key == "spec" else value) for key, value in h5.attrs.items()}
