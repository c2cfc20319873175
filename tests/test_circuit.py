"""The crossbar circuit in ngspice against analytic results and an independent nodal solve."""

import nodal
import numpy as np
import pytest

from spicenn.crossbar import Crossbar
from spicenn.devices import get_device
from spicenn.solvers import get_solver, simulate, solver_names

ENGINES = [name for name in solver_names() if get_solver(name).runs_netlists]  # the ngspice engines


def relative_error(got, expected):
    return np.max(np.abs(got - expected)) / np.max(np.abs(expected))


@pytest.mark.parametrize("engine", ENGINES)
def test_ideal_crossbar_equals_v_times_g(engine, rng):
    g = rng.uniform(1e-6, 1e-4, (12, 7))
    v = rng.uniform(-0.5, 0.5, (5, 12))
    result = simulate(Crossbar(g), v, engine=engine)
    np.testing.assert_allclose(result.currents, v @ g, rtol=1e-9, atol=1e-9 * np.abs(v @ g).max())
    assert result.word_line_power.max() == 0 and result.bit_line_power.max() == 0


@pytest.mark.parametrize("name", ["sinh", "powerlaw-low", "poole-frenkel-high"])
def test_nonlinear_devices_without_wires_sum_device_currents(name, rng):
    device = get_device(name)
    g_off, g_on = device.g_off or 1e-6, device.g_on or 1e-4
    crossbar = Crossbar(rng.uniform(g_off, g_on, (6, 5)), device=device)
    v = rng.uniform(0, 0.5, (4, 6))
    expected = crossbar.device_only_currents(v)
    np.testing.assert_allclose(simulate(crossbar, v).currents, expected, rtol=1e-9)


