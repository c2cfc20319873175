"""Crossbar layers: shapes, tiling, mapping, gradients per backend, chips, SPICE agreement, training runs."""

import gzip

import numpy as np
import pytest
import torch

from spicenn.errors import InputError
from spicenn.nn.config import CrossbarConfig
from spicenn.nn.data import load_data
from spicenn.nn.evaluation import compare_backends, efficiency, paper_power
from spicenn.nn.layer import CrossbarLinear
from spicenn.nn.network import CrossbarMLP
from spicenn.nn.run_config import RunConfig
from spicenn.surrogate.model import CrossbarSurrogate, SurrogateConfig
from spicenn.surrogate.physics import relax

SINH = CrossbarConfig(device={"name": "sinh", "k": 3.0}, g_off=1e-6, g_on=1e-4, tile_rows=4, tile_columns=4,
                      r_word=2.0, r_bit=2.0)


def layer_and_inputs(hardware, in_features=6, out_features=3, batch=5, seed=0):
    layer = CrossbarLinear(in_features, out_features, hardware, generator=torch.Generator().manual_seed(seed))
    x = torch.rand(batch, in_features, generator=torch.Generator().manual_seed(seed + 1))
    return layer, x


def test_shapes_and_tiling():
    layer, x = layer_and_inputs(SINH, in_features=10, out_features=3)
    assert layer.grid.row_tiles == 3 and layer.grid.column_tiles == 2  # 11 rows, 6 columns in 4x4 tiles
    assert layer.grid.padded_shape == (12, 8)
    assert layer.target_conductances().shape == (11, 6)
    for backend in ("ideal", "device"):
        assert layer.forward_with(x, backend).shape == (5, 3)
    with pytest.raises(InputError, match=r"takes \(\.\.\., 10\) inputs"):
        layer(torch.rand(5, 9))


@pytest.mark.parametrize("weights", ["double", "differential"])
def test_ideal_backend_computes_x_w_plus_b(weights):
    layer, x = layer_and_inputs(CrossbarConfig(g_off=1e-6, g_on=1e-4, weights=weights))
    w = layer.signed_weights().detach()
    expected = x @ w[:-1] + w[-1]
    torch.testing.assert_close(layer(x), expected, rtol=1e-4, atol=1e-5)
    g = layer.target_conductances().detach()
    assert float(g.min()) >= 1e-6 * (1 - 1e-6) and float(g.max()) <= 1e-4 * (1 + 1e-6)
    # the largest weight lands at G_on: k_G maps the layer's range onto the device range
    assert float(g.max()) == pytest.approx(1e-4, rel=1e-5)


def test_tiling_does_not_change_the_wire_free_backends():
    whole = CrossbarConfig(device={"name": "sinh", "k": 3.0}, g_off=1e-6, g_on=1e-4)
    layer, x = layer_and_inputs(whole, in_features=10)
    tiled, _ = layer_and_inputs(CrossbarConfig(**{**whole.to_dict(), "tile_rows": 4, "tile_columns": 4}), 10)
    tiled.load_state_dict(layer.state_dict())
    for backend in ("ideal", "device"):
        torch.testing.assert_close(tiled.forward_with(x, backend), layer.forward_with(x, backend))


def test_device_backend_is_the_device_model_summed_over_rows():
    layer, x = layer_and_inputs(CrossbarConfig(device={"name": "powerlaw-high"}))
    layer.set_chip(3)
    v = layer.voltages(x).double()
    g = layer.conductances().detach().double()
    n = torch.as_tensor(layer.chip.cell["n"][:7, :6])
    per_device = torch.sign(v[:, :, None]) * 0.25 * g * (v[:, :, None].abs() / 0.25) ** torch.log2(n)
    torch.testing.assert_close(layer.column_currents(x, "device").double(), per_device.sum(1), rtol=1e-5, atol=1e-12)


