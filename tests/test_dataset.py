"""SPICE datasets for the surrogate: storage round trip, seeds, resume after an interrupt, parallel runs."""

import numpy as np
import pytest

from spicenn.crossbar import Crossbar
from spicenn.errors import InputError
from spicenn.solvers import simulate
from spicenn.surrogate import DatasetSpec, generate, load, metadata, sample_case

SPEC = DatasetSpec(rows=6, columns=5, device={"name": "sinh", "k": 3.0}, r_word=1.0, r_bit=1.0, cases=10,
                   vectors=3, seed=11)


def test_round_trip_through_hdf5_equals_direct_simulation(tmp_path):
    path = generate(SPEC, tmp_path / "d.h5", progress=False)
    spec, data = load(path)
    assert spec == SPEC
    assert data["conductances"].shape == (10, 6, 5) and data["voltages"].shape == (10, 3, 6)
    assert data["currents"].shape == (10, 3, 5) and data["power"].shape == (10, 3)
    g, v = sample_case(SPEC, 7)
    np.testing.assert_array_equal(data["conductances"][7], g)
    direct = simulate(Crossbar(g, SPEC.device_model(), r_word=1.0, r_bit=1.0), v)
    np.testing.assert_allclose(data["currents"][7], direct.currents, rtol=1e-12)
    np.testing.assert_allclose(data["device_power"][7], direct.device_power, rtol=1e-12)
    meta = metadata(path)
    assert meta["ngspice_version"] >= 39 and meta["spec"]["seed"] == 11
    assert not (tmp_path / "d.h5.parts").exists()


def test_same_seed_same_data_other_seed_other_data(tmp_path):
    a = load(generate(SPEC, tmp_path / "a.h5", progress=False))[1]
    b = load(generate(SPEC, tmp_path / "b.h5", progress=False, cases_per_task=3))[1]
    c = load(generate(DatasetSpec(**{**SPEC.__dict__, "seed": 12}), tmp_path / "c.h5", progress=False))[1]
    for name in a:
        np.testing.assert_array_equal(a[name], b[name])
    assert not np.array_equal(a["conductances"], c["conductances"])


@pytest.mark.parametrize("conductances, inputs", [("skewed", "sparse"), ("uniform", "binary")])
def test_distributions(conductances, inputs):
    spec = DatasetSpec(rows=40, columns=40, conductances=conductances, inputs=inputs, vectors=50)
    g, v = sample_case(spec, 0)
    assert g.min() >= spec.g_off and g.max() <= spec.g_on
    if conductances == "skewed":
        assert np.median(g) < spec.g_off + 0.15 * (spec.g_on - spec.g_off)
    if inputs == "sparse":
        assert 0.6 < np.mean(v == 0) < 0.8
    else:
        assert set(np.unique(v)) <= {0.0, spec.v_max}


def test_an_interrupted_job_resumes_to_the_same_dataset(tmp_path, monkeypatch):
    """Interrupted after exactly two finished tasks (no timing): the rerun skips those parts,
    ignores the half-written temporary a killed writer leaves behind, and ends with the data of
    an uninterrupted run, bit for bit."""
    from spicenn.surrogate import dataset

    spec = DatasetSpec(**{**SPEC.__dict__, "cases": 12})
    writes = []
    real_save = dataset.save_npz_atomic

    def save_then_interrupt(path, arrays):
        if len(writes) == 2:
            raise KeyboardInterrupt
        real_save(path, arrays)
        writes.append(path)

    monkeypatch.setattr(dataset, "save_npz_atomic", save_then_interrupt)
    out = tmp_path / "interrupted.h5"
    with pytest.raises(KeyboardInterrupt):
        generate(spec, out, cases_per_task=2, progress=False)
    monkeypatch.setattr(dataset, "save_npz_atomic", real_save)
    parts = tmp_path / "interrupted.h5.parts"
    assert not out.exists() and sorted(parts.glob("cases_*.npz")) == sorted(writes)
    (parts / "cases_000000010_000000012.npz.tmp123.part").write_bytes(b"half a file")
    simulated = []
    real_simulate = dataset.simulate_cases

    def recording(spec_json, start, stop, *rest):
        simulated.append((start, stop))
        return real_simulate(spec_json, start, stop, *rest)

    monkeypatch.setattr(dataset, "simulate_cases", recording)
    generate(spec, out, cases_per_task=2, progress=False)
    assert sorted(simulated) == [(4, 6), (6, 8), (8, 10), (10, 12)]  # only the unfinished tasks ran
    a, b = load(out)[1], load(generate(spec, tmp_path / "whole.h5", cases_per_task=2, progress=False))[1]
    for name in a:
        np.testing.assert_array_equal(a[name], b[name])


@pytest.mark.slow
def test_worker_processes_and_a_dask_cluster_give_the_same_data(tmp_path):
    from distributed import LocalCluster

    local = load(generate(SPEC, tmp_path / "one.h5", progress=False))[1]
    two = load(generate(SPEC, tmp_path / "two.h5", workers=2, progress=False))[1]
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        dask = load(generate(SPEC, tmp_path / "dask.h5", scheduler=cluster.scheduler_address, progress=False))[1]
    for name in local:
        np.testing.assert_array_equal(local[name], two[name])
        np.testing.assert_array_equal(local[name], dask[name])


def test_bad_dataset_requests_are_clear_errors(tmp_path):
    generate(SPEC, tmp_path / "d.h5", progress=False)
    with pytest.raises(InputError, match="different dataset"):
        generate(DatasetSpec(**{**SPEC.__dict__, "seed": 99}), tmp_path / "d.h5", progress=False)
    with pytest.raises(InputError, match="unknown conductance distribution"):
        DatasetSpec(rows=2, columns=2, conductances="gaussian")
    with pytest.raises(InputError, match="rows must be"):
        DatasetSpec(rows=0, columns=2)
    with pytest.raises(InputError, match="does not exist"):
        load(tmp_path / "missing.h5")


def test_a_dataset_solved_by_the_native_engine_equals_the_ngspice_one(tmp_path):
    spice = load(generate(SPEC, tmp_path / "spice.h5", progress=False))[1]
    native_spec = DatasetSpec(**{**SPEC.__dict__, "engine": "native"})
    native = load(generate(native_spec, tmp_path / "native.h5", progress=False))[1]
    np.testing.assert_array_equal(native["conductances"], spice["conductances"])
    for name in ("currents", "power", "device_power"):
        np.testing.assert_allclose(native[name], spice[name], rtol=1e-9, atol=1e-20)
    assert load(tmp_path / "native.h5")[0].engine == "native"
    with pytest.raises(InputError, match="unknown engine"):
        DatasetSpec(rows=2, columns=2, engine="hspice")
