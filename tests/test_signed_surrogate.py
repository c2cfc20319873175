"""Signed inputs on the surrogate: the resummation for currents that cancel, datasets of
signed voltages, the shipped surrogate of the command line's defaults held to the exact
circuit on fresh signed cases, and a surrogate that cannot take a layer's range refused
before anything runs."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch
from torch import nn

from spicenn.circuit import circuit_currents
from spicenn.errors import InputError
from spicenn.nn import CrossbarConfig, calibrate, convert
from spicenn.shipped import DEFAULT_SURROGATE
from spicenn.surrogate import DatasetSpec
from spicenn.surrogate.model import CrossbarSurrogate
from spicenn.surrogate.physics import resum
from spicenn.surrogate.sampling import sample_case


def test_resummation_is_the_unsigned_one_where_signs_agree_and_bounded_where_they_cancel():
    rng = np.random.default_rng(0)
    i0 = rng.uniform(1e-6, 1e-4, 1000)
    loss = i0 * rng.uniform(0, 0.3, 1000)
    assert np.allclose(resum(i0, loss, np), i0 * i0 / (i0 + loss), rtol=1e-13)
    assert np.allclose(resum(-i0, -loss, np), -(i0 * i0 / (i0 + loss)), rtol=1e-13)
    # a column whose currents cancel: I0 = 0 with a loss left, and opposite signs
    assert resum(np.zeros(1), np.full(1, 1e-7), np)[0] == pytest.approx(-1e-7)
    assert resum(np.full(1, 1e-6), np.full(1, -1e-8), np)[0] == pytest.approx(1e-6 + 1e-8)
    torch_out = resum(torch.as_tensor(i0), torch.as_tensor(loss), torch).numpy()
    assert np.allclose(torch_out, resum(i0, loss, np), rtol=1e-15)


def test_signed_datasets_sample_both_signs():
    spec = DatasetSpec(rows=8, columns=4, v_max=0.5, v_min=-0.5, cases=1, vectors=64)
    _, v = sample_case(spec, 0)
    assert v.min() < -0.3 and v.max() > 0.3 and spec.signed
    assert not DatasetSpec(rows=8, columns=4, cases=1).signed
    with pytest.raises(InputError, match="v_min"):
        DatasetSpec(rows=8, columns=4, v_max=0.5, v_min=-0.6)


def test_the_shipped_default_surrogate_equals_the_circuit_on_fresh_signed_cases():
    model = CrossbarSurrogate.load(DEFAULT_SURROGATE)
    config = model.config
    hardware = CrossbarConfig(device="powerlaw-high", tile_rows=64, tile_columns=64, r_word=1.0, r_bit=1.0)
    assert (config.rows, config.device, config.r_word, config.v_min) == (64, hardware.device, 1.0, -0.5)
    spec = DatasetSpec(**{**config.tile(), "v_min": -0.5}, cases=3, vectors=16, seed=99)
    errors = []
    for case in range(3):
        g, v = sample_case(spec, case)
        v[np.random.default_rng(case).random(v.shape) < 0.5] *= 0.1  # some rows near 0 V
        g_t, v_t = torch.as_tensor(g), torch.as_tensor(v)
        truth = circuit_currents(v_t[None], g_t[None], model.device_model, 1.0, 1.0,
                                 {k: torch.as_tensor(c)[None] for k, c in model.cell.items()})[0]
        with torch.no_grad():
            predicted = model(v_t, g_t).double()
        errors.append(float((predicted - truth).square().mean().sqrt() / truth.square().mean().sqrt()))
    assert max(errors) < 0.005, errors  # the device-only model is off by ~0.3-0.8 % here


def test_a_surrogate_that_cannot_take_a_layers_range_is_refused_before_it_runs(tmp_path):
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(6, 4), nn.Linear(4, 3))  # the second layer sees signed inputs
    model_file = CrossbarSurrogate.load(DEFAULT_SURROGATE)
    unsigned = dataclasses.replace(model_file.config, v_min=0.0)
    path = tmp_path / "unsigned.pt"
    CrossbarSurrogate(unsigned).save(path)
    hardware = CrossbarConfig(device="powerlaw-high", tile_rows=64, tile_columns=64, r_word=1.0, r_bit=1.0,
                              surrogate=str(path))
    analog = convert(model, hardware, backend="surrogate")
    calibrate(analog, torch.rand(32, 6))
    first, second = analog.crossbar_layers()
    assert not first.signed_inputs and second.signed_inputs
    first.surrogate_model()  # inputs >= 0: the unsigned surrogate serves
    with pytest.raises(InputError, match=r"'1' uses .* V in \[-0.5, 0.5\] V .*signed voltages"):
        second.surrogate_model()
    signed = convert(model, dataclasses.replace(hardware, surrogate=DEFAULT_SURROGATE), backend="surrogate")
    calibrate(signed, torch.rand(32, 6))
    x = torch.rand(8, 6)
    with torch.no_grad():
        on_surrogate = signed(x)
        signed.set_backend("circuit")
        on_circuit = signed(x)
    assert torch.allclose(on_surrogate.double(), on_circuit.double(), rtol=0, atol=1e-3 * on_circuit.abs().max())
