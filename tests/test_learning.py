"""Device programming models and on-chip update rules: step statistics, bounds, symmetry
points, expectations of the stochastic updates, binary signals, learning, and the SPICE check."""

import numpy as np
import pytest
import torch

from spicenn.devices.programming import DiscreteLevels, SoftBounds, find_symmetry_point
from spicenn.energy.training import training_step_energy
from spicenn.errors import InputError
from spicenn.nn.data import load_data
from spicenn.nn.learning import BinaryStochasticMLP, DeviceLinear, DeviceMLP, UpdateRule, apply_rule
from spicenn.nn.onchip import onchip_accuracy, spice_accuracy, train_on_chip


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


def test_discrete_level_steps_have_the_set_mean_spread_and_bounds():
    model = DiscreteLevels(g_max=1e-4, dynamic_range=15, levels=32, cycle_noise=0.2, device_spread=0.1)
    shape = (200, 100)
    steps = model.device_steps(shape, gen(1))
    assert float(steps.mean()) == pytest.approx(model.step, rel=0.01)
    assert float(steps.std() / model.step) == pytest.approx(0.1, rel=0.05)
    g0 = model.initial(shape, gen(2))
    moved = model.pulse(g0, torch.ones(shape), steps, gen(3)) - g0
    assert float(moved.mean()) == pytest.approx(model.step, rel=0.01)
    # spread of one step: device-to-device and cycle-to-cycle, independent
    assert float(moved.std() / model.step) == pytest.approx(np.hypot(0.1, 0.2), rel=0.05)
    many = model.pulse(g0, torch.full(shape, 100.0), steps, gen(4))
    assert float(many.max()) == model.g_max and float(many.min()) >= model.g_min
    assert model.g_min == pytest.approx(1e-4 / 15)


def test_soft_bounds_steps_follow_the_formula_and_stay_in_bounds():
    model = SoftBounds(g_min=1e-6, g_max=1e-4, alpha_up=0.05, alpha_down=0.02)
    span = model.g_max - model.g_min
    g = torch.linspace(model.g_min, model.g_max, 7, dtype=torch.float64)
    steps = model.device_steps((7,), gen())
    up = model.pulse(g, torch.ones(7), steps, gen()) - g
    down = g - model.pulse(g, -torch.ones(7), steps, gen())
    # ΔG+ = α+·(G_max − G), ΔG− = α−·(G − G_min), with α as a fraction of the range at the far bound
    torch.testing.assert_close(up, 0.05 * span * (model.g_max - g) / span)
    torch.testing.assert_close(down, 0.02 * span * (g - model.g_min) / span)
    far = model.pulse(g, torch.full((7,), 10_000.0), steps, gen())
    assert float(far.max()) <= model.g_max and float(far.min()) >= model.g_min


def test_symmetry_point_closed_form_matches_pulsing():
    model = SoftBounds(alpha_up=0.02, alpha_down=0.008, device_spread=0.2)
    steps = model.device_steps((50,), gen(5))
    closed = model.symmetry_point(steps[:, 0], steps[:, 1])
    found, pulses = find_symmetry_point(model, model.initial((50,), gen()), steps, gen(), pulses=4000)
    assert pulses == 4000
    # the alternating pulses settle in a two-state cycle around the point: its middle is
    # within half a step of the analytic value
    step = steps[:, 0] * (model.g_max - closed)
    assert float(((found - closed).abs() / step).max()) < 0.5
    with pytest.raises(InputError):
        SoftBounds(alpha_up=0.0)


def layer_with_gradient(model, seed=0):
    layer = DeviceLinear(6, 4, model, generator=gen(seed), init_scale=0.0)
    x = torch.rand(5, 6, generator=gen(seed + 1), dtype=torch.float64)
    target = torch.rand(5, 4, generator=gen(seed + 2), dtype=torch.float64)
    loss = ((layer(x) - target) ** 2).mean()
    loss.backward()
    return layer, layer.weight.grad.double().clone()


