"""The trained surrogate: fitted to SPICE, validated on held-out SPICE cases, guarded inputs, CLI."""

import json

import numpy as np
import pytest
import torch
from clirun import run_cli

from spicenn.crossbar import Crossbar
from spicenn.errors import InputError
from spicenn.solvers import simulate
from spicenn.surrogate import DatasetSpec, generate
from spicenn.surrogate.model import CrossbarSurrogate, SurrogateConfig
from spicenn.surrogate.training import train, validate

CONFIG = dict(rows=16, columns=12, device={"name": "powerlaw", "v_ref": 0.25, "n": 2.13}, r_word=0.25,
              r_bit=0.25, g_off=9.97e-4, g_on=3.51e-3, vectors=6)


@pytest.fixture(scope="module")
def datasets(tmp_path_factory):
    folder = tmp_path_factory.mktemp("surrogate")
    train_path = generate(DatasetSpec(**CONFIG, cases=6, seed=1), folder / "train.h5", progress=False)
    held_out = generate(DatasetSpec(**CONFIG, cases=4, seed=2, conductances="skewed", inputs="sparse"),
                        folder / "held_out.h5", progress=False)
    return train_path, held_out


def test_trained_surrogate_beats_the_baselines_on_an_unseen_distribution(datasets, tmp_path):
    train_path, held_out = datasets
    model, history = train(train_path, iterations=6, epochs=40, progress=False)
    assert history[-1] < history[0]
    report = validate(model, held_out, plots=tmp_path)
    assert report["surrogate"]["nrmse"] < 5e-3
    best_baseline = min(report["ideal"]["nrmse"], report["device_only"]["nrmse"])
    assert report["surrogate"]["nrmse"] < best_baseline / 5
    assert (tmp_path / "parity.png").exists() and (tmp_path / "error_histogram.png").exists()


def test_save_load_and_refusals(datasets, tmp_path):
    model, _ = train(datasets[0], iterations=3, epochs=2, progress=False)
    model.save(tmp_path / "m.pt")
    loaded = CrossbarSurrogate.load(tmp_path / "m.pt")
    assert loaded.config == model.config
    g = torch.full((16, 12), 2e-3, dtype=torch.float64)
    v = torch.full((2, 16), 0.3, dtype=torch.float64)
    torch.testing.assert_close(loaded(v, g), model(v, g))
    # the range's ends pass in float32 too, where g_off and g_on round
    edges = torch.tensor([CONFIG["g_off"], CONFIG["g_on"]] * 96, dtype=torch.float32).reshape(16, 12)
    assert loaded(v.float(), edges).dtype == torch.float32
    with pytest.raises(InputError, match="NaN or inf"):
        loaded(v, torch.full((16, 12), float("nan"), dtype=torch.float64))
    with pytest.raises(InputError, match="16x12 tiles"):
        loaded(v, torch.full((8, 12), 2e-3, dtype=torch.float64))
    with pytest.raises(InputError, match="conductances outside"):
        loaded(v, torch.full((16, 12), 1e-5, dtype=torch.float64))
    with pytest.raises(InputError, match="voltages outside"):
        loaded(torch.full((2, 16), 0.9, dtype=torch.float64), g)
    with pytest.raises(InputError, match="not a spicenn surrogate"):
        (tmp_path / "junk.pt").write_bytes(b"junk")
        CrossbarSurrogate.load(tmp_path / "junk.pt")


