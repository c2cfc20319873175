"""The crossbar's exact output currents as a differentiable torch function.

Forward: the native solver's DC solution x* of F(x; V, G) = 0. Backward, by implicit
differentiation at x*: one adjoint solve J·λ = (∂I_out/∂x)ᵀ·ḡ with the same structured solver
(J is symmetric), then ∂L/∂θ = ḡ·∂I_out/∂θ - λ·∂F/∂θ for θ = V, G, both partial derivatives by
torch autograd of the one device formula. No graph through the Newton iterations is kept.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch

from ..crossbar.spec import Crossbar
from ..devices import Device
from .equations import Lines
from .solver import jacobian_solve, solve

ADJOINT_TOLERANCE = 1e-12  # relative residual of the adjoint solve


def _residual_and_output(lines: Lines, device: Device, word: torch.Tensor, bit: torch.Tensor, v: torch.Tensor,
                         g: torch.Tensor, cell: Mapping[str, Any]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(F_W, F_B, output currents (B, N)), differentiable in all arguments; layout as the solver's."""
    across = (v if lines.word == "fixed" else word) - bit
    current = device.current(across, g[:, :, None], torch, cell)
    f_word = lines.word_wires(word, v) + (current.sum(1, keepdim=True) if lines.word == "node" else current)
    f_bit = lines.bit_wires(bit) - current
    out = lines.g_bit * bit[-1] if lines.bit == "ladder" else current.sum(0)
    return f_word, f_bit, out.T


class _CircuitCurrents(torch.autograd.Function):
    @staticmethod
    def forward(ctx: Any, voltages: torch.Tensor, conductances: torch.Tensor, crossbar: Crossbar) -> torch.Tensor:
        lines = Lines.of(crossbar)
        with torch.no_grad():  # float64 whatever the inputs' precision: the solution is exact
            v64, g64 = voltages.detach().double(), conductances.detach().double()
            solution = solve(crossbar, v64)
            cell = _cell(crossbar, torch.float64)
            _, _, out = _residual_and_output(lines, crossbar.device, solution.word, solution.bit,
                                             v64.T[:, None, :], g64, cell)
        ctx.lines, ctx.crossbar, ctx.cell = lines, crossbar, cell
        ctx.dtypes = (voltages.dtype, conductances.dtype)
        ctx.save_for_backward(v64, g64, solution.word, solution.bit)
        return out.to(voltages.dtype)

    @staticmethod
    def backward(ctx: Any, grad_out: torch.Tensor) -> tuple[torch.Tensor | None, torch.Tensor | None, None]:
        voltages, conductances, word, bit = ctx.saved_tensors
        lines: Lines = ctx.lines
        grad_out = grad_out.double()
        with torch.enable_grad():
            v = voltages.detach().T[:, None, :].requires_grad_()
            g = conductances.detach().requires_grad_()
            x_word = word.detach().requires_grad_()
            x_bit = bit.detach().requires_grad_()
            f_word, f_bit, out = _residual_and_output(lines, ctx.crossbar.device, x_word, x_bit, v, g, ctx.cell)
            unknowns = [x for x, free in ((x_word, lines.word != "fixed"), (x_bit, lines.bit == "ladder")) if free]
            grads = torch.autograd.grad(out, unknowns, grad_out, allow_unused=True, retain_graph=True) \
                if unknowns else ()
            rhs = dict(zip([id(x) for x in unknowns], grads))
            r_word = _or_zeros(rhs.get(id(x_word)), word)
            r_bit = _or_zeros(rhs.get(id(x_bit)), bit)
            # the slopes at the solution, for J (symmetric: the adjoint solve is a forward-type solve)
            across = (v if lines.word == "fixed" else x_word) - x_bit
            _, slopes = ctx.crossbar.device.current_and_slope(across.detach(), g.detach()[:, :, None], ctx.cell)
            adjoint_word, adjoint_bit, _ = jacobian_solve(lines, slopes, r_word, r_bit, ADJOINT_TOLERANCE)
            objective = (out * grad_out).sum() - (adjoint_bit * f_bit).sum()
            if lines.word != "fixed":
                objective = objective - (adjoint_word * f_word).sum()
            grad_v, grad_g = torch.autograd.grad(objective, (v, g), allow_unused=True)
        grad_voltages = None if grad_v is None else grad_v[:, 0, :].T.to(ctx.dtypes[0])
        return grad_voltages, None if grad_g is None else grad_g.to(ctx.dtypes[1]), None


def _or_zeros(value: torch.Tensor | None, like: torch.Tensor) -> torch.Tensor:
    return torch.zeros_like(like) if value is None else value


def _cell(crossbar: Crossbar, dtype: torch.dtype) -> dict[str, torch.Tensor]:
    return {key: torch.as_tensor(value, dtype=dtype)[:, :, None] for key, value in crossbar.cell.items()}


def circuit_currents(voltages: torch.Tensor, conductances: torch.Tensor, device: Device, r_word: float = 0.0,
                     r_bit: float = 0.0, cell: Mapping[str, Any] | None = None) -> torch.Tensor:
    """(B, N) exact output currents of the crossbar for voltages (B, M) and conductances
    (M, N), differentiable in both (implicit differentiation: one adjoint solve)."""
    arrays = {key: torch.as_tensor(value).double().cpu().numpy() for key, value in (cell or {}).items()}
    crossbar = Crossbar(conductances.detach().double().cpu().numpy(), device, r_word=r_word, r_bit=r_bit,
                        cell=arrays)
    result: torch.Tensor = _CircuitCurrents.apply(voltages, conductances, crossbar)
    return result
