"""Grouped and depthwise convolutions packed onto shared tiles: the groups of a core on its
diagonal, one bias row shared, the idle cells at G_off in the circuit (checked in ngspice)
and held at 0 through training; fewer tiles, the same results and the same operation count."""

from __future__ import annotations

import torch
from torch import nn

from spicenn.nn import CrossbarConfig, calibrate, convert, model_energy
from spicenn.nn import conv as conv_module

SINH = CrossbarConfig(device="sinh", g_off=1e-6, g_on=1e-4, tile_rows=32, tile_columns=32, r_word=1.0, r_bit=1.0)


def test_packed_groups_compute_what_torch_computes_on_fewer_tiles():
    torch.manual_seed(0)
    cases = [(nn.Conv2d(12, 12, 3, groups=12, padding=1), (7, 7), 3),  # depthwise: 31 rows // 9 = 3 a core
             (nn.Conv2d(8, 16, 1, groups=4, bias=False), (5, 5), 4),  # grouped 1x1: 2 rows, 8 columns a group
             (nn.Conv1d(6, 6, 3, groups=3), (9,), 3)]
    for layer, spatial, per_core in cases:
        layer = layer.double()
        analog = convert(layer, SINH).double()
        converted = analog.model
        assert converted.groups_per_core == per_core
        assert len(converted.cores) == -(-layer.groups // per_core)
        x = torch.randn(2, layer.in_channels, *spatial, dtype=torch.float64)
        calibrate(analog, x, percentile=100)  # nothing clipped
        assert torch.allclose(analog(x), layer(x), rtol=1e-12, atol=1e-12)
        # every weight is a device pair: as many as the unpacked layer's
        assert converted.synapses == layer.weight.numel() + (0 if layer.bias is None else layer.out_channels)


def test_idle_cells_are_in_the_circuit_and_stay_at_g_off_through_training():
    torch.manual_seed(1)
    depthwise = nn.Conv2d(6, 6, 3, groups=6).double()
    analog = convert(depthwise, SINH, backend="circuit").double()
    x = torch.rand(2, 6, 5, 5, dtype=torch.float64)
    calibrate(analog, x)
    core = analog.model.cores[0]
    mask = core.weight_mask.bool()
    assert not bool(mask.all())
    before = core.signed_weights().detach().clone()
    optimiser = torch.optim.SGD(analog.parameters(), lr=1e-3)
    for _ in range(2):
        optimiser.zero_grad()
        analog(x).square().sum().backward()
        optimiser.step()
        for layer in analog.crossbar_layers():
            layer.clamp_()  # double weights stay non-negative (what a training loop does)
    assert not torch.equal(core.signed_weights().detach()[mask], before[mask])  # the blocks trained
    g = core.target_conductances()
    idle = ~mask.repeat_interleave(2, 1)  # G+ and G- columns of each output
    assert torch.all(g[idle] == SINH.g_off)
    # the packed tile solved by ngspice, idle cells and wires included, equals the native solver
    with torch.no_grad():
        circuit = analog(x[:1])
        analog.set_backend("spice")
        spice = analog(x[:1])
    assert torch.allclose(circuit, spice, rtol=1e-7, atol=1e-9 * float(spice.abs().max()))


def test_packing_changes_tiles_not_operations(monkeypatch):
    torch.manual_seed(2)
    model = nn.Sequential(nn.Conv2d(3, 24, 1), nn.ReLU(), nn.Conv2d(24, 24, 3, groups=24, padding=1))
    x = torch.rand(1, 3, 6, 6)
    packed = convert(model, SINH)
    calibrate(packed, x)
    monkeypatch.setattr(conv_module, "packed_groups", lambda *arguments: 1)
    unpacked = convert(model, SINH)
    calibrate(unpacked, x)
    tiles = [sum(layer.tiles for layer in analog.report.converted) for analog in (packed, unpacked)]
    assert tiles == [2 + 8, 2 + 24]  # the 1x1 layer: 48 columns on two tiles; depthwise: 3 groups a tile
    energies = [model_energy(analog, x, backend="ideal").layers[1] for analog in (packed, unpacked)]
    assert energies[0].ops == energies[1].ops == 36 * 24 * 2 * 10
    # the idle devices leak: the packed layer's arrays draw energy of their own, the same order
    assert 0.2 < energies[0].energy_j["devices"] / energies[1].energy_j["devices"] < 5