@pytest.mark.parametrize("rule", ["rounding", "pulse"])
def test_stochastic_updates_are_the_float_update_on_average(rule):
    model = DiscreteLevels(g_max=1e-4, dynamic_range=15, levels=1001)  # fine steps, far from the bounds
    rate = 0.05
    total = None
    repeats = 400
    for seed in range(repeats):
        layer, grad = layer_with_gradient(model, seed=0)
        layer.generator.manual_seed(1000 + seed)
        before = layer.weight.detach().double().clone()
        apply_rule(layer, UpdateRule(rule, rate, pulse_length=20))
        change = layer.weight.detach().double() - before
        total = change if total is None else total + change
    mean = total / repeats
    expected = -rate * grad
    assert float((mean - expected).abs().max()) < 0.1 * float(expected.abs().max())
    # and each device moved by whole steps
    steps = change / layer.weight_step
    torch.testing.assert_close(steps, steps.round(), atol=1e-6, rtol=0)


def test_binary_learning_uses_binary_signals_and_single_steps(monkeypatch):
    data = load_data("digits")
    net = BinaryStochasticMLP((64, 16, 10), DiscreteLevels(levels=32), seed=0)
    counts = []
    original = DeviceLinear.program
    monkeypatch.setattr(DeviceLinear, "program", lambda self, c: (counts.append(c.clone()), original(self, c)))
    with torch.no_grad():
        net.train_step(torch.as_tensor(data.train.x[:10], dtype=torch.float64), torch.as_tensor(data.train.y[:10]), 10)
    for signal in net.last_signals:
        assert set(torch.unique(signal).tolist()) <= {0.0, 1.0}
    for error in net.last_errors:
        assert set(torch.unique(error).tolist()) <= {-1.0, 0.0, 1.0}
    assert len(counts) == 2 and all(set(torch.unique(c).tolist()) <= {-1.0, 0.0, 1.0} for c in counts)


@pytest.mark.parametrize("rule,model", [("float", DiscreteLevels()), ("rounding", DiscreteLevels()),
                                        ("pulse", DiscreteLevels()), ("binary", DiscreteLevels()),
                                        ("pulse", SoftBounds(alpha_up=0.02, alpha_down=0.02))])
def test_a_tiny_network_learns_with_each_rule(rule, model):
    data = load_data("digits")
    cls = BinaryStochasticMLP if rule == "binary" else DeviceMLP
    # soft bounds pull weights toward their symmetry point: a wider weight range per siemens
    net = cls((64, 24, 10), model, seed=0, w_max=4.0 if isinstance(model, SoftBounds) else 1.0)
    before = onchip_accuracy(net, data.test.x, data.test.y)
    train_on_chip(net, data, UpdateRule(rule, 0.1), epochs=3, batch_size=10)
    after = onchip_accuracy(net, data.test.x, data.test.y)
    assert after > max(0.4, before + 0.2)


def test_zero_shifting_puts_references_at_the_symmetry_points():
    model = SoftBounds(alpha_up=0.02, alpha_down=0.01, device_spread=0.2)
    layer = DeviceLinear(5, 3, model, generator=gen())
    pulses = layer.zero_shift(pulses=3000)
    assert pulses == 3000
    closed = model.symmetry_point(layer.steps[..., 0], layer.steps[..., 1])
    assert float(((layer.g_ref - closed).abs() / (model.g_max - model.g_min)).max()) < 2e-3
    with pytest.raises(InputError, match="soft-bounds"):
        DeviceLinear(5, 3, DiscreteLevels(), generator=gen()).zero_shift()


def test_a_device_trained_network_reads_out_the_same_in_spice():
    data = load_data("digits")
    net = DeviceMLP((64, 12, 10), DiscreteLevels(levels=32), seed=0)
    train_on_chip(net, data, UpdateRule("rounding", 0.1), epochs=1, batch_size=10)
    x, y = data.test.x[:20], data.test.y[:20]
    checked = spice_accuracy(net, x, y)
    with torch.no_grad():
        logits = net(torch.as_tensor(x, dtype=torch.float64)).numpy()
    np.testing.assert_allclose(checked["logits"], logits, rtol=1e-8, atol=1e-10)
    assert checked["accuracy"] == onchip_accuracy(net, x, y)


