"""The native solver (engine="native") against the independent nodal solver and ngspice."""

import nodal
import numpy as np
import pytest
import torch

from spicenn.circuit import solver as native_solver
from spicenn.crossbar import Crossbar
from spicenn.devices import ConductanceNonidealities, get_device
from spicenn.errors import ConvergenceError, InputError, SpiceError
from spicenn.solvers import check_against_ngspice, simulate

RESULT_FIELDS = ("currents", "power", "device_power", "word_line_power", "bit_line_power", "source_power")


def reference_iv(device, g, cell):
    """The nodal solver's own I-V formula for the device (tests/nodal.py)."""
    name = device.name
    if name == "linear":
        return nodal.iv_linear(g)
    if name == "sinh":
        return nodal.iv_sinh(g, device.k)
    if name == "powerlaw":
        return nodal.iv_powerlaw(g, device.v_ref, cell["n"])
    return nodal.iv_poole_frenkel(g, device.a1, device.b1, device.a2, device.b2, device.temperature,
                                  cell.get("ln_c_shift", 0.0), cell.get("ln_d_shift", 0.0))


def case_device(name):
    """A case's device: a name, or (name, parameters)."""
    return get_device(name[0], **name[1]) if isinstance(name, tuple) else get_device(name)


CASES = {  # device, conductance range, r_word, r_bit, r_source
    "linear": ("linear", (1e-5, 1e-3), 2.0, 3.0, 0.0),
    "sinh": ("sinh", (1e-6, 1e-4), 1.0, 1.0, 0.0),
    "sinh with drivers": ("sinh", (1e-6, 1e-4), 1.0, 1.0, 50.0),
    "sinh word lines only": ("sinh", (1e-5, 1e-3), 1.0, 0.0, 0.0),
    "sinh bit lines only": ("sinh", (1e-5, 1e-3), 0.0, 1.0, 0.0),
    "sinh sub-milliohm wires": ("sinh", (1e-5, 1e-3), 5e-4, 2e-4, 0.0),
    "powerlaw per device": ("powerlaw-high", None, 1.0, 1.0, 0.0),
    "powerlaw low resistance": ("powerlaw-low", None, 0.25, 0.25, 0.0),
    "poole-frenkel": ("poole-frenkel-high", None, 1.0, 1.0, 0.0),
    "poole-frenkel low resistance": ("poole-frenkel-low", None, 0.5, 0.5, 0.0),
    "poole-frenkel scattered about its fits": (("poole-frenkel-high", {"ln_c_std": 0.3, "ln_d_std": 0.05,
                                                                         "correlation": -0.6}), None, 1.0, 1.0, 0.0),
    "harsh sinh": ("sinh", (1e-4, 3.5e-3), 0.25, 0.25, 0.0),
}


@pytest.mark.parametrize("case", CASES)
def test_native_equals_the_nodal_solver(case, rng):
    name, g_range, r_word, r_bit, r_source = CASES[case]
    device = case_device(name)
    low, high = g_range or (device.g_off, device.g_on)
    g = rng.uniform(low, high, (12, 9))
    crossbar = Crossbar(g, device, r_word=r_word, r_bit=r_bit, r_source=r_source)
    v = rng.uniform(-0.5, 0.5, (4, 12))  # signed inputs
    result = simulate(crossbar, v, engine="native")
    iv = reference_iv(device, g, crossbar.cell)
    for k, vector in enumerate(v):
        sense, word, bit = nodal.solve(iv, vector, r_word, r_bit, r_source)
        scale = np.max(np.abs(sense))
        assert np.max(np.abs(result.currents[k] - sense)) <= 1e-10 * scale, case
        if r_word > 0:
            np.testing.assert_allclose(result.word_voltages[k], word, rtol=0, atol=1e-12)
        if r_bit > 0:
            np.testing.assert_allclose(result.bit_voltages[k], bit, rtol=0, atol=1e-12 * np.max(np.abs(bit)) + 1e-18)
    balance = result.device_power + result.word_line_power + result.bit_line_power + result.source_power
    np.testing.assert_allclose(balance, result.power, rtol=1e-9)


@pytest.mark.parametrize("case", ["sinh", "sinh with drivers", "powerlaw per device", "poole-frenkel", "harsh sinh"])
def test_native_equals_ngspice(case, rng):
    name, g_range, r_word, r_bit, r_source = CASES[case]
    device = case_device(name)
    low, high = g_range or (device.g_off, device.g_on)
    crossbar = Crossbar(rng.uniform(low, high, (20, 16)), device, r_word=r_word, r_bit=r_bit, r_source=r_source)
    v = rng.uniform(0, 0.5, (6, 20))
    ours, theirs = simulate(crossbar, v, engine="native"), simulate(crossbar, v)
    for field in RESULT_FIELDS:
        a, b = getattr(ours, field), getattr(theirs, field)
        assert np.max(np.abs(a - b)) <= 1e-9 * (np.max(np.abs(b)) or 1.0), field
    check_against_ngspice(crossbar, v[:2], ours)  # what verify=k runs


