"""`CrossbarConv`: a 1-, 2- or 3-D convolution (or a transposed one) whose kernels live in
memristor conductances.

The kernel of each group becomes a diagonal block of a `CrossbarLinear` (its "core"): a
(C_in/groups·k_h·k_w) x (2·C_out/groups) block of conductances, as many groups to a core as fit
one tile side by side (`packed_groups`; one bias row shared), the idle cells off the blocks at
G_off — their leakage in the circuit and the energy, their weights held at 0 by a mask
through training. Without tiles, or where one group fills a tile, a core per group. Every output position
is one MVM of the unfolded input patch; all positions of a batch go through the core as one
batch of vectors, so every backend (ideal, device, surrogate, circuit, spice) applies as it
does to a fully connected layer.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn
from torch.nn import functional

from ..crossbar.config import CrossbarConfig
from ..errors import InputError
from .layer import CrossbarLinear

PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


def _pair(value: int | Sequence[int], dims: int) -> tuple[int, ...]:
    values = (value,) * dims if isinstance(value, int) else tuple(int(v) for v in value)
    return values


def same_padding(kernel: tuple[int, ...], dilation: tuple[int, ...]) -> tuple[int, ...]:
    """padding="same" as symmetric zero padding (refused where torch pads one side more)."""
    total = [d * (k - 1) for k, d in zip(kernel, dilation)]
    if any(t % 2 for t in total):
        raise InputError(f"padding='same' with kernel {kernel} and dilation {dilation} pads unevenly; "
                         "give the padding as numbers")
    return tuple(t // 2 for t in total)


class CrossbarConv(nn.Module):
    """A convolution over `dims` = 1, 2 or 3 spatial axes, as nn.Conv1d/2d/3d compute it; with
    `transposed`, as nn.ConvTranspose1d/2d do: the input zero-stuffed by the stride and padded,
    then a stride-1 convolution with the flipped kernels (one MVM per output position, the
    bias in the crossbar as for any convolution)."""

    cores: Sequence[CrossbarLinear]  # an nn.ModuleList, one per group

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int | Sequence[int], dims: int = 2,
                 stride: int | Sequence[int] = 1, padding: int | Sequence[int] | str = 0,
                 dilation: int | Sequence[int] = 1, groups: int = 1, bias: bool = True,
                 padding_mode: str = "zeros", hardware: CrossbarConfig | None = None, backend: str = "ideal",
                 layer_index: int = 0, transposed: bool = False, output_padding: int | Sequence[int] = 0):
        super().__init__()
        if dims not in (1, 2, 3):
            raise InputError(f"a crossbar convolution has 1, 2 or 3 spatial axes, got {dims}")
        if groups < 1 or in_channels % groups or out_channels % groups:
            raise InputError(f"groups={groups} must divide in_channels={in_channels} and out_channels={out_channels}")
        if padding_mode not in PADDING_MODES or (transposed and padding_mode != "zeros"):
            raise InputError(f"unknown padding_mode {padding_mode!r}; choose one of: "
                             f"{'zeros' if transposed else ', '.join(PADDING_MODES)}")
        self.dims, self.transposed = dims, bool(transposed)
        self.in_channels, self.out_channels, self.groups = int(in_channels), int(out_channels), int(groups)
        self.kernel_size = _pair(kernel_size, dims)
        self.stride = _pair(stride, dims)
        self.dilation = _pair(dilation, dims)
        self.output_padding = _pair(output_padding, dims)
        if padding == "valid":
            padding = 0
        self.padding = (same_padding(self.kernel_size, self.dilation) if padding == "same"
                        else _pair(padding, dims))  # type: ignore[arg-type]
        self.padding_mode = padding_mode
        patch = self.in_channels // groups * _product(self.kernel_size)
        per_group = self.out_channels // groups
        self.patch = patch
        self.groups_per_core = packed_groups(patch, per_group, groups, bias, hardware or CrossbarConfig())
        cores: list[CrossbarLinear] = []
        for first in range(0, groups, self.groups_per_core):
            count = min(self.groups_per_core, groups - first)
            mask = None if count == 1 else block_diagonal_mask(count, patch, per_group, bias)
            cores.append(CrossbarLinear(count * patch, count * per_group, hardware, backend, layer_index + len(cores),
                                        bias=bias, mask=mask))
        self.cores = nn.ModuleList(cores)  # type: ignore[assignment]

    @classmethod
    def from_conv(cls, conv: nn.modules.conv._ConvNd, hardware: CrossbarConfig | None = None,
                  backend: str = "ideal", layer_index: int = 0) -> CrossbarConv:
        """The crossbar twin of a torch convolution (Conv1d/2d/3d, ConvTranspose1d/2d), carrying
        its weights and biases."""
        dims = len(conv.kernel_size)
        transposed = bool(conv.transposed)
        layer = cls(conv.in_channels, conv.out_channels, conv.kernel_size, dims, conv.stride,
                    conv.padding, conv.dilation, conv.groups,
                    conv.bias is not None, conv.padding_mode, hardware, backend, layer_index,
                    transposed, conv.output_padding)
        weight = conv.weight.detach()
        finite = bool(torch.isfinite(weight).all()) and (conv.bias is None or bool(torch.isfinite(conv.bias).all()))
        if not finite:
            raise InputError("the convolution's weights or biases contain NaN or inf")
        if transposed:  # (C_in, C_out/groups, *k) -> the equivalent convolution's (C_out, C_in/groups, *k), flipped
            g, kernel = layer.groups, tuple(weight.shape[2:])
            weight = weight.reshape(g, layer.in_channels // g, layer.out_channels // g, *kernel).transpose(1, 2)
            weight = weight.flip(tuple(range(3, 3 + dims))).reshape(layer.out_channels, layer.in_channels // g,
                                                                    *kernel)
        layer.to(weight.dtype)
        per_group, patch = layer.out_channels // layer.groups, layer.patch
        for k, core in enumerate(layer.cores):
            count = core.out_features // per_group
            rows = torch.zeros(count * patch + int(conv.bias is not None), count * per_group, dtype=weight.dtype)
            for j in range(count):  # group g on the diagonal block j of its core
                g = k * layer.groups_per_core + j
                kernels = weight[g * per_group:(g + 1) * per_group].reshape(per_group, -1)
                rows[j * patch:(j + 1) * patch, j * per_group:(j + 1) * per_group] = kernels.T
            if conv.bias is not None:
                rows[-1] = conv.bias.detach()[k * layer.groups_per_core * per_group:][:count * per_group]
            core.load_signed_(rows)
        return layer

    @property
    def synapses(self) -> int:
        return sum(core.synapses for core in self.cores)

    def patches(self, x: torch.Tensor, output_size: Sequence[int] | None = None
                ) -> tuple[torch.Tensor, tuple[int, ...]]:
        """(B, C_in, *spatial) -> unfolded patches (B, C_in·k, positions) and the output's spatial shape."""
        if x.ndim != self.dims + 2 or x.shape[1] != self.in_channels:
            axes = ("L", "H, W", "D, H, W")[self.dims - 1]
            raise InputError(f"a {self.dims}-D crossbar convolution takes (B, {self.in_channels}, {axes}) inputs, "
                             f"got {tuple(x.shape)}")
        stride, padding = self.stride, self.padding
        if self.transposed:
            x = self._stuffed(x, output_size)
            stride, padding = (1,) * self.dims, (0,) * self.dims
        if self.padding_mode != "zeros":
            x = functional.pad(x, _pads(padding), mode=self.padding_mode)
            padding = (0,) * self.dims
        spatial = tuple((size + 2 * p - d * (k - 1) - 1) // s + 1
                        for size, p, d, k, s in zip(x.shape[2:], padding, self.dilation, self.kernel_size, stride))
        if min(spatial) < 1:
            raise InputError(f"input {tuple(x.shape[2:])} is smaller than the kernel {self.kernel_size}")
        if self.dims == 3:  # torch's unfold is 2-D only: windows of the padded input, as unfold lays them out
            x = functional.pad(x, _pads(padding))
            for axis, (k, d, s) in enumerate(zip(self.kernel_size, self.dilation, stride)):
                x = x.unfold(2 + axis, d * (k - 1) + 1, s)
            d1, d2, d3 = self.dilation
            x = x[..., ::d1, ::d2, ::d3]  # (B, C, out D, H, W, k_d, k_h, k_w)
            return x.permute(0, 1, 5, 6, 7, 2, 3, 4).reshape(x.shape[0], -1, _product(spatial)), spatial
        if self.dims == 1:  # as a 2-D convolution of height 1
            x = x[:, :, None]
        kernel, dilation = self._2d(self.kernel_size, 1), self._2d(self.dilation, 1)
        unfolded = functional.unfold(x, kernel, dilation=dilation, padding=self._2d(padding, 0),
                                     stride=self._2d(stride, 1))
        return unfolded, spatial

    def _stuffed(self, x: torch.Tensor, output_size: Sequence[int] | None) -> torch.Tensor:
        """A transposed convolution's input as its equivalent stride-1 convolution sees it:
        stride − 1 zeros between entries, d·(k − 1) − p on each side (negative: cropped) and
        the output padding after."""
        extra = self.output_padding
        if output_size is not None:
            wanted = tuple(output_size)[-self.dims:]
            smallest = [(n - 1) * s - 2 * p + d * (k - 1) + 1 for n, s, p, d, k in
                        zip(x.shape[2:], self.stride, self.padding, self.dilation, self.kernel_size)]
            extra = tuple(int(w) - m for w, m in zip(wanted, smallest))
            if any(not 0 <= e < max(s, d) for e, s, d in zip(extra, self.stride, self.dilation)):
                raise InputError(f"output_size {tuple(wanted)} is not reachable from input {tuple(x.shape[2:])}")
        if any(s > 1 for s in self.stride):
            shape = [n if axis < 2 else (n - 1) * self.stride[axis - 2] + 1 for axis, n in enumerate(x.shape)]
            stuffed = x.new_zeros(shape)
            stuffed[(slice(None), slice(None), *(slice(None, None, s) for s in self.stride))] = x
            x = stuffed
        sides = [(d * (k - 1) - p, d * (k - 1) - p + e) for k, d, p, e in
                 zip(self.kernel_size, self.dilation, self.padding, extra)]
        return functional.pad(x, [v for before, after in reversed(sides) for v in (before, after)])

    def _2d(self, values: tuple[int, ...], fill: int) -> tuple[int, int]:
        return (fill, values[0]) if self.dims == 1 else (values[0], values[1])

    def positions(self, spatial: Sequence[int]) -> int:
        """MVMs per image for an input of spatial shape `spatial`: one per output position."""
        probe = torch.zeros((1, self.in_channels, *spatial))
        return int(self.patches(probe)[0].shape[-1])

    def core_inputs(self, x: torch.Tensor, output_size: Sequence[int] | None = None
                    ) -> tuple[list[torch.Tensor], tuple[int, ...]]:
        """Each group core's input vectors (B·positions, patch) and the output's spatial shape."""
        unfolded, spatial = self.patches(x, output_size)
        batch, _, positions = unfolded.shape
        vectors = unfolded.transpose(1, 2)  # a group's patch is contiguous, and so are a core's groups
        inputs, start = [], 0
        for core in self.cores:
            inputs.append(vectors[:, :, start:start + core.in_features].reshape(batch * positions, core.in_features))
            start += core.in_features
        return inputs, spatial

    def forward(self, x: torch.Tensor, output_size: Sequence[int] | None = None) -> torch.Tensor:
        return self._run(x, None, output_size)

    def forward_with(self, x: torch.Tensor, backend: str) -> torch.Tensor:
        return self._run(x, backend)

    def _run(self, x: torch.Tensor, backend: str | None, output_size: Sequence[int] | None = None) -> torch.Tensor:
        inputs, spatial = self.core_inputs(x, output_size)
        batch = x.shape[0]
        outputs = [core(v) if backend is None else core.forward_with(v, backend) for core, v in zip(self.cores, inputs)]
        y = torch.cat(outputs, 1).reshape(batch, -1, self.out_channels)
        return y.transpose(1, 2).reshape(batch, self.out_channels, *spatial)

    def extra_repr(self) -> str:
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}, "
                f"padding={self.padding}, dilation={self.dilation}, groups={self.groups}, "
                f"padding_mode={self.padding_mode}" + (f", transposed, output_padding={self.output_padding}"
                                                       if self.transposed else ""))


