"""Transformers on crossbars: nn.MultiheadAttention's four projections become crossbar
layers (the attention products stay digital), nn.TransformerEncoder/DecoderLayer run them
unchanged — also in eval under no_grad, where torch's fused fast path would otherwise
bypass them — and a small transformer classifier goes through `spicenn analyze`."""

from __future__ import annotations

import torch
from torch import nn
from training import analyze_digits_model

from spicenn.nn import CrossbarConfig, calibrate, convert
from spicenn.nn.attention import CrossbarMultiheadAttention

SINH = CrossbarConfig(device="sinh", g_off=1e-6, g_on=1e-4, tile_rows=16, tile_columns=16)


def _close(a: torch.Tensor, b: torch.Tensor, tolerance: float = 1e-12) -> bool:
    return float((a - b).detach().abs().max()) <= tolerance * float(b.detach().abs().max())


def test_attention_equals_torch_on_the_ideal_backend():
    torch.manual_seed(0)
    cross = nn.MultiheadAttention(16, 4, kdim=8, vdim=12).double().eval()  # separate projection weights
    analog = convert(cross)
    converted = analog.model if hasattr(analog, "model") else analog
    assert isinstance(converted, CrossbarMultiheadAttention)
    q, k, v = torch.randn(5, 2, 16).double(), torch.randn(7, 2, 8).double(), torch.randn(7, 2, 12).double()
    padding = torch.zeros(2, 7, dtype=torch.bool)
    padding[1, 5:] = True
    for options in ({}, {"average_attn_weights": False}, {"key_padding_mask": padding},
                    {"attn_mask": torch.randn(5, 7).double()}, {"need_weights": False}):
        expected, expected_weights = cross(q, k, v, **options)
        got, got_weights = analog(q, k, v, **options)
        assert _close(got, expected)
        assert (got_weights is None) == (expected_weights is None)
        if expected_weights is not None:
            assert _close(got_weights, expected_weights)
    got, weights = analog(q[:, 0], k[:, 0], v[:, 0])  # one unbatched sequence
    expected, expected_weights = cross(q[:, 0], k[:, 0], v[:, 0])
    assert _close(got, expected) and _close(weights, expected_weights)
    report = analog.report.text()
    assert "MultiheadAttention" in report and "Q·Kᵀ, softmax and ·V" in report
    assert len(analog.crossbar_layers()) == 4


def test_transformer_layers_run_their_crossbars_also_in_eval_under_no_grad():
    torch.manual_seed(0)
    layer = nn.TransformerEncoderLayer(16, 4, dim_feedforward=32, batch_first=True, dropout=0.0)
    encoder = nn.TransformerEncoder(layer, 2, enable_nested_tensor=True).double().eval()
    decoder = nn.TransformerDecoderLayer(16, 4, dim_feedforward=24, dropout=0.0, norm_first=True).double().eval()
    x = torch.randn(3, 5, 16).double()
    padding = torch.tensor([[False] * 5, [False] * 4 + [True], [False] * 3 + [True] * 2])
    causal = nn.Transformer.generate_square_subsequent_mask(5).double()
    analog = convert(encoder, SINH)
    analog_decoder = convert(decoder, SINH)
    memory = torch.randn(6, 3, 16).double()
    target = torch.randn(5, 3, 16).double()
    with torch.no_grad():  # eval + no_grad: the state in which torch takes its fused kernel
        # torch's nested-tensor path zeroes padded tokens: compare the real ones
        assert _close(analog(x, src_key_padding_mask=padding)[~padding],
                      encoder(x, src_key_padding_mask=padding)[~padding])
        assert _close(analog(x, mask=causal, is_causal=True), encoder(x, mask=causal, is_causal=True))
        assert _close(analog_decoder(target, memory, tgt_mask=causal), decoder(target, memory, tgt_mask=causal))
        calibrate(analog, x)
        ideal = analog(x)
        analog.set_backend("device")  # the sinh device: the crossbars must change the result
        on_device = analog(x)
        enabled = torch.backends.mha.get_fastpath_enabled()
        torch.backends.mha.set_fastpath_enabled(False)  # torch's own plain path, for reference
        try:
            plain = analog(x)
        finally:
            torch.backends.mha.set_fastpath_enabled(enabled)
    assert not _close(on_device, ideal, 1e-3) and torch.equal(on_device, plain)
    assert len(analog.crossbar_layers()) == 2 * (4 + 2)


def test_tied_weights_are_reported_as_split():
    class Tied(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(10, 8)
            self.head = nn.Linear(8, 10, bias=False)
            self.head.weight = self.embed.weight

        def forward(self, tokens):
            return self.head(self.embed(tokens).mean(1))

    shared = nn.Linear(4, 4)
    model = nn.Sequential(shared, nn.ReLU(), shared)  # one module used twice: one crossbar layer
    analog = convert(model)
    assert len(analog.crossbar_layers()) == 1 and not analog.report.notes
    tied = convert(Tied())
    assert any("head shares parameters with embed" in note for note in tied.report.notes)
    assert "tied weights split" in tied.report.text()




def test_a_small_transformer_through_analyze(tmp_path):
    results = analyze_digits_model(tmp_path, "SmallTransformer", 60, 0.01, (8, 8),
                                   "--backends", "ideal,device", "--circuit-images", "4", "--verify", "1")
    assert results["accuracy"]["ideal"]["median"] > 0.7
    names = set(results["circuit_check"]["layer_nrmse"])
    assert {"encoder.layers.0.self_attn.q_proj", "encoder.layers.0.self_attn.out_proj",
            "encoder.layers.0.linear1", "head"} <= names
    assert max(results["spice_check"]["layer_nrmse"].values()) < 1e-6  # the native solver against ngspice
    assert results["energy"]["layers"]["encoder.layers.0.self_attn.k_proj"]["mvms"] == 8  # one per token