def test_a_chip_with_stuck_and_levelled_devices(rng):
    device = get_device("sinh")
    g = ConductanceNonidealities(spread=0.2, p_stuck_off=0.05, p_stuck_on=0.05, levels=8).apply(
        rng.uniform(1e-6, 1e-4, (10, 10)), 1e-6, 1e-4, seed=3)
    crossbar = Crossbar(g, device, r_word=1.0, r_bit=1.0)
    v = rng.uniform(0, 0.5, (3, 10))
    result = simulate(crossbar, v, engine="native", verify=3)
    for k, vector in enumerate(v):
        sense = nodal.solve(nodal.iv_sinh(g, device.k), vector, 1.0, 1.0)[0]
        assert np.max(np.abs(result.currents[k] - sense)) <= 1e-10 * np.max(np.abs(sense))


def test_no_wires_is_the_device_model_and_a_batch_equals_one_at_a_time(rng):
    device = get_device("powerlaw-high")
    g = rng.uniform(device.g_off, device.g_on, (7, 5))
    crossbar = Crossbar(g, device)
    v = rng.uniform(-0.5, 0.5, (4, 7))
    np.testing.assert_allclose(simulate(crossbar, v, engine="native").currents, crossbar.device_only_currents(v),
                               rtol=1e-13)
    wired = crossbar.replace(r_word=1.0, r_bit=1.0)
    batch = simulate(wired, v, engine="native").currents
    single = np.concatenate([simulate(wired, v[k:k + 1], engine="native").currents for k in range(4)])
    np.testing.assert_allclose(batch, single, rtol=1e-11)


def test_the_ngspice_check_can_fail(rng):
    crossbar = Crossbar(rng.uniform(1e-6, 1e-4, (6, 6)), get_device("sinh"), r_word=1.0, r_bit=1.0)
    v = rng.uniform(0, 0.5, (2, 6))
    result = simulate(crossbar, v, engine="native")
    result.currents[1, 3] *= 1 + 1e-7
    with pytest.raises(SpiceError, match="currents by"):
        check_against_ngspice(crossbar, v, result)


def test_unconverged_vectors_are_named_or_solved_by_ngspice(rng, monkeypatch):
    crossbar = Crossbar(rng.uniform(1e-4, 3.5e-3, (8, 8)), get_device("sinh"), r_word=0.25, r_bit=0.25)
    v = rng.uniform(0, 0.5, (3, 8))
    monkeypatch.setattr(native_solver, "MAX_NEWTON", 1)
    with pytest.raises(ConvergenceError, match=r"input vector\(s\) \[0, 1, 2\]"):
        simulate(crossbar, v, engine="native")
    with pytest.warns(UserWarning, match="solved by ngspice instead"):
        result = simulate(crossbar, v, engine="native", fallback="ngspice")
    np.testing.assert_allclose(result.currents, simulate(crossbar, v).currents, rtol=1e-12)
    with pytest.raises(InputError, match="fallback"):
        simulate(crossbar, v, engine="native", fallback="hspice")


def test_device_slopes_in_closed_form_equal_the_formulas_derivative(rng):
    import torch

    from spicenn.devices.base import Device

    v = torch.tensor(np.concatenate([rng.uniform(-0.6, 0.6, 200), [0.0, 1e-12, -1e-12]]), dtype=torch.float64)
    for name in ("linear", "sinh", "powerlaw-high", "poole-frenkel-high", "poole-frenkel-low"):
        device = get_device(name)
        g = torch.full_like(v, device.g_off or 1e-4)
        cell = {key: torch.as_tensor(value[:, 0]) for key, value in device.cell_parameters((len(v), 1), seed=1).items()}
        current, slope = device.current_and_slope(v, g, cell)
        reference_current, reference_slope = Device.current_and_slope(device, v, g, cell)
        torch.testing.assert_close(current, reference_current, rtol=1e-13, atol=1e-30)
        torch.testing.assert_close(slope, reference_slope, rtol=1e-12, atol=1e-30)


@pytest.mark.parametrize("name, params", [("sinh", {"k": 3.0}),
                                          ("poole-frenkel-high", {"ln_c_std": 0.2, "ln_d_std": 0.1, "seed": 4})])
