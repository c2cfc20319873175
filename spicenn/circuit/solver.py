"""Newton's method on the crossbar's DC equations, batched over input vectors.

Each Newton step eliminates the word lines exactly (batched tridiagonal solves) and solves
the bit nodes' Schur complement S = C - D·A⁻¹·D by conjugate gradients, preconditioned by the
bit lines' own tridiagonals C⁻¹ (S is symmetric positive definite: C - D·A⁻¹·D ≥ C - D·D⁻¹·D,
the bit lines' wires). Without word-line resistance S = C and the step is one tridiagonal
solve; without bit-line resistance the bit nodes are at 0 V and the step is one word-line
solve. A step is backtracked per input vector while it does not reduce the residual. Newton
stops once every vector's step is below the tolerance, or once its steps contract
quadratically and the next one, predicted from the last two (s_next ≈ s_k·(s_k/s_{k-1})²
plus the linear solves' share), is below it; a vector that does not converge is reported by
index.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from ..crossbar.spec import Crossbar
from ..errors import ConvergenceError
from .equations import Devices, Lines, WordBlock

STEP_TOLERANCE = 1e-13  # relative to the largest input voltage
CG_TOLERANCE = 1e-6  # relative residual of each linear solve: inexact Newton, linear rate 1e-6
LINEAR_TOLERANCE = 1e-13  # relative residual of the one solve of a circuit of ohmic devices
MAX_NEWTON = 60
MAX_CG = 500
MAX_HALVINGS = 30


@dataclass
class Solution:
    """Node voltages (M, N, B) — W with one column where a row is one node — and the work of
    the solve."""

    word: torch.Tensor
    bit: torch.Tensor
    newton_steps: int
    cg_iterations: int
    step_sizes: list[float] = field(default_factory=list)  # largest node update of each Newton step, V


class _BitBlock:
    """C = bit wires + D, factored."""

    def __init__(self, lines: Lines, slopes: torch.Tensor):
        self.factored = lines.bit_block(slopes)

    def solve(self, r: torch.Tensor) -> torch.Tensor:
        return self.factored.solve(r)



def _dot(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Per-input-vector inner products, shaped (1, 1, B) to broadcast."""
    return (x * y).sum((0, 1), keepdim=True)


def _schur_solve(rhs: torch.Tensor, word_block: WordBlock | None, slopes: torch.Tensor, bit_block: _BitBlock,
                 tolerance: float, floor: torch.Tensor | None = None) -> tuple[torch.Tensor, int]:
    """S x = rhs by conjugate gradients preconditioned by C⁻¹, every input vector at once.
    S·p = C·p - D·A⁻¹·(D·p), and C·p follows from C·z = r by the same recurrence as p, so
    an iteration costs one word-line and one bit-line solve and a few passes over the arrays."""
    if word_block is None:  # S = C: one tridiagonal solve is exact
        return bit_block.solve(rhs), 0
    x = torch.zeros_like(rhs)
    r = rhs.clone()
    z = bit_block.solve(r)
    p, cp = z.clone(), r.clone()  # p and C·p
    rz = _dot(r, z)
    target = (tolerance**2) * _dot(rhs, rhs)
    if floor is not None:  # an absolute residual that is enough (a warm start's small correction)
        target = torch.maximum(target, floor**2)
    iterations = 0
    while iterations < MAX_CG:
        iterations += 1
        q = cp - slopes * word_block.solve(word_block.gather(slopes * p))  # S·p
        pq = _dot(p, q)
        alpha = torch.where(pq > 0, rz / torch.where(pq > 0, pq, 1.0), 0.0)
        x.add_(alpha * p)
        r.sub_(alpha * q)
        if bool((_dot(r, r) <= target).all()):
            break
        z = bit_block.solve(r)
        rz_next = _dot(r, z)
        beta = torch.where(rz > 0, rz_next / torch.where(rz > 0, rz, 1.0), 0.0)
        p.mul_(beta).add_(z)
        cp.mul_(beta).add_(r)
        rz = rz_next
    return x, iterations


def jacobian_solve(lines: Lines, slopes: torch.Tensor, r_word: torch.Tensor, r_bit: torch.Tensor,
                   tolerance: float, floor: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor, int]:
    """(x_W, x_B) with J·x = (r_W, r_B), J = [[A, -D], [-D, C]]: the bit nodes' Schur
    complement S·x_B = r_B + D·A⁻¹·r_W by PCG, then x_W = A⁻¹·(r_W + D·x_B) (gathered onto
    the word unknowns). Unknowns that a zero resistance pins get 0. Also the adjoint solve of
    the gradients: J is symmetric."""
    word_block = lines.word_block(slopes) if lines.word != "fixed" else None
    iterations = 0
    if lines.bit == "ladder":
        rhs = r_bit if word_block is None else r_bit + slopes * word_block.solve(r_word)
        x_bit, iterations = _schur_solve(rhs, word_block, slopes, _BitBlock(lines, slopes), tolerance,
                                            floor)
    else:
        x_bit = torch.zeros_like(slopes)
    x_word = word_block.solve(r_word + word_block.gather(slopes * x_bit)) if word_block is not None else \
        torch.zeros_like(r_word)
    return x_word, x_bit, iterations


