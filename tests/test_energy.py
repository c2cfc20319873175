"""Energy per MVM and TOPS/W: from the circuit, with peripherals, for a crossbar and a network."""

import itertools
import json

import nodal
import numpy as np
import pytest
from clirun import run_cli

from spicenn.crossbar import Crossbar, DifferentialMapping
from spicenn.crossbar.config import CrossbarConfig
from spicenn.devices import get_device
from spicenn.energy import Peripherals, crossbar_energy, load_config, network_energy, programmed_layers, pulse_energies
from spicenn.energy.network import Layer
from spicenn.energy.transient import charging_energies
from spicenn.errors import InputError
from spicenn.netlist import ReadPulse
from spicenn.solvers import simulate

NO_PERIPHERALS = Peripherals(dac_energy=0.0, adc_fom=0.0, tia_energy=0.0)


def test_linear_crossbar_energy_is_t_read_sum_g_v_squared(rng):
    g = rng.uniform(1e-6, 1e-4, (8, 5))
    v = rng.uniform(-0.5, 0.5, (6, 8))
    report = crossbar_energy(Crossbar(g), v, Peripherals(t_read=50e-9))
    expected = 50e-9 * np.mean((v**2) @ g.sum(axis=1))
    assert abs(report.energy_j["crossbar"] / expected - 1) < 1e-9
    assert report.ops == 2 * 8 * 5
    assert report.tops_per_w["crossbar"] == pytest.approx(80 / expected / 1e12, rel=1e-9)


def test_energy_parts_equal_an_independent_nodal_solve(rng):
    """Every array part from the node voltages of tests/nodal.py (its own formulas), by hand."""
    m, n, k = 5, 4, 3.0
    g = rng.uniform(1e-5, 1e-3, (m, n))
    r_word, r_bit, r_source = 2.0, 3.0, 5.0
    v = rng.uniform(0.05, 0.5, (3, m))
    peripherals = Peripherals(t_read=50e-9, dac_energy=1e-12, adc_fom=10e-15, adc_bits=6, tia_energy=2e-15)
    report = crossbar_energy(Crossbar(g, get_device("sinh", k=k), r_word=r_word, r_bit=r_bit, r_source=r_source),
                             v, peripherals)
    parts = {"devices": [], "word_lines": [], "bit_lines": [], "driver_resistance": []}
    for vector in v:
        _, word, bit = nodal.solve(nodal.iv_sinh(g, k), vector, r_word, r_bit, r_source)
        across = word - bit
        device_current = g * np.sinh(k * across) / k
        row_current = device_current.sum(axis=1)  # what each driver delivers
        driver_node = vector - row_current * r_source
        word_drops = np.diff(np.concatenate([driver_node[:, None], word], axis=1), axis=1)
        bit_drops = np.diff(np.concatenate([bit, np.zeros((1, n))], axis=0), axis=0)
        parts["devices"].append(np.sum(across * device_current))
        parts["word_lines"].append(np.sum(word_drops ** 2) / r_word)
        parts["bit_lines"].append(np.sum(bit_drops ** 2) / r_bit)
        parts["driver_resistance"].append(np.sum(row_current ** 2) * r_source)
    for part, powers in parts.items():
        assert report.energy_j[part] == pytest.approx(50e-9 * np.mean(powers), rel=1e-6), part
    assert report.energy_j["dac"] == pytest.approx(1e-12 * m)
    assert report.energy_j["adc"] == pytest.approx(10e-15 * 2**6 * n)
    assert report.energy_j["tia"] == pytest.approx(2e-15 * n)
    crossbar_energy_by_hand = 50e-9 * sum(np.mean(p) for p in parts.values())
    total_by_hand = crossbar_energy_by_hand + 1e-12 * m + (10e-15 * 64 + 2e-15) * n
    assert report.tops_per_w["crossbar"] == pytest.approx(2 * m * n / crossbar_energy_by_hand / 1e12, rel=1e-6)
    assert report.tops_per_w["system"] == pytest.approx(2 * m * n / total_by_hand / 1e12, rel=1e-6)


