"""`CrossbarRecurrent`: `nn.RNN`, `nn.LSTM` and `nn.GRU` with their gate matrices on crossbars.

Every gate of a recurrent layer is a matrix-vector product with fixed weights: W_ih·x_t + b_ih
(all gates of one layer and direction stacked, as torch stores them) and W_hh·h_(t−1) + b_hh,
and an LSTM's projection W_hr·h_t. Each matrix becomes a `CrossbarLinear`; the input products
of a whole sequence go through their crossbar as one batch of vectors (they do not depend on
the recurrence), the recurrent products one step at a time. The gate nonlinearities, the
elementwise products, the cell state and the recurrence itself run digitally, as in analog
recurrent accelerators; the conversion report says so. The forward takes and returns what
torch's module does (batch_first or not, unbatched sequences, initial states, several
layers, bidirectional, dropout between layers, an LSTM's proj_size); packed sequences are
refused with a clear error.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn
from torch.nn import functional

from ..crossbar.config import CrossbarConfig
from ..errors import InputError
from .layer import CrossbarLinear

GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


class CrossbarRecurrent(nn.Module):
    """The crossbar twin of an `nn.RNN`, `nn.LSTM` or `nn.GRU` (`from_recurrent`)."""

    cores: nn.ModuleList

    def __init__(self, mode: str, input_size: int, hidden_size: int, cores: list[CrossbarLinear],
                 num_layers: int = 1, bidirectional: bool = False, batch_first: bool = False,
                 dropout: float = 0.0, proj_size: int = 0):
        super().__init__()
        if mode not in GATES:
            raise InputError(f"unknown recurrent mode {mode!r}; choose one of: {', '.join(GATES)}")
        self.mode, self.input_size, self.hidden_size = mode, int(input_size), int(hidden_size)
        self.num_layers, self.bidirectional = int(num_layers), bool(bidirectional)
        self.batch_first, self.dropout, self.proj_size = bool(batch_first), float(dropout), int(proj_size)
        self.cores = nn.ModuleList(cores)

    @classmethod
    def from_recurrent(cls, module: nn.RNNBase, hardware: CrossbarConfig | None = None, backend: str = "ideal",
                       layer_index: int = 0) -> CrossbarRecurrent:
        """Its gate (and projection) matrices as crossbar layers with the same weights and biases,
        per layer and direction in torch's order: input gates, recurrent gates[, projection]."""
        cores: list[CrossbarLinear] = []
        for layer in range(module.num_layers):
            for suffix in ("", "_reverse")[: 1 + int(module.bidirectional)]:
                names = ["ih", "hh"] + (["hr"] if getattr(module, "proj_size", 0) else [])
                for part in names:
                    weight = getattr(module, f"weight_{part}_l{layer}{suffix}")
                    bias = getattr(module, f"bias_{part}_l{layer}{suffix}", None) if module.bias and part != "hr" \
                        else None
                    core = CrossbarLinear.from_weights(weight, bias, hardware, backend, layer_index + len(cores))
                    cores.append(core)
        return cls(module.mode, module.input_size, module.hidden_size, cores, module.num_layers,
                   module.bidirectional, module.batch_first, module.dropout, getattr(module, "proj_size", 0))

    @property
    def parts(self) -> list[str]:
        """Each core's name within the module (torch's parameter suffixes), in `cores` order."""
        names = ["ih", "hh"] + (["hr"] if self.proj_size else [])
        return [f"{part}_l{layer}{suffix}" for layer in range(self.num_layers)
                for suffix in ("", "_reverse")[: 1 + int(self.bidirectional)] for part in names]

    @property
    def output_size(self) -> int:
        return self.proj_size or self.hidden_size

    def forward(self, x: Any, state: Any = None) -> tuple[torch.Tensor, Any]:
        if isinstance(x, nn.utils.rnn.PackedSequence):
            raise InputError("packed sequences are not supported by crossbar recurrent layers; pad the batch")
        directions = 1 + int(self.bidirectional)
        batched = x.dim() == 3
        if x.dim() not in (2, 3) or x.shape[-1] != self.input_size:
            raise InputError(f"a crossbar {self.mode} takes (L, N, {self.input_size}) inputs (or batch first, or "
                             f"unbatched), got {tuple(x.shape)}")
        if not batched:
            x = x[:, None]
        elif self.batch_first:
            x = x.transpose(0, 1)
        batch = x.shape[1]
        h0, c0 = self._initial(state, batched, batch, x)
        h_last, c_last = [], []
        for layer in range(self.num_layers):
            outputs = []
            for direction in range(directions):
                k = layer * directions + direction
                cores = self.cores[k * self._per_direction:(k + 1) * self._per_direction]
                sequence = x.flip(0) if direction else x
                out, h, c = self._direction(sequence, cores, h0[k], None if c0 is None else c0[k])
                outputs.append(out.flip(0) if direction else out)
                h_last.append(h)
                c_last.append(c)
            x = torch.cat(outputs, -1)
            if layer < self.num_layers - 1 and self.dropout and self.training:
                x = functional.dropout(x, self.dropout, True)
        h_n = torch.stack(h_last)
        if not batched:
            x, h_n = x[:, 0], h_n[:, 0]
        elif self.batch_first:
            x = x.transpose(0, 1)
        if self.mode != "LSTM":
            return x, h_n
        c_n = torch.stack([c for c in c_last if c is not None])
        return x, (h_n, c_n if batched else c_n[:, 0])

    @property
    def _per_direction(self) -> int:
        return 3 if self.proj_size else 2

    def _initial(self, state: Any, batched: bool, batch: int, x: torch.Tensor
                 ) -> tuple[torch.Tensor, torch.Tensor | None]:
        count = self.num_layers * (1 + int(self.bidirectional))
        h0 = c0 = None
        if state is not None:
            h0, c0 = state if self.mode == "LSTM" else (state, None)
            if not batched:
                h0 = h0[:, None]
                c0 = None if c0 is None else c0[:, None]
        if h0 is None:
            h0 = x.new_zeros(count, batch, self.output_size)
        if self.mode == "LSTM" and c0 is None:
            c0 = x.new_zeros(count, batch, self.hidden_size)
        if tuple(h0.shape) != (count, batch, self.output_size):
            raise InputError(f"the initial hidden state has shape {tuple(h0.shape)}, expected "
                             f"{(count, batch, self.output_size)}")
        return h0, c0

    def _direction(self, x: torch.Tensor, cores: Any, h: torch.Tensor, c: torch.Tensor | None
                   ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
        """One layer, one direction over the sequence x (L, N, inputs): outputs (L, N, H), h, c."""
        length, batch, _ = x.shape
        input_gates = cores[0](x.reshape(length * batch, -1)).reshape(length, batch, -1)  # all steps at once
        outputs = []
        for t in range(length):
            recurrent = cores[1](h)
            if self.mode == "LSTM":
                assert c is not None
                i, f, g, o = (input_gates[t] + recurrent).chunk(4, -1)
                c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
                h = torch.sigmoid(o) * torch.tanh(c)
                if self.proj_size:
                    h = cores[2](h)
            elif self.mode == "GRU":
                xr, xz, xn = input_gates[t].chunk(3, -1)
                hr, hz, hn = recurrent.chunk(3, -1)
                r, z = torch.sigmoid(xr + hr), torch.sigmoid(xz + hz)
                n = torch.tanh(xn + r * hn)
                h = (1 - z) * n + z * h
            else:
                total = input_gates[t] + recurrent
                h = torch.tanh(total) if self.mode == "RNN_TANH" else torch.relu(total)
            outputs.append(h)
        return torch.stack(outputs), h, c

    def extra_repr(self) -> str:
        return (f"{self.mode}, {self.input_size}, {self.hidden_size}, num_layers={self.num_layers}, "
                f"bidirectional={self.bidirectional}, batch_first={self.batch_first}"
                + (f", proj_size={self.proj_size}" if self.proj_size else ""))
