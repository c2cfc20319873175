"""A user's own model on crossbars: conversion, the conv layer, calibration, energy, AnalogMatrix."""

from __future__ import annotations

import io

import numpy as np
import pytest
import torch
from clirun import run_cli
from torch import nn
from torch.nn import functional

import spicenn
from spicenn.crossbar import Crossbar
from spicenn.energy.peripherals import Peripherals
from spicenn.errors import InputError
from spicenn.nn import CrossbarConfig, CrossbarConv, CrossbarLinear, calibrate, convert, model_energy
from spicenn.nn.finetune import finetune, noise_aware
from spicenn.solvers import simulate

EXACT = CrossbarConfig(device="linear", g_off=1e-6, g_on=1e-4, tile_rows=16, tile_columns=16)


class Residual(nn.Module):
    def __init__(self, channels: int):
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.norm = nn.BatchNorm2d(channels)
        self.grouped = nn.Conv2d(channels, channels, 3, padding=2, dilation=2, groups=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(x + self.grouped(torch.relu(self.norm(self.conv(x)))))


class Mixed(nn.Module):
    """Conv2d with stride and padding, a residual block with batch norm and groups, pooling,
    a Conv1d with reflect padding and a Linear head."""

    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(1, 4, 5, stride=2, padding=2), nn.ReLU(), Residual(4),
                                      nn.MaxPool2d(2))
        self.line = nn.Conv1d(4, 3, 3, padding="same", padding_mode="reflect")
        self.head = nn.Linear(3 * 49, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.features(x)
        h = self.line(h.reshape(h.shape[0], 4, -1))
        return self.head(h.reshape(h.shape[0], -1))


def mixed_model(seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    model = Mixed()
    with torch.no_grad():  # batch norm with statistics of its own, not the identity
        model.features[2].norm.running_mean.uniform_(-0.2, 0.2)
        model.features[2].norm.running_var.uniform_(0.5, 2.0)
    return model.eval()


def relative_error(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a - b).abs().max() / b.abs().max())


@pytest.mark.parametrize("weights", ["double", "differential"])
@pytest.mark.parametrize("backend", ["ideal", "device"])
def test_converted_model_equals_the_original_on_linear_devices(weights, backend):
    model = mixed_model()
    x = torch.randn(6, 1, 28, 28)
    with torch.no_grad():
        reference = model(x)
    analog = convert(model, CrossbarConfig(**{**EXACT.to_dict(), "weights": weights}), backend=backend).eval()
    with torch.no_grad():
        uncalibrated = analog(x)
    calibrate(analog, x, percentile=100.0)
    with torch.no_grad():
        calibrated = analog(x)
    assert relative_error(uncalibrated, reference) < 1e-5
    assert relative_error(calibrated, reference) < 1e-5


def test_conversion_leaves_the_user_model_alone_and_reports_every_module():
    model = mixed_model()
    before = {name: p.clone() for name, p in model.state_dict().items()}
    analog = convert(model, EXACT)
    assert all(torch.equal(before[name], p) for name, p in model.state_dict().items())
    assert isinstance(model.head, nn.Linear) and isinstance(analog.model.head, CrossbarLinear)
    assert isinstance(analog.model.features[0], CrossbarConv) and isinstance(analog.model.line, CrossbarConv)
    converted = {layer.name: layer for layer in analog.report.converted}
    assert set(converted) == {"features.0", "features.2.conv", "features.2.grouped", "line", "head"}
    assert converted["features.2.grouped"].devices == 2 * (2 * 9 + 1) * 2 * 2  # two groups of 19 rows x 2 outputs
    assert [entry[0] for entry in analog.report.digital] == ["features.2.norm"]
    assert "digital" in analog.report.text()


def test_modules_without_a_crossbar_twin_are_listed_not_skipped():
    class SubLinear(nn.Linear):
        pass

    model = nn.Sequential(nn.Embedding(10, 4), nn.Flatten(), nn.LayerNorm(4), SubLinear(4, 4),
                          nn.PReLU(), nn.Linear(4, 2))
    analog = convert(model, EXACT)
    digital = {name: why for name, _, why in analog.report.digital}
    assert set(digital) == {"0", "2", "3", "4"}
    assert "subclass of Linear" in digital["3"] and "normalisation" in digital["2"]
    assert [layer.name for layer in analog.report.converted] == ["5"]
    assert isinstance(analog.model[0], nn.Embedding) and "no crossbar equivalent" in digital["0"]
    assert isinstance(analog.model[4], nn.PReLU) and "no crossbar equivalent" in digital["4"]


def test_digital_choices_and_shared_modules():
    shared = nn.Linear(3, 3)
    model = nn.Sequential(nn.Linear(4, 3), shared, nn.ReLU(), shared, nn.Linear(3, 2))
    analog = convert(model, EXACT, keep_first=True, keep_last=True)
    assert isinstance(analog.model[0], nn.Linear) and isinstance(analog.model[4], nn.Linear)
    assert isinstance(analog.model[1], CrossbarLinear) and analog.model[1] is analog.model[3]
    assert len(analog.crossbar_layers()) == 1
    with pytest.raises(InputError, match="no module named 'nope'"):
        convert(model, EXACT, digital=["nope"])
    with pytest.raises(InputError, match=r"torch\.nn\.Module"):
        convert("model", EXACT)  # type: ignore[arg-type]


def test_a_single_layer_model_converts_and_nan_weights_are_refused():
    layer = nn.Conv2d(2, 3, 3)
    analog = convert(layer, EXACT)
    assert isinstance(analog.model, CrossbarConv)
    with torch.no_grad():
        layer.weight[0, 0, 0, 0] = float("nan")
    with pytest.raises(InputError, match="NaN or inf"):
        convert(layer, EXACT)


def test_conv_layer_is_unfold_then_crossbar_mvm():
    torch.manual_seed(1)
    conv = nn.Conv2d(3, 4, (3, 2), stride=(2, 1), padding=(1, 0), bias=True).double()
    layer = CrossbarConv.from_conv(conv, CrossbarConfig(device="sinh", g_off=1e-6, g_on=1e-4), backend="device")
    x = torch.rand(2, 3, 7, 6, dtype=torch.float64)
    patches = functional.unfold(x, (3, 2), padding=(1, 0), stride=(2, 1)).transpose(1, 2).reshape(-1, 18)
    core = layer.cores[0]
    with torch.no_grad():
        by_hand = core(patches).reshape(2, -1, 4).transpose(1, 2).reshape(2, 4, 4, 5)
        assert torch.equal(layer(x), by_hand)
    assert layer.positions((7, 6)) == 20


def test_spice_backend_of_a_conv_equals_the_device_backend_without_wires():
    torch.manual_seed(2)
    conv = nn.Conv2d(2, 3, 3, padding=1).double()
    layer = CrossbarConv.from_conv(conv, CrossbarConfig(device="sinh", g_off=1e-6, g_on=1e-4, tile_rows=8,
                                                        tile_columns=4))
    x = torch.rand(2, 2, 5, 5, dtype=torch.float64)
    x[:, :, :2] = 0.0  # repeated (blank) patches: solved once
    with torch.no_grad():
        device = layer.forward_with(x, "device")
        circuit = layer.forward_with(x, "spice")
    assert relative_error(circuit, device) < 1e-6


@pytest.mark.parametrize("backend", ["device", "circuit"])
def test_gradients_through_a_converted_conv(backend):
    torch.manual_seed(3)
    conv = nn.Conv2d(2, 2, 2, groups=2).double()
    hardware = CrossbarConfig(device="sinh", g_off=1e-6, g_on=1e-4, weights="differential", r_word=1.0, r_bit=1.0)
    layer = CrossbarConv.from_conv(conv, hardware, backend=backend)
    x = torch.rand(1, 2, 3, 3, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda inputs: layer(inputs), (x,), eps=1e-6, atol=1e-7)
    layer(x).sum().backward()
    weight_grads = [core.weight.grad for core in layer.cores]
    assert all(g is not None and torch.isfinite(g).all() and g.abs().sum() > 0 for g in weight_grads)


def test_state_dict_round_trip_with_weights_only_load_and_dtype():
    model = mixed_model()
    x = torch.randn(3, 1, 28, 28)
    hardware = CrossbarConfig(device="sinh", g_off=1e-6, g_on=1e-4, spread=0.1, adc_bits=6)
    analog = convert(model, hardware, backend="device").eval()
    calibrate(analog, x)
    analog.set_chip(7)
    buffer = io.BytesIO()
    torch.save(analog.state_dict(), buffer)
    buffer.seek(0)
    again = convert(mixed_model(seed=5), hardware, backend="device").eval()
    again.load_state_dict(torch.load(buffer, weights_only=True))
    again.set_chip(7)
    with torch.no_grad():
        assert torch.equal(analog(x), again(x))
        analog.to(torch.float64)
        assert analog(x.double()).dtype == torch.float64


def test_calibration_maps_the_percentile_to_k_v_and_refuses_bad_batches():
    layer = nn.Linear(5, 2)
    analog = convert(layer, CrossbarConfig(device="linear", g_off=1e-6, g_on=1e-4, k_v=0.3))
    x = torch.randn(50, 5) * 7
    scales = calibrate(analog, x, percentile=100.0)
    core = analog.crossbar_layers()[0]
    assert scales["layer 0"] == pytest.approx(float(x.abs().max()))
    v = core.voltages(x)
    assert float(v[:, :5].abs().max()) == pytest.approx(0.3) and float(v.min()) < 0  # signed voltages
    calibrate(analog, x, percentile=50.0)
    assert float((core.voltages(x)[:, :5].abs() >= 0.3 - 1e-12).float().mean()) >= 0.5  # half clipped
    for bad in (float("nan"), float("inf")):
        x_bad = x.clone()
        x_bad[3, 1] = bad
        with pytest.raises(InputError, match="NaN or inf"):
            calibrate(analog, x_bad)
    with pytest.raises(InputError, match="percentile"):
        calibrate(analog, x, percentile=0.0)


def test_adc_quantises_currents_to_its_levels():
    layer = nn.Linear(8, 6)
    analog = convert(layer, CrossbarConfig(device="linear", g_off=1e-6, g_on=1e-4, adc_bits=3), backend="device")
    x = torch.rand(40, 8)
    calibrate(analog, x, percentile=100.0)
    core = analog.crossbar_layers()[0]
    currents = core.read_out(core.column_currents(x))
    levels = currents / core.output_scale * 3  # 2^(3-1) - 1 = 3 levels a side
    assert torch.allclose(levels, levels.round(), atol=1e-9)
    assert set(levels.round().unique().tolist()) <= {-3.0, -2.0, -1.0, 0.0, 1.0, 2.0, 3.0}
    with pytest.raises(InputError, match="adc_bits"):
        CrossbarConfig(adc_bits=1)


def test_surrogate_refuses_signed_inputs():
    model = nn.Linear(63, 4)
    hardware = CrossbarConfig(device={"name": "sinh", "k": 3.0}, g_off=1e-6, g_on=1e-4, r_word=1.0, r_bit=1.0,
                              tile_rows=64, tile_columns=64, surrogate="models/surrogates/sinh64.pt")
    analog = convert(model, hardware, backend="surrogate")
    calibrate(analog, torch.rand(10, 63))
    with torch.no_grad():
        assert torch.isfinite(analog(torch.rand(3, 63))).all()
        with pytest.raises(InputError, match="voltages outside the surrogate's range"):
            analog(-torch.rand(3, 63))


def test_model_energy_of_a_conv_layer_by_hand():
    """Linear devices, no wires: each conv position's device energy is t_read·Σ V_i² G_ij;
    the layer's energy per image is the sum over its positions."""
    torch.manual_seed(4)
    conv = nn.Conv2d(2, 3, 3, padding=1).double()
    analog = convert(conv, CrossbarConfig(device="linear", g_off=1e-6, g_on=1e-4))
    x = torch.rand(2, 2, 4, 4, dtype=torch.float64)
    peripherals = Peripherals()
    native = model_energy(analog, x, peripherals)
    spice = model_energy(analog, x, peripherals, backend="device", engine="shared")
    core = analog.crossbar_layers()[0]
    g = core.conductances().detach().numpy()
    patches = functional.unfold(x, 3, padding=1).transpose(1, 2).reshape(-1, 18).numpy()
    v = np.concatenate([0.5 * patches, np.full((len(patches), 1), 0.5)], 1)
    by_hand = peripherals.t_read * float(((v**2) @ g).sum()) / 2  # per image
    (report,) = native.layers
    assert report.mvms == 16
    assert report.energy_j["devices"] == pytest.approx(by_hand, rel=1e-9)
    assert spice.layers[0].energy_j["devices"] == pytest.approx(by_hand, rel=1e-7)
    assert native.paper_energy_j == pytest.approx(by_hand, rel=1e-9)
    assert report.ops == 16 * 2 * 19 * 3


@pytest.mark.slow
def test_model_energy_native_equals_ngspice_with_wires(tmp_path):
    model = mixed_model()
    hardware = CrossbarConfig(device="poole-frenkel-high", tile_rows=16, tile_columns=16, r_word=1.0, r_bit=1.0)
    analog = convert(model, hardware)
    x = torch.rand(2, 1, 28, 28)
    calibrate(analog, x)
    native = model_energy(analog, x)
    spice = model_energy(analog, x, engine="shared")
    assert [r.label for r in native.layers] == ["features.0", "features.2.conv", "features.2.grouped", "line", "head"]
    for a, b in zip(native.layers, spice.layers):
        for part in ("devices", "word_lines", "bit_lines", "total"):
            assert a.energy_j[part] == pytest.approx(b.energy_j[part], rel=1e-6, abs=1e-30)
    assert native.total.ops == sum(r.ops for r in native.layers)
    from spicenn.energy.report import plot_layers

    plot_layers(native.layers, tmp_path / "layers.png")
    assert (tmp_path / "layers.png").stat().st_size > 1000


def test_finetuning_lowers_the_loss_on_device_hardware():
    torch.manual_seed(5)
    x = torch.rand(64, 1, 6, 6)
    y = (x.mean((1, 2, 3)) > 0.5).long()
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.Flatten(), nn.Linear(32, 2))
    hardware = CrossbarConfig(device="sinh", g_off=1e-6, g_on=1e-4, spread=0.05)
    analog = convert(model, hardware, backend="device")
    calibrate(analog, x)
    losses = finetune(analog, x, y, epochs=8, backend="device", batch_size=16, learning_rate=0.02)
    assert losses[-1] < losses[0]
    with pytest.raises(InputError, match="no gradients"):
        finetune(analog, x, y, backend="spice")


