"""The surrogate's physics: the crossbar's line equations in forms cheap enough for training.

* `relax` (from `spicenn.circuit.relaxation`): a fixed number of damped sweeps of the exact
  DC equations, the native solver's relaxation; its damping schedule is what the relaxation
  surrogate learns.
* `first_order`: the currents to first order in the line resistances, every term a matmul.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch

from ..circuit.relaxation import relax
from ..devices import Device
from ..devices.base import uniform_cell
from ..errors import InputError

__all__ = ["bit_line_modes", "first_order", "line_kernels", "relax"]


# --- the first-order (matmul-shaped) model ----------------------------------------------
#
# Where the lines load the devices weakly, the circuit's currents are the device-only
# currents less a first-order correction for the line drops, and every term of that
# correction is a matmul. For a device whose current is G·φ(V):
#   word-line drop at cell (i, j):  r_word·φ(V_i)·(G·C)[i, j],  C[j, l] = min(j, l) + 1,
#   bit-line drop at cell (i, j):   r_bit·Σ_l D[i, l]·G[l, j]·φ(V_l),  D[i, l] = M - max(i, l),
# and I_j = Σ_i G_ij·(φ(V_i) - φ'(V_i)·(drop_word + drop_bit)). The word-line term is one
# matmul, exactly; the bit-line term is bilinear in the inputs, and D (a Brownian-motion
# covariance: eigenvalues fall as 1/(2k-1)^2) taken to its leading modes makes it two
# matmuls per mode. Per vector the cost is 2 + 2·modes matmuls, no per-device work.
#
# Resummed: the drops lower the currents that cause them, so the first-order loss x_j
# (relative to the device-only current I0_j of the column) overstates the true one; summing
# that feedback as a geometric series gives I_j = I0_j / (1 + x_j), the exact form for one
# device on a resistive line, equal to the plain expansion to first order. Per column, a few
# element-wise operations on (B, N); it takes strongly loaded tiles (line drops of tens of
# percent) from errors of several percent to a few tenths.


def line_kernels(rows: int, columns: int, dtype: torch.dtype = torch.float64) -> tuple[torch.Tensor, torch.Tensor]:
    """C (columns, columns) and D (rows, rows): the drop at one cell per unit current drawn
    at another, in units of the segment resistance, along a word line and a bit line."""
    j = torch.arange(columns)
    word = (torch.minimum(j[:, None], j[None, :]) + 1).to(dtype)
    i = torch.arange(rows)
    bit = (rows - torch.maximum(i[:, None], i[None, :])).to(dtype)
    return word, bit


def bit_line_modes(rows: int, modes: int) -> torch.Tensor:
    """The leading `modes` eigenvectors of D scaled by sqrt(eigenvalue): (rows, modes)."""
    _, bit = line_kernels(rows, 1)
    values, vectors = torch.linalg.eigh(bit)
    order = torch.argsort(values, descending=True)[:modes]
    return vectors[:, order] * values[order].sqrt()


def first_order(device: Device, voltages: torch.Tensor, conductances: torch.Tensor, r_word: float, r_bit: float,
                modes: torch.Tensor, scales: torch.Tensor | None = None,
                cell: Mapping[str, Any] | None = None, resummed: bool = True,
                slope_step: float = 0.0, word_kernel: torch.Tensor | None = None,
                used: tuple[int, int] | None = None) -> torch.Tensor:
    """Output currents (..., B, N) to first order in the line resistances, resummed per
    column (`resummed=False`: the plain expansion, I0 - loss).

    `used` = (m, n): the voltages are the first m rows' (the other rows are at 0 V) and only
    the first n columns' currents are wanted, (..., B, n). Exact, not an approximation: every
    per-vector term is a sum over rows of φ(V_i) or φ'(V_i)·φ(V_i) (zero at 0 V), and each
    column's terms are its own once the per-tile matrices, which see the whole tile, are built.
    A small layer on a large tile (a first convolution's few rows and columns) costs its own size.

    The drops enter through the device's slope φ'. `slope_step` > 0 takes it as the central
    difference (φ(V + h) - φ(V - h))/2h instead: where an input is below the drop (sparse
    inputs: a row at 0 V back-biased by its bit line), the secant over the drop is what the
    device sees, and for a power law with φ'(0) = 0 the tangent misses that sneak current.
    `word_kernel`: C from `line_kernels`, if the caller keeps it (saves rebuilding it per call).

    `modes` (M, R) from `bit_line_modes`; `scales` (1 + R) multiply the word-line term and
    each bit-line mode's term (ones = the plain expansion; a surrogate fits them to SPICE).
    Per-device parameters in `cell` enter the device-only term through the device's
    separable terms (`Device.row_terms`); the corrections use the nominal parameters (their
    spread changes them at second order).
    """
    cell = dict(cell or {})
    dtype = conductances.dtype
    if word_kernel is None:
        word_kernel, _ = line_kernels(1, conductances.shape[-1], dtype)
    if scales is None:
        scales = torch.ones(1 + modes.shape[-1], dtype=dtype)
    # the word-line drop kernel sees every column of the tile, the rest only the used part
    scales = scales.to(dtype)
    word_drop = conductances * (conductances @ word_kernel) * (r_word * scales[0])
    idle = None
    if used is not None:
        m, n = used
        # the idle rows at 0 V carry no current of their own but see the bit-line drop
        # (back-biased): their modes' conductance sums, met by the slope at 0 V below
        if m < conductances.shape[-2]:
            idle = (modes[m:].T.to(dtype) @ conductances[..., m:, :n]).flatten(-2).unsqueeze(-2)  # (..., 1, R·n)
        word_drop, conductances, modes = word_drop[..., :m, :n], conductances[..., :m, :n], modes[:m]
        cell = {key: value if isinstance(value, float) else value[..., :m, :n] for key, value in cell.items()}
    if slope_step > 0:
        # φ (at the common parameters, else the nominal ones) and its secant slope from the
        # device; the device-only term from its separable terms, which reuse that φ
        phi, slope = device.response(voltages, slope_step, uniform_cell(cell) or {})
        terms = device.row_terms(voltages, conductances, cell, phi=phi)
    else:
        with torch.enable_grad():
            v = voltages if voltages.requires_grad else voltages.detach().requires_grad_()
            terms = device.row_terms(v, conductances, cell)
    if terms is None:
        raise InputError(f"the first-order model needs a device whose current is G·f(V), not {device.describe()}")
    features, weights = terms
    if slope_step <= 0:
        # the first block of features is φ(V); φ' by autograd, exact for any separable model,
        # kept in the graph when d/dV is wanted
        phi = features[..., : voltages.shape[-1]]
        with torch.enable_grad():
            slope = torch.autograd.grad(phi.sum(), v, create_graph=voltages.requires_grad)[0]
        if not voltages.requires_grad:
            features, phi, slope = features.detach(), phi.detach(), slope.detach()
    # bit-line modes folded into the conductances once per tile, (φ·u_r) @ G = φ @ (u_r·G), laid
    # side by side as (..., M, R·N) so that each input meets all modes in one matmul
    rows, columns, count = conductances.shape[-2], conductances.shape[-1], modes.shape[-1]
    modes = modes.to(dtype)
    if count == 1:
        by_mode = conductances * modes
    else:
        by_mode = (modes.T.unsqueeze(-1) * conductances.unsqueeze(-3)).transpose(-3, -2)
        by_mode = by_mode.reshape(*conductances.shape[:-2], rows, count * columns)
    if features is phi:  # device-only term and φ's projections in one matmul
        both = phi @ torch.cat((weights, by_mode), -1)
        device_only, phi_projected = both[..., :columns], both[..., columns:]
    else:
        device_only, phi_projected = features @ weights, phi @ by_mode
    # the fitted scales go into the per-tile matrices, not the per-vector products
    loss = (slope * phi) @ word_drop
    mode_scales = (r_bit * scales[1:]).repeat_interleave(columns)
    slope_projected = slope @ (by_mode * mode_scales)
    if idle is not None:
        if slope_step > 0:
            _, slope_at_zero = device.response(torch.zeros(1, dtype=dtype), slope_step, uniform_cell(cell) or {})
        else:
            zero = torch.zeros(1, dtype=dtype, requires_grad=True)
            with torch.enable_grad():
                phi_at_zero = device.current(zero, torch.ones((), dtype=dtype), torch, uniform_cell(cell) or {})
                slope_at_zero = torch.autograd.grad(phi_at_zero.sum(), zero)[0]
        slope_projected = slope_projected + slope_at_zero * (idle * mode_scales)
    if count == 1:
        loss = loss + phi_projected * slope_projected
    else:
        loss = loss + (phi_projected * slope_projected).unflatten(-1, (count, columns)).sum(-2)
    if not resummed:
        return device_only - loss
    return resum(device_only, loss, torch)


def resum(device_only: Any, loss: Any, xp: Any) -> Any:
    """The column current I0 − loss resummed as I0/(1 + loss/I0) where the loss has I0's
    sign, I0 − loss where it has not: I0 − loss/(1 + r), r = max(I0·loss, 0)/I0².

    With inputs >= 0 the loss always has I0's sign and this is I0²/(I0 + loss) exactly (I0 =
    0 only where every input of the column is 0, and then the loss is 0 too). With signed
    inputs a column's currents cancel: I0 may be ~0 while its loss is not, where the plain
    expansion is the one that stays bounded. `xp`: numpy or torch."""
    tiny = float(xp.finfo(device_only.dtype).tiny)
    product = device_only * loss
    same_sign = product.clamp_min(0.0) if xp is torch else xp.maximum(product, 0.0)
    ratio = same_sign / (device_only * device_only + tiny)
    return device_only - loss / (1.0 + ratio)