def packed_groups(patch: int, per_group: int, groups: int, bias: bool, hardware: CrossbarConfig) -> int:
    """Groups per core: as many as fit one tile side by side on its diagonal (each its patch
    rows and 2·per_group columns, one bias row shared), as grouped and depthwise convolutions
    are mapped in hardware; 1 where one group already fills a tile or tiles are unbounded."""
    if groups == 1 or hardware.tile_rows is None or hardware.tile_columns is None:
        return 1
    by_rows = (hardware.tile_rows - int(bias)) // patch
    by_columns = hardware.tile_columns // (2 * per_group)
    return max(1, min(groups, by_rows, by_columns))


def block_diagonal_mask(count: int, patch: int, per_group: int, bias: bool) -> torch.Tensor:
    """(count·patch [+1], count·per_group) ones on the diagonal blocks (and the bias row)."""
    mask = torch.block_diag(*[torch.ones(patch, per_group)] * count)
    return torch.cat([mask, torch.ones(1, count * per_group)]) if bias else mask


def _pads(padding: Sequence[int]) -> list[int]:
    """Symmetric padding per spatial axis as functional.pad takes it (last axis first)."""
    return [p for value in reversed(padding) for p in (value, value)]


def _product(values: Sequence[int]) -> int:
    out = 1
    for v in values:
        out *= v
    return out