def test_predict_cli_matches_spice(datasets, tmp_path, rng):
    model, _ = train(datasets[0], iterations=8, epochs=20, progress=False)
    model.save(tmp_path / "m.pt")
    g = rng.uniform(9.97e-4, 3.51e-3, (16, 12))
    v = rng.uniform(0, 0.5, (3, 16))
    np.save(tmp_path / "G.npy", g)
    np.save(tmp_path / "V.npy", v)
    done = run_cli("surrogate", "predict", "-M", tmp_path / "m.pt", "-g", tmp_path / "G.npy", "-v", tmp_path / "V.npy",
               "-o", tmp_path / "p.npz")
    assert done.returncode == 0, done.stderr
    spice = simulate(Crossbar(g, model.device_model, r_word=0.25, r_bit=0.25), v).currents
    with np.load(tmp_path / "p.npz") as predicted:
        np.testing.assert_allclose(predicted["currents"], spice, rtol=1e-3)
    done = run_cli("surrogate", "validate", "-M", tmp_path / "m.pt", "-D", datasets[1], "--json")
    assert done.returncode == 0, done.stderr
    assert set(json.loads(done.stdout)) == {"surrogate", "ideal", "device_only"}
    np.save(tmp_path / "Vbad.npy", np.full((2, 16), 5.0))
    done = run_cli("surrogate", "predict", "-M", tmp_path / "m.pt", "-g", tmp_path / "G.npy",
                   "-v", tmp_path / "Vbad.npy", "-o", tmp_path / "p2.npz")
    assert done.returncode != 0 and len(done.stderr.strip().splitlines()) == 1 and "voltages outside" in done.stderr


@pytest.mark.parametrize("name", ["sinh64", "sinh64-relaxation", "powerlaw32", "powerlaw32-relaxation"])
def test_shipped_surrogates_meet_an_accuracy_floor_on_fresh_spice_cases(name):
    from conftest import ROOT

    model = CrossbarSurrogate.load(ROOT / "models" / "surrogates" / f"{name}.pt")
    c = model.config
    rng = np.random.default_rng(777)
    g = rng.uniform(c.g_off, c.g_on, (c.rows, c.columns))
    v = rng.uniform(0, c.v_max, (4, c.rows))
    spice = simulate(Crossbar(g, model.device_model, r_word=c.r_word, r_bit=c.r_bit), v).currents
    with torch.no_grad():
        predicted = model(torch.from_numpy(v), torch.from_numpy(g)).numpy()
    nrmse = np.sqrt(np.mean((predicted - spice) ** 2)) / np.sqrt(np.mean(spice**2))
    # loose floors: the benchmark measures the figures (first-order ~0.1-0.5 %, relaxation ~0.003 %)
    assert nrmse < (1e-2 if model.config.kind == "first-order" else 1e-3)


WEAK = dict(rows=16, columns=12, device={"name": "powerlaw-high"}, r_word=100.0, r_bit=100.0, g_off=5.25e-7,
            g_on=2.62e-6)


def test_first_order_surrogate_on_weakly_loaded_lines(tmp_path):
    """The matmul-shaped kind: fitted to SPICE, beats both baselines on an unseen distribution,
    survives save/load, and refuses a device whose current is not G·f(V)."""
    train_path = generate(DatasetSpec(**WEAK, vectors=6, cases=4, seed=1), tmp_path / "train.h5", progress=False)
    held_out = generate(DatasetSpec(**WEAK, vectors=6, cases=3, seed=2, conductances="skewed", inputs="sparse"),
                        tmp_path / "held_out.h5", progress=False)
    model, history = train(train_path, epochs=40, learning_rate=0.01, progress=False, kind="first-order")
    assert history[-1] <= history[0]
    report = validate(model, held_out)
    assert report["surrogate"]["nrmse"] < min(report["ideal"]["nrmse"], report["device_only"]["nrmse"]) / 5
    model.save(tmp_path / "m.pt")
    loaded = CrossbarSurrogate.load(tmp_path / "m.pt")
    assert loaded.config.kind == "first-order"
    g = torch.full((16, 12), 1e-6, dtype=torch.float64)
    v = torch.full((2, 16), 0.3, dtype=torch.float64)
    torch.testing.assert_close(loaded(v, g), model(v, g))
    with pytest.raises(InputError, match="G·f"):
        SurrogateConfig(**{**WEAK, "device": {"name": "poole-frenkel-high"}, "kind": "first-order"})
    with pytest.raises(InputError, match="unknown surrogate kind"):
        SurrogateConfig(rows=4, columns=4, kind="magic")