@pytest.fixture(scope="module")
def surrogate_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("surrogate") / "sinh4.pt"
    config = SurrogateConfig(rows=4, columns=4, device={"name": "sinh", "k": 3.0}, r_word=2.0, r_bit=2.0,
                             g_off=1e-6, g_on=1e-4, v_max=0.5, iterations=40, compute_dtype="float64")
    CrossbarSurrogate(config).save(path)
    return str(path)


@pytest.mark.parametrize("backend", ["ideal", "device", "surrogate", "circuit"])
def test_gradients_match_finite_differences(backend, surrogate_path):
    hardware = CrossbarConfig(**{**SINH.to_dict(), "surrogate": surrogate_path})
    layer, x = layer_and_inputs(hardware, in_features=5, out_features=2, batch=3)
    layer = layer.double()
    layer.backend = backend
    layer.set_chip(None)
    x = x.double().requires_grad_(True)
    # k_G is held constant within a step, so perturb weights below the layer's maximum
    assert torch.autograd.gradcheck(lambda x_, w: _with_weights(layer, w, x_), (x, layer.w_pos.detach().clone()
                                    .mul_(0.8).add_(0.05).requires_grad_(True)), eps=1e-6, atol=1e-5)


def _with_weights(layer, w_pos, x):
    saved = layer.w_pos
    try:
        del layer.w_pos
        layer.w_pos = w_pos
        return layer(x)
    finally:
        del layer.w_pos
        layer.w_pos = saved