def test_wire_dissipation_is_zero_without_wires_and_grows_with_resistance(rng):
    g = rng.uniform(1e-5, 1e-3, (6, 6))
    v = rng.uniform(0, 0.5, (2, 6))
    wire_energy = []
    for r in (0.0, 0.5, 2.0, 8.0):
        e = crossbar_energy(Crossbar(g, r_word=r, r_bit=r), v).energy_j
        wire_energy.append(e["word_lines"] + e["bit_lines"])
    assert wire_energy[0] == 0.0
    assert all(a < b for a, b in itertools.pairwise(wire_energy))


def test_transient_read_without_capacitance_equals_dc(rng):
    """Linear devices: a trapezoid pulse delivers P_dc · (width + (rise + fall)/3)."""
    g = rng.uniform(1e-6, 1e-4, (5, 4))
    crossbar = Crossbar(g, r_word=1.0, r_bit=1.0)
    v = rng.uniform(0, 0.5, (3, 5))
    pulse = ReadPulse(t_width=50e-9, t_rise=1e-12, t_fall=1e-12, t_gap=10e-9)
    energies = pulse_energies(crossbar, v, pulse)
    dc_power = simulate(crossbar, v).power
    np.testing.assert_allclose(energies, dc_power * (50e-9 + 2e-12 / 3), rtol=1e-6)


def test_line_capacitance_shows_as_its_own_part_and_grows_with_c(rng):
    crossbar = Crossbar(rng.uniform(1e-6, 1e-4, (4, 4)), r_word=5.0, r_bit=5.0, r_source=200.0)
    v = rng.uniform(0.2, 0.5, (2, 4))
    parts = []
    for c in (0.0, 1e-13, 4e-13):
        pulse = ReadPulse(t_width=20e-9, t_rise=0.1e-9, t_fall=0.1e-9, c_word=c, c_bit=c)
        parts.append(crossbar_energy(crossbar, v, NO_PERIPHERALS, pulse).energy_j)
    assert abs(parts[0]["capacitive"]) < 1e-6 * parts[0]["crossbar"]
    assert 0 < parts[1]["capacitive"] < parts[2]["capacitive"]


def test_line_charging_is_c_v_squared_of_a_line_charged_and_discharged():
    """One word line of 6 nearly open cells (1 pS devices), 1 ohm segments, 2 fF per segment,
    driven to 0.4 V: every word node charges to the full 0.4 V and back, so a read costs
    6 · 2 fF · 0.4² (the bit nodes stay at ~0 V and add ~nothing)."""
    crossbar = Crossbar(np.full((1, 6), 1e-12), r_word=1.0, r_bit=1.0)
    pulse = ReadPulse(t_width=20e-9, t_rise=0.5e-9, t_fall=0.5e-9, t_gap=5e-9, c_word=2e-15, c_bit=2e-15)
    energies = charging_energies(crossbar, np.array([[0.4], [0.2]]), pulse)
    # to the transient's own accuracy (the trapezoid rule overshoots a corner by a few ppm)
    np.testing.assert_allclose(energies, 6 * 2e-15 * np.array([0.4, 0.2]) ** 2, rtol=2e-5)


@pytest.mark.slow
def test_line_charging_is_positive_and_grows_with_c_on_a_64x64_tile(rng):
    """The case that came out negative (−7e-14 J) when it was the difference of two transients."""
    crossbar = Crossbar(rng.uniform(1e-6, 1e-4, (64, 64)), device="sinh", r_word=1.0, r_bit=1.0)
    v = rng.uniform(0, 0.5, (1, 64))
    values = []
    for c in (1e-16, 4e-16):
        pulse = ReadPulse(t_width=20e-9, t_rise=1e-9, t_fall=1e-9, t_gap=5e-9, c_word=c, c_bit=c)
        values.append(float(charging_energies(crossbar, v, pulse)[0]))
    assert values[0] > 0 and values[1] == pytest.approx(4 * values[0], rel=1e-3)
    # bounded by every node at the largest input: 2 · 64 · 64 · C · max(V)²
    assert values[0] < 2 * 64 * 64 * 1e-16 * float(v.max()) ** 2