def test_finetuning_says_which_digital_parameters_it_trains():
    torch.manual_seed(6)
    x = torch.rand(32, 1, 6, 6)
    y = (x.mean((1, 2, 3)) > 0.5).long()
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.ReLU(), nn.Flatten(), nn.Linear(32, 2))
    analog = convert(model, CrossbarConfig(device="linear", g_off=1e-6, g_on=1e-4), backend="device")
    calibrate(analog, x)
    losses = finetune(analog, x, y, backend="device", batch_size=16, learning_rate=0.02)
    assert losses.digital_parameters == ["model.1.weight", "model.1.bias"]
    assert losses.crossbar_weights == analog.synapses
    frozen = analog.model[1].weight.detach().clone()
    losses = finetune(analog, x, y, backend="device", batch_size=16, learning_rate=0.02, train_digital=False)
    assert losses.digital_parameters == [] and torch.equal(analog.model[1].weight, frozen)


def test_noise_aware_training_makes_the_drawn_chips_better():
    torch.manual_seed(7)
    x = torch.rand(256, 10)
    y = (x[:, :5].sum(1) > x[:, 5:].sum(1)).long()
    model = nn.Sequential(nn.Linear(10, 16), nn.ReLU(), nn.Linear(16, 2))
    optimiser = torch.optim.Adam(model.parameters(), lr=0.05)
    for _ in range(100):
        optimiser.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        optimiser.step()
    noisy = CrossbarConfig(device="linear", g_off=1e-6, g_on=1e-4, p_stuck_off=0.1)
    analog = convert(model, noisy)
    calibrate(analog, x)

    def loss_on_chips() -> float:  # chips never trained on
        values = []
        with torch.no_grad():
            for chip in range(100, 110):
                analog.set_chip(chip)
                values.append(float(nn.functional.cross_entropy(analog(x), y)))
        analog.set_chip(None)
        return float(np.mean(values))

    before = loss_on_chips()
    noise_aware(analog, x, y, epochs=15, batch_size=32, learning_rate=0.003)
    assert loss_on_chips() < 0.95 * before  # measured: 0.373 -> 0.336
    with pytest.raises(InputError, match="chips that differ"):
        noise_aware(convert(model, CrossbarConfig()), x, y)


