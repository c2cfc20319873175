"""Dynamic devices (VTEAM, Yakopcic, Messaris): the integrator against closed forms and scipy's ODE
solver, the ngspice elements against both, windows that bound the state without locking it,
and non-physical parameters refused."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.integrate import solve_ivp

from spicenn.devices import VTEAM, Yakopcic, get_device, get_dynamic_device, pulse_response
from spicenn.devices.dynamic import Messaris, integrate
from spicenn.devices.symbolic import number
from spicenn.errors import InputError
from spicenn.spice.engines import get_engine


def test_vteam_without_window_grows_linearly_as_the_closed_form_says():
    device = VTEAM(window_p=0, k_off=2e6, alpha_off=3.0, v_off=0.8)
    for voltage, t, x0 in ((1.2, 100e-9, 0.1), (1.0, 1e-6, 0.3)):
        expected = x0 + 2e6 * (voltage / 0.8 - 1.0) ** 3 * t
        assert integrate(device, voltage, t, x0) == pytest.approx(expected, rel=1e-12, abs=1e-14)
    assert integrate(device, 0.5, 1e-3, 0.4) == 0.4  # below threshold: no change at all


def test_vteam_with_the_one_minus_x_squared_window_is_a_tanh():
    device = VTEAM(window_p=1, k_off=5e6, alpha_off=2.0, v_off=0.8)
    voltage, x0 = 1.1, 0.2
    c = 5e6 * (voltage / 0.8 - 1.0) ** 2
    for t in (10e-9, 200e-9, 2e-6):
        assert integrate(device, voltage, t, x0) == pytest.approx(math.tanh(c * t + math.atanh(x0)), abs=1e-9)


def test_messaris_resistance_follows_its_closed_form_under_a_constant_voltage():
    """R(τ) = r − (r − R0)/(1 + s·(r − R0)·τ), r and s at the applied voltage."""
    device = Messaris()
    for voltage, r_start, tau in ((1.0, 2900.0, 1e-6), (0.6, 2950.0, 5e-6), (-1.0, 1700.0, 20e-6)):
        r0, r1, amp, t = ((device.r0_p, device.r1_p, device.amp_p, device.tau_p) if voltage > 0
                          else (device.r0_n, device.r1_n, device.amp_n, device.tau_n))
        r, s = r0 + r1 * voltage, amp * (math.exp(abs(voltage) / t) - 1.0)
        expected = r - (r - r_start) / (1.0 + s * (r - r_start) * tau)
        x0 = (r_start - device.r_on) / (device.r_off - device.r_on)
        assert float(device.resistance(integrate(device, voltage, tau, x0))) == pytest.approx(expected, rel=1e-10)
        assert abs(expected - r_start) > 1.0  # it did move
    # past its boundary it does not move: r_p(0.1 V) = 2632 ohm, so a cell at 2000 ohm holds
    assert integrate(device, 0.1, 1e-3, (2000.0 - device.r_on) / (device.r_off - device.r_on)) == \
        pytest.approx((2000.0 - device.r_on) / (device.r_off - device.r_on), abs=1e-15)


def test_get_device_gives_the_dynamic_models_by_name():
    assert get_device("yakopcic") == Yakopcic()  # the Oblea et al. fit
    assert get_device("vteam", k_off=2e6) == VTEAM(k_off=2e6)
    assert isinstance(get_device("messaris"), Messaris)


@pytest.mark.parametrize("device, voltage, width", [(get_dynamic_device("yakopcic"), 0.9, 2e-4),
                                                    (get_dynamic_device("yakopcic"), -0.8, 5e-4),
                                                    (Messaris(), 1.0, 1e-6), (Messaris(), -1.2, 10e-6),
                                                    (VTEAM(), -1.3, 300e-9), (VTEAM(window_p=2), 1.4, 200e-9)])
def test_pulse_responses_equal_an_independent_ode_integration(device, voltage, width):
    states = pulse_response(device, voltage, width, 4, 0.5)
    reference = [0.5]
    for _ in range(4):
        solved = solve_ivp(lambda t, x: [float(device.rate(voltage, x[0]))], (0.0, width), [reference[-1]],
                           method="LSODA", rtol=1e-11, atol=1e-13)
        reference.append(float(solved.y[0, -1]))
    np.testing.assert_allclose(states, reference, atol=1e-6)
    assert abs(states[-1] - states[0]) > 0.01  # the pulses did move the state


def _ngspice_state(device, voltage, width, x0, edge=1e-9):
    """The state after one pulse (edges of `edge`), from ngspice's transient of the device's
    own elements, solved with tight tolerances (reltol 1e-7, steps of width/2000)."""
    stop = width + 2 * edge
    step = width / 2000
    lines = ["* one dynamic device", ".options reltol=1e-7 abstol=1e-15 vntol=1e-10",
             f"Vd a 0 PWL(0 0 {number(edge)} {number(voltage)} {number(edge + width)} {number(voltage)} "
             f"{number(stop)} 0)",
             *device.spice_lines("0", "a", "0", x0),
             f".tran {number(step)} {number(stop)} 0 {number(step)} uic", ".save v(x_0)", ".end", ""]
    vectors = get_engine("subprocess").run("\n".join(lines))
    return float(vectors["x_0"][-1]), edge


@pytest.mark.parametrize("device, voltage, width", [(VTEAM(), 1.2, 100e-9), (VTEAM(), -1.1, 100e-9),
                                                    (get_dynamic_device("yakopcic"), 0.9, 2e-4),
                                                    (Messaris(), 1.5, 1e-6)])
def test_the_ngspice_elements_move_the_state_as_the_integrator_does(device, voltage, width):
    x0 = 0.4
    spice_state, edge = _ngspice_state(device, voltage, width, x0)
    # the integrator over the same trapezoid: rise, plateau, fall (ramps integrated finely)
    x = x0
    for k in range(200):  # the rising edge
        x = integrate(device, voltage * (k + 0.5) / 200, edge / 200, x)
    x = integrate(device, voltage, width, x)
    for k in range(200):  # the falling edge (the plateau ends at edge + width)
        x = integrate(device, voltage * (1 - (k + 0.5) / 200), edge / 200, x)
    assert abs(spice_state - x0) > 0.01
    assert spice_state == pytest.approx(x, abs=1e-5)  # measured: 2.6e-6 (VTEAM), 6e-9 (Yakopcic)


@pytest.mark.parametrize("device, voltage, width", [(VTEAM(), 1.6, 2e-6), (get_dynamic_device("yakopcic"), 1.8, 5e-3),
                                                    (Messaris(), 2.5, 50e-6)])
def test_windows_bound_the_state_under_pulses_ten_times_too_strong_and_never_lock_it(device, voltage, width):
    up = pulse_response(device, voltage, width, 10, 0.5)
    bound = round(float(up[-1]))  # VTEAM and Yakopcic: +V drives x to 1; Messaris (R falls): to 0
    assert np.all((up >= 0.0) & (up <= 1.0)) and abs(up[-1] - bound) < 0.01
    down = pulse_response(device, -voltage, width, 10, float(up[-1]))
    assert np.all((down >= 0.0) & (down <= 1.0)) and abs(down[-1] - bound) > 0.5  # it leaves the bound again
    g = device.conductance(np.concatenate([up, down]), 0.2)
    assert np.all(np.isfinite(g)) and np.all(g >= 0)


def test_a_written_state_reads_through_the_static_models():
    yakopcic = get_dynamic_device("yakopcic")
    static, g = yakopcic.read_device(np.array([0.2, 0.7]), 0.1)
    np.testing.assert_allclose(static.current(0.1, g), yakopcic.current(0.1, np.array([0.2, 0.7])), rtol=1e-12)
    vteam = VTEAM()
    static, g = vteam.read_device(np.array([0.0, 1.0]), 0.2)
    np.testing.assert_allclose(g, [1 / vteam.r_on, 1 / vteam.r_off])


@pytest.mark.parametrize("make, message", [
    (lambda: VTEAM(r_on=1e5, r_off=1e3), "r_on"), (lambda: VTEAM(k_off=-1.0), "k_off"),
    (lambda: VTEAM(v_on=0.5), "v_on"), (lambda: VTEAM(window_p=11), "window_p"),
    (lambda: VTEAM(alpha_on=float("nan")), "alpha_on"), (lambda: Yakopcic(x_p=1.5), "x_p"),
    (lambda: Yakopcic(b=0.0), "b"), (lambda: Messaris(r_on=4000.0), "r_on"),
    (lambda: Messaris(amp_p=-600.0), "positive voltage must lower R"), (lambda: Messaris(tau_n=0.0), "tau"),
    (lambda: get_dynamic_device("vteam", speed=2), "no parameter 'speed'"),
    (lambda: get_dynamic_device("joglekar"), "unknown dynamic device"),
])
def test_non_physical_parameters_are_refused(make, message):
    with pytest.raises(InputError, match=message):
        make()


def test_the_devices_command_lists_dynamic_models_and_draws_a_pulse_response(tmp_path):
    import json

    from clirun import run_cli

    listed = run_cli("devices")
    assert listed.returncode == 0 and "vteam" in listed.stdout and "yakopcic" in listed.stdout
    done = run_cli("devices", "--pulse-response", "yakopcic", "--voltage", "0.9", "--width", "2e-5", "--pulses", "5",
                   "--plot", tmp_path / "curve.png", "--json")
    assert done.returncode == 0, done.stderr
    curve = json.loads(done.stdout)
    assert len(curve["states"]) == 11 and curve["states"][5] > curve["states"][0] > curve["states"][-1] - 1
    np.testing.assert_allclose(curve["states"][:6], pulse_response(get_dynamic_device("yakopcic"), 0.9, 2e-5, 5, 0.0))
    assert (tmp_path / "curve.png").read_bytes()[:4] == b"\x89PNG"
    for args, message in ((("--voltage", "2"), "effect only with --pulse-response"),
                          (("--pulse-response", "joglekar"), "unknown dynamic device"),
                          (("--pulse-response", "vteam", "--voltage", "50"), "voltage must be <= 10")):
        failed = run_cli("devices", *args)
        assert failed.returncode != 0 and message in failed.stderr and len(failed.stderr.strip().splitlines()) == 1