def test_peripheral_arithmetic_by_hand():
    p = Peripherals(dac_energy=1e-12, adc_fom=10e-15, adc_bits=6, tia_energy=2e-15, input_bits=4, weight_slices=2)
    e = p.energies(rows=10, columns=3)
    assert e["dac"] == pytest.approx(1e-12 * 10 * 8)
    assert e["adc"] == pytest.approx(10e-15 * 64 * 3 * 8)
    assert e["tia"] == pytest.approx(2e-15 * 3 * 8)
    table = Peripherals(adc_bits=6, adc_table={6: 3e-12, 8: 9e-12})
    assert table.adc_conversion_energy() == 3e-12
    with pytest.raises(InputError, match="no entry"):
        Peripherals(adc_bits=7, adc_table={6: 3e-12}).adc_conversion_energy()


def test_bit_serial_inputs_multiply_reads_not_ops(rng):
    g = rng.uniform(1e-6, 1e-4, (4, 4))
    v = rng.uniform(0, 0.5, (2, 4))
    one = crossbar_energy(Crossbar(g), v, Peripherals())
    four = crossbar_energy(Crossbar(g), v, Peripherals(input_bits=4))
    assert four.ops == one.ops
    assert four.energy_j["crossbar"] == pytest.approx(4 * one.energy_j["crossbar"], rel=1e-12)
    assert four.energy_j["adc"] == pytest.approx(4 * one.energy_j["adc"], rel=1e-12)


def test_a_config_file_overrides_defaults_and_round_trips(tmp_path):
    path = tmp_path / "p.toml"
    path.write_text("[peripherals]\nt_read = 1e-8\nadc_bits = 5\nadc_table = { 5 = 1e-12 }\n")
    p = load_config(path)
    assert p.t_read == 1e-8 and p.adc_bits == 5 and p.adc_conversion_energy() == 1e-12
    assert p.dac_energy == Peripherals().dac_energy
    path.write_text(p.to_toml())
    assert load_config(path) == p


@pytest.mark.parametrize("text, message", [
    ("[peripherals]\nadc_fom_typo = 1\n", "unknown key 'adc_fom_typo'"),
    ("[periphrals]\nt_read = 1\n", "unknown table"),
    ("[peripherals]\ndac_energy = -1e-12\n", "must be >= 0"),
    ("[peripherals]\nadc_bits = 0\n", "whole number from 1 to 24"),
    ("[peripherals]\nt_read = 'fast'\n", "must be a number"),
    ("[peripherals\n", "not valid TOML"),
])
def test_bad_configs_are_clear_errors(tmp_path, text, message):
    path = tmp_path / "p.toml"
    path.write_text(text)
    with pytest.raises(InputError, match=message):
        load_config(path)


def test_network_energy_counts_ops_and_sums_layers(rng):
    layers = [Layer(rng.normal(0, 1, (6, 4)), rng.normal(0, 0.1, 4)), Layer(rng.normal(0, 1, (4, 3)), None)]
    x = rng.uniform(0, 1, (5, 6))
    energy = network_energy(programmed_layers(layers, 1e-6, 1e-4), x, CrossbarConfig(device="linear"))
    reports, total = energy.layers, energy.total
    assert [r.ops for r in reports] == [2 * (24 + 4), 2 * 12]
    assert total.ops == sum(r.ops for r in reports)
    assert total.energy_j["total"] == pytest.approx(sum(r.energy_j["total"] for r in reports))
    # layer 0 on linear devices without wires: energy from the mapping by hand
    mapping = DifferentialMapping.fit(layers[0].weights, 1e-6, 1e-4, 0.5, layers[0].biases)
    g = mapping.conductances(layers[0].weights, layers[0].biases)
    expected = 50e-9 * np.mean((mapping.voltages(x) ** 2) @ g.sum(axis=1))
    assert reports[0].energy_j["crossbar"] == pytest.approx(expected, rel=1e-9)