def test_analog_matrix_numpy_face():
    rng = np.random.default_rng(0)
    w = rng.normal(size=(5, 7))
    x = rng.normal(size=(7, 3))
    core = spicenn.AnalogMatrix(w, CrossbarConfig(device="linear", g_off=1e-6, g_on=1e-4, weights="differential"),
                                backend="device")
    assert np.allclose(core @ x, w @ x, rtol=1e-12, atol=1e-12)
    assert np.allclose(core @ x[:, 0], w @ x[:, 0], rtol=1e-12, atol=1e-12)
    hardware = {"device": "sinh", "g_off": 1e-6, "g_on": 1e-4, "r_word": 2.0, "r_bit": 2.0, "tile_rows": 4,
                "tile_columns": 4}
    circuit = spicenn.AnalogMatrix(w, hardware, backend="circuit") @ x
    spice = spicenn.AnalogMatrix(w, hardware, backend="spice") @ x
    assert np.allclose(circuit, spice, rtol=1e-8, atol=1e-12 * np.abs(spice).max())
    # an independent check of the crossbar itself: the core's one tile solved by simulate()
    one_tile = spicenn.AnalogMatrix(w[:2, :3], {**hardware, "tile_rows": None, "tile_columns": None},
                                    backend="spice")
    layer = one_tile.layer
    layer.input_scale.fill_(float(np.abs(x[:3]).max()))
    v = layer.voltages(torch.as_tensor(x[:3].T)).numpy()
    result = simulate(Crossbar(layer.conductances().detach().numpy(), layer.device_model, r_word=2.0, r_bit=2.0), v)
    by_pairs = (result.currents[:, 0::2] - result.currents[:, 1::2]) / (0.5 * float(layer.k_g())) * \
        float(np.abs(x[:3]).max())
    assert np.allclose(one_tile @ x[:3], by_pairs.T, rtol=1e-9)
    with pytest.raises(InputError, match="takes"):
        core @ np.ones(3)
    with pytest.raises(InputError, match="NaN"):
        core @ np.full(7, np.nan)