CASES = {
    # name: (device, independent I-V builder, G range, wires)
    "linear": ("linear", lambda g, d: nodal.iv_linear(g), (1e-5, 1e-3), dict(r_word=2.0, r_bit=3.0)),
    "sinh": ("sinh", lambda g, d: nodal.iv_sinh(g, d.k), (1e-6, 1e-4), dict(r_word=1.0, r_bit=1.0)),
    "sinh-driver": ("sinh", lambda g, d: nodal.iv_sinh(g, d.k), (1e-6, 1e-4),
                    dict(r_word=1.0, r_bit=1.0, r_source=50.0)),
    "powerlaw": ("powerlaw", lambda g, d: nodal.iv_powerlaw(g, d.v_ref, d.n), (9.97e-4, 3.51e-3),
                 dict(r_word=0.25, r_bit=0.25)),
    "poole-frenkel-low": ("poole-frenkel-low", lambda g, d: nodal.iv_poole_frenkel(g, d.a1, d.b1, d.a2, d.b2),
                          (6.9e-4, 3.45e-3), dict(r_word=0.5, r_bit=0.5)),
    "poole-frenkel-high": ("poole-frenkel-high", lambda g, d: nodal.iv_poole_frenkel(g, d.a1, d.b1, d.a2, d.b2),
                           (5.25e-7, 2.62e-6), dict(r_word=100.0, r_bit=100.0)),
    "word-only": ("sinh", lambda g, d: nodal.iv_sinh(g, d.k), (1e-5, 1e-3), dict(r_word=5.0, r_bit=0.0)),
    "bit-only": ("sinh", lambda g, d: nodal.iv_sinh(g, d.k), (1e-5, 1e-3), dict(r_word=0.0, r_bit=5.0)),
    "sub-milliohm": ("linear", lambda g, d: nodal.iv_linear(g), (1e-3, 1e-1), dict(r_word=4e-4, r_bit=2e-4)),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_wires_match_an_independent_nodal_newton_solve(case, rng):
    name, iv, (g_off, g_on), wires = CASES[case]
    device = get_device(name)
    g = rng.uniform(g_off, g_on, (9, 8))
    v = rng.uniform(-0.1, 0.5, (3, 9))
    result = simulate(Crossbar(g, device=device, **wires), v)
    for k in range(v.shape[0]):
        sense, word, bit = nodal.solve(iv(g, device), v[k], wires["r_word"], wires["r_bit"], wires.get("r_source", 0.0))
        assert relative_error(result.currents[k], sense) < 1e-6, case
        assert relative_error(result.word_voltages[k], word) < 1e-6
        assert np.max(np.abs(result.bit_voltages[k] - bit)) < 1e-6 * np.max(np.abs(v[k]))


def test_line_resistance_really_changes_the_currents(rng):
    """Guard for the comparison above: the wires matter at these values (tens of percent)."""
    g = rng.uniform(9.97e-4, 3.51e-3, (32, 32))
    v = np.full((1, 32), 0.5)
    crossbar = Crossbar(g, device=get_device("powerlaw", n=2.13), r_word=0.25, r_bit=0.25)
    with_wires = simulate(crossbar, v).currents
    without = crossbar.device_only_currents(v)
    assert np.median(1 - with_wires / without) > 0.1


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("name", ["linear", "sinh", "poole-frenkel-high"])
def test_power_balance(engine, name, rng):
    device = get_device(name)
    g = rng.uniform(device.g_off or 1e-5, device.g_on or 1e-3, (10, 6))
    crossbar = Crossbar(g, device=device, r_word=3.0, r_bit=2.0, r_source=10.0)
    result = simulate(crossbar, rng.uniform(-0.2, 0.5, (4, 10)), engine=engine)
    parts = result.device_power + result.word_line_power + result.bit_line_power + result.source_power
    np.testing.assert_allclose(result.power, parts, rtol=1e-9)
    for part in (result.word_line_power, result.bit_line_power, result.source_power):
        assert np.all(part > 0)


def test_ideal_power_is_sum_of_g_v_squared(rng):
    g = rng.uniform(1e-6, 1e-4, (5, 4))
    v = rng.uniform(-0.5, 0.5, (3, 5))
    result = simulate(Crossbar(g), v)
    np.testing.assert_allclose(result.power, (v**2) @ g.sum(axis=1), rtol=1e-9)
    np.testing.assert_allclose(result.device_power, result.power, rtol=1e-9)


@pytest.mark.parametrize("name", ["linear", "sinh", "powerlaw-high"])
def test_engines_agree(name, rng):
    device = get_device(name)
    g = rng.uniform(device.g_off or 1e-6, device.g_on or 1e-4, (7, 9))
    crossbar = Crossbar(g, device=device, r_word=1.5, r_bit=1.5)
    v = rng.uniform(0, 0.5, (6, 7))
    shared, subprocess = simulate(crossbar, v, engine="shared"), simulate(crossbar, v, engine="subprocess")
    for field in ("currents", "power", "device_power", "word_line_power", "bit_line_power"):
        np.testing.assert_allclose(getattr(shared, field), getattr(subprocess, field), rtol=1e-12)


@pytest.mark.parametrize("engine", ENGINES)
def test_a_batch_equals_one_at_a_time(engine, rng):
    crossbar = Crossbar(rng.uniform(1e-6, 1e-4, (8, 8)), device=get_device("sinh"), r_word=1.0, r_bit=1.0)
    v = rng.uniform(-0.5, 0.5, (7, 8))
    batch = simulate(crossbar, v, engine=engine)
    chunked = simulate(crossbar, v, engine=engine, chunk=3)
    single = [simulate(crossbar, v[k], engine=engine) for k in range(v.shape[0])]
    scale = np.abs(batch.currents).max()
    for k, one in enumerate(single):
        np.testing.assert_allclose(batch.currents[k], one.currents[0], rtol=1e-9, atol=1e-9 * scale)
        np.testing.assert_allclose(batch.power[k], one.power[0], rtol=1e-9)
    np.testing.assert_allclose(chunked.currents, batch.currents, rtol=1e-9, atol=1e-9 * scale)


def test_zero_inputs_give_zero_currents_for_every_device():
    for name in ["linear", "sinh", "powerlaw", "poole-frenkel-high"]:
        device = get_device(name)
        crossbar = Crossbar(np.full((3, 3), device.g_off or 1e-4), device=device, r_word=1.0, r_bit=1.0)
        v = np.array([[0.0, 0.0, 0.0], [0.3, 0.0, 0.0]])
        result = simulate(crossbar, v)
        assert np.all(np.abs(result.currents[0]) < 1e-20)
        assert np.all(result.currents[1] > 0)


def test_a_circuit_that_cannot_converge_is_a_clear_error_naming_the_vector():
    """sinh with k = 60 at 2 V: ngspice fails, the retries with gmin and source stepping fail too."""
    from spicenn.errors import ConvergenceError

    crossbar = Crossbar(np.full((4, 4), 1e-4), device=get_device("sinh", k=60), r_word=1.0, r_bit=1.0)
    v = np.array([[0.1] * 4, [2.0] * 4])
    with pytest.raises(ConvergenceError, match="input vector 1 did not converge"):
        simulate(crossbar, v)


def test_results_are_never_silent_zeros_or_nans(rng):
    crossbar = Crossbar(rng.uniform(1e-6, 1e-4, (5, 5)), device=get_device("sinh"), r_word=1.0, r_bit=1.0)
    result = simulate(crossbar, rng.uniform(0.1, 0.5, (6, 5)))
    assert np.all(np.isfinite(result.currents)) and np.all(result.currents > 0)