def test_tiled_network_energy_counts_every_tile_and_its_padding(rng):
    """A 7-input, 5-output layer (8 x 10 devices) on 3 x 4 tiles: 3 x 3 tiles of which the last
    ones are padded with G_off devices on 0 V rows; by hand on the padded grid."""
    weights, biases = rng.normal(0, 1, (7, 5)), rng.normal(0, 0.1, 5)
    x = rng.uniform(0, 1, (4, 7))
    peripherals = Peripherals(dac_energy=1e-12, adc_fom=10e-15, adc_bits=6, tia_energy=2e-15)
    (layer,) = programmed_layers([Layer(weights, biases)], 1e-6, 1e-4, tile_rows=3, tile_columns=4)
    assert (layer.grid.row_tiles, layer.grid.column_tiles) == (3, 3)
    energy = network_energy([layer], x, CrossbarConfig(device="linear", peripherals=peripherals))
    (report,), total = energy.layers, energy.total
    mapping = DifferentialMapping.fit(weights, 1e-6, 1e-4, 0.5, biases)
    g = np.full((9, 12), 1e-6)
    g[:8, :10] = mapping.conductances(weights, biases)
    v = np.zeros((4, 9))
    v[:, :8] = mapping.voltages(x)
    assert report.energy_j["devices"] == pytest.approx(50e-9 * np.mean((v**2) @ g.sum(axis=1)), rel=1e-9)
    assert report.energy_j["dac"] == pytest.approx(9 * 1e-12 * 3)  # each tile drives its 3 rows
    assert report.energy_j["adc"] == pytest.approx(9 * 10e-15 * 64 * 4)
    assert report.ops == total.ops == 2 * 8 * 5
    # one tile spanning the layer: one DAC per row
    (untiled,) = network_energy(programmed_layers([Layer(weights, biases)], 1e-6, 1e-4), x,
                                CrossbarConfig(device="linear", peripherals=peripherals)).layers
    assert untiled.energy_j["dac"] == pytest.approx(8 * 1e-12)




def test_cli_energy_json_and_plot(tmp_path, rng):
    np.save(tmp_path / "G.npy", rng.uniform(1e-6, 1e-4, (6, 4)))
    np.save(tmp_path / "V.npy", rng.uniform(0, 0.5, (3, 6)))
    done = run_cli("energy", "-g", tmp_path / "G.npy", "-v", tmp_path / "V.npy", "-d", "sinh", "--r-word", "1",
                   "--r-bit", "1", "--json", "--plot", tmp_path / "e.png")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert set(report) >= {"ops", "energy_j", "tops_per_w"}
    assert set(report["energy_j"]) >= {"devices", "word_lines", "bit_lines", "capacitive", "dac", "adc", "tia",
                                       "crossbar", "total"}
    assert report["tops_per_w"]["crossbar"] > report["tops_per_w"]["system"] > 0
    assert (tmp_path / "e.png").read_bytes()[:4] == b"\x89PNG"


