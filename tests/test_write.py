"""Writes through the circuit: the native write engine against ngspice's transient, a single
device against its own ODE, and the write energy against the V/2 and V/3 formulas."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import spicenn
from spicenn.crossbar.program import DynamicCrossbar, WriteProgram, single_cell
from spicenn.devices import VTEAM, get_dynamic_device
from spicenn.devices.dynamic import integrate
from spicenn.errors import InputError

CASES = [(VTEAM(), 1.2, 100e-9, "v/2"), (VTEAM(), -1.1, 100e-9, "v/3"),
         (get_dynamic_device("yakopcic"), 0.9, 2e-5, "v/2"), (get_dynamic_device("yakopcic"), -0.9, 2e-5, "v/3"),
         (get_dynamic_device("messaris"), 1.5, 1e-6, "v/2"), (get_dynamic_device("messaris"), -1.5, 5e-6, "v/3")]


@pytest.mark.parametrize("device, voltage, width, scheme", CASES, ids=lambda c: getattr(c, "name", str(c)))
def test_native_and_ngspice_agree_on_every_state_with_wires(device, voltage, width, scheme):
    states = np.random.default_rng(3).uniform(0.2, 0.8, (4, 5))
    array = DynamicCrossbar(states, device, r_word=5.0, r_bit=5.0, r_source=2.0)
    program = single_cell((4, 5), (3, 4), voltage, width, pulses=2, scheme=scheme)  # the far corner
    native = spicenn.write(array, program, engine="native")
    reference = spicenn.write(array, program, engine="shared")
    assert native.states.shape == reference.states.shape == (4, 4, 5)
    assert np.abs(native.final_states[3, 4] - states[3, 4]) > 0.01  # the selected cell moved
    assert np.max(np.abs(native.states - reference.states)) <= 1e-4  # of the state range [0, 1]
    assert native.energy["drivers"] == pytest.approx(reference.energy["drivers"], rel=1e-3)
    parts = sum(native.energy[p] for p in ("selected", "half_selected", "unselected", "wires"))
    assert parts == pytest.approx(native.energy["drivers"], rel=1e-9)  # the parts add up


def test_a_single_cell_without_wires_follows_its_own_ode():
    device = VTEAM()
    array = DynamicCrossbar(np.full((3, 3), 0.3), device)
    program = single_cell((3, 3), (1, 1), 1.2, 100e-9, pulses=2, scheme="v/2", t_edge=1e-9)
    result = spicenn.write(array, program)
    x = 0.3
    for _ in range(2):  # ramp up, hold, ramp down (in the rest slot), rest
        for k in range(400):
            x = integrate(device, 1.2 * (k + 0.5) / 400, 1e-9 / 400, x)
        x = integrate(device, 1.2, 100e-9, x)
        for k in range(400):
            x = integrate(device, 1.2 * (1 - (k + 0.5) / 400), 1e-9 / 400, x)
        x = integrate(device, 0.0, 100e-9, x)
    assert result.final_states[1, 1] == pytest.approx(x, abs=1e-6)
    untouched = np.ones((3, 3), dtype=bool)
    untouched[1, 1] = False
    np.testing.assert_array_equal(result.final_states[untouched], 0.3)  # V/2 = 0.6 V is below threshold


@pytest.mark.parametrize("scheme, factor, half, unselected", [
    ("v/2", lambda n: 1 + (n - 1) / 2, lambda n: 2 * (n - 1) / 4, lambda n: 0.0),
    ("v/3", lambda n: 1 + 2 * (n - 1) / 9 + (n - 1) ** 2 / 9, lambda n: 2 * (n - 1) / 9, lambda n: (n - 1) ** 2 / 9),
])
@pytest.mark.parametrize("engine", ["native", "shared"])
def test_write_energy_is_the_scheme_formula_with_frozen_states_and_no_wires(scheme, factor, half, unselected,
                                                                           engine):
    """Every cell at G = 1/R(x), thresholds far above the write: one cell written in an N x N
    array costs factor(N)·V²·G·t, t the hold plus a third of each ramp (V rises and falls
    linearly over t_edge: ∫V² = V²·t_edge/3)."""
    n, voltage, width, edge = 6, 1.0, 50e-9, 1e-9
    device = VTEAM(v_off=5.0, v_on=-5.0)
    g = 1.0 / (device.r_on + (device.r_off - device.r_on) * 0.5)
    array = DynamicCrossbar(np.full((n, n), 0.5), device)
    result = spicenn.write(array, single_cell((n, n), (2, 3), voltage, width, scheme=scheme, t_edge=edge),
                           engine=engine)
    seconds = width + 2 * edge / 3
    # ngspice: the trapezoid rule on its own time points around the ramps
    tolerance = 1e-9 if engine == "native" else 1e-3
    assert result.energy["drivers"] == pytest.approx(factor(n) * voltage**2 * g * seconds, rel=tolerance)
    assert result.energy["selected"] == pytest.approx(voltage**2 * g * seconds, rel=tolerance)
    assert result.energy["half_selected"] == pytest.approx(half(n) * voltage**2 * g * seconds, rel=tolerance)
    assert result.energy["unselected"] == pytest.approx(unselected(n) * voltage**2 * g * seconds, rel=tolerance,
                                                        abs=1e-24)
    np.testing.assert_allclose(result.final_states, 0.5)


def test_a_raw_program_and_bad_programs():
    array = DynamicCrossbar(np.full((2, 2), 0.5), "vteam")
    result = spicenn.write(array, (np.array([[1.2, 0.0]]), np.array([[0.0, 0.0]]), np.array([50e-9])))
    assert result.states.shape == (1, 2, 2) and result.final_states[0, 0] > 0.5
    for bad, message in (((np.ones((1, 3)), np.zeros((1, 2)), [1e-9]), "drives 3 rows"),
                         ((np.ones((2, 2)), np.zeros((1, 2)), [1e-9]), "one row of voltages per slot"),
                         ((np.full((1, 2), np.nan), np.zeros((1, 2)), [1e-9]), "non-finite"),
                         ((np.ones((1, 2)), np.zeros((1, 2)), [0.0]), "positive time"),
                         ((np.full((1, 2), 50.0), np.zeros((1, 2)), [1e-9]), "beyond the 10 V"),
                         ("pulses", "WriteProgram or")):
        with pytest.raises(InputError, match=message):
            spicenn.write(array, bad)
    with pytest.raises(InputError, match=r"states must lie in \[0, 1\]"):
        DynamicCrossbar(np.full((2, 2), 1.5), "vteam")
    with pytest.raises(InputError, match="unknown write scheme"):
        single_cell((2, 2), (0, 0), 1.0, 1e-9, scheme="v/4")
    with pytest.raises(InputError, match="no write engine"):
        spicenn.write(array, WriteProgram(np.ones((1, 2)), np.zeros((1, 2)), [1e-9]), engine=_NoWrite())


class _NoWrite(spicenn.solvers.NativeSolver):
    name = "no-write-test"

    def write(self, array, program):
        return spicenn.solvers.Solver.write(self, array, program)


def test_the_stochastic_update_moves_cells_as_the_outer_product_and_engines_agree():
    x = np.array([1.0, 0.5, 0.0])
    delta = np.array([1.0, -1.0, 0.0, 0.5])
    program = spicenn.crossbar.program.stochastic_update(x, delta, 1.2, 50e-9, bits=8, seed=1)
    assert program.slots == 2 * 2 * 8
    array = DynamicCrossbar(np.full((3, 4), 0.5), VTEAM(), r_word=2.0, r_bit=2.0)
    native = spicenn.write(array, program)
    change = native.final_states - 0.5
    assert np.all(change[2] == 0) and np.all(change[:, 2] == 0)  # no pulse on x = 0 or delta = 0
    assert change[0, 0] > 0 > change[0, 1]  # the sign of x·delta
    assert change[0, 0] > change[1, 0] > 0  # more coincidences for larger x
    reference = spicenn.write(array, program, engine="shared")
    assert np.max(np.abs(native.states - reference.states)) <= 1e-4
    with pytest.raises(InputError, match="x in"):
        spicenn.crossbar.program.stochastic_update(np.array([2.0]), delta, 1.2, 50e-9)


def test_the_write_command_reports_the_cell_the_disturb_and_the_energy(tmp_path):
    import json

    from clirun import run_cli

    done = run_cli("write", "-m", "6", "-n", "5", "--cell", "5,4", "--voltage", "1.3", "--pulses", "2",
                   "--r-word", "5", "--r-bit", "5", "--json", "--plot", tmp_path / "w.png", "--out", tmp_path / "w.npz")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["state_after"] > report["state_before"] == 0.5 and report["largest_disturb"] < 1e-6
    assert report["energy_j"]["drivers"] > report["energy_j"]["selected"] > 0
    with np.load(tmp_path / "w.npz") as saved:
        assert saved["states"].shape == (4, 6, 5)
    assert (tmp_path / "w.png").read_bytes()[:4] == b"\x89PNG"
    for args, message in ((("--cell", "9,9"), "outside"), (("--cell", "a"), "ROW,COLUMN"),
                          (("-d", "joglekar"), "unknown dynamic device"), (("--voltage", "40"), "beyond the 10 V"),
                          (("--state", "2"), "must be <= 1")):
        failed = run_cli("write", "-m", "4", "-n", "4", *args)
        assert failed.returncode != 0 and message in failed.stderr and len(failed.stderr.strip().splitlines()) == 1


def test_the_crossbar_face_holds_states_and_a_written_array_reads_through_the_static_stack():
    """`spicenn.Crossbar(states, device=get_device(...))` is a crossbar of dynamic devices; a
    raw program writes it; its read crossbar carries the device's own current at each cell."""
    device = spicenn.devices.get_device("yakopcic")  # the Oblea et al. fit
    states = np.random.default_rng(4).uniform(0.2, 0.8, (3, 4))
    array = spicenn.Crossbar(states, device=device, r_word=1.0, r_bit=1.0)
    assert isinstance(array, DynamicCrossbar) and array.shape == (3, 4)
    rows, columns = np.array([[0.9, 0.0, 0.0], [0.0, 0.0, 0.0]]), np.zeros((2, 4))
    result = spicenn.write(array, (rows, columns, np.array([2e-5, 2e-5])))
    assert result.states.shape == (2, 3, 4) and result.energy["drivers"] > 0
    assert np.all(result.final_states[0] > states[0]) and np.all(result.final_states[1:] == states[1:])
    read = spicenn.Crossbar(np.full((3, 4), 0.5), device=device).read_crossbar(result.final_states)
    v = np.array([[0.1, 0.05, 0.2]])
    expected = device.current(v[0][:, None], result.final_states).sum(0)  # no wires: each cell at its row's V
    np.testing.assert_allclose(spicenn.simulate(read, v, engine="native").currents[0], expected, rtol=1e-10)


