"""On-chip learning with updates from the circuit (issue 28).

The pulse map the surrogate rests on is checked against an independent ODE integration
(scipy's, of the trapezoidal waveform); the calibrated presets against their definitions;
the write surrogate against the native write engine (small tiles, within its stated
accuracy; exactly without wires) and against ngspice; the learning loops' three paths
against one another on the same bit streams; and every new input's refusal."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from clirun import run_cli
from scipy.integrate import solve_ivp

from spicenn.circuit.layer_write import write_layer
from spicenn.crossbar.program import DynamicCrossbar, coincidence_program, row_by_row
from spicenn.devices.dynamic import VTEAM
from spicenn.devices.programming import DiscreteLevels
from spicenn.devices.written import DevicePulses, pulse_response, write_preset
from spicenn.errors import InputError
from spicenn.nn.learning import DeviceLinear, DeviceMLP, EngineWrites, SurrogateWrites, UpdateRule, apply_rule
from spicenn.spice.write import write_ngspice
from spicenn.surrogate.write import (
    TileGeometry,
    WriteSurrogate,
    load_write_surrogate,
    read_dataset,
    validate_write_surrogate,
    write_dataset,
)

SHIPPED = "write-vteam-64"


def _trapezoid(v: float, width: float, t_edge: float):
    def waveform(t: float) -> float:
        if t < t_edge:
            return v * t / t_edge
        if t < t_edge + width:
            return v
        return v * max(0.0, 1.0 - (t - t_edge - width) / t_edge)
    return waveform


@pytest.mark.parametrize("window_p", [0, 1, 3, 10])
@pytest.mark.parametrize("voltage", [1.3, -1.3, 1.0, -0.95])
def test_the_pulse_map_equals_an_independent_integration_of_the_trapezoid(window_p, voltage):
    device = VTEAM(window_p=window_p, linear_conductance=True)
    width, t_edge = 10e-9, 2e-9
    wave = _trapezoid(voltage, width, t_edge)
    for x0 in (0.0, 0.3, 0.7, 0.95):
        if window_p == 0 and not 0.0 < x0 < 1.0:
            continue
        truth = solve_ivp(lambda t, x: [float(device.rate(wave(t), x[0]))], (0.0, width + 2 * t_edge), [x0],
                          rtol=1e-11, atol=1e-13, max_step=t_edge / 4).y[0, -1]
        dose = device.pulse_dose(voltage, width, t_edge)
        assert device.advance(np.array(x0), dose) == pytest.approx(truth, abs=1e-6)
        torch_result = device.advance(torch.tensor([x0], dtype=torch.float64),
                                      torch.tensor([float(dose)], dtype=torch.float64), torch)
        assert float(torch_result[0]) == pytest.approx(truth, abs=1e-6)
    assert device.pulse_dose(0.75, width, t_edge) == 0.0  # below the threshold nothing moves


def test_the_presets_are_what_they_say():
    levels = write_preset("levels32")
    assert levels.g_max / levels.g_min == pytest.approx(15.0)
    curve = np.array(pulse_response(levels, 31)["conductance"])
    step = (levels.g_max - levels.g_min) / 31
    # 31 pulses from G_min reach half a step from G_max; mid-range steps are equal
    assert curve[31] == pytest.approx(levels.g_max - step / 2, rel=1e-9)
    middle = np.diff(curve[:20])
    assert np.ptp(middle) < 1e-3 * step and 1.0 < middle.mean() / step < 1.1
    # n pulses at once are n single pulses
    g = torch.full((3,), 0.5 * (levels.g_min + levels.g_max), dtype=torch.float64)
    steps = levels.device_steps((3,), torch.Generator())
    once = levels.pulse(g, torch.tensor([3.0, -2.0, 0.0]), steps, torch.Generator())
    singly = g
    for count in (torch.tensor([1.0, -1.0, 0.0]), torch.tensor([1.0, -1.0, 0.0]), torch.tensor([1.0, 0.0, 0.0])):
        singly = levels.pulse(singly, count, steps, torch.Generator())
    torch.testing.assert_close(once, singly, rtol=1e-12, atol=0.0)
    soft = write_preset("soft-bounds", imbalance=0.5)
    first_up = pulse_response(soft, 1)["conductance"]
    assert (first_up[1] - first_up[0]) / (soft.g_max - soft.g_min) == pytest.approx(0.01, rel=1e-9)
    # at the symmetry point one up and one down pulse cancel (to first order in the step)
    g_star = torch.tensor([soft.symmetry_point()], dtype=torch.float64)
    ones = soft.device_steps((1,), torch.Generator())
    up = soft.pulse(g_star, torch.ones(1), ones, torch.Generator()) - g_star
    down = soft.pulse(g_star, -torch.ones(1), ones, torch.Generator()) - g_star
    assert float(up + down) == pytest.approx(0.0, abs=1e-12)


def _update(rng: np.random.Generator, rows: int, columns: int, bits: int = 6):
    x = rng.uniform(0.2, 0.8, (rows, columns))
    q, p = rng.uniform(0.0, 0.6, rows), rng.uniform(0.0, 0.5, columns)
    return (x, rng.random((bits, rows)) < q, rng.random((bits, columns)) < p,
            rng.choice([-1.0, 1.0], columns), q, p)


def _surrogate_states(surrogate: WriteSurrogate, preset: DevicePulses, update, tile, r_wire: float) -> np.ndarray:
    x, rows, columns, signs, q, p = update
    states, _ = surrogate.coincidences(torch.as_tensor(x), torch.as_tensor(rows)[None], torch.as_tensor(columns)[None],
                                       torch.as_tensor(signs)[None], preset, tile, r_wire, r_wire,
                                       torch.as_tensor(q)[None], torch.as_tensor(p)[None])
    return states.numpy()


def _engine_states(preset: DevicePulses, update, tile, r_wire: float) -> tuple[np.ndarray, float]:
    x, rows, columns, signs, _, _ = update
    program = coincidence_program(rows, columns, signs, preset.voltage, preset.width, t_edge=preset.t_edge)
    result = write_layer(x, preset.device, program, *tile, r_wire, r_wire, preset.v_read)
    return result.states, result.energy["drivers"]


def _nrmse(guess: np.ndarray, truth: np.ndarray, x: np.ndarray) -> float:
    return float(np.sqrt(np.mean((guess - truth) ** 2)) / np.sqrt(np.mean((truth - x) ** 2)))


def test_the_surrogate_equals_the_engine_without_wires_and_stays_within_its_accuracy_with_them():
    preset = write_preset("levels32")
    surrogate = load_write_surrogate(SHIPPED)
    rng = np.random.default_rng(11)
    update = _update(rng, 20, 12)
    # no wires: every selected cell sees V, the map is exact — equal to the engine's integration
    engine, _ = _engine_states(preset, update, (16, 8), 0.0)
    np.testing.assert_allclose(_surrogate_states(surrogate, preset, update, (16, 8), 0.0), engine, atol=1e-6)
    # 5 ohm segments: within the stated 2 % (pooled), and far better than ignoring the wires
    engine, energy = _engine_states(preset, update, (16, 8), 5.0)
    guess = _surrogate_states(surrogate, preset, update, (16, 8), 5.0)
    ideal = _surrogate_states(surrogate, preset, update, (16, 8), 0.0)
    x = update[0]
    assert _nrmse(guess, engine, x) < 0.02
    assert _nrmse(ideal, engine, x) > 3 * _nrmse(guess, engine, x)
    _, estimate = surrogate.coincidences(torch.as_tensor(x), *(torch.as_tensor(a)[None] for a in update[1:4]),
                                         preset, (16, 8), 5.0, 5.0)
    assert estimate == pytest.approx(energy, rel=0.1)


def test_pulse_counts_written_row_by_row_match_the_engine():
    preset = write_preset("soft-bounds", imbalance=0.5)
    surrogate = load_write_surrogate(SHIPPED)
    rng = np.random.default_rng(5)
    x = rng.uniform(0.1, 0.9, (18, 10))
    counts = rng.choice([-2, -1, 0, 0, 1, 2], x.shape)
    engine = write_layer(x, preset.device, row_by_row(counts, preset.voltage, preset.width, t_edge=preset.t_edge),
                         16, 8, 2.0, 2.0, preset.v_read)
    states, energy = surrogate.counts(torch.as_tensor(x), torch.as_tensor(counts, dtype=torch.float64), preset,
                                      (16, 8), 2.0, 2.0)
    assert _nrmse(states.numpy(), engine.states, x) < 0.02
    assert energy == pytest.approx(engine.energy["drivers"], rel=0.05)


def test_the_surrogate_agrees_with_ngspice_on_a_small_tile():
    preset = write_preset("levels32")
    rng = np.random.default_rng(2)
    update = _update(rng, 5, 4, bits=3)
    x, rows, columns, signs, _, _ = update
    program = coincidence_program(rows, columns, signs, preset.voltage, preset.width, t_edge=preset.t_edge)
    spice = write_ngspice(DynamicCrossbar(x, preset.device, 5.0, 5.0), program, v_read=preset.v_read)
    guess = _surrogate_states(load_write_surrogate(SHIPPED), preset, update, (5, 4), 5.0)
    assert _nrmse(guess, spice.final_states, x) < 0.02


def test_tile_geometry_counts_segments_from_each_tiles_drivers():
    geometry = TileGeometry(5, 7, 3, 4)  # tiles of 3 rows (then 2) and 4 columns (then 3)
    a = torch.rand(5, 7, dtype=torch.float64)
    word, bit = geometry.along_word(a), geometry.along_bit(a)
    for i in range(5):
        for j in range(7):
            c0, c1 = (0, 4) if j < 4 else (4, 7)
            expected = sum((min(j - c0, m - c0) + 1) * float(a[i, m]) for m in range(c0, c1))
            assert float(word[i, j]) == pytest.approx(expected)
            r0, r1 = (0, 3) if i < 3 else (3, 5)
            # the bit lines' drivers sit below each tile's last row
            expected = sum((min(r1 - 1 - i, r1 - 1 - k) + 1) * float(a[k, j]) for k in range(r0, r1))
            assert float(bit[i, j]) == pytest.approx(expected)


def _layer(seed: int = 0) -> DeviceLinear:
    return DeviceLinear(11, 6, write_preset("levels32"), generator=torch.Generator().manual_seed(seed))


def _pulse_step(layer: DeviceLinear, rule: UpdateRule, x: torch.Tensor, target: torch.Tensor) -> None:
    layer.zero_grad()
    loss = ((torch.sigmoid(layer(x)) - target) ** 2).sum()
    loss.backward()
    apply_rule(layer, rule)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_three_paths_write_the_same_updates(seed):
    generator = torch.Generator().manual_seed(seed)
    x = torch.rand(1, 11, dtype=torch.float64, generator=generator)
    target = torch.rand(1, 6, dtype=torch.float64, generator=generator)
    layers = {}
    for name, writes in (("rules", None), ("engine", EngineWrites(8, 0.0)), ("surrogate", SurrogateWrites(8, 0.0)),
                         ("engine 2", EngineWrites(8, 2.0)), ("surrogate 2", SurrogateWrites(8, 2.0))):
        layer = _layer()
        for _ in range(3):
            _pulse_step(layer, UpdateRule("pulse", 2.0, 10, writes=writes), x, target)
        layers[name] = layer
    start = _layer().g
    moved = (layers["rules"].g - start).abs()
    assert float(moved.max()) > 0
    # one sample a step, no wires: ideal writes, the engine and the surrogate agree
    torch.testing.assert_close(layers["engine"].g, layers["rules"].g, rtol=0, atol=1e-5 * float(moved.max()))
    torch.testing.assert_close(layers["surrogate"].g, layers["rules"].g, rtol=0, atol=1e-9 * float(moved.max()))
    # with wires the surrogate follows the engine within its accuracy; both moved less than ideal writes
    wired = (layers["engine 2"].g - start)
    error = (layers["surrogate 2"].g - layers["engine 2"].g).pow(2).mean().sqrt() / wired.pow(2).mean().sqrt()
    assert float(error) < 0.02
    # one step (the same δ and bit streams): every written cell moves less through the wires
    ideal, wired_once = _layer(), _layer()
    _pulse_step(ideal, UpdateRule("pulse", 2.0, 10), x, target)
    _pulse_step(wired_once, UpdateRule("pulse", 2.0, 10, writes=EngineWrites(8, 2.0)), x, target)
    step_ideal, step_wired = (ideal.g - start).abs(), (wired_once.g - start).abs()
    written = step_ideal > 0
    assert bool(written.any()) and bool((step_wired[written] < step_ideal[written]).all())
    assert layers["engine 2"].write_energy > 0 and layers["surrogate 2"].write_energy == pytest.approx(
        layers["engine 2"].write_energy, rel=0.1)


def test_binary_rule_counts_go_through_the_writes():
    from spicenn.nn.data import load_data
    from spicenn.nn.onchip import train_on_chip

    data = load_data("digits", 0)
    small = type(data)(**{**data.__dict__, "train": type(data.train)(data.train.x[:40], data.train.y[:40])})
    from spicenn.nn.learning import BinaryStochasticMLP

    ideal = BinaryStochasticMLP((64, 8, 10), write_preset("levels32"), seed=1)
    written = BinaryStochasticMLP((64, 8, 10), write_preset("levels32"), seed=1)
    train_on_chip(ideal, small, UpdateRule("binary"), 1, 10, 0)
    train_on_chip(written, small, UpdateRule("binary", writes=SurrogateWrites(64, 0.0)), 1, 10, 0)
    for a, b in zip(ideal.layers, written.layers):
        torch.testing.assert_close(a.g, b.g, rtol=0, atol=1e-12)  # no wires: the same pulses, exactly
        assert b.write_energy > 0 and a.write_energy == 0


def test_the_rules_path_is_unchanged_by_the_writes_machinery():
    # the rounding rule on DiscreteLevels: the same conductances as the rule computes alone
    layer = DeviceLinear(5, 3, DiscreteLevels(), generator=torch.Generator().manual_seed(4))
    reference = DeviceLinear(5, 3, DiscreteLevels(), generator=torch.Generator().manual_seed(4))
    x = torch.rand(4, 5, dtype=torch.float64)
    for current in (layer, reference):
        current.zero_grad()
        current(x).sum().backward()
    apply_rule(layer, UpdateRule("rounding", 0.5))
    desired = -0.5 * reference.weight.grad / reference.weight_step
    floor = torch.floor(desired)
    up = torch.rand(desired.shape, generator=reference.generator, dtype=torch.float64) < desired - floor
    expected = reference.model.pulse(reference.g, floor + up.double(), reference.steps, reference.generator)
    torch.testing.assert_close(layer.g, expected, rtol=0, atol=0)


def test_datasets_resume_and_refuse_another_setup(tmp_path):
    preset = write_preset("levels32")
    path = write_dataset(tmp_path / "d.h5", preset, cases=6, slots=2, tile=8, chunk=3)
    features, ratio = read_dataset(path)
    assert features.shape[1] == 7 and ratio.min() > 0.5 and ratio.max() <= 1.0 + 1e-12
    import h5py

    with h5py.File(path, "a") as h5:  # as if interrupted after the first chunk
        del h5["chunk00001"]
        h5.attrs["complete"] = False
    with pytest.raises(InputError, match="not complete"):
        read_dataset(path)
    write_dataset(path, preset, cases=6, slots=2, tile=8, chunk=3)
    again, _ = read_dataset(path)
    np.testing.assert_array_equal(again, features)  # the chunk is drawn from its own seed
    with pytest.raises(InputError, match="another dataset"):
        write_dataset(path, preset, cases=7, slots=2, tile=8, chunk=3)


def test_validation_reports_and_draws(tmp_path):
    report = validate_write_surrogate(load_write_surrogate(SHIPPED), write_preset("levels32"), updates=2, tile=12,
                                      bits=4, plot=tmp_path / "parity.png")
    assert report["pooled_nrmse"] < 0.02 and (tmp_path / "parity.png").stat().st_size > 1000
    shipped = json.loads((__import__("spicenn.shipped", fromlist=["x"]).write_surrogate(SHIPPED)).read_text())
    for preset in ("levels32", "soft-bounds"):  # the shipped model's own validation meets the targets
        assert shipped["validation"][preset]["pooled_nrmse"] <= 0.02
        assert shipped["validation"][preset]["worst_nrmse"] <= 0.05


def test_bad_inputs_are_refused_in_one_line(tmp_path):
    with pytest.raises(InputError, match="float rule has no devices"):
        UpdateRule("float", writes=SurrogateWrites())
    layer = DeviceLinear(3, 2, DiscreteLevels())
    layer(torch.rand(2, 3, dtype=torch.float64)).sum().backward()
    with pytest.raises(InputError, match="dynamic devices"):
        apply_rule(layer, UpdateRule("pulse", writes=SurrogateWrites()))
    signed = _layer()
    signed(-torch.rand(2, 11, dtype=torch.float64)).sum().backward()
    with pytest.raises(InputError, match="inputs ≥ 0"):
        apply_rule(signed, UpdateRule("pulse", writes=SurrogateWrites()))
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "other"}')
    with pytest.raises(InputError, match="not a write surrogate"):
        load_write_surrogate(bad)
    with pytest.raises(InputError, match="no shipped write surrogate"):
        load_write_surrogate("write-nothing")
    with pytest.raises(InputError, match="unknown write preset"):
        write_preset("levels64")
    with pytest.raises(InputError, match="thresholds"):
        write_preset("levels32", voltage=1.7)  # half of it would write half-selected cells
    result = run_cli("reproduce", "babu2017", "--quick", "--updates", "surrogate", "--device-file",
                     str(bad), "--out", str(tmp_path / "r"))
    assert result.returncode != 0 and len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr and "--device-file" in result.stderr
    assert not (tmp_path / "r").exists()  # nothing left behind


def test_a_paper_runs_with_surrogate_writes_from_one_command(tmp_path):
    from spicenn.reproduce import circuit_writes

    paper = circuit_writes.PAPERS["li2023"]
    s = {**circuit_writes.settings(paper, "surrogate", True), "epochs": 1, "seeds": 1, "wires": [1.0]}
    from spicenn.nn.data import load_data

    data = circuit_writes._subset(load_data("digits", 0), 200)
    entry = circuit_writes.train_case(paper.variants["levels32, binary stochastic"], s, data, SurrogateWrites(64, 1.0),
                                      0)
    assert entry["write_energy_per_step"] > 0 and entry["pulses_per_step"] > 0 and 0.0 <= entry["accuracy"] <= 1.0
    assert entry["write_energy_per_epoch"] == pytest.approx(entry["write_energy_per_step"] * entry["steps_per_epoch"])


def test_device_mlp_takes_dynamic_devices():
    model = DeviceMLP((4, 3, 2), write_preset("soft-bounds"), seed=0)
    before = [layer.g.clone() for layer in model.layers]
    count = model.layers[0].zero_shift(pulses=200)
    assert count == 200 and not torch.equal(before[0], model.layers[0].g_ref)


def test_li2023_with_surrogate_writes_runs_from_one_command_and_resumes(tmp_path):
    out = tmp_path / "li"
    done = run_cli("reproduce", "li2023", "--quick", "--updates", "surrogate", "--json", "--out", str(out))
    assert done.returncode == 0, done.stderr
    payload = json.loads(done.stdout)
    rows = payload["summary"]["levels32, binary stochastic"]
    assert set(rows) == {"ideal writes (rules)", "surrogate, 0 Ω", "surrogate, 1 Ω", "surrogate, 5 Ω"}
    assert all(rows[k]["write_energy_per_step"] > 0 for k in rows if k.startswith("surrogate"))
    assert (out / "li2023.png").stat().st_size > 1000
    saved = json.loads((out / "results.json").read_text())
    key = next(k for k in saved["runs"] if "/surrogate/5/" in k)
    kept = {k: v for k, v in saved["runs"].items() if k != key}
    (out / "results.json").write_text(json.dumps({**saved, "runs": kept}))  # as if interrupted before it
    again = run_cli("reproduce", "li2023", "--quick", "--updates", "surrogate", "--out", str(out))
    assert again.returncode == 0, again.stderr
    resumed = json.loads((out / "results.json").read_text())["runs"]
    assert set(resumed) == set(saved["runs"])
    assert all(resumed[k] == v for k, v in kept.items())  # the finished networks were not trained again
    assert resumed[key]["accuracy"] == saved["runs"][key]["accuracy"]  # seeded: the same network again


def test_the_write_surrogate_command_refuses_bad_names_and_foreign_datasets(tmp_path):
    for name in ("../escape", "a/b", "", "."):
        done = run_cli("surrogate", "write", str(tmp_path / "o"), "--cases", "2", "--updates", "1", "--name", name)
        assert done.returncode != 0 and "name" in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "o").exists() and not (tmp_path / "escape.json").exists()
    (tmp_path / "c").mkdir()
    corrupt = tmp_path / "c" / "dataset-levels32.h5"
    corrupt.write_text("not hdf5")
    done = run_cli("surrogate", "write", str(tmp_path / "c"), "--cases", "2", "--updates", "1")
    assert done.returncode != 0 and "not an HDF5 write dataset" in done.stderr
    assert corrupt.read_text() == "not hdf5"  # nothing replaced
    for bad in (tmp_path, tmp_path / "c" / "missing.json"):
        with pytest.raises(InputError, match="write surrogate file"):
            load_write_surrogate(bad)