@pytest.mark.slow
def test_babu_noise_grid_statistics_from_recorded_networks(tmp_path):
    """The grid's arithmetic on recorded accuracies (a resumed grid trains nothing): relative
    degradation device − float per seed, median and range, and where the claim holds."""
    import json

    from spicenn.reproduce import babu2017
    from spicenn.reproduce.common import resume

    s = babu2017.grid_settings(quick=True)
    setup = resume(tmp_path, {**s, "sizes": [784, 100, 10], "dynamic_range": 15, "levels": 32})["setup"]
    runs = {}
    for seed in range(s["seeds"]):
        runs[f"float/0/{seed}"] = [0.9, 0.9, 0.81, 0.72, 0.63]  # degradation 0, 0, 10, 20, 30 %
        for v in s["variabilities"]:
            # variability 0 degrades less on every seed; the others by seed-dependent amounts
            worse = 0.0 if v == 0 else (seed - 1) * 0.05
            runs[f"rounding/{v:g}/{seed}"] = [0.8, 0.8, 0.8 * (0.95 - worse), 0.8 * (0.85 - worse), 0.8 * 0.7]
    (tmp_path / "results.json").write_text(json.dumps({"setup": setup, "runs": runs}))
    results = babu2017.noise_grid(tmp_path, quick=True, progress=False)
    cell = results["grid"]["0"]
    np.testing.assert_allclose(cell["median"], [0.0, 0.0, -0.05, -0.05, 0.0], atol=1e-12)
    assert cell["holds"] == [False, False, True, True, False]
    spread = results["grid"]["0.1"]
    np.testing.assert_allclose(spread["low"][2:4], [-0.1, -0.1], atol=1e-12)  # seed 0: 5 points better
    np.testing.assert_allclose(spread["high"][2:4], [0.0, 0.0], atol=1e-12)  # seed 2: as float
    assert not any(spread["holds"])
    text = babu2017.grid_table(results)
    assert "the claim holds (every seed) at: variability 0, std 0.2, variability 0, std 0.3" in text
    assert (tmp_path / "babu2017-noise-grid.png").stat().st_size > 0


def test_li_comparison_statistics_from_recorded_networks(tmp_path):
    import json

    from spicenn.reproduce import li2023
    from spicenn.reproduce.common import resume

    setup = resume(tmp_path, li2023.comparison_setup(True))["setup"]
    accuracies = {"float back-propagation": [0.93, 0.94, 0.92], "back-propagation on the devices": [0.90, 0.91, 0.92],
                  "binary stochastic": [0.89, 0.93, 0.91]}
    pulses = {"float back-propagation": 0.0, "back-propagation on the devices": 80.0, "binary stochastic": 130.0}
    runs = {f"{name}/{algorithm}/{seed}": {"accuracy": value, "sizes": [784 if name == "mnist" else 64, 10, 10],
                                           "pulses_per_sample": pulses[algorithm] + seed, "g_mean": 5e-5,
                                           "activity": [0.2, 0.5]}
            for name in li2023.DATASETS for algorithm, values in accuracies.items()
            for seed, value in enumerate(values)}
    (tmp_path / "results.json").write_text(json.dumps({"setup": setup, "runs": runs}))
    results = li2023.comparison(tmp_path, quick=True, progress=False)
    cell = results["summary"]["mnist"]["binary stochastic"]
    assert (cell["median"], cell["low"], cell["high"]) == (0.91, 0.89, 0.93)
    table = li2023.comparison_table(results)
    assert "not separable (ranges overlap)" in table
    # the energy of a step uses the runs' median measurements (pulses 131 for binary: seeds add 0, 1, 2)
    binary = training_step_energy((784, 10, 10), "binary stochastic", pulses_per_sample=131.0, g_mean=5e-5,
                                  batch_size=10, activity=[0.2, 0.5])
    assert results["energy"]["mnist"]["binary stochastic"]["parts"] == binary
    device = results["energy"]["mnist"]["memristive back-propagation"]["total"]
    assert f"memristive back-propagation / binary stochastic: {device / sum(binary.values()):.3g}x" in table
    # the 8-bit sensitivity prices back-propagation's arithmetic lower; the binary step has none
    int8 = results["energy_int8"]["mnist"]
    assert int8["memristive back-propagation"]["total"] < device
    assert int8["binary stochastic"]["parts"] == binary  # nothing of the binary step is priced by them
    ratio = int8["memristive back-propagation"]["total"] / int8["binary stochastic"]["total"]
    assert "with 8-bit integers instead" in table and f"memristive back-propagation {ratio:.3g}x" in table
    assert (tmp_path / "li2023-comparison.png").stat().st_size > 0


def test_a_layer_counts_the_pulses_it_applies_but_not_its_initial_programming():
    layer = DeviceLinear(3, 2, DiscreteLevels())
    assert layer.pulses == 0.0
    count = torch.tensor([[1.0, -2.0], [0.0, 3.0], [-1.0, 0.0], [4.0, 0.0]])
    layer.program(count)
    layer.program(-count)
    assert layer.pulses == 2 * 11
