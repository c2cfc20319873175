"""Your own device: measured I-V sweeps read and checked, every static family fitted back to
its own synthetic data within its reported uncertainty, the device file it writes used
wherever a device name goes (ngspice, the native solver, a trained network), bad files refused."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from clirun import run_cli
from training import training_losses

import spicenn
from spicenn.crossbar.config import CrossbarConfig
from spicenn.devices import get_device, get_static_device
from spicenn.devices.fit import fit_family, fit_iv
from spicenn.devices.measured import IVData, read_iv
from spicenn.errors import InputError
from spicenn.nn.network import CrossbarMLP

TRUTHS = {"linear": get_static_device("linear", g_off=1e-5, g_on=1e-4),
          "sinh": get_static_device("sinh", k=2.7, g_off=1e-5, g_on=1e-4),
          "powerlaw": get_static_device("powerlaw-low"),
          "poole-frenkel": get_static_device("poole-frenkel-low")}


def synthetic(truth, seed: int, noise: float = 0.01, states: int = 6) -> IVData:
    """Sweeps of `states` programmed states from -0.5 to 0.5 V with `noise` relative scatter,
    each state labelled with its resistance 1/G."""
    rng = np.random.default_rng(seed)
    v = np.linspace(-0.5, 0.5, 81)
    g = np.geomspace(truth.g_off, truth.g_on, states)
    current = np.concatenate([truth.current(v, np.full(v.shape, gi), np, {}) for gi in g])
    current *= 1 + noise * rng.standard_normal(current.shape)
    return IVData(np.tile(v, states), current, np.repeat([str(k) for k in range(states)], v.size),
                  np.full(v.size * states, ""), resistance=np.repeat(1 / g, v.size))


def truth_values(truth) -> dict[str, float]:
    return {name: getattr(truth, name) for name in ("k", "n", "a1", "b1", "a2", "b2") if hasattr(truth, name)}


@pytest.mark.parametrize("family", list(TRUTHS))
def test_every_family_refits_its_own_data_within_its_reported_uncertainty_and_is_chosen(family):
    truth = TRUTHS[family]
    data = synthetic(truth, seed=3)
    fit = fit_iv(data)  # auto: the least BIC
    assert fit.model == family, fit.comparison
    for name, value in truth_values(truth).items():
        estimate = fit.parameters[name]
        assert abs(estimate.value - value) <= 3 * estimate.std, (name, estimate, value)
    for k, state in enumerate(fit.states.values()):  # each state's conductance: G (PF: 1/R, as labelled)
        assert state.value == pytest.approx(np.geomspace(truth.g_off, truth.g_on, 6)[k], rel=0.02)
    assert fit.nrmse == pytest.approx(0.01, rel=0.2) and fit.held_out_nrmse == pytest.approx(0.01, rel=0.3)
    assert fit.predicted.shape == data.current.shape


def test_the_fit_command_writes_a_device_file_that_simulates_and_trains_everywhere(tmp_path):
    truth = TRUTHS["sinh"]
    data = synthetic(truth, seed=1, states=4)
    lines = ["# read_voltage = 0.1", "voltage (mV),current (uA),state"]
    lines += [f"{float(v) * 1e3!r},{float(i) * 1e6!r},{s}" for v, i, s in zip(data.voltage, data.current, data.state)]
    (tmp_path / "iv.csv").write_text("\n".join(lines) + "\n")
    done = run_cli("devices", "fit", "iv", tmp_path / "iv.csv", "--out", tmp_path / "mine.toml", "--plot",
                   tmp_path / "fit.png", "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["model"] == "sinh" and abs(report["parameters"]["k"]["value"] - 2.7) < 3 * report["parameters"][
        "k"]["std"]
    np.testing.assert_allclose(report["predicted"], fit_family(data, "sinh").predicted, rtol=1e-6)
    assert (tmp_path / "fit.png").read_bytes()[:4] == b"\x89PNG"
    device = get_device(str(tmp_path / "mine.toml"))
    assert device.to_dict() == {"name": "sinh", **{k: v for k, v in report["device"].items() if k != "name"}}
    assert get_device(str(tmp_path / "mine.toml")) == device  # the file round-trips exactly
    # the file in both engines, equal to each other
    rng = np.random.default_rng(0)
    crossbar = spicenn.Crossbar(rng.uniform(device.g_off, device.g_on, (4, 3)), str(tmp_path / "mine.toml"),
                                r_word=1.0, r_bit=1.0)
    v = rng.uniform(0, 0.4, (2, 4))
    np.testing.assert_allclose(spicenn.simulate(crossbar, v, engine="native").currents,
                               spicenn.simulate(crossbar, v, engine="shared").currents, rtol=1e-9)
    # its ngspice subcircuit, in a hand-written netlist, passes the fitted device's current
    done = run_cli("devices", "--lib", tmp_path / "mine.lib", "-d", tmp_path / "mine.toml")
    assert done.returncode == 0, done.stderr
    from spicenn.spice import get_engine

    netlist = f"""* the fitted device's subcircuit