# --- the command line for a saved model --------------------------------------------------

MODEL_FILE = '''
import torch
from torch import nn


class Small(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 3, 3)
        self.fc = nn.Linear(3 * 6 * 6, 10)

    def forward(self, x):
        return self.fc(torch.relu(self.conv(x.reshape(-1, 1, 8, 8))).flatten(1))


class NeedsArguments(nn.Module):
    def __init__(self, width):
        super().__init__()
'''




@pytest.fixture
def saved_model(tmp_path):
    from sklearn.datasets import load_digits

    path = tmp_path / "net.py"
    path.write_text(MODEL_FILE)
    namespace: dict = {}
    exec(compile(MODEL_FILE, str(path), "exec"), namespace)
    torch.manual_seed(0)
    model = namespace["Small"]()
    digits = load_digits()
    x = torch.as_tensor(digits.data / 16.0, dtype=torch.float32)
    y = torch.as_tensor(digits.target)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    for _ in range(60):
        optimizer.zero_grad()
        functional.cross_entropy(model(x), y).backward()
        optimizer.step()
    torch.save(model.state_dict(), tmp_path / "small.pt")
    return tmp_path


def test_analyze_a_saved_model_from_the_command_line(saved_model):
    import json

    folder = saved_model
    done = run_cli("analyze", "-m", f"{folder / 'net.py'}:Small", "-W", folder / "small.pt", "--data", "digits",
                   "--device", "sinh", "--r-word", "1", "--r-bit", "1", "--tile-rows", "16", "--tile-columns", "16",
                   "--spread", "0.05", "--chips", "2", "--images", "200", "--circuit-images", "20", "--verify", "2",
                   "--energy-images", "2", "--plots", folder / "plots", "--json")
    assert done.returncode == 0, done.stderr
    results = json.loads(done.stdout)
    assert results["accuracy"]["ideal"]["median"] > 0.8  # the trained model survives conversion
    assert results["accuracy"]["device"]["median"] > 0.5
    check = results["circuit_check"]  # the device model against every tile solved exactly
    assert check["truth"] == "circuit" and check["fast_backend"] == "device" and check["images"] == 20
    assert set(check["layer_nrmse"]) == {"conv", "fc"} and 1e-6 < max(check["layer_nrmse"].values()) < 0.05
    verified = results["spice_check"]  # the native solver against ngspice on the first two images
    assert verified["fast_backend"] == "circuit" and max(verified["layer_nrmse"].values()) < 1e-6
    assert verified["spice"] == verified["circuit"]
    assert results["energy"]["layers"]["conv"]["mvms"] == 36
    assert (folder / "plots" / "accuracy.png").exists() and (folder / "plots" / "energy-per-layer.png").exists()


