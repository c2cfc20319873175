"""Non-idealities with a time axis: programming noise, power-law drift (per-device exponent)
with global drift compensation, read noise per read and input DAC quantisation — seeded,
on every backend (ngspice included: the drifted conductances are what it simulates), in
the energy, and through `spicenn analyze --t-inference`. Each is checked against its own
definition: drift and compensation analytically, noise statistically."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from clirun import run_cli
from torch import nn

from spicenn.nn import CrossbarConfig, calibrate, convert, model_energy
from spicenn.nn.layer import CrossbarLinear

LINEAR = dict(device="linear", g_off=1e-6, g_on=1e-4)


def _model(hardware: CrossbarConfig, seed: int = 0):
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Linear(12, 16), nn.ReLU(), nn.Linear(16, 4)).double()
    analog = convert(model, hardware)
    x = torch.rand(64, 12).double()
    calibrate(analog, x, percentile=100)
    return model, analog, x


def test_uniform_drift_scales_every_output_by_the_power_law_and_compensation_undoes_it():
    nu, t = 0.06, 3600.0
    _, analog, x = _model(CrossbarConfig(**LINEAR, drift_nu=nu, drift_compensation=False))
    layer = analog.crossbar_layers()[0]
    with torch.no_grad():
        at_once = layer(x)
        layer.t_inference = t
        drifted = layer(x)
    np.testing.assert_allclose(drifted.numpy(), at_once.numpy() * t ** -nu, rtol=1e-12, atol=1e-15)
    _, compensated, x = _model(CrossbarConfig(**LINEAR, drift_nu=nu))
    with torch.no_grad():
        expected = compensated(x)
        compensated.set_time(t)
        np.testing.assert_allclose(compensated(x).numpy(), expected.numpy(), rtol=1e-12, atol=1e-15)
        compensated.set_time(0.5)  # before t0 = 1 s: as programmed
        np.testing.assert_allclose(compensated(x).numpy(), expected.numpy(), rtol=1e-15)


def test_per_device_drift_exponents_follow_their_distribution():
    hardware = CrossbarConfig(**LINEAR, drift_nu=0.05, drift_nu_spread=0.02, tile_rows=64, tile_columns=64)
    layer = CrossbarLinear(200, 150, hardware)
    layer.set_chip(7)
    with torch.no_grad():
        programmed = layer.conductances()
        layer.t_inference = 1e4
        later = layer.conductances()
    exponents = -np.log((later / programmed).numpy()) / np.log(1e4)
    assert abs(exponents.mean() - 0.05) < 0.002 and abs(exponents.std() - 0.02) < 0.002
    layer.set_chip(7)  # the same chip drifts the same way
    with torch.no_grad():
        assert torch.equal(layer.conductances(), later)
    assert float(layer.drift_gain()) > 1.0  # the compensation brings the read-out back up


def test_programming_noise_is_its_fraction_of_the_range_and_stays_within_it():
    hardware = CrossbarConfig(**LINEAR, programming_noise=0.02)
    layer = CrossbarLinear(300, 200, hardware)
    with torch.no_grad():
        target = layer.target_conductances()
        layer.set_chip(3)
        programmed = layer.conductances()
    error = ((programmed - target) / (1e-4 - 1e-6)).numpy()
    inside = ((target > 1.1e-6) & (target < 0.9e-4)).numpy()  # far from the range's ends: not clipped
    assert abs(error[inside].std() - 0.02) < 0.001 and abs(error[inside].mean()) < 0.001
    assert float(programmed.min()) >= 1e-6 and float(programmed.max()) <= 1e-4


def test_read_noise_has_its_stated_spread_per_read_and_is_seeded():
    sigma = 0.05
    hardware = CrossbarConfig(**LINEAR, read_noise=sigma)
    layer = CrossbarLinear(40, 6, hardware).double()
    x = torch.rand(1, 40).double().expand(4000, 40)
    layer.set_chip(None)  # the nominal chip reads without noise
    with torch.no_grad():
        clean = layer.column_currents(x[:1])
        assert torch.equal(layer.column_currents(x[:1]), clean)
        layer.set_chip(5)
        g = layer.conductances()
        clean = layer.voltages(x[:1]) @ g  # linear devices, no wires: V·G
        reads = layer.column_currents(x)
        expected = sigma * torch.sqrt(layer.voltages(x[:1]) ** 2 @ g**2)
        np.testing.assert_allclose(reads.std(0).numpy(), expected[0].numpy(), rtol=0.06)
        np.testing.assert_allclose(reads.mean(0).numpy(), clean[0].numpy(), rtol=0.01)
        layer.set_chip(5)
        assert torch.equal(layer.column_currents(x), reads)  # the chip's reads again, in order


def test_dac_bits_quantise_the_inputs_with_a_straight_through_gradient():
    hardware = CrossbarConfig(**LINEAR, dac_bits=3)
    layer = CrossbarLinear(5, 2, hardware).double()
    x = torch.linspace(0, 1, 50, dtype=torch.float64)[:, None].expand(50, 5).clone().requires_grad_(True)
    v = layer.voltages(x)
    levels = torch.unique(v[:, 0].detach())
    assert len(levels) == 4  # 0, 1/3, 2/3, 1 of k_V: 3 signed levels each side, the positive half used
    v.sum().backward()
    assert torch.equal(x.grad, torch.full_like(x, 0.5))  # k_V per input, through the rounding


def test_time_and_read_noise_on_every_backend_and_in_ngspice():
    hardware = CrossbarConfig(device="sinh", g_off=1e-6, g_on=1e-4, tile_rows=8, tile_columns=8, r_word=1.0,
                              r_bit=1.0, drift_nu=0.05, drift_nu_spread=0.02, programming_noise=0.01)
    _, analog, x = _model(hardware)
    analog.set_chip(2)
    analog.set_time(86400.0)
    outputs = {}
    with torch.no_grad():
        for backend in ("ideal", "device", "circuit", "spice"):
            outputs[backend] = analog.forward_with(x[:2], backend)
    assert float((outputs["spice"] - outputs["circuit"]).abs().max()) < 1e-6 * float(outputs["circuit"].abs().max())
    analog.set_time(None)
    with torch.no_grad():
        at_once = analog.forward_with(x[:2], "circuit")
    assert float((at_once - outputs["circuit"]).abs().max()) > 1e-3 * float(at_once.abs().max())  # drift shows
    noisy = CrossbarConfig(**LINEAR, read_noise=0.05)
    _, analog, x = _model(noisy)
    analog.set_chip(1)
    with torch.no_grad():
        first, second = analog(x), analog(x)
    assert not torch.equal(first, second)  # every read draws anew


def test_drift_lowers_the_arrays_energy_by_its_factor():
    _, analog, x = _model(CrossbarConfig(**LINEAR, drift_nu=0.05, drift_compensation=False))
    at_once = model_energy(analog, x[:2], chip=None)
    analog.set_time(1e4)
    later = model_energy(analog, x[:2], chip=None)
    # the first layer's inputs are the same: V²·G summed, every G scaled alike (later layers also
    # see inputs scaled by the uncompensated drift)
    ratio = later.layers[0].energy_j["crossbar"] / at_once.layers[0].energy_j["crossbar"]
    assert ratio == pytest.approx(1e4 ** -0.05, rel=1e-9)
    assert later.layers[1].energy_j["crossbar"] / at_once.layers[1].energy_j["crossbar"] < ratio


MLP_FILE = """
from torch import nn


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10))

    def forward(self, x):
        return self.layers(x)
