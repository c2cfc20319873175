"""More of the network on crossbars: the gate matrices of nn.RNN/LSTM/GRU (the recurrence
digital), 3-D and transposed convolutions (a stride-1 convolution of the zero-stuffed input
with the flipped kernels). Each equals torch on the ideal backend in float64; the gates run on
the circuit backend with gradients and agree with ngspice; an LSTM classifier goes through
`spicenn analyze`."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from training import analyze_digits_model

from spicenn.nn import CrossbarConfig, calibrate, convert
from spicenn.nn.recurrent import CrossbarRecurrent

SINH = CrossbarConfig(device="sinh", g_off=1e-6, g_on=1e-4, tile_rows=16, tile_columns=16, r_word=1.0, r_bit=1.0)


def _gap(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a - b).detach().abs().max() / b.detach().abs().max())


RECURRENT = [(nn.LSTM, {"num_layers": 2, "bidirectional": True, "batch_first": True}),
             (nn.LSTM, {"num_layers": 2, "proj_size": 3}),
             (nn.GRU, {"num_layers": 2, "bidirectional": True}),
             (nn.GRU, {"bias": False}),
             (nn.RNN, {"nonlinearity": "relu", "batch_first": True}),
             (nn.RNN, {"num_layers": 3})]


@pytest.mark.parametrize("kind,options", RECURRENT, ids=[f"{k.__name__}-{i}" for i, (k, _) in enumerate(RECURRENT)])
def test_recurrent_layers_equal_torch_on_the_ideal_backend(kind, options):
    torch.manual_seed(0)
    module = kind(5, 7, **options).double().eval()
    analog = convert(module, SINH)
    converted = analog.model
    assert isinstance(converted, CrossbarRecurrent)
    directions = 2 if options.get("bidirectional") else 1
    per_direction = 3 if options.get("proj_size") else 2
    assert len(analog.crossbar_layers()) == options.get("num_layers", 1) * directions * per_direction
    x = torch.randn(4, 6, 5).double()
    hidden = options.get("proj_size", 7)
    h0 = torch.randn(options.get("num_layers", 1) * directions, 6 if not options.get("batch_first") else 4,
                     hidden).double()
    state = (h0, torch.randn(*h0.shape[:2], 7).double()) if kind is nn.LSTM else h0
    for args in ((x,), (x, state), (x[:, 0],)):  # with and without an initial state; one unbatched sequence
        expected, expected_state = module(*args)
        got, got_state = analog(*args)
        assert _gap(got, expected) < 1e-12
        for a, b in zip(got_state if kind is nn.LSTM else [got_state],
                        expected_state if kind is nn.LSTM else [expected_state]):
            assert _gap(a, b) < 1e-12
    text = analog.report.text()
    assert "recurrence" in text and "gate nonlinearities" in text
    names = [layer.module_name for layer in analog.crossbar_layers()]
    assert names[:2] == ["ih_l0", "hh_l0"]


CONVOLUTIONS = [(nn.Conv3d(3, 5, (2, 3, 3), stride=(1, 2, 1), padding=(1, 0, 2), dilation=(1, 1, 2)), (2, 3, 5, 9, 10)),
                (nn.Conv3d(4, 4, 3, groups=4, padding=1, padding_mode="circular"), (2, 4, 4, 5, 6)),
                (nn.ConvTranspose2d(3, 4, 3, stride=2, padding=1, output_padding=1), (2, 3, 5, 6)),
                (nn.ConvTranspose2d(4, 6, (2, 3), stride=(2, 1), padding=(0, 2), dilation=(1, 2), groups=2),
                 (2, 4, 5, 6)),
                (nn.ConvTranspose1d(3, 2, 4, stride=3, padding=1, bias=False), (2, 3, 7)),
                (nn.ConvTranspose3d(2, 3, 2, stride=2), (1, 2, 3, 3, 3))]


@pytest.mark.parametrize("module,shape", CONVOLUTIONS, ids=[type(m).__name__ for m, _ in CONVOLUTIONS])
def test_3d_and_transposed_convolutions_equal_torch(module, shape):
    torch.manual_seed(1)
    module = module.double()
    x = torch.randn(shape).double()
    analog = convert(module, SINH)
    assert _gap(analog(x), module(x)) < 1e-12
    if isinstance(module, nn.ConvTranspose2d) and module.groups == 1:  # output_size picks the output padding
        size = [2 * n for n in shape[2:]]
        assert _gap(analog(x, output_size=size), module(x, output_size=size)) < 1e-12


def test_recurrent_gates_on_the_circuit_with_gradients_and_against_ngspice():
    torch.manual_seed(2)
    module = nn.GRU(3, 4).double().eval()
    analog = convert(module, SINH, backend="circuit")
    x = torch.rand(3, 2, 3).double()
    calibrate(analog, x)
    assert all(layer.signed_inputs for layer in analog.crossbar_layers()[1:])  # h takes both signs
    ideal, _ = analog.forward_with(x, "ideal")
    device, _ = analog.forward_with(x, "device")
    circuit, _ = analog(x)
    assert _gap(device, ideal) > 0.05  # the sinh device's nonlinearity changes the gates
    assert 1e-9 < _gap(circuit, device) < 0.05  # and 1-ohm wires a little more
    circuit.sum().backward()
    assert all(parameter.grad is not None and bool(parameter.grad.abs().sum() > 0)
               for layer in analog.crossbar_layers() for parameter in layer.parameters())
    with torch.no_grad():
        spice, _ = analog.forward_with(x[:, :1], "spice")
        native, _ = analog.forward_with(x[:, :1], "circuit")
    assert _gap(spice, native) < 1e-6




def test_an_lstm_classifier_through_analyze(tmp_path):  # the data stored flat: the shape comes from the LSTM
    results = analyze_digits_model(tmp_path, "RowLSTM", 80, 0.02, (8, 8),
                                   "--backends", "ideal,device", "--circuit-images", "2", "--verify", "1")
    assert results["accuracy"]["ideal"]["median"] > 0.6
    assert {"lstm.ih_l0", "lstm.hh_l0", "head"} <= set(results["circuit_check"]["layer_nrmse"])
    assert max(results["spice_check"]["layer_nrmse"].values()) < 1e-6
    energy = results["energy"]["layers"]
    assert energy["lstm.ih_l0"]["mvms"] == 8 and energy["lstm.hh_l0"]["mvms"] == 8  # one per step
