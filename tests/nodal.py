"""An independent nodal Newton solver of the crossbar, written for the tests only.

It shares no code with spicenn: its own node numbering, its own I-V formulas and
derivatives (below), scipy's sparse LU. Word node (i, j), bit node (i, j) and, with a
driver resistance, a driver node per row are the unknowns; a zero word- or bit-line
resistance pins those nodes to the driver voltage or to 0 V.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

Q = 1.602176634e-19
KB = 1.380649e-23


def iv_linear(g):
    return lambda v: (g * v, g * np.ones_like(v))


def iv_sinh(g, k):
    return lambda v: (g * np.sinh(k * v) / k, g * np.cosh(k * v))


def iv_powerlaw(g, v_ref, n):
    p = np.log2(n)

    def f(v):
        a = np.abs(v) / v_ref
        return np.sign(v) * v_ref * g * a**p, g * p * a ** (p - 1)
    return f


def iv_poole_frenkel(g, a1, b1, a2, b2, temperature=293.15, ln_c_shift=0.0, ln_d_shift=0.0):
    r = 1.0 / g
    c = np.exp(a1 * np.log(r) + b1 + ln_c_shift)
    d_eps = np.exp(a2 * np.log(r) + b2 + ln_d_shift)
    alpha = Q * np.sqrt(Q / (np.pi * d_eps)) / (KB * temperature)

    def f(v):
        s = np.sqrt(np.abs(v))
        current = c * v * np.exp(alpha * s)
        slope = c * np.exp(alpha * s) * (1 + 0.5 * alpha * s)
        return current, slope
    return f


def solve(iv, v_in, r_word, r_bit, r_source=0.0, tol=1e-15, max_iter=100):
    """Currents into the sense nodes (N,), node voltages and driver currents for one input vector."""
    m, n = iv(np.zeros((1, 1)))[0].shape if False else (len(v_in), None)
    g_shape = iv(np.zeros(1))[0].shape
    m, n = g_shape
    W = np.arange(m * n).reshape(m, n)
    B = m * n + np.arange(m * n).reshape(m, n)
    D = 2 * m * n + np.arange(m)
    count = 2 * m * n + (m if r_source > 0 else 0)

    # fixed nodes: a word line with no resistance is at its driver's voltage, a bit line at 0 V
    fixed = np.full(count, np.nan)
    if r_word == 0:
        assert r_source == 0, "the test solver pins word nodes only without a driver resistance"
        fixed[W] = np.repeat(v_in, n).reshape(m, n)
    if r_bit == 0:
        fixed[B] = 0.0
    unknown = np.flatnonzero(np.isnan(fixed))
    position = -np.ones(count, dtype=int)
    position[unknown] = np.arange(len(unknown))

    # linear branches (a, b, conductance); "a" or "b" = -1 means a fixed external voltage e
    linear = []  # (node a, node b or -1, conductance, external voltage at b)
    for i in range(m):
        if r_source > 0:
            linear.append((D[i], -1, 1 / r_source, v_in[i]))
            first = D[i]
        else:
            first = -1
        if r_word > 0:
            if first == -1:
                linear.append((W[i, 0], -1, 1 / r_word, v_in[i]))
            else:
                linear.append((W[i, 0], first, 1 / r_word, 0.0))
            for j in range(1, n):
                linear.append((W[i, j], W[i, j - 1], 1 / r_word, 0.0))
    if r_bit > 0:
        for j in range(n):
            for i in range(m - 1):
                linear.append((B[i, j], B[i + 1, j], 1 / r_bit, 0.0))
            linear.append((B[m - 1, j], -1, 1 / r_bit, 0.0))

    x = np.where(np.isnan(fixed), 0.0, fixed)
    for _ in range(max_iter):
        rows, cols, vals = [], [], []
        residual = np.zeros(count)

        def stamp(p, q, value):
            if position[p] >= 0 and position[q] >= 0:
                rows.append(position[p]); cols.append(position[q]); vals.append(value)

        for a, b, g, e in linear:
            vb = x[b] if b >= 0 else e
            current = g * (x[a] - vb)
            residual[a] += current
            stamp(a, a, g)
            if b >= 0:
                residual[b] -= current
                stamp(b, b, g); stamp(a, b, -g); stamp(b, a, -g)
        vd = x[W] - x[B]
        current, slope = iv(vd)
        np.add.at(residual, W.ravel(), current.ravel())
        np.add.at(residual, B.ravel(), -current.ravel())
        for (w, b, s) in zip(W.ravel(), B.ravel(), slope.ravel()):
            stamp(w, w, s); stamp(b, b, s); stamp(w, b, -s); stamp(b, w, -s)
        J = sp.csc_matrix((vals, (rows, cols)), shape=(len(unknown), len(unknown)))
        dx = spla.spsolve(J, -residual[unknown])
        x[unknown] += dx
        if np.max(np.abs(dx)) <= tol * max(1.0, np.max(np.abs(x))):
            break
    else:
        raise RuntimeError("nodal Newton did not converge")

    vd = x[W] - x[B]
    current = iv(vd)[0]
    if r_bit > 0:
        sense = x[B[m - 1]] * (1 / r_bit)
    else:
        sense = current.sum(axis=0)
    return sense, x[W], x[B]