.include {tmp_path / 'mine.lib'}
.options reltol=1e-8 abstol=1e-18
V1 a 0 DC 0
X1 a b spicenn_mine params: g=3e-5
Vs b 0 DC 0
.dc V1 -0.4 0.4 0.1
.end
"""
    lib_current = get_engine("subprocess").run(netlist, includes=(str(tmp_path / "mine.lib"),))["vs#branch"]
    sweep = np.linspace(-0.4, 0.4, 9)
    np.testing.assert_allclose(lib_current, device.current(sweep, np.full(9, 3e-5)), rtol=1e-7, atol=1e-15)
    assert run_cli("devices", "-d", "sinh").returncode == 2  # -d picks the devices of --lib
    # and a network trains on it through the device and circuit backends
    hardware = CrossbarConfig(device=str(tmp_path / "mine.toml"), tile_rows=4, tile_columns=4, r_word=1.0, r_bit=1.0)
    assert hardware.device_model() == device
    x = torch.rand(32, 6, generator=torch.Generator().manual_seed(0)).double()
    y = (x[:, :3].sum(1) > x[:, 3:].sum(1)).long()
    for backend in ("device", "circuit"):
        losses = training_losses(CrossbarMLP((6, 4, 2), hardware, backend=backend, seed=0).double(), x, y, 12)
        assert losses[-1] < 0.8 * losses[0], (backend, losses)


GOOD = "voltage,current,state\n" + "".join(f"{v},{v * 1e-4},a\n" for v in (-0.2, -0.1, 0.0, 0.1, 0.2, 0.3))


@pytest.mark.parametrize("text, message", [
    ("volts,current\n0.1,1e-5\n", "no voltage column"),
    ("voltage,amps\n0.1,1e-5\n", "no current column"),
    (GOOD.replace("0.1,1e-05,a", "0.1,abc,a"), "line 5, column 'current': 'abc' is not a number"),
    (GOOD.replace("0.1,1e-05,a", "0.1,nan,a"), "line 5, column 'current': not finite"),
    (GOOD.replace("0.1,1e-05,a", "0.1,1e-05"), "line 5: 2 fields, the header has 3"),
    ("voltage,current,state\n" + "".join(f"{v},{v * 1e-4},a\n" for v in (0.1, 0.2, 0.3)), "3 point(s)"),
    ("voltage,current,state\n" + "0.2,2e-5,a\n" * 6, "a sweep needs a voltage range"),
    (GOOD.replace("current", "current (furlongs)"), "unknown unit 'furlongs'"),
    ("# read_voltage = fast\n" + GOOD, "setting 'read_voltage' is not a number"),
    ("voltage,current\n", "a header but no data rows"),
])
def test_bad_measurement_files_are_refused_with_where_and_why(tmp_path, text, message):
    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(InputError, match=message.replace("(", r"\(").replace(")", r"\)")):
        read_iv(path)
    done = run_cli("devices", "fit", "iv", path, "--out", tmp_path / "dev.toml")
    assert done.returncode != 0 and "Traceback" not in done.stderr and message.split(":")[-1].strip() in done.stderr
    assert not (tmp_path / "dev.toml").exists()


def test_bad_fits_and_device_files_are_refused(tmp_path):
    data = read_iv_text(tmp_path, GOOD)
    with pytest.raises(InputError, match="at least 3 programmed states"):
        fit_family(data, "poole-frenkel")
    with pytest.raises(InputError, match="unknown model 'cubic'"):
        fit_iv(data, "cubic")
    (tmp_path / "no-device.toml").write_text("[fit]\nmodel = 'sinh'\n")
    with pytest.raises(InputError, match=r"no \[device\] table"):
        get_device(str(tmp_path / "no-device.toml"))
    (tmp_path / "loop.toml").write_text("[device]\nname = 'loop.toml'\n")
    with pytest.raises(InputError, match="names another file"):
        get_device(str(tmp_path / "loop.toml"))


def read_iv_text(tmp_path, text: str) -> IVData:
    path = tmp_path / "data.csv"
    path.write_text(text)
    return read_iv(path)


def pulse_traces(rng, kind: str = "soft-bounds", runs: int = 3, pulses: int = 60, step_noise: float = 2e-7,
                 read_noise: float = 3e-7) -> list[tuple[np.ndarray, np.ndarray]]:
    """Up-then-down runs of one device, G in [10, 100] µS, pulse by pulse: soft bounds (α↑ 3 µS,
    α↓ 2 µS) or equal 1.5 µS steps, each step off by `step_noise`, each reading by `read_noise`."""
    runs_out = []
    for run in range(runs):
        pair = []
        g = 1.2e-5 + 1e-6 * run
        for direction, alpha in (("up", 3e-6), ("down", 2e-6)):
            curve = [g]
            for _ in range(pulses - 1):
                if kind == "soft-bounds":
                    step = alpha * (1e-4 - g) / 9e-5 if direction == "up" else -alpha * (g - 1e-5) / 9e-5
                else:
                    step = 1.5e-6 if direction == "up" else -1.5e-6
                g = min(max(g + step + step_noise * rng.standard_normal(), 1e-5), 1e-4)
                curve.append(g)
            pair.append(np.array(curve) + read_noise * rng.standard_normal(pulses))
        runs_out.append((pair[0], pair[1]))
    return runs_out


def pulse_file(path, traces, layout: str) -> None:
    if layout == "pairs":  # NeuroSim-like: pulse number and current at a stated read voltage
        lines = ["# read_voltage = 0.2", "# pulse_voltage = 1.1", "pulse,current,direction,trace"]
        for run, (up, down) in enumerate(traces):
            lines += [f"{k},{float(g) * 0.2!r},{d},{run}" for d, trace in (("set", up), ("reset", down))
                      for k, g in enumerate(trace)]
    else:  # CrossSim-like: one column per run and direction
        names = [f"{d}_{run}" for run in range(len(traces)) for d in ("up", "down")]
        columns = [trace for pair in traces for trace in pair]
        lines = [",".join(names)] + [",".join(repr(float(c[k])) for c in columns) for k in range(len(columns[0]))]
    path.write_text("\n".join(lines) + "\n")


@pytest.mark.parametrize("layout", ["pairs", "columns"])
def test_pulse_curves_in_either_layout_refit_the_soft_bounds_model(tmp_path, layout):
    from spicenn.devices.programming import SoftBounds, load_programming_file

    pulse_file(tmp_path / "pulses.csv", pulse_traces(np.random.default_rng(2), pulses=80), layout)
    done = run_cli("devices", "fit", "pulses", tmp_path / "pulses.csv", "--out", tmp_path / "prog.toml", "--plot",
                   tmp_path / "prog.png", "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["model"] == "soft-bounds" and set(report["comparison"]) == {"soft-bounds", "levels", "piecewise"}
    for name, truth in (("g_min", 1e-5), ("g_max", 1e-4), ("alpha_up", 3e-6), ("alpha_down", 2e-6)):
        estimate = report["parameters"][name]
        assert abs(estimate["value"] - truth) <= 4 * estimate["std"], (name, estimate)
    # the noise split: step noise 0.2 µS, read noise 0.3 µS
    assert report["cycle_noise"] == pytest.approx(2e-7, rel=0.25)
    assert report["read_noise"] == pytest.approx(3e-7, rel=0.25)
    assert set(report["spread"]) == {"g_min", "g_max", "alpha_up", "alpha_down"}  # three runs: a spread
    # the symmetry point: where the up and down steps are equal
    assert report["symmetry_point"] == pytest.approx((3e-6 * 1e-4 + 2e-6 * 1e-5) / 5e-6, rel=0.03)
    assert [len(p) for p in report["predicted"]] == [80] * 6
    device = load_programming_file(tmp_path / "prog.toml")
    assert isinstance(device, SoftBounds)
    span = report["parameters"]["g_max"]["value"] - report["parameters"]["g_min"]["value"]
    assert device.alpha_up == pytest.approx(report["parameters"]["alpha_up"]["value"] / span, rel=1e-12)
    assert device.cycle_noise == pytest.approx(report["cycle_noise"] / device.step, rel=1e-12)
    assert (tmp_path / "prog.png").read_bytes()[:4] == b"\x89PNG"


def test_equal_step_curves_choose_levels_and_piecewise_follows_its_data(tmp_path):
    from spicenn.devices.programming import DiscreteLevels
    from spicenn.devices.pulses import fit_pulses, read_pulses

    pulse_file(tmp_path / "levels.csv", pulse_traces(np.random.default_rng(3), "levels", pulses=75), "columns")
    data = read_pulses(tmp_path / "levels.csv")
    fit = fit_pulses(data)
    assert fit.model == "levels" and isinstance(fit.programming, DiscreteLevels)
    assert abs(fit.parameters["step"].value - 1.5e-6) < 4 * fit.parameters["step"].std
    assert abs(fit.programming.levels - 61) <= 1 and fit.programming.g_min == pytest.approx(1e-5, rel=0.03)
    table = fit_pulses(data, "piecewise")
    mean_up = np.mean(table.programming.up_steps)
    assert mean_up == pytest.approx(1.5e-6, rel=0.1) and table.nrmse < 0.1
    for model in ("soft-bounds", "nonsense"):
        if model == "nonsense":
            with pytest.raises(InputError, match="unknown update model 'nonsense'"):
                fit_pulses(data, model)


def test_a_programming_file_is_what_the_learning_rules_and_reproductions_train_on(tmp_path):
    import dataclasses

    from spicenn.devices.programming import (
        PiecewiseSteps,
        load_programming_file,
        programming_model,
        programming_to_dict,
    )
    from spicenn.nn.learning import DeviceMLP, UpdateRule

    model = PiecewiseSteps(g_min=1e-5, g_max=1e-4, points=(1e-5, 5e-5, 1e-4), up_steps=(3e-6, 2e-6, 1e-6),
                           down_steps=(1e-6, 2e-6, 3e-6), cycle_noise=0.1)
    import tomli_w

    (tmp_path / "prog.toml").write_text(tomli_w.dumps({"programming": programming_to_dict(model)}))
    assert load_programming_file(tmp_path / "prog.toml") == model  # round trip, exactly
    assert programming_model(str(tmp_path / "prog.toml"), cycle_noise=0.0) == dataclasses.replace(model,
                                                                                                 cycle_noise=0.0)
    # a pulse follows the table: from 3e-5, up 3e-6 - (2e-5/4e-5)·1e-6 = 2.5e-6 (table 3, 2 µS at 10, 50 µS)
    g = torch.tensor([3e-5, 3e-5, 1e-4], dtype=torch.float64)
    clean = dataclasses.replace(model, cycle_noise=0.0)
    after = clean.pulse(g, torch.tensor([1.0, 2.0, 5.0]), torch.ones(3, 2, dtype=torch.float64),
                        torch.Generator().manual_seed(0))
    np.testing.assert_allclose(after[0], 3e-5 + 2.5e-6, rtol=1e-12)
    np.testing.assert_allclose(after[1], 3.25e-5 + (3e-6 - 2.25e-5 / 4e-5 * 1e-6), rtol=1e-12)
    assert after[2] == 1e-4  # held at the bound
    # trains: a small network learns on these devices with the rounding and pulse rules
    from spicenn.nn.data import load_data
    from spicenn.nn.onchip import onchip_accuracy, train_on_chip

    data = load_data("digits", 0)
    for rule in ("rounding", "pulse"):
        network = DeviceMLP((data.features, 16, data.classes), load_programming_file(tmp_path / "prog.toml"), seed=0)
        before = onchip_accuracy(network, data.test.x, data.test.y)
        train_on_chip(network, data, UpdateRule(rule, 0.1), 3, 10, 0, False)
        assert onchip_accuracy(network, data.test.x, data.test.y) > before + 0.3, rule
    for text, message in (("[programming]\nmodel = 'wiggly'\n", "unknown programming model 'wiggly'"),
                          ("[programming]\nmodel = 'levels'\nlevels = 1\n", "levels"),
                          ("[programming]\nmodel = 'soft-bounds'\ng_mx = 1e-4\n", "no parameter 'g_mx'"),
                          ("[somethingelse]\n", "no \\[programming\\] table"),
                          ("[programming]\nmodel = 'piecewise'\npoints = [2e-5, 1e-5]\nup_steps = [1e-6, 1e-6]\n"
                           "down_steps = [1e-6, 1e-6]\n", "points rise strictly")):
        (tmp_path / "bad.toml").write_text(text)
        with pytest.raises(InputError, match=message):
            load_programming_file(tmp_path / "bad.toml")


@pytest.mark.parametrize("text, message", [
    ("up,down\n1e-5,1e-4\n2e-5,9e-5\n", r"has 2 point\(s\)"),
    ("up,sideways\n" + "1e-5,1e-4\n" * 5, "'sideways' is not a direction"),
    ("up,down\n" + "1e-5,-1e-4\n" * 5, "conductance ≤ 0"),
    ("up,up_2\n" + "1e-5,2e-5\n" * 5, "at least one up and one down trace"),
    ("pulse,current,direction\n" + "0,1e-6,up\n" * 5, "read_voltage"),
    ("up,down\n" + "1e-5,x\n" * 5, "'x' is not a number"),
])
def test_bad_pulse_files_are_refused_with_where_and_why(tmp_path, text, message):
    from spicenn.devices.pulses import read_pulses

    (tmp_path / "bad.csv").write_text(text)
    with pytest.raises(InputError, match=message):
        read_pulses(tmp_path / "bad.csv")


def test_the_reproductions_train_on_a_programming_file_and_refuse_one_they_cannot_use(tmp_path, monkeypatch):
    import dataclasses

    import tomli_w

    from spicenn.devices.programming import DiscreteLevels, SoftBounds, programming_to_dict
    from spicenn.reproduce import babu2017, kim2019

    levels = DiscreteLevels(g_max=1e-4, dynamic_range=10.0, levels=40, cycle_noise=0.05)
    (tmp_path / "levels.toml").write_text(tomli_w.dumps({"programming": programming_to_dict(levels)}))
    monkeypatch.setattr(babu2017, "settings", lambda quick: {"epochs": 1, "hidden": 8, "learning_rate": 0.1,
                                                             "batch_size": 10, "spice_images": 2,
                                                             "variabilities": [0.0, 0.3]})
    trained: list = []
    original = babu2017.DeviceMLP

    def recording(sizes, model, **kwargs):
        trained.append(model)
        return original(sizes, model, **kwargs)
    monkeypatch.setattr(babu2017, "DeviceMLP", recording)
    results = babu2017.run(tmp_path / "babu", quick=True, progress=False, device_file=tmp_path / "levels.toml")
    # the float baseline (noise 0, its devices unused), then the one variability: the file's own 0.05
    assert trained == [dataclasses.replace(levels, cycle_noise=0.0), levels]
    assert list(results["devices"]) == ["0.05"] and results["setup"]["device_file"]["levels"] == 40
    assert 0.2 < results["devices"]["0.05"]["accuracy"] <= 1.0 and "spice_check" in results["devices"]["0.05"]
    # zero-shifting needs a symmetry point: a levels file is refused before any training
    done = run_cli("reproduce", "kim2019", "--quick", "--device-file", tmp_path / "levels.toml", "--out",
                   tmp_path / "kim")
    assert done.returncode == 1 and "kim2019 needs soft-bounds devices" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and not (tmp_path / "kim").exists()
    soft = dataclasses.replace(SoftBounds(), alpha_down=0.005)
    (tmp_path / "soft.toml").write_text(tomli_w.dumps({"programming": programming_to_dict(soft)}))
    assert kim2019.settings(True)["imbalances"] != [0.5]
    monkeypatch.setattr(kim2019, "train_on_chip", lambda *args, **kwargs: [])
    monkeypatch.setattr(kim2019, "spice_check", lambda *args, **kwargs: {})
    results = kim2019.run(tmp_path / "kim", quick=True, progress=False, device_file=tmp_path / "soft.toml")
    assert list(results["cases"]) == ["0.5"] and results["setup"]["device_file"]["alpha_down"] == 0.005


def test_vteam_kinetics_from_pulse_curves_drive_the_device_at_other_voltages(tmp_path):
    """Curves of a VTEAM device at 1.2 V, 20 ns, integrated by the ODE solver (not the fit's
    closed form): the fit gives k_on, k_off and the resistances within their uncertainty, and
    the device file it writes writes at 1.0 and 1.5 V as the true device does."""
    from spicenn.devices.dynamic import VTEAM, pulse_response

    truth = VTEAM(r_on=2e4, r_off=1.5e5, k_on=4e6, k_off=2e6)
    rng = np.random.default_rng(4)
    lines = ["# pulse_voltage = 1.2", "# pulse_width = 2e-8", "up_0,down_0,up_1,down_1"]
    columns = []
    for run in range(2):
        up = pulse_response(truth, -1.2, 2e-8, 59, 0.95 - 0.03 * run)
        down = pulse_response(truth, 1.2, 2e-8, 59, up[-1])
        columns += [1.0 / (truth.r_on + (truth.r_off - truth.r_on) * x) * (1 + 0.005 * rng.standard_normal(60))
                    for x in (up, down)]
    lines += [",".join(repr(float(c[k])) for c in columns) for k in range(60)]
    (tmp_path / "vteam.csv").write_text("\n".join(lines) + "\n")
    done = run_cli("devices", "fit", "pulses", tmp_path / "vteam.csv", "--model", "vteam", "--out",
                   tmp_path / "mine.toml", "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    for name, value in (("k_on", 4e6), ("k_off", 2e6), ("g_max", 1 / 2e4), ("g_min", 1 / 1.5e5)):
        estimate = report["parameters"][name]
        assert abs(estimate["value"] - value) <= 3 * estimate["std"], (name, estimate)
    fitted = get_device(str(tmp_path / "mine.toml"))
    assert isinstance(fitted, VTEAM) and fitted.k_on == report["device"]["k_on"]
    for voltage in (-1.0, 1.5):
        np.testing.assert_allclose(pulse_response(fitted, voltage, 2e-8, 20, 0.5),
                                   pulse_response(truth, voltage, 2e-8, 20, 0.5), atol=0.01)
    done = run_cli("write", "-d", tmp_path / "mine.toml", "--rows", "4", "--columns", "4", "--cell", "1,2",
                   "--voltage", "1.4", "--json")
    assert done.returncode == 0, done.stderr
    (tmp_path / "slow.csv").write_text("\n".join(lines).replace("1.2", "0.7", 1) + "\n")
    done = run_cli("devices", "fit", "pulses", tmp_path / "slow.csv", "--model", "vteam", "--out",
                   tmp_path / "x.toml")
    assert done.returncode == 1 and "do not pass the VTEAM thresholds" in done.stderr


def test_crosssim_set_and_reset_files_read_as_runs_of_currents(tmp_path):
    """CrossSim's layout: set.csv and reset.csv, a column per run (rmp1, …) of bare currents
    at the read voltage; the direction comes from the file's name."""
    from spicenn.devices.pulses import read_pulses

    traces = pulse_traces(np.random.default_rng(5), pulses=70)
    for name, which in (("set", 0), ("reset", 1)):
        rows = [",".join(f"rmp{k + 1}" for k in range(3))]
        rows += [",".join(repr(float(pair[which][i]) * 0.1) for pair in traces) for i in range(70)]
        (tmp_path / f"{name}.csv").write_text("\n".join(rows) + "\n")
    data = read_pulses(tmp_path / "set.csv", tmp_path / "reset.csv", read_voltage=0.1)
    assert [t.direction for t in data.traces] == ["up"] * 3 + ["down"] * 3
    np.testing.assert_allclose(data.traces[0].conductance, traces[0][0], rtol=1e-12)
    done = run_cli("devices", "fit", "pulses", tmp_path / "set.csv", tmp_path / "reset.csv", "--read-voltage", "0.1",
                   "--model", "piecewise", "--out", tmp_path / "prog.toml", "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["model"] == "piecewise" and report["nrmse"] < 0.05 and "step_scale" in report["spread"]
    (tmp_path / "other.csv").write_text((tmp_path / "set.csv").read_text())
    with pytest.raises(InputError, match="nor is the file's name"):
        read_pulses(tmp_path / "other.csv", tmp_path / "reset.csv", read_voltage=0.1)


def test_several_devices_give_the_device_to_device_spread_of_the_shape():
    from spicenn.devices.fit import fit_iv

    parts, ks = [], [2.2, 2.7, 3.2, 2.5]
    for seed, k in enumerate(ks):
        part = synthetic(get_static_device("sinh", k=k, g_off=1e-5, g_on=1e-4), seed=seed, states=3)
        part.device = np.full(part.voltage.size, f"d{seed}")
        part.state = np.char.add(f"d{seed}-", part.state.astype(str))
        parts.append(part)
    data = IVData(*(np.concatenate([getattr(p, name) for p in parts]) for name in ("voltage", "current", "state",
                                                                                     "device")),
                  resistance=np.concatenate([p.resistance for p in parts]))
    fit = fit_iv(data, "sinh")
    assert fit.device_spread["k"] == pytest.approx(np.std(ks, ddof=1), rel=0.1)