def test_row_by_row_gives_each_cell_its_pulses_and_engines_agree():
    pulses = np.array([[2, 0, -1], [0, 1, 1]])
    program = spicenn.crossbar.program.row_by_row(pulses, 1.2, 50e-9)
    full = program.row_voltages[:, :, None] - program.column_voltages[:, None, :]  # ideal voltage across each cell
    np.testing.assert_array_equal((full > 1.1).sum(0) - (full < -1.1).sum(0), pulses)
    assert np.abs(full).max() == pytest.approx(1.2) and program.slots == 2 * 4  # row 0: 2 up + 1 down; row 1: 1 up
    array = DynamicCrossbar(np.full((2, 3), 0.5), VTEAM(), r_word=3.0, r_bit=3.0)
    native = spicenn.write(array, program)
    change = native.final_states - 0.5
    assert change[0, 0] > change[1, 1] > 0 > change[0, 2] and change[0, 1] == change[1, 0] == 0.0
    reference = spicenn.write(array, program, engine="shared")
    assert np.max(np.abs(native.states - reference.states)) <= 1e-4
    with pytest.raises(InputError, match="no cell gets a pulse"):
        spicenn.crossbar.program.row_by_row(np.zeros((2, 2)), 1.2, 50e-9)


def test_write_verify_brings_every_cell_within_its_tolerance_through_the_circuit():
    device = VTEAM()
    array = DynamicCrossbar(np.full((3, 3), 0.5), device, r_word=2.0, r_bit=2.0)
    g = np.asarray(device.conductance(np.random.default_rng(5).uniform(0.2, 0.8, (3, 3)), 0.1))
    result = spicenn.solvers.write_verify(array, g, 1.1, 20e-9, tolerance=0.03, max_rounds=60)
    assert result.converged.all() and 0 < result.rounds < 60
    np.testing.assert_array_less(np.abs(result.conductances / g - 1), 0.03)
    np.testing.assert_allclose(result.conductances, device.conductance(result.states, 0.1), rtol=1e-12)
    assert result.history.shape == (result.rounds + 1, 3, 3) and np.all(result.energy > 0)
    up, down = g > result.history[0] * 1.03, g < result.history[0] * 0.97
    assert up.any() and down.any() and np.all(result.pulses[up] > 0) and np.all(result.pulses[down] < 0)
    with pytest.raises(InputError, match="within the device's range"):
        spicenn.solvers.write_verify(array, np.full((3, 3), 1.0), 1.1, 20e-9)


