"""The torch line-relaxation solver against ngspice, and its gradients."""

import numpy as np
import pytest
import torch

from spicenn.crossbar import Crossbar
from spicenn.devices import get_device
from spicenn.spice import simulate
from spicenn.surrogate.physics import relax


@pytest.mark.parametrize("name, g_range, r, r_source", [
    ("sinh", (1e-6, 1e-4), 1.0, 0.0),
    ("powerlaw", (9.97e-4, 3.51e-3), 0.25, 0.0),
    ("poole-frenkel-high", (5.25e-7, 2.62e-6), 50.0, 20.0),
])
def test_relaxation_converges_to_the_spice_solution(name, g_range, r, r_source, rng):
    device = get_device(name)
    g = rng.uniform(*g_range, (2, 12, 10))
    v = rng.uniform(0, 0.5, (2, 5, 12))
    predicted = relax(device, torch.tensor(v), torch.tensor(g), r, r, r_source, iterations=60).numpy()
    for tile in range(2):
        spice = simulate(Crossbar(g[tile], device, r_word=r, r_bit=r, r_source=r_source), v[tile]).currents
        np.testing.assert_allclose(predicted[tile], spice, rtol=1e-7, atol=1e-9 * np.abs(spice).max())


def test_gradients_in_v_and_g_match_finite_differences(rng):
    device = get_device("sinh")
    g0 = 1e-4
    scale = torch.tensor(rng.uniform(0.1, 1.0, (4, 3)), requires_grad=True)
    v = torch.tensor(rng.uniform(0, 0.5, (2, 4)), requires_grad=True)
    assert torch.autograd.gradcheck(
        lambda volts, s: relax(device, volts, s * g0, 50.0, 50.0, iterations=40) / g0, (v, scale),
        eps=1e-6, atol=1e-6, rtol=1e-4)