def test_analyze_bad_inputs_are_one_line(saved_model, tmp_path):
    folder = saved_model
    model = f"{folder / 'net.py'}:Small"
    torch.save({"fc.weight": torch.zeros(3, 3)}, tmp_path / "wrong.pt")
    torch.save(nn.Linear(2, 2), tmp_path / "pickled.pt")  # a whole module: refused by weights_only
    (tmp_path / "broken.py").write_text("raise RuntimeError('boom')\n")
    cases = [
        (["-m", f"{folder / 'net.py'}:Missing"], "no torch.nn.Module class named 'Missing'"),
        (["-m", f"{folder / 'nope.py'}:Small"], "is not a Python file"),
        (["-m", "net.py"], "path/to/file.py:ClassName"),
        (["-m", f"{tmp_path / 'broken.py'}:Small"], "RuntimeError: boom"),
        (["-m", f"{folder / 'net.py'}:NeedsArguments"], "must build without arguments"),
        (["-m", model, "-W", tmp_path / "wrong.pt"], "do not fit Small"),
        (["-m", model, "-W", tmp_path / "pickled.pt"], "without unpickling"),
        (["-m", model, "-W", tmp_path / "missing.pt"], "does not exist"),
        (["-m", model, "--data", "mnist"], "refuses mnist inputs"),
        (["-m", model, "--data", "digits", "--device", "sinh", "--backends", "surrogate"],
         "was trained for device"),
        (["-m", model, "--data", "digits", "--backends", "nope"], "unknown backend"),
    ]
    for arguments, message in cases:
        done = run_cli("analyze", *arguments)
        assert done.returncode != 0 and message in done.stderr, (arguments, done.stderr)
        assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1, done.stderr