"""


def test_analyze_shows_accuracy_against_time(tmp_path):
    (tmp_path / "mlp.py").write_text(MLP_FILE)
    plots = tmp_path / "plots"
    plots.mkdir()
    done = run_cli("analyze", "-m", f"{tmp_path / 'mlp.py'}:MLP", "--data", "digits", "--device", "linear",
                   "--tile-rows", "32", "--tile-columns", "32", "--drift-nu", "0.1", "--drift-nu-spread", "0.05",
                   "--no-drift-compensation", "--t-inference", "1e6,1", "--backends", "ideal,device", "--chips", "2",
                   "--images", "50", "--circuit-images", "0", "--energy-images", "0", "--plots", plots, "--json")
    assert done.returncode == 0, done.stderr
    over_time = json.loads(done.stdout)["accuracy_vs_time"]
    assert over_time["seconds"] == [1.0, 1e6]
    assert set(over_time["accuracy"]) == {"ideal", "device"}
    assert len(over_time["accuracy"]["device"][0]["per_chip"]) == 2
    assert (plots / "accuracy-vs-time.png").stat().st_size > 1000
    bad = run_cli("analyze", "-m", f"{tmp_path / 'mlp.py'}:MLP", "--t-inference", "0,1")
    assert bad.returncode != 0 and "--t-inference" in bad.stderr and len(bad.stderr.strip().splitlines()) == 1
