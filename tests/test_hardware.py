"""One hardware object: the conductance-range policy, the read-out and its ADC energy, the
peripherals carried by the configuration, and one network-energy result type."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from spicenn.crossbar.config import DEFAULT_G_OFF, DEFAULT_G_ON, CrossbarConfig, conductance_range
from spicenn.crossbar.peripherals import Peripherals
from spicenn.devices import get_device
from spicenn.energy.network import file_network_energy
from spicenn.energy.report import NetworkEnergy, tops_per_w
from spicenn.errors import InputError
from spicenn.nn.model_energy import model_energy
from spicenn.nn.network import CrossbarMLP
from spicenn.surrogate.sampling import DatasetSpec


def test_one_conductance_range_policy_for_layers_datasets_and_energy(tmp_path, rng):
    for device in (get_device("linear"), get_device("sinh"), get_device("powerlaw-high")):
        expected = (device.g_off or DEFAULT_G_OFF, device.g_on or DEFAULT_G_ON)
        assert conductance_range(device) == expected
        hardware = CrossbarConfig(device=device)
        assert (hardware.g_off, hardware.g_on) == expected
        spec = DatasetSpec.for_device(device, rows=4, columns=4)
        assert (spec.g_off, spec.g_on) == expected
    assert conductance_range(get_device("linear"), 2e-6, None) == (2e-6, DEFAULT_G_ON)
    with pytest.raises(InputError, match="g_on"):
        conductance_range(get_device("linear"), 1e-4, 1e-5)
    # a weight file's energy on a model without a preset range: the same policy, not a refusal
    np.savez(tmp_path / "net.npz", W0=rng.normal(0, 1, (5, 3)))
    energy = file_network_energy(tmp_path / "net.npz", rng.uniform(0, 1, (2, 5)), CrossbarConfig(device="sinh"))
    assert isinstance(energy, NetworkEnergy) and energy.total.ops == 2 * 5 * 3


def test_the_adc_energy_counted_is_that_of_the_read_out_simulated():
    """4-bit read-out -> 4-bit ADC energy, whatever the peripherals' own bit count says."""
    fom = 10e-15
    hardware = CrossbarConfig(device="linear", g_off=1e-6, g_on=1e-4, adc_bits=4,
                              peripherals=Peripherals(adc_fom=fom, adc_bits=8))
    assert hardware.peripherals.adc_bits == 4 and hardware.energy_peripherals().adc_bits == 4
    assert hardware.energy_peripherals(Peripherals(adc_bits=8)).adc_bits == 4
    model = CrossbarMLP((6, 3), hardware, seed=0)
    x = torch.rand(4, 6, generator=torch.Generator().manual_seed(0))
    energy = model_energy(model, x, engine="native", backend="device")
    columns = 2 * 3  # G+ and G- per output, one tile
    assert energy.total.energy_j["adc"] == pytest.approx(fom * 2**4 * columns, rel=1e-12)
    exact = CrossbarConfig(device="linear", g_off=1e-6, g_on=1e-4, peripherals=Peripherals(adc_fom=fom))
    energy8 = model_energy(CrossbarMLP((6, 3), exact, seed=0), x, engine="native", backend="device")
    assert energy8.total.energy_j["adc"] == pytest.approx(fom * 2**8 * columns, rel=1e-12)


def test_peripherals_travel_with_the_configuration_and_round_trip():
    hardware = CrossbarConfig(device="sinh", peripherals={"t_read": 20e-9, "adc_table": {"6": 1e-12}})
    assert hardware.peripherals == Peripherals(t_read=20e-9, adc_table={6: 1e-12})
    assert CrossbarConfig.from_dict(hardware.to_dict()) == hardware
    assert "peripherals" not in CrossbarConfig(device="sinh").to_dict()  # old configurations unchanged
    with pytest.raises(InputError, match="unknown key 'adc_energy'"):
        CrossbarConfig(peripherals={"adc_energy": 1.0})


def test_the_paper_convention_has_one_rate_function_that_survives_zero_energy():
    assert tops_per_w(2_000_000_000_000, 1.0) == 2.0
    assert tops_per_w(10, 0.0) == float("inf")