def test_network_energy_of_a_saved_model(saved_model):
    import json

    folder = saved_model
    np.save(folder / "x.npy", np.random.default_rng(0).random((3, 64)).astype(np.float32))
    done = run_cli("network-energy", "-n", folder / "small.pt", "-m", f"{folder / 'net.py'}:Small", "-x",
                   folder / "x.npy", "--device", "sinh", "--tile-rows", "16", "--tile-columns", "16", "--json")
    assert done.returncode == 0, done.stderr
    payload = json.loads(done.stdout)
    assert payload["layers"]["conv"]["mvms"] == 36 and payload["layers"]["fc"]["mvms"] == 1
    assert payload["ops"] == 36 * 2 * 10 * 3 + 2 * 109 * 10


def test_linear_layers_take_any_leading_dimensions_as_torch_does():
    """A Linear applied to (B, T, C) — an MLP-Mixer's or a ViT block's feed-forward — converts
    and runs; the ideal backend equals the original, the others equal themselves row by row."""
    torch.manual_seed(0)
    mixer = nn.Sequential(nn.LayerNorm(16), nn.Linear(16, 24), nn.GELU(), nn.Linear(24, 16)).double()
    x = torch.randn(3, 5, 16, dtype=torch.float64)
    analog = convert(mixer, CrossbarConfig(tile_rows=8, tile_columns=8), backend="ideal")
    with torch.no_grad():
        torch.testing.assert_close(analog(x), mixer(x), rtol=1e-9, atol=1e-9)
    linear = nn.Linear(6, 4).double()
    tokens = torch.randn(2, 3, 6, dtype=torch.float64)
    for backend in ("device", "circuit"):
        core = convert(linear, CrossbarConfig(device="sinh", tile_rows=4, tile_columns=4, r_word=1.0, r_bit=1.0),
                       backend=backend)
        with torch.no_grad():
            together = core(tokens)
            one_by_one = torch.stack([core(tokens[i]) for i in range(2)])
        assert together.shape == (2, 3, 4)
        torch.testing.assert_close(together, one_by_one, rtol=1e-12, atol=1e-15)
    named = convert(nn.Sequential(nn.Linear(6, 4), nn.ReLU(), nn.Linear(4, 2)), backend="ideal")
    with pytest.raises(InputError, match=r"'0' takes \(\.\.\., 6\) inputs, got \(2, 5\)"):
        named(torch.randn(2, 5))


