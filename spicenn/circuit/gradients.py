"""The crossbar's exact output currents as a differentiable torch function.

Forward: the native solver's DC solution x* of F(x; V, G) = 0. Backward, by implicit
differentiation at x*: one adjoint solve J·λ = (∂I_out/∂x)ᵀ·ḡ with the same structured solver
(J is symmetric), then ∂L/∂θ = ḡ·∂I_out/∂θ - λ·∂F/∂θ for θ = V, G, both partial derivatives by
torch autograd of the one device formula. No graph through the Newton iterations is kept.

Many tiles (same shape and wires, their own conductances) are solved as one batch: tile t's
input vectors become vectors t·B … t·B + B - 1 of one system whose conductances carry the
vector axis, so the solver's passes and Python overheads are shared by all of them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch

from ..devices import Device
from ..errors import InputError
from .equations import Devices, Lines
from .solver import jacobian_solve, solve_system

ADJOINT_TOLERANCE = 1e-12  # relative residual of the adjoint solve
# cells x vectors per batched solve, as the native engine's chunks. On the CPU the solves are
# bound by memory traffic: batching 64x64 tiles gains nothing, 16x16 tiles run 2.2x faster
# (bench_circuit_backend); on a GPU it saves the kernel launches of every tile.
CELLS_PER_SOLVE = 2**18


def _flatten(voltages: torch.Tensor, conductances: torch.Tensor, cell: Mapping[str, torch.Tensor]
             ) -> tuple[torch.Tensor, torch.Tensor, dict[str, torch.Tensor]]:
    """Tiles (T, B, M) voltages and (T, M, N) conductances onto the solver's layout: v (M, 1, T·B)
    and per-vector conductances (M, N, T·B) (or (M, N, 1) for a single tile)."""
    tiles, batch, rows = voltages.shape
    v = voltages.permute(2, 0, 1).reshape(rows, 1, tiles * batch)

    def per_vector(x: torch.Tensor) -> torch.Tensor:
        if tiles == 1:
            return x[0][:, :, None]
        return x.permute(1, 2, 0)[:, :, :, None].expand(*x.shape[1:], tiles, batch).reshape(*x.shape[1:], -1)

    return v, per_vector(conductances), {key: per_vector(value) for key, value in cell.items()}


def _residual_and_output(lines: Lines, device: Device, word: torch.Tensor, bit: torch.Tensor, v: torch.Tensor,
                         g: torch.Tensor, cell: Mapping[str, Any]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(F_W, F_B, output currents (B, N)), differentiable in all arguments; layout as the solver's."""
    across = (v if lines.word == "fixed" else word) - bit
    current = device.current(across, g, torch, cell)
    f_word = lines.word_wires(word, v) + (current.sum(1, keepdim=True) if lines.word == "node" else current)
    f_bit = lines.bit_wires(bit) - current
    out = lines.g_bit * bit[-1] if lines.bit == "ladder" else current.sum(0)
    return f_word, f_bit, out.T