def test_training_energy_takes_the_pulse_energy_a_circuit_write_measured():
    """One V/2 pulse into an N x N array at frozen states, no wires: the drivers deliver
    [1 + (N-1)/2]·V²·G·t, so the circuit's pulse costs that factor over the V²·G·t formula."""
    from spicenn.energy.training import TrainingCosts, circuit_pulse_energy, training_step_energy

    n, voltage, width, edge = 8, 1.0, 20e-9, 1e-12
    device = VTEAM(v_off=5.0, v_on=-5.0)
    g = float(device.conductance(0.5, 0.1))
    program = single_cell((n, n), (1, 2), voltage, width, pulses=3, t_edge=edge)
    result = spicenn.write(DynamicCrossbar(np.full((n, n), 0.5), device), program)
    per_pulse = circuit_pulse_energy(program, result)
    assert per_pulse == pytest.approx((1 + (n - 1) / 2) * voltage**2 * g * (width + 2 * edge / 3), rel=1e-9)
    formula = TrainingCosts(pulse_voltage=voltage, pulse_time=width)
    circuit = TrainingCosts(pulse_voltage=voltage, pulse_time=width, pulse_energy=per_pulse)
    parts = [training_step_energy([4, 3], "binary stochastic", c, pulses_per_sample=7.0, g_mean=g)["programming pulses"]
             for c in (formula, circuit)]
    assert parts[1] / parts[0] == pytest.approx((1 + (n - 1) / 2) * (width + 2 * edge / 3) / width, rel=1e-9)