def test_the_circuit_backend_in_chunks_equals_one_solve(monkeypatch):
    """Chunking the batch bounds the solver's memory and changes nothing else: values and
    gradients equal one solve of the whole batch to the solver's tolerance (Newton stops
    per batch)."""
    from spicenn.nn import backends

    torch.manual_seed(0)
    conv = nn.Conv2d(2, 5, 3)
    hardware = CrossbarConfig(device="sinh", g_off=1e-6, g_on=1e-4, r_word=2.0, r_bit=2.0, tile_rows=8,
                              tile_columns=4)
    analog = convert(conv, hardware, backend="circuit").double()
    x = torch.rand(3, 2, 6, 6, dtype=torch.float64)
    calibrate(analog, x)
    results = []
    for cells in (2**40, 8 * 4 * 7):  # one solve; chunks of 7 vectors of every tile
        monkeypatch.setattr(backends, "CIRCUIT_CELLS_PER_CHUNK", cells)
        analog.zero_grad()
        out = analog(x)
        out.square().sum().backward()
        results.append((out.detach(), [p.grad.clone() for p in analog.parameters()]))
    (whole, whole_grads), (chunked, chunked_grads) = results
    assert torch.allclose(chunked, whole, rtol=1e-9, atol=1e-12)
    for a, b in zip(chunked_grads, whole_grads):
        assert torch.allclose(a, b, rtol=1e-7, atol=1e-12)