def test_a_chip_is_fixed_for_a_pass_and_set_by_its_seed():
    net = CrossbarMLP([6, 4, 3], CrossbarConfig(device={"name": "powerlaw-high"}, spread=0.2, p_stuck_off=0.05),
                      backend="device")
    x = torch.rand(8, 6, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        net.set_chip(11)
        first, again = net(x), net(x)
        net.set_chip(12)
        other = net(x)
        net.set_chip(11)
        back = net(x)
    torch.testing.assert_close(first, again)
    torch.testing.assert_close(first, back)
    assert not torch.allclose(first, other)
    # each layer draws its own devices from the chip seed
    assert not np.array_equal(net.layers[0].chip.cell["n"][:4, :4], net.layers[1].chip.cell["n"][:4, :4])


def test_a_redrawn_pass_reads_every_batch_on_its_own_seeded_chip():
    from spicenn.nn.evaluation import accuracy, redrawn_chip

    hardware = CrossbarConfig(device={"name": "poole-frenkel-high", "ln_c_std": 0.5})
    net = CrossbarMLP([6, 5, 3], hardware, backend="device")
    x = torch.rand(12, 6, generator=torch.Generator().manual_seed(0)).numpy()
    with torch.no_grad():
        net.set_chip(None)
        y = net(torch.as_tensor(x)).argmax(1).numpy()  # the nominal chip's answers
        expected = []
        for batch in range(4):  # batches of 3, each on its chip
            net.set_chip(redrawn_chip(7, batch))
            expected.append(net(torch.as_tensor(x[3 * batch:3 * batch + 3])).argmax(1).numpy())
    right = float(np.mean(np.concatenate(expected) == y))
    assert accuracy(net, x, y, "device", 7, batch_size=3, redraw=True) == right
    assert accuracy(net, x, y, "device", 7, batch_size=3, redraw=True) == right  # seeded
    assert len({redrawn_chip(7, b) for b in range(4)} | {7}) == 5
    # without redraw the pass holds chip 7 throughout
    with torch.no_grad():
        net.set_chip(7)
        held = float(np.mean(net(torch.as_tensor(x)).argmax(1).numpy() == y))
    assert accuracy(net, x, y, "device", 7, batch_size=3) == held


def test_spice_backend_matches_an_independent_solve_of_every_tile(surrogate_path):
    """Tiles solved by ngspice, with wires, against the line relaxation run to convergence on
    the same padded tiles, summed the same way (the relaxation is itself checked against
    ngspice in test_physics)."""
    layer, x = layer_and_inputs(SINH, in_features=9, out_features=3, batch=4)
    layer.set_chip(None)
    spice_currents, powers = layer.spice(x)
    g_tiles, v_tiles = layer.grid.pad(layer.conductances().detach().double(), layer.voltages(x).double(), 1e-6)
    from spicenn.devices import get_device

    exact = relax(get_device("sinh", k=3.0), v_tiles[:, None].expand(-1, 2, -1, -1), g_tiles, 2.0, 2.0,
                  iterations=400, damping=0.5)
    expected = exact.sum(0).permute(1, 0, 2).reshape(4, -1)[:, :6]
    np.testing.assert_allclose(spice_currents, expected.numpy(), rtol=1e-7, atol=1e-13)
    assert powers["device_power"].shape == (4,)


def test_spice_and_device_backends_agree_without_wires_and_so_do_the_energies():
    data = load_data("digits", seed=0)
    net = CrossbarMLP([64, 6, 10], CrossbarConfig(device={"name": "powerlaw-high"}, tile_rows=32, tile_columns=8))
    x, y = data.test.x[:12], data.test.y[:12]
    results = compare_backends(net, x, y, ["spice", "device"], [5])
    assert results["spice"] == results["device"]
    eff = efficiency(net, x, chip=5, spice_images=12)
    spice_device_energy = eff.full.energy_j["devices"]
    paper_energy = float(np.mean(paper_power(net, x, chip=5))) * 50e-9
    assert spice_device_energy == pytest.approx(paper_energy, rel=1e-6)
    assert eff.full.energy_j["total"] > spice_device_energy  # peripherals on top
    assert eff.ops == 2 * (65 * 6 + 7 * 10)


def test_data_splits_are_fixed_by_the_seed_and_disjoint():
    a, b = load_data("digits", seed=3), load_data("digits", seed=3)
    np.testing.assert_array_equal(a.test.x, b.test.x)
    assert len(a.train.y) + len(a.validation.y) + len(a.test.y) == 1797
    assert not np.array_equal(load_data("digits", seed=4).test.y, a.test.y)
    mnist = load_data("mnist")
    assert mnist.train.x.shape[1] == 784 and mnist.train.x.min() >= 0.0 and mnist.train.x.max() <= 1.0


def _idx(path, array):
    header = bytes([0, 0, 8, array.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    with gzip.open(path, "wb") as stream:
        stream.write(header + array.astype(np.uint8).tobytes())


def test_full_mnist_from_idx_files(tmp_path, rng):
    _idx(tmp_path / "train-images-idx3-ubyte.gz", rng.integers(0, 256, (50, 28, 28)))
    _idx(tmp_path / "train-labels-idx1-ubyte.gz", rng.integers(0, 10, 50))
    _idx(tmp_path / "t10k-images-idx3-ubyte.gz", rng.integers(0, 256, (20, 28, 28)))
    _idx(tmp_path / "t10k-labels-idx1-ubyte.gz", rng.integers(0, 10, 20))
    data = load_data("mnist", path=tmp_path)
    assert data.test.x.shape == (20, 784) and len(data.train.y) + len(data.validation.y) == 50
    with pytest.raises(InputError, match="no t10k-labels"):
        (tmp_path / "t10k-labels-idx1-ubyte.gz").unlink()
        load_data("mnist", path=tmp_path)
    with pytest.raises(InputError, match="does not exist"):
        load_data("mnist", path=tmp_path / "nowhere")


TINY = {"data": {"name": "digits"}, "network": {"sizes": [64, 8, 10]},
        "crossbar": {"device": {"name": "powerlaw-high"}, "weights": "double"},
        "training": {"backend": "device", "epochs": 3, "batch_size": 128, "learning_rate": 0.5},
        "validation": {"backend": "device", "chips": 2}}


def test_config_round_trips_through_toml_and_refuses_unknown_keys(tmp_path):
    config = RunConfig.from_dict(TINY)
    (tmp_path / "run.toml").write_text(config.to_toml())
    assert RunConfig.load(tmp_path / "run.toml") == config
    with pytest.raises(InputError, match="has no setting 'epoch'"):
        RunConfig.from_dict({**TINY, "training": {"epoch": 3}})
    with pytest.raises(InputError, match="unknown backend"):
        RunConfig.from_dict({**TINY, "training": {"backend": "magic"}})
    with pytest.raises(InputError, match="forward-only"):
        RunConfig.from_dict({**TINY, "training": {"backend": "spice"}})


def test_training_learns_and_an_interrupted_run_resumes_to_the_same_model(tmp_path, monkeypatch):
    from spicenn.nn import training

    config = RunConfig.from_dict(TINY)
    whole = training.train(config, tmp_path / "whole", progress=False)
    metrics = (tmp_path / "whole" / "metrics.csv").read_text().splitlines()
    assert len(metrics) == 4 and (tmp_path / "whole" / "curves.png").exists()
    losses = [float(line.split(",")[1]) for line in metrics[1:]]
    assert losses[-1] < losses[0]
    assert float(metrics[-1].split(",")[3]) > 0.5  # digits learned far above chance (10 %)

    original = training._write_metrics
    def interrupt_after_second_epoch(run_dir, rows):
        original(run_dir, rows)
        if len(rows) == 2:
            raise KeyboardInterrupt
    monkeypatch.setattr(training, "_write_metrics", interrupt_after_second_epoch)
    with pytest.raises(KeyboardInterrupt):
        training.train(config, tmp_path / "resumed", progress=False)
    monkeypatch.setattr(training, "_write_metrics", original)
    resumed = training.train(config, tmp_path / "resumed", progress=False)
    for key, value in whole.state_dict().items():
        torch.testing.assert_close(resumed.state_dict()[key], value)
    with pytest.raises(InputError, match="different configuration"):
        training.train(config.replace(training={"epochs": 4}), tmp_path / "resumed", progress=False)


def test_train_and_evaluate_commands(tmp_path):
    from clirun import run_cli

    config = RunConfig.from_dict({**TINY, "training": {**TINY["training"], "epochs": 2}})
    (tmp_path / "tiny.toml").write_text(config.to_toml())
    trained = run_cli("train", "--config", tmp_path / "tiny.toml", "--run", tmp_path / "run", "--no-progress")
    assert trained.returncode == 0, trained.stderr
    assert "best median validation accuracy" in trained.stdout
    evaluated = run_cli("evaluate", "--run", tmp_path / "run", "--n", "20", "--json")
    assert evaluated.returncode == 0, evaluated.stderr
    import json

    summary = json.loads(evaluated.stdout)
    assert summary["images"] == 20 and summary["spice"]["accuracy"] == summary["device"]["accuracy"]
    # the former spelling still works and says it is deprecated
    legacy = run_cli("evaluate", "--model", tmp_path / "run", "--n", "20", "--json", "--backend", "device")
    assert legacy.returncode == 0 and "is now --run" in legacy.stderr
    assert json.loads(legacy.stdout)["device"] == summary["device"]
    for args, message in [(("train", "--config", tmp_path / "none.toml"), "does not exist"),
                          (("evaluate", "--run", tmp_path), "not a run folder"),
                          (("evaluate",), "Missing option '--run'"),
                          (("evaluate", "--run", tmp_path / "run", "--backend", "magic"), "unknown backend")]:
        failed = run_cli(*args)
        assert failed.returncode != 0 and message in failed.stderr and "Traceback" not in failed.stderr


@pytest.mark.slow
def test_a_dask_cluster_evaluates_a_run_as_the_local_evaluation_does(tmp_path, monkeypatch):
    """`evaluate --scheduler`: tasks of a few images on a cluster, the same accuracies per
    chip as one process, for the circuit (native) and spice backends; an unreachable
    scheduler is one clear error."""
    from distributed import LocalCluster

    from spicenn.nn.runs import evaluate_run
    from spicenn.nn.training import train

    config = RunConfig.from_dict({**TINY, "crossbar": {**TINY["crossbar"], "r_word": 1.0, "r_bit": 1.0},
                                  "training": {**TINY["training"], "epochs": 1}})
    train(config, tmp_path / "run", progress=False)
    local = evaluate_run(tmp_path / "run", "circuit", "spice", images=30, chips=2)
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        remote = evaluate_run(tmp_path / "run", "circuit", "spice", images=30, chips=2,
                              scheduler=cluster.scheduler_address, images_per_task=7)
    assert remote == local
    assert local["circuit"]["per_chip"] == local["spice"]["per_chip"]
    from spicenn import processes

    monkeypatch.setattr(processes, "SCHEDULER_TIMEOUT_SECONDS", 1)
    with pytest.raises(InputError, match="cannot reach the Dask scheduler"):
        evaluate_run(tmp_path / "run", "device", images=5, scheduler="tcp://127.0.0.1:9")


def test_joksas2022_settings():
    from spicenn.reproduce import joksas2022

    runs = joksas2022.configs("powerlaw", quick=True)
    from spicenn.devices import get_device

    high, low = get_device("powerlaw-high"), get_device("powerlaw-low")
    assert (runs["standard"].crossbar.g_off, runs["standard"].crossbar.device["n"]) == (high.g_off, high.n)
    assert (runs["low"].crossbar.g_on, runs["low"].crossbar.device["n"]) == (low.g_on, low.n)
    assert runs["aware"].training.backend == "device" and runs["aware"].crossbar.weights == "double"
    # the L1 pull matches the paper's 1e-4 over 938,000 steps at rate 0.01
    steps = runs["aware-l1"].training.epochs * 47
    assert steps * runs["aware-l1"].training.learning_rate * runs["aware-l1"].training.l1 == pytest.approx(0.938)
    with pytest.raises(InputError, match="unknown device set"):
        joksas2022.configs("magic")


def test_surrogate_dataset_from_a_trained_network(tmp_path):
    from spicenn.devices import get_device
    from spicenn.nn import training
    from spicenn.surrogate import DatasetSpec, generate, load

    config = RunConfig.from_dict({**TINY, "training": {**TINY["training"], "epochs": 1}})
    model = training.train(config, tmp_path / "run", progress=False)
    device = get_device("powerlaw-high")
    spec = DatasetSpec(rows=16, columns=8, device=device.to_dict(), g_off=device.g_off, g_on=device.g_on,
                       conductances="trained", network=str(tmp_path / "run"), cases=3, vectors=2, seed=4)
    assert spec.network_sha256 and len(spec.network_sha256) == 64
    _, arrays = load(generate(spec, tmp_path / "trained.h5", progress=False))
    layers = [layer.target_conductances().detach().double().numpy() for layer in model.layers]
    for g in arrays["conductances"]:
        assert g.min() >= device.g_off * (1 - 1e-9) and g.max() <= device.g_on * (1 + 1e-9)
        found = any(np.allclose(g[:min(16, lg.shape[0] - top), :min(8, lg.shape[1] - left)],
                                lg[top:top + 16, left:left + 8], rtol=1e-6)
                    for lg in layers for top in range(max(1, lg.shape[0] - 15))
                    for left in range(max(1, lg.shape[1] - 7)))
        assert found
    with pytest.raises(InputError, match="changed since"):
        DatasetSpec.from_json(spec.to_json().replace(spec.network_sha256, "0" * 64))


def test_bad_settings_fail_before_any_training(tmp_path):
    from spicenn.nn import training

    with pytest.raises(InputError, match="epochs must be a whole number"):
        RunConfig.from_dict({"training": {"epochs": -1}})
    config = RunConfig.from_dict({**TINY, "crossbar": {**TINY["crossbar"], "surrogate": str(tmp_path / "no.pt")},
                                  "training": {**TINY["training"], "backend": "surrogate"}})
    with pytest.raises(InputError, match="does not exist"):
        training.train(config, tmp_path / "run", progress=False)
    assert not (tmp_path / "run" / "last.pt").exists()


def test_network_energy_of_a_run_and_of_its_weights_file_agree_on_the_same_tiles(tmp_path, rng):
    """One network-energy path: a trained run (its own tiles, device and wires) and an .npz
    of its weights given the same tiles, device and wires get the same figures."""
    import json

    from clirun import run_cli

    from spicenn.nn.training import load_run, train

    hardware = {"device": {"name": "sinh", "k": 3.0}, "g_off": 1e-6, "g_on": 1e-4, "weights": "differential",
                "tile_rows": 24, "tile_columns": 8, "r_word": 1.0, "r_bit": 1.0}
    config = RunConfig.from_dict({**TINY, "crossbar": hardware,
                                  "training": {"backend": "ideal", "epochs": 1, "batch_size": 128},
                                  "validation": {"backend": "ideal", "chips": 1}})
    train(config, tmp_path / "run", progress=False)
    model = load_run(tmp_path / "run")
    weights = {}
    for index, layer in enumerate(model.layers):
        w = layer.weight.detach().double().numpy()
        weights[f"W{index}"], weights[f"b{index}"] = w[:-1], w[-1]
    np.savez(tmp_path / "net.npz", **weights)
    np.save(tmp_path / "x.npy", rng.uniform(0, 1, (3, 64)))
    common = ["-x", tmp_path / "x.npy", "--json"]
    from_run = run_cli("network-energy", "-n", tmp_path / "run", *common)
    from_file = run_cli("network-energy", "-n", tmp_path / "net.npz", *common, "-d", "sinh", "-p", "k=3",
                        "--g-off", "1e-6", "--g-on", "1e-4", "--r-word", "1", "--r-bit", "1",
                        "--tile-rows", "24", "--tile-columns", "8")
    assert from_run.returncode == 0, from_run.stderr
    assert from_file.returncode == 0, from_file.stderr
    a, b = json.loads(from_run.stdout), json.loads(from_file.stdout)
    assert a["ops"] == b["ops"] == 2 * (65 * 8 + 9 * 10)
    for part, value in a["energy_j"].items():
        assert b["energy_j"][part] == pytest.approx(value, rel=1e-6, abs=1e-30), part
    assert a["energy_j"]["word_lines"] > 0  # the wires were in the circuit
    # the native solver gives ngspice's figures (ngspice's relative tolerance ~1e-9)
    native = run_cli("network-energy", "-n", tmp_path / "run", *common, "--engine", "native")
    assert native.returncode == 0, native.stderr
    for part, value in json.loads(native.stdout)["energy_j"].items():
        assert value == pytest.approx(a["energy_j"][part], rel=1e-7, abs=1e-30), part
    # one tile per layer is another figure: tiling adds converters
    untiled = run_cli("network-energy", "-n", tmp_path / "net.npz", *common, "-d", "sinh", "-p", "k=3",
                      "--g-off", "1e-6", "--g-on", "1e-4", "--r-word", "1", "--r-bit", "1")
    assert json.loads(untiled.stdout)["energy_j"]["adc"] < a["energy_j"]["adc"]


def test_circuit_backend_equals_the_spice_backend_on_every_tile_and_trains():
    """The native solver per tile equals ngspice per tile (wires, padding, tiles summed), and
    a network trains with the exact circuit in the loop."""
    layer, x = layer_and_inputs(SINH, in_features=9, out_features=3, batch=4)
    layer.set_chip(5)
    spice_currents, _ = layer.spice(x)
    circuit = layer.column_currents(x.double(), "circuit").detach().numpy()
    np.testing.assert_allclose(circuit, spice_currents, rtol=1e-9, atol=1e-15)
    config = RunConfig.from_dict({**TINY, "crossbar": {**TINY["crossbar"], "tile_rows": 32, "tile_columns": 16,
                                                       "r_word": 1.0, "r_bit": 1.0},
                                  "training": {**TINY["training"], "backend": "circuit", "epochs": 1},
                                  "validation": {"backend": "circuit", "chips": 1}})
    from spicenn.nn.training import build_model, run_data

    model, data = build_model(config), run_data(config)
    xb, yb = torch.as_tensor(data.train.x[:64]), torch.as_tensor(data.train.y[:64])
    optimiser = torch.optim.SGD(model.parameters(), lr=0.5)
    losses = []
    for _ in range(4):
        loss = torch.nn.functional.cross_entropy(model(xb), yb)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        model.clamp_()
        losses.append(float(loss.detach()))
    assert losses[-1] < losses[0]
