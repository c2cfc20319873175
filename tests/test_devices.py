"""Device models: one formula for numpy, torch and ngspice text; presets; the .lib file."""

import nodal
import numpy as np
import pytest
import torch
from conftest import ROOT

from spicenn.crossbar import Crossbar
from spicenn.devices import MODELS, PRESETS, from_dict, get_device, lib_text, names
from spicenn.errors import InputError
from spicenn.solvers import simulate
from spicenn.spice import get_engine

# Independent formulas (tests/nodal.py) for each named device at G.
REFERENCE = {
    "linear": lambda g, d: nodal.iv_linear(g),
    "sinh": lambda g, d: nodal.iv_sinh(g, d.k),
    "powerlaw": lambda g, d: nodal.iv_powerlaw(g, d.v_ref, d.n),
    "poole-frenkel": lambda g, d: nodal.iv_poole_frenkel(g, d.a1, d.b1, d.a2, d.b2),
}
G_TYPICAL = {"linear": 1e-4, "sinh": 1e-4, "powerlaw": 2e-3, "poole-frenkel": 1e-3}


@pytest.mark.parametrize("name", sorted(MODELS))
def test_numpy_current_matches_independent_formula(name):
    device = get_device(name)
    v = np.linspace(-0.6, 0.6, 121)
    g = G_TYPICAL[name]
    expected = REFERENCE[name](np.full_like(v, g), device)(v)[0]
    cell = {k: np.full_like(v, value) for k, value in device.lib_cell_defaults().items()}
    got = device.current(v, np.full_like(v, g), cell=cell)
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-300)


@pytest.mark.parametrize("name", names())
def test_torch_matches_numpy_and_gradients_match_finite_differences(name):
    device = get_device(name)
    g0 = device.g_off or G_TYPICAL[device.name]
    cell_np = device.cell_parameters((9,))
    v = torch.linspace(-0.5, 0.5, 9, dtype=torch.float64).requires_grad_()
    g = torch.full((9,), g0 * 1.7, dtype=torch.float64).requires_grad_()
    cell = {k: torch.from_numpy(x) for k, x in cell_np.items()}
    current = device.current(v, g, torch, cell)
    np.testing.assert_allclose(current.detach().numpy(),
                               device.current(v.detach().numpy(), g.detach().numpy(), np, cell_np), rtol=1e-13)
    # gradcheck compares autograd with finite differences, in V and in G (away from V = 0's kink)
    v_off = torch.tensor([-0.45, -0.2, 0.05, 0.3, 0.5], dtype=torch.float64, requires_grad=True)
    g_scale = torch.full((5,), 1.3, dtype=torch.float64, requires_grad=True)  # G = g0 * scale
    cell5 = {k: x[:5] for k, x in cell.items()}
    assert torch.autograd.gradcheck(lambda a, s: device.current(a, s * g0, torch, cell5) / g0, (v_off, g_scale),
                                    eps=1e-7, atol=1e-6, rtol=1e-5)


@pytest.mark.parametrize("name", names())
def test_gradient_is_finite_at_zero_volts(name):
    device = get_device(name)
    v = torch.zeros(3, dtype=torch.float64, requires_grad=True)
    g = torch.full((3,), device.g_off or 1e-4, dtype=torch.float64, requires_grad=True)
    cell = {k: torch.from_numpy(x) for k, x in device.cell_parameters((3,)).items()}
    device.current(v, g, torch, cell).sum().backward()
    assert torch.all(torch.isfinite(v.grad)) and torch.all(torch.isfinite(g.grad))


@pytest.mark.parametrize("k", [0.5, 3.0, 12.0])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_sinh_fast_response_equals_the_formula(k, dtype):
    """Sinh.response (one expm1) against the generic Device.response, down to microvolts."""
    from spicenn.devices.base import Device

    device = get_device("sinh", k=k)
    v = torch.cat((torch.linspace(-0.5, 0.5, 41, dtype=dtype), torch.tensor([0.0, 1e-6, -1e-6, 3e-4], dtype=dtype)))
    tolerance = dict(rtol=2e-6, atol=0.0) if dtype == torch.float32 else dict(rtol=1e-13, atol=0.0)
    expected = Device.response(device, v, 0.02)
    for got in (device.response(v, 0.02), *_numpy_responses(device, v)):
        for got_one, expected_one in zip(got, expected):
            assert got_one.dtype == dtype
            torch.testing.assert_close(got_one, expected_one, **tolerance)


def _numpy_responses(device, v):
    """The numpy path of `response`, allocating and with kept buffers (called twice: the second
    call reuses the buffers of the first), as torch tensors."""
    buffers = {}

    def scratch(name, shape, dtype):
        return buffers.setdefault(name, np.empty(shape, dtype))

    values = v.numpy()
    plain = device.response(values, 0.02, None, np)
    device.response(values * 0.5, 0.02, None, np, scratch)
    kept = device.response(values, 0.02, None, np, scratch)
    return [tuple(torch.from_numpy(np.array(x)) for x in pair) for pair in (plain, kept)]