class _CircuitCurrents(torch.autograd.Function):
    @staticmethod
    def forward(ctx: Any, voltages: torch.Tensor, conductances: torch.Tensor, lines: Lines, device: Device,
                cell: dict[str, torch.Tensor]) -> torch.Tensor:
        with torch.no_grad():  # float64 whatever the inputs' precision: the solution is exact
            v64, g64 = voltages.detach().double(), conductances.detach().double()
            cell64 = {key: value.detach().double() for key, value in cell.items()}
            v, g, cell_flat = _flatten(v64, g64, cell64)
            solution = solve_system(lines, Devices(device, g, cell_flat), v[:, 0, :].T)
            _, _, out = _residual_and_output(lines, device, solution.word, solution.bit, v, g, cell_flat)
        ctx.lines, ctx.device, ctx.cell = lines, device, cell64
        ctx.dtypes = (voltages.dtype, conductances.dtype)
        ctx.save_for_backward(v64, g64, solution.word, solution.bit)
        tiles, batch = voltages.shape[:2]
        return out.reshape(tiles, batch, -1).to(voltages.dtype)

    @staticmethod
    def backward(ctx: Any, grad_out: torch.Tensor) -> tuple[torch.Tensor | None, ...]:
        voltages, conductances, word, bit = ctx.saved_tensors
        lines: Lines = ctx.lines
        grad_out = grad_out.double().reshape(-1, grad_out.shape[-1])
        with torch.enable_grad():
            v_tiles = voltages.detach().requires_grad_()
            g_tiles = conductances.detach().requires_grad_()
            v, g, cell = _flatten(v_tiles, g_tiles, ctx.cell)
            x_word = word.detach().requires_grad_()
            x_bit = bit.detach().requires_grad_()
            f_word, f_bit, out = _residual_and_output(lines, ctx.device, x_word, x_bit, v, g, cell)
            unknowns = [x for x, free in ((x_word, lines.word != "fixed"), (x_bit, lines.bit == "ladder")) if free]
            grads = torch.autograd.grad(out, unknowns, grad_out, allow_unused=True, retain_graph=True) \
                if unknowns else ()
            rhs = dict(zip([id(x) for x in unknowns], grads))
            r_word = _or_zeros(rhs.get(id(x_word)), word)
            r_bit = _or_zeros(rhs.get(id(x_bit)), bit)
            # the slopes at the solution, for J (symmetric: the adjoint solve is a forward-type solve)
            across = (v if lines.word == "fixed" else x_word) - x_bit
            _, slopes = ctx.device.current_and_slope(across.detach(), g.detach(), cell)
            adjoint_word, adjoint_bit, _ = jacobian_solve(lines, slopes, r_word, r_bit, ADJOINT_TOLERANCE)
            objective = (out * grad_out).sum() - (adjoint_bit * f_bit).sum()
            if lines.word != "fixed":
                objective = objective - (adjoint_word * f_word).sum()
            grad_v, grad_g = torch.autograd.grad(objective, (v_tiles, g_tiles), allow_unused=True)
        grad_voltages = None if grad_v is None else grad_v.to(ctx.dtypes[0])
        return grad_voltages, None if grad_g is None else grad_g.to(ctx.dtypes[1]), None, None, None


def _or_zeros(value: torch.Tensor | None, like: torch.Tensor) -> torch.Tensor:
    return torch.zeros_like(like) if value is None else value


def circuit_currents(voltages: torch.Tensor, conductances: torch.Tensor, device: Device, r_word: float = 0.0,
                     r_bit: float = 0.0, cell: Mapping[str, Any] | None = None) -> torch.Tensor:
    """(B, N) exact output currents of the crossbar for voltages (B, M) and conductances
    (M, N), differentiable in both (implicit differentiation: one adjoint solve).

    Tiles: voltages (T, B, M), conductances (T, M, N) and per-device parameters (T, M, N) give
    (T, B, N), every tile solved in the same batched solves."""
    single = conductances.ndim == 2
    if single:
        voltages, conductances = voltages[None], conductances[None]
    if conductances.ndim != 3 or voltages.ndim != 3 or voltages.shape[0] != conductances.shape[0] \
            or voltages.shape[2] != conductances.shape[1]:
        raise InputError(f"voltages {tuple(voltages.shape)} do not drive conductances {tuple(conductances.shape)}: "
                         "expected (B, M) and (M, N), or (T, B, M) and (T, M, N)")
    if not bool(torch.isfinite(voltages).all()) or not bool((conductances > 0).all()) \
            or not bool(torch.isfinite(conductances).all()):
        raise InputError("circuit_currents needs finite voltages and finite conductances > 0 S")
    tiles, batch, rows = voltages.shape
    columns = conductances.shape[2]
    # without per-device parameters, the model's own seeded draw (as a Crossbar of this shape makes)
    given = dict(cell) if cell else device.cell_parameters((rows, columns))
    on = conductances.device
    cell_tiles = {key: torch.as_tensor(value, dtype=torch.float64, device=on).expand(tiles, rows, columns)
                  if torch.as_tensor(value).ndim == 2 else torch.as_tensor(value, dtype=torch.float64, device=on)
                  .reshape(tiles, rows, columns) for key, value in given.items()}
    lines = Lines.with_resistances(rows, columns, r_word, r_bit)
    per_solve = max(1, CELLS_PER_SOLVE // (rows * columns * max(1, batch)))
    parts = []
    for start in range(0, tiles, per_solve):
        part = slice(start, start + per_solve)
        parts.append(_CircuitCurrents.apply(voltages[part], conductances[part], lines, device,
                                            {key: value[part] for key, value in cell_tiles.items()}))
    result = parts[0] if len(parts) == 1 else torch.cat(parts)
    return result[0] if single else result
