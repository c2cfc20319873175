"""Weights <-> conductances, inputs -> voltages, currents -> outputs; conductance non-idealities."""

import numpy as np
import pytest

from spicenn.crossbar import Crossbar, DifferentialMapping
from spicenn.devices import ConductanceNonidealities
from spicenn.errors import InputError
from spicenn.solvers import simulate


def test_round_trip_weights_conductances(rng):
    w, b = rng.normal(0, 1, (5, 3)), rng.normal(0, 1, 3)
    mapping = DifferentialMapping.fit(w, 1e-6, 1e-4, k_v=0.5, biases=b)
    g = mapping.conductances(w, b)
    assert g.shape == (6, 6) and g.min() >= 1e-6 and np.isclose(g.max(), 1e-4)
    w2, b2 = mapping.weights(g)
    np.testing.assert_allclose(w2, w, atol=1e-12)
    np.testing.assert_allclose(b2, b, atol=1e-12)


def test_ideal_crossbar_computes_the_layer(rng):
    w, b = rng.normal(0, 1, (5, 3)), rng.normal(0, 1, 3)
    x = rng.uniform(0, 1, (4, 5))
    mapping = DifferentialMapping.fit(w, 1e-6, 1e-4, k_v=0.5, biases=b)
    currents = simulate(Crossbar(mapping.conductances(w, b)), mapping.voltages(x)).currents
    np.testing.assert_allclose(mapping.outputs(currents), x @ w + b, rtol=1e-8, atol=1e-8)


def test_mapping_refuses_weights_out_of_range(rng):
    w = rng.normal(0, 1, (3, 2))
    mapping = DifferentialMapping.fit(w, 1e-6, 1e-4)
    with pytest.raises(InputError, match="exceed"):
        mapping.conductances(3 * w)


def test_lognormal_spread_preserves_mean_resistance_and_is_seeded():
    g = np.full((400, 400), 1e-5)
    spread = ConductanceNonidealities(spread=0.3)
    chip = spread.apply(g, 1e-6, 1e-4, seed=5)
    assert abs(np.mean(1 / chip) * 1e-5 - 1) < 0.01
    assert abs(np.std(np.log(1 / chip)) - 0.3) < 0.01
    np.testing.assert_array_equal(chip, spread.apply(g, 1e-6, 1e-4, seed=5))
    assert not np.array_equal(chip, spread.apply(g, 1e-6, 1e-4, seed=6))


def test_stuck_devices_and_levels():
    g = np.full((300, 300), 5e-5)
    chip = ConductanceNonidealities(p_stuck_off=0.1, p_stuck_on=0.05).apply(g, 1e-6, 1e-4, seed=1)
    assert abs(np.mean(chip == 1e-6) - 0.1) < 0.01 and abs(np.mean(chip == 1e-4) - 0.05) < 0.01
    levels = ConductanceNonidealities(levels=5).apply(np.linspace(1e-6, 1e-4, 101)[None], 1e-6, 1e-4, seed=0)
    assert len(np.unique(levels)) == 5
    np.testing.assert_allclose(np.unique(levels), np.linspace(1e-6, 1e-4, 5))


@pytest.mark.parametrize("kwargs", [dict(spread=-1), dict(p_stuck_off=1.5), dict(levels=1),
                                    dict(p_stuck_off=0.6, p_stuck_on=0.6)])
def test_bad_nonidealities_are_clear_errors(kwargs):
    with pytest.raises(InputError):
        ConductanceNonidealities(**kwargs)


@pytest.mark.parametrize("weights", ["random", "zero"])
def test_numpy_mapping_and_the_torch_layers_agree(rng, weights):
    """One mapping for both: a CrossbarLinear with signed weights programs exactly the
    conductances DifferentialMapping gives its weights, an all-zero layer included (every
    device at G_off, k_G = G_on - G_off, outputs 0)."""
    import torch

    from spicenn.nn import CrossbarConfig, CrossbarLinear

    layer = CrossbarLinear(4, 3, CrossbarConfig(weights="differential", g_off=1e-6, g_on=1e-4))
    with torch.no_grad():
        if weights == "zero":
            layer.weight.zero_()
        w = layer.weight.double().numpy()
    mapping = DifferentialMapping.fit(w[:-1], 1e-6, 1e-4, k_v=0.5, biases=w[-1])
    expected = mapping.conductances(w[:-1], w[-1])
    np.testing.assert_allclose(layer.target_conductances().detach().double().numpy(), expected, rtol=1e-6)
    assert float(layer.k_g()) == pytest.approx(mapping.k_g, rel=1e-6)
    x = rng.uniform(0, 1, (2, 4))
    currents = mapping.voltages(x) @ expected
    np.testing.assert_allclose(layer(torch.as_tensor(x)).detach().numpy(), mapping.outputs(currents), atol=1e-6)
    if weights == "zero":
        assert np.all(expected == 1e-6) and mapping.k_g == pytest.approx(1e-4 - 1e-6)
        np.testing.assert_array_equal(mapping.outputs(currents), 0.0)
