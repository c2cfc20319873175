"""`CrossbarMultiheadAttention`: `nn.MultiheadAttention` with its four weight matrices on
crossbars.

The query, key, value and output projections are matrix-vector products with fixed
weights: each becomes a `CrossbarLinear` (one MVM per token). The attention itself — the
products Q·Kᵀ and softmax(·)·V, whose both operands change with every input — has no fixed
matrix to program and runs digitally, as in analog transformer accelerators; the
conversion report says so. The forward takes and returns what `nn.MultiheadAttention`'s
does (batch_first or not, unbatched inputs, key-padding and attention masks, causal masks,
the averaged or per-head weights), so `nn.TransformerEncoderLayer`, `nn.TransformerDecoderLayer`
and users' own blocks run it unchanged.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional

from ..crossbar.config import CrossbarConfig
from ..errors import InputError
from .layer import CrossbarLinear


class CrossbarMultiheadAttention(nn.Module):
    """The crossbar twin of an `nn.MultiheadAttention` (`from_attention`)."""

    # read by nn.TransformerEncoderLayer's fast-path checks: without an in-projection bias it
    # takes the plain path, which calls this module (the fused kernel would bypass the crossbars)
    in_proj_bias = None
    _qkv_same_embed_dim = False

    def __init__(self, embed_dim: int, num_heads: int, projections: dict[str, CrossbarLinear],
                 dropout: float = 0.0, batch_first: bool = False):
        super().__init__()
        if embed_dim % num_heads:
            raise InputError(f"embed_dim {embed_dim} is not divisible by num_heads {num_heads}")
        self.embed_dim, self.num_heads, self.head_dim = int(embed_dim), int(num_heads), embed_dim // num_heads
        self.dropout, self.batch_first = float(dropout), bool(batch_first)
        self.q_proj, self.k_proj, self.v_proj = projections["q"], projections["k"], projections["v"]
        self.out_proj = projections["out"]

    @classmethod
    def from_attention(cls, attention: nn.MultiheadAttention, hardware: CrossbarConfig | None = None,
                       backend: str = "ideal", layer_index: int = 0) -> CrossbarMultiheadAttention:
        """Its projections as crossbar layers with the same weights and biases."""
        if attention.bias_k is not None or attention.add_zero_attn:
            raise InputError("add_bias_kv and add_zero_attn have no crossbar equivalent")
        e = attention.embed_dim
        if attention._qkv_same_embed_dim:
            weights = attention.in_proj_weight.detach().split(e)
        else:
            weights = (attention.q_proj_weight.detach(), attention.k_proj_weight.detach(),
                       attention.v_proj_weight.detach())
        biases = (None,) * 3 if attention.in_proj_bias is None else attention.in_proj_bias.detach().split(e)
        projections = {name: CrossbarLinear.from_weights(weight, bias, hardware, backend, layer_index + k)
                       for k, (name, weight, bias) in enumerate(zip("qkv", weights, biases))}
        out = attention.out_proj
        projections["out"] = CrossbarLinear.from_weights(out.weight, out.bias, hardware, backend, layer_index + 3)
        return cls(e, attention.num_heads, projections, attention.dropout, attention.batch_first)

    @property
    def cores(self) -> list[CrossbarLinear]:
        return [self.q_proj, self.k_proj, self.v_proj, self.out_proj]

    def forward(self, query: torch.Tensor, key: torch.Tensor, value: torch.Tensor,
                key_padding_mask: torch.Tensor | None = None, need_weights: bool = True,
                attn_mask: torch.Tensor | None = None, average_attn_weights: bool = True,
                is_causal: bool = False) -> tuple[torch.Tensor, torch.Tensor | None]:
        batched = query.dim() == 3
        if not batched:  # (L, E): one sequence
            query, key, value = query[:, None], key[:, None], value[:, None]
            if key_padding_mask is not None:
                key_padding_mask = key_padding_mask[None]
        elif self.batch_first:  # the projections act per token; the attention wants (L, N, E)
            query, key, value = (x.transpose(0, 1) for x in (query, key, value))
        length, batch, _ = query.shape
        source = key.shape[0]
        heads, width = self.num_heads, self.head_dim

        def split(x: torch.Tensor, rows: int) -> torch.Tensor:  # (rows, N, E) -> (N, heads, rows, width)
            return x.reshape(rows, batch, heads, width).permute(1, 2, 0, 3)

        q, k, v = split(self.q_proj(query), length), split(self.k_proj(key), source), split(self.v_proj(value), source)
        scores = q @ k.transpose(-2, -1) / math.sqrt(width)  # (N, heads, L, S), digital
        if is_causal and attn_mask is None:
            attn_mask = torch.ones(length, source, dtype=torch.bool, device=q.device).triu(1)
        if attn_mask is not None:
            mask = attn_mask if attn_mask.dim() == 2 else attn_mask.reshape(batch, heads, length, source)
            scores = scores.masked_fill(mask, float("-inf")) if mask.dtype == torch.bool else scores + mask
        if key_padding_mask is not None:
            padding = key_padding_mask[:, None, None, :]
            scores = scores.masked_fill(padding, float("-inf")) if padding.dtype == torch.bool else scores + padding
        weights = torch.softmax(scores, -1)
        attended = functional.dropout(weights, self.dropout, self.training) @ v  # (N, heads, L, width)
        out = self.out_proj(attended.permute(2, 0, 1, 3).reshape(length, batch, self.embed_dim))
        if not batched:
            out = out[:, 0]
        elif self.batch_first:
            out = out.transpose(0, 1)
        if not need_weights:
            return out, None
        returned = weights.mean(1) if average_attn_weights else weights
        return out, returned if batched else returned[0]

    def extra_repr(self) -> str:
        return f"embed_dim={self.embed_dim}, num_heads={self.num_heads}, batch_first={self.batch_first}"