def test_cli_network_energy_and_bad_config(tmp_path, rng):
    np.savez(tmp_path / "net.npz", W0=rng.normal(0, 1, (6, 4)), b0=rng.normal(0, 1, 4), W1=rng.normal(0, 1, (4, 2)))
    np.save(tmp_path / "X.npy", rng.uniform(0, 1, (4, 6)))
    done = run_cli("network-energy", "-n", tmp_path / "net.npz", "-x", tmp_path / "X.npy", "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["ops"] == 2 * (24 + 4 + 8) and len(report["layers"]) == 2
    (tmp_path / "bad.toml").write_text("[peripherals]\nadc_energy = 1\n")
    done = run_cli("network-energy", "-n", tmp_path / "net.npz", "-x", tmp_path / "X.npy", "--config",
                   tmp_path / "bad.toml")
    assert done.returncode != 0 and len(done.stderr.strip().splitlines()) == 1 and "adc_energy" in done.stderr


def test_network_from_a_torch_state_dict_matches_the_npz(tmp_path, rng):
    import torch

    from spicenn.energy import load_layers

    model = torch.nn.Sequential(torch.nn.Linear(5, 3), torch.nn.Sigmoid(), torch.nn.Linear(3, 2))
    torch.save(model.state_dict(), tmp_path / "net.pt")
    layers = load_layers(tmp_path / "net.pt")
    assert [layer.weights.shape for layer in layers] == [(5, 3), (3, 2)]
    np.testing.assert_allclose(layers[0].weights, model[0].weight.detach().double().numpy().T)
    np.testing.assert_allclose(layers[1].biases, model[2].bias.detach().double().numpy())
    with pytest.raises(InputError, match="does not exist"):
        load_layers(tmp_path / "missing.pt")
    (tmp_path / "junk.pt").write_bytes(b"not a model")
    with pytest.raises(InputError, match=r"neither an \.npz nor a torch state_dict"):
        load_layers(tmp_path / "junk.pt")


def test_training_step_energy_counts_every_read_conversion_and_operation():
    """A 2-3-1 network priced at one joule per item of each kind, so each part is its count."""
    from spicenn.energy.peripherals import Peripherals
    from spicenn.energy.training import TrainingCosts, high_precision_multiplications, training_step_energy

    unit = Peripherals(dac_energy=1.0, adc_fom=1.0, adc_bits=3, tia_energy=0.0, t_read=1.0)
    costs = TrainingCosts(peripherals=unit, signal_bits=4, v_read=1.0, multiply=1.0, add=1.0, counter_add=1.0,
                          memory_access=1.0, random_number=1.0, pulse_voltage=1.0, pulse_time=1.0)
    sizes = (2, 3, 1)  # arrays 3x3 and 4x1 (bias rows): 13 weights; one hidden W^T·δ of 3 products
    assert high_precision_multiplications(sizes) == 1 + (3 + 3) + 13
    cmos = training_step_energy(sizes, "cmos back-propagation", costs, batch_size=10)
    assert cmos == pytest.approx({"multiplications": 13 + 20, "additions": 13 + 3 + 13, "memory": 13 + 3 + 2.6})
    bp = training_step_energy(sizes, "memristive back-propagation", costs, pulses_per_sample=7, g_mean=0.5,
                              batch_size=10, activity=(0.25, 1.0))
    # 4-bit signals read bit-serially: forward 3 + 4 rows driven, backward 1 column; 3 + 1 + 3 conversions of 2^3
    assert bp["drivers (DACs)"] == 4 * (3 + 4 + 1)
    assert bp["converters (ADCs, comparators)"] == 4 * (3 + 1 + 3) * 8
    # devices and references (2 per weight) at 0.5 S, 1 V, 1 s, per read, by the rows' activity
    assert bp["array reads (devices)"] == pytest.approx(4 * (2 * 9 * 0.5 * 0.25 + 2 * (2 * 4 * 0.5 * 1.0)))
    assert bp["programming pulses"] == pytest.approx(7 * 0.5)
    assert bp["multiplications"] == 20 and bp["random numbers"] == pytest.approx(1.3)
    binary = training_step_energy(sizes, "binary stochastic", costs, pulses_per_sample=7, g_mean=0.5, batch_size=10)
    assert binary["drivers (DACs)"] == 3 + 4 + 1 and binary["converters (ADCs, comparators)"] == (3 + 1 + 3) * 2
    assert "multiplications" not in binary and binary["update counts"] == 13
    assert binary["random numbers"] == pytest.approx(2 + 2 * 3 + 1.3)
    with pytest.raises(InputError, match="unknown algorithm"):
        training_step_energy(sizes, "adam")