@pytest.mark.parametrize("n", [2.0, 2.13, 3.5])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_power_law_fast_response_equals_the_formula(n, dtype):
    """PowerLaw.response (numpy log2/exp2) against the generic Device.response (the formula
    through torch): values at, between and across 0 V, and the analytic gradient."""
    from spicenn.devices.base import Device

    device = get_device("powerlaw", n=n)
    v = torch.cat((torch.linspace(-0.5, 0.5, 41, dtype=dtype), torch.tensor([0.0, 0.02, -0.02, 1e-9], dtype=dtype)))
    generic = Device.response(device, v, 0.02, {"n": n})
    tolerance = dict(rtol=2e-6, atol=1e-9) if dtype == torch.float32 else dict(rtol=1e-13, atol=1e-16)
    for fast in (device.response(v, 0.02, {"n": n}), *_numpy_responses(device, v)):
        for got, expected in zip(fast, generic):
            assert got.dtype == dtype
            torch.testing.assert_close(got, expected, **tolerance)
    from spicenn.devices.fast import power_law

    torch.testing.assert_close(power_law(v, device.v_ref, np.log2(n)), generic[0], **tolerance)
    # gradients of both outputs, at points away from the kinks at 0 and ±h
    x = torch.tensor([[0.005, 0.05, 0.3], [0.49, 0.01, 0.11]], dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda a: device.response(a, 0.02), (x,), eps=1e-7, atol=1e-8, rtol=1e-6)
    zero = torch.zeros(3, dtype=torch.float64, requires_grad=True)
    device.response(zero, 0.02)[0].sum().backward()
    assert torch.all(zero.grad == (1.0 if n == 2.0 else 0.0))  # φ'(0): 1 for a linear device, else 0


def test_lib_file_is_in_sync_with_the_models():
    assert (ROOT / "models" / "spicenn_devices.lib").read_text() == lib_text()


SWEEP = np.round(np.linspace(-0.5, 0.5, 21), 12)


@pytest.mark.parametrize("name", names())
def test_lib_generator_and_torch_agree_on_an_iv_sweep(name, tmp_path):
    """The same device three ways: the shipped .lib subcircuit in a hand-written netlist,
    the generator's 1x1 crossbar (ngspice), and the torch function."""
    device = get_device(name)
    g = (device.g_off or G_TYPICAL[device.name]) * 1.5
    cell = {k: np.full((1, 1), 2.37) for k in device.cell_parameter_names}
    cell_params = "".join(f" {k}=2.37" for k in device.cell_parameter_names)
    subckt = "spicenn_" + name.replace("-", "_")
    netlist = f"""* lib sweep
.include {ROOT / 'models' / 'spicenn_devices.lib'}
.options reltol=1e-8 abstol=1e-18
V1 a 0 DC 0
X1 a b {subckt} params: g={g!r}{cell_params}
Vs b 0 DC 0
.dc V1 -0.5 0.5 0.05
.end
"""
    lib_current = get_engine("subprocess").run(netlist, includes=(str(ROOT / "models" / "spicenn_devices.lib"),))[
        "vs#branch"]
    crossbar = Crossbar(np.full((1, 1), g), device=device, cell=cell)
    generator_current = simulate(crossbar, SWEEP[:, None]).currents[:, 0]
    torch_current = device.current(torch.tensor(SWEEP), torch.tensor(g, dtype=torch.float64), torch,
                                   {k: torch.tensor(2.37, dtype=torch.float64) for k in cell}).numpy()
    scale = np.max(np.abs(torch_current))
    np.testing.assert_allclose(lib_current, torch_current, rtol=1e-7, atol=1e-9 * scale)
    np.testing.assert_allclose(generator_current, torch_current, rtol=1e-9, atol=1e-12 * scale)


def test_presets_carry_their_ranges_and_parameters():
    high = get_device("poole-frenkel-high")
    assert (high.g_off, high.g_on) == (5.25e-7, 2.62e-6)
    assert (high.a1, high.b1, high.a2, high.b2) == (-1.03, -0.251, -0.0901, -37.1)
    low = get_device("poole-frenkel-low")
    assert (low.g_off, low.g_on, low.a1) == (6.90e-4, 3.45e-3, -1.12)
    assert get_device("sinh", k="2.5").k == 2.5
    assert set(PRESETS) <= set(names())


def test_device_round_trips_through_a_dict():
    device = get_device("powerlaw-high", seed=7)
    assert from_dict(device.to_dict()) == device


@pytest.mark.parametrize("name, params, message", [
    ("memristor9", {}, "unknown device"),
    ("sinh", {"q": 1}, "no parameter 'q'"),
    ("sinh", {"k": "abc"}, "must be a number"),
    ("sinh", {"k": -1}, "must be > 0"),
    ("sinh", {"k": "nan"}, "must be finite"),
    ("powerlaw", {"n": 1.5}, "must be >= 2"),
    ("powerlaw", {"seed": 1.5}, "whole number"),
])
def test_bad_device_input_is_a_clear_error(name, params, message):
    with pytest.raises(InputError, match=message):
        get_device(name, **params)