def test_tiles_in_one_batched_solve_equal_each_tile_alone_with_gradients(name, params, monkeypatch):
    """circuit_currents over (T, B, M) tiles — one solve, or chunks of tiles — gives each tile's
    own currents and gradients; and its gradients are the finite differences'."""
    from spicenn.circuit import gradients

    torch.manual_seed(2)
    device = get_device(name, **params)
    low, high = device.g_off or 1e-6, device.g_on or 1e-4
    g = (low + (high - low) * torch.rand(3, 6, 4, dtype=torch.float64)).requires_grad_()
    v = (0.4 * torch.rand(3, 5, 6, dtype=torch.float64) - 0.1).requires_grad_()
    cell = {key: torch.as_tensor(value) for key, value in device.cell_parameters((3, 6, 4), seed=1).items()}
    weights = torch.rand(3, 5, 4, dtype=torch.float64)
    together = gradients.circuit_currents(v, g, device, 1.0, 2.0, cell)
    grad_v, grad_g = torch.autograd.grad((together * weights).sum(), (v, g))
    monkeypatch.setattr(gradients, "CELLS_PER_SOLVE", 1)  # one tile per solve
    chunked = gradients.circuit_currents(v, g, device, 1.0, 2.0, cell)
    assert torch.equal(chunked.detach(), together.detach())
    for t in range(3):
        alone = gradients.circuit_currents(v[t], g[t], device, 1.0, 2.0, {k: x[t] for k, x in cell.items()})
        torch.testing.assert_close(together[t], alone, rtol=1e-12, atol=0.0)
        alone_v, alone_g = torch.autograd.grad((alone * weights[t]).sum(), (v, g))
        torch.testing.assert_close(grad_v[t], alone_v[t], rtol=1e-10, atol=1e-14 * float(grad_v.abs().max()))
        torch.testing.assert_close(grad_g[t], alone_g[t], rtol=1e-10, atol=1e-14 * float(grad_g.abs().max()))
    scale = 1e-4 / high  # conductances as O(1) parameters for the finite differences
    assert torch.autograd.gradcheck(
        lambda v_, g_: gradients.circuit_currents(v_, g_ / scale, device, 1.0, 2.0, {k: x[:2] for k, x in cell.items()})
        / (1e-4 * 0.4),
        (v.detach()[:2].requires_grad_(), (g.detach()[:2] * scale).requires_grad_()), eps=1e-7, atol=1e-6)


def test_the_torch_sweeps_a_gpu_runs_equal_the_numpy_sweeps(rng, monkeypatch):
    """On a GPU the tridiagonal sweeps run through torch instead of numpy views: the same
    solution and gradients, checked here on the CPU through that code path."""
    from spicenn.circuit import circuit_currents, simulate_native, tridiagonal

    crossbar = Crossbar(rng.uniform(1e-4, 3.5e-3, (12, 10)), get_device("sinh", k=3.0), r_word=0.25, r_bit=0.25,
                        r_source=1.0)
    v = rng.uniform(0, 0.5, (5, 12))
    g = torch.tensor(crossbar.conductances, requires_grad=True)
    x = torch.tensor(v, requires_grad=True)
    numpy_result = simulate_native(crossbar, v)
    numpy_grads = torch.autograd.grad(circuit_currents(x, g, crossbar.device, 0.25, 0.25).sum(), (x, g))
    monkeypatch.setattr(tridiagonal, "NUMPY_SWEEPS", False)
    torch_result = simulate_native(crossbar, v)
    torch_grads = torch.autograd.grad(circuit_currents(x, g, crossbar.device, 0.25, 0.25).sum(), (x, g))
    for name in RESULT_FIELDS:
        np.testing.assert_allclose(getattr(torch_result, name), getattr(numpy_result, name), rtol=1e-12)
    for a, b in zip(torch_grads, numpy_grads):
        torch.testing.assert_close(a, b, rtol=1e-10, atol=0.0)


def test_circuit_currents_refuses_bad_shapes_and_values():
    from spicenn.circuit import circuit_currents

    device = get_device("sinh")
    g = torch.full((4, 3), 1e-5, dtype=torch.float64)
    v = torch.zeros(2, 4, dtype=torch.float64)
    with pytest.raises(InputError, match="do not drive"):
        circuit_currents(v[:, :3], g, device, 1.0, 1.0)
    with pytest.raises(InputError, match="finite"):
        circuit_currents(v.clone().fill_(float("nan")), g, device, 1.0, 1.0)
    with pytest.raises(InputError, match="> 0 S"):
        circuit_currents(v, -g, device, 1.0, 1.0)