def test_the_write_command_runs_the_stochastic_update(tmp_path):
    import json

    from clirun import run_cli

    np.save(tmp_path / "delta.npy", np.array([1.0, -0.5, 0.0, 0.8]))
    done = run_cli("write", "-m", "3", "-n", "4", "--scheme", "stochastic", "--x", "1,0.5,0", "--delta",
                   tmp_path / "delta.npy", "--bits", "8", "--width", "50e-9", "--r-word", "1", "--r-bit", "1", "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["correlation_with_outer_product"] > 0.9 and report["largest_change"] > 0.01
    assert report["energy_j"]["drivers"] > 0
    for args, message in ((("--x", "1,0.5"), "needs 3 values"), (("--x", "a,b,c"), "comma-separated"),
                          (("--delta", None), "needs --delta")):
        command = ["write", "-m", "3", "-n", "4", "--scheme", "stochastic", "--x", "1,0.5,0", "--delta", "1,0,0,1"]
        if args[1] is None:
            command = command[:-2]
        else:
            command[command.index(args[0]) + 1] = args[1]
        failed = run_cli(*command)
        assert failed.returncode == 2 and message in failed.stderr and "Traceback" not in failed.stderr


def test_line_charging_costs_c_v_squared_per_driven_line_and_pulse():
    """V/2 drives one row to +V/2 and one column to -V/2 per pulse: 2·C·(V/2)² a pulse, on top
    of the same write without capacitance, for either engine."""
    program = single_cell((3, 3), (1, 1), 1.2, 50e-9, pulses=2)
    plain = DynamicCrossbar(np.full((3, 3), 0.5), VTEAM(), r_word=1.0, r_bit=1.0)
    loaded = dataclasses.replace(plain, line_capacitance=2e-13)
    for engine in ("native", "shared"):
        without = spicenn.write(plain, program, engine=engine)
        with_lines = spicenn.write(loaded, program, engine=engine)
        expected = 2 * 2 * 2e-13 * 0.6**2
        assert with_lines.energy["line_charging"] == pytest.approx(expected, rel=1e-12)
        assert with_lines.energy["drivers"] - without.energy["drivers"] == pytest.approx(expected, rel=1e-9)
        np.testing.assert_array_equal(with_lines.states, without.states)
    with pytest.raises(InputError, match="line_capacitance"):
        dataclasses.replace(plain, line_capacitance=-1.0)