def solve(crossbar: Crossbar, voltages: torch.Tensor) -> Solution:
    """The DC solution for voltages (B, M), float64 unless given otherwise."""
    g = torch.tensor(crossbar.conductances, dtype=voltages.dtype, device=voltages.device)
    return solve_system(Lines.of(crossbar), Devices(crossbar.device, g, crossbar.cell), voltages)


def solve_system(lines: Lines, devices: Devices, voltages: torch.Tensor,
                 column_voltages: torch.Tensor | None = None, start: Solution | None = None) -> Solution:
    """The DC solution of the equations of `lines` and `devices` for voltages (B, M); the
    devices may differ per input vector (conductances (M, N, B): many tiles in one solve).
    `column_voltages` (B, N): each column's end driven at that voltage instead of held at the
    sense node's 0 V (a write). `start`: a solution of nearby equations to begin Newton from
    (a write's next instant)."""
    dtype = voltages.dtype
    m, n = lines.rows, lines.columns
    batch = voltages.shape[0]
    v = voltages.T[:, None, :].contiguous()  # (M, 1, B)
    ends = None if column_voltages is None else column_voltages.T[None, :, :].contiguous()  # (1, N, B)
    scale = max(float(voltages.abs().max()), 0.0 if ends is None else float(ends.abs().max())) or 1.0
    word_columns = n if lines.word == "ladder" else 1
    # start from the drivers' voltages on the word lines and the columns' ends on the bit lines (no IR drop)
    word = v.expand(m, word_columns, batch).clone()
    bit = torch.zeros((m, n, batch), dtype=dtype, device=voltages.device) if ends is None else \
        ends.expand(m, n, batch).clone()
    if start is not None and start.word.shape == word.shape and start.bit.shape == bit.shape:
        word, bit = start.word.clone(), start.bit.clone()
    if lines.word == "fixed" and lines.bit == "fixed":
        return Solution(v.expand(m, n, batch).clone(), bit, 0, 0)

    def residual(word: torch.Tensor, bit: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        across = (v if lines.word == "fixed" else word) - bit
        current, slope = devices.current_and_slope(across)
        f_word = lines.word_wires(word, v) + (current.sum(1, keepdim=True) if lines.word == "node" else current)
        f_bit = lines.bit_wires(bit, ends) - current
        return f_word, f_bit, slope

    def norm(f_word: torch.Tensor, f_bit: torch.Tensor) -> torch.Tensor:
        total = _dot(f_bit, f_bit) if lines.bit == "ladder" else 0.0
        if lines.word != "fixed":
            total = total + _dot(f_word, f_word)
        return torch.as_tensor(total, dtype=dtype, device=voltages.device)

    f_word, f_bit, slopes = residual(word, bit)
    if devices.device.ohmic:  # linear equations: one exact step (to the linear solves' tolerance)
        floor = None
        if start is not None:  # the correction needs the accuracy of a solve from the cold start, no more
            cold = residual(v.expand(m, word_columns, batch),
                            torch.zeros_like(bit) if ends is None else ends.expand(m, n, batch))
            floor = LINEAR_TOLERANCE * norm(cold[0], cold[1]).sqrt()
        d_word, d_bit, iterations = jacobian_solve(lines, slopes, -f_word, -f_bit, LINEAR_TOLERANCE, floor)
        largest = float(torch.maximum(d_word.abs().max(), d_bit.abs().max()))
        return Solution(word + d_word, bit + d_bit, 1, iterations, [largest])
    cg_total = 0
    sizes: list[float] = []
    previous: torch.Tensor | None = None
    for step in range(1, MAX_NEWTON + 1):
        # the Newton step: J·d = -F
        d_word, d_bit, iterations = jacobian_solve(lines, slopes, -f_word, -f_bit, CG_TOLERANCE)
        cg_total += iterations
        size = torch.maximum(d_word.abs().amax((0, 1)), d_bit.abs().amax((0, 1)))  # (B,)
        sizes.append(float(size.max()))
        # backtracking per input vector on the residual norm
        old = norm(f_word, f_bit)
        alpha = torch.ones((1, 1, batch), dtype=dtype, device=voltages.device)
        for _ in range(MAX_HALVINGS):
            trial_word, trial_bit = word + alpha * d_word, bit + alpha * d_bit
            trial = residual(trial_word, trial_bit)
            new = norm(trial[0], trial[1])
            bad = (new > old * (1 - 1e-4 * alpha)) & (alpha * size > STEP_TOLERANCE * scale)
            if not bool(bad.any()):
                break
            alpha = torch.where(bad, alpha / 2, alpha)
        word, bit = trial_word, trial_bit
        f_word, f_bit, slopes = trial
        taken = alpha[0, 0] * size
        done = taken <= STEP_TOLERANCE * scale
        if previous is not None:
            contracting = (alpha[0, 0] == 1) & (taken <= 1e-3 * previous)
            predicted = taken * (taken / previous.clamp(min=1e-300)) ** 2 + CG_TOLERANCE * taken
            done |= contracting & (predicted <= STEP_TOLERANCE * scale)
        if bool(done.all()):
            return Solution(word, bit, step, cg_total, sizes)
        previous = taken
    unconverged = torch.nonzero(~done).flatten().tolist()
    raise ConvergenceError(f"the native solver did not converge for input vector(s) {unconverged[:10]} "
                           f"after {MAX_NEWTON} Newton steps")