def test_powerlaw_spread_is_seeded_and_truncated_at_two():
    device = get_device("powerlaw-high", seed=3)
    n = device.cell_parameters((200, 50))["n"]
    assert n.min() >= 2.0
    assert abs(n.mean() - 2.99) < 0.05 and 0.25 < n.std() < 0.40
    np.testing.assert_array_equal(n, get_device("powerlaw-high", seed=3).cell_parameters((200, 50))["n"])
    assert not np.array_equal(n, get_device("powerlaw-high", seed=4).cell_parameters((200, 50))["n"])


def test_pf_scatter_about_its_fits_is_seeded_with_the_asked_spread_and_correlation():
    assert get_device("poole-frenkel-high").cell_parameters((5, 5)) == {}  # the presets: no scatter
    device = get_device("poole-frenkel-high", ln_c_std=0.3, ln_d_std=0.1, correlation=-0.6, seed=2)
    cell = device.cell_parameters((300, 100))
    shift_c, shift_d = cell["ln_c_shift"].ravel(), cell["ln_d_shift"].ravel()
    assert abs(shift_c.std() - 0.3) < 0.01 and abs(shift_d.std() - 0.1) < 0.004
    assert abs(np.corrcoef(shift_c, shift_d)[0, 1] + 0.6) < 0.02
    again = get_device("poole-frenkel-high", ln_c_std=0.3, ln_d_std=0.1, correlation=-0.6, seed=2)
    np.testing.assert_array_equal(shift_c, again.cell_parameters((300, 100))["ln_c_shift"].ravel())
    # a shift of ln c scales that device's current by its exponential, at every voltage
    g = np.full(4, 1e-6)
    scaled = device.current(np.full(4, 0.4), g, np, {"ln_c_shift": np.log(np.array([0.5, 1.0, 2.0, 3.0]))})
    np.testing.assert_allclose(scaled / device.current(0.4, 1e-6), [0.5, 1.0, 2.0, 3.0], rtol=1e-13)
    for bad, message in (({"ln_c_std": -0.1}, "must be >= 0"), ({"correlation": 1.5}, r"\[-1, 1\]")):
        with pytest.raises(InputError, match=message):
            get_device("poole-frenkel-high", **bad)


def test_pf_high_resistance_devices_are_strongly_nonlinear():
    """At 0.5 V the high-resistance SiOx set conducts several times its 'G·V' (the paper's point)."""
    high, low = get_device("poole-frenkel-high"), get_device("poole-frenkel-low")
    ratio_high = high.current(0.5, 1e-6) / high.current(0.25, 1e-6)
    ratio_low = low.current(0.5, 1e-3) / low.current(0.25, 1e-3)
    assert ratio_high > 2.5 and 2.0 < ratio_low < ratio_high


DEVICE_BACKEND_CASES = [(name, {}) for name in names()] + [
    ("poole-frenkel-high", {"ln_c_std": 0.3, "ln_d_std": 0.1, "correlation": -0.5}),
    ("poole-frenkel-low", {"ln_d_std": 0.2})]


@pytest.mark.parametrize("name, params", DEVICE_BACKEND_CASES)
def test_device_backend_terms_equal_the_formula_per_device(name, params):
    """The device backend's matmul (`exact_row_terms`) against the formula evaluated for every
    device: currents, power and both gradients within 1e-12 — or the formula itself."""
    from spicenn.nn import backends

    device = get_device(name, **params)
    generator = torch.Generator().manual_seed(5)
    low, high = device.g_off or 1e-6, device.g_on or 1e-4
    g = (low + (high - low) * torch.rand(40, 7, dtype=torch.float64, generator=generator)).requires_grad_()
    cell = {k: torch.as_tensor(x) for k, x in device.cell_parameters((40, 7), seed=3).items()}
    v = (torch.rand(6, 40, dtype=torch.float64, generator=generator) - 0.3).requires_grad_()  # signed
    fast = backends.device_currents(device, v, g, cell)
    slow = device.current(v[:, :, None], g, torch, cell).sum(1)
    assert float((fast - slow).detach().abs().max()) <= 1e-12 * float(slow.detach().abs().max())
    for a, b in zip(torch.autograd.grad(fast.sum(), (v, g)), torch.autograd.grad(slow.sum(), (v, g))):
        assert float((a - b).abs().max()) <= 1e-12 * float(b.abs().max())
    power = backends.device_power(device, v, g, cell)
    slow_power = device.power(v[:, :, None], g, torch, cell).sum((1, 2))
    assert float((power - slow_power).detach().abs().max()) <= 1e-12 * float(slow_power.detach().abs().max())
    if device.name == "poole-frenkel" and device.g_off is not None:  # the presets: the expansion ran
        assert device.exact_row_terms(v, g, cell) is not None


def test_pf_terms_refuse_what_their_bound_cannot_hold():
    device = get_device("poole-frenkel-high", ln_d_std=3.0)  # α spread over orders of magnitude
    g = torch.full((50, 4), 1e-6, dtype=torch.float64)
    cell = {k: torch.as_tensor(x) for k, x in device.cell_parameters((50, 4)).items()}
    assert device.exact_row_terms(torch.full((2, 50), 0.5, dtype=torch.float64), g, cell) is None
