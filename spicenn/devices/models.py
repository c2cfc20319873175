"""The static I-V models: linear, sinh, power law, Poole-Frenkel."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from ..checks import finite_number
from ..errors import InputError
from .base import EXACT_TERMS_TOLERANCE, Device
from .symbolic import number

ELEMENTARY_CHARGE = 1.602176634e-19  # C
BOLTZMANN = 1.380649e-23  # J/K
ROOM_TEMPERATURE = 293.15  # K

# sqrt(|V| + floor) instead of sqrt(|V|): the same current to ~1e-15 relative, but a finite
# derivative at V = 0 in both ngspice's Jacobian and torch's autograd (else 0 * inf = NaN).
_SQRT_FLOOR = 1e-30


@dataclass(frozen=True, kw_only=True)
class Linear(Device):
    """Ohmic device: I = G·V."""

    name: ClassVar[str] = "linear"
    separable: ClassVar[bool] = True
    ohmic: ClassVar[bool] = True

    def formula(self, v, g, k, xp):
        return g * v

    def current_and_slope(self, v, g, cell=None):
        import torch

        return g * v, torch.ones_like(v) * g

    def spice_lines(self, names, p_nodes, n_nodes, g, cell):
        # A plain resistor is exact and cheaper for ngspice than a behavioural source.
        return [f"R{name} {p} {n} {number(1.0 / gi)}" for name, p, n, gi in zip(names, p_nodes, n_nodes, g)]


@dataclass(frozen=True, kw_only=True)
class Sinh(Device):
    """I = G·sinh(k·V)/k: small-signal conductance G, nonlinearity k (1/V)."""

    name: ClassVar[str] = "sinh"
    separable: ClassVar[bool] = True
    k: float = 3.0

    def __post_init__(self) -> None:
        super().__post_init__()
        object.__setattr__(self, "k", finite_number("sinh: k", self.k, minimum=0.0, strict_minimum=True))

    def formula(self, v, g, k, xp):
        return g * xp.sinh(self.k * v) / self.k

    def current_and_slope(self, v, g, cell=None):
        """With m = e^x - 1 and d = e^-x: sinh x = m(1 + d)/2, cosh x = (m + 1 + d)/2 (no
        cancellation near 0 V); one expm1 and one reciprocal for both."""
        import torch

        m = torch.expm1(self.k * v)
        d = torch.reciprocal(m + 1.0)
        return g * (m * (1.0 + d)) * (0.5 / self.k), g * (m + 1.0 + d) * 0.5

    def response(self, v, step, cell=None, xp=None, scratch=None):
        """φ and its secant slope (see `Device.response`) from two exponentials instead of three
        sinh: sinh(k(v ± h)) = sinh(kv)·cosh(kh) ± cosh(kv)·sinh(kh), so the secant is
        cosh(kv)·sinh(kh)/(kh). With m = e^x - 1 and d = e^-x, sinh x = m(1 + d)/2 has no
        cancellation near 0 V (as (e^x - e^-x)/2 has) nor for x < 0, and cosh x = (m + 1 + d)/2."""
        secant = 0.5 * math.sinh(self.k * step) / (self.k * step)
        if xp is np:  # the same steps in place, in kept buffers if the caller has them
            from .fast import allocate

            scratch = scratch or allocate
            grown = np.multiply(v, self.k, out=scratch("grown", v.shape, v.dtype))
            np.expm1(grown, out=grown)
            decay = np.multiply(v, -self.k, out=scratch("decay", v.shape, v.dtype))
            np.exp(decay, out=decay)
            phi = np.add(decay, 1.0, out=scratch("phi", v.shape, v.dtype))
            phi *= grown
            phi *= 0.5 / self.k
            grown += decay  # the slope, in grown's buffer
            grown += 1.0
            grown *= secant
            return phi, grown
        if xp is None:
            import torch as xp
        x = self.k * v
        grown, decay = xp.expm1(x), xp.exp(-x)
        phi = grown * (decay + 1) * (0.5 / self.k)
        return phi, (grown + decay + 1) * secant


@dataclass(frozen=True, kw_only=True)
class PowerLaw(Device):
    """I = sign(V)·V_ref·G·(|V|/V_ref)^log2(n), where n = I(2·V_ref)/I(V_ref) >= 2.

    `n` is a scalar, or with `n_std` > 0 drawn per device from a normal distribution
    truncated below at 2 (by redrawing), from the generator seeded with `seed`.
    """

    name: ClassVar[str] = "powerlaw"
    cell_parameter_names: ClassVar[tuple[str, ...]] = ("n",)
    separable: ClassVar[bool] = True
    v_ref: float = 0.25
    n: float = 2.13
    n_std: float = 0.0
    seed: int = 0

    def __post_init__(self) -> None:
        super().__post_init__()
        object.__setattr__(self, "v_ref", finite_number("powerlaw: v_ref", self.v_ref, minimum=0.0,
                                                        strict_minimum=True))
        object.__setattr__(self, "n", finite_number("powerlaw: n", self.n, minimum=2.0))
        object.__setattr__(self, "n_std", finite_number("powerlaw: n_std", self.n_std, minimum=0.0))
        seed = finite_number("powerlaw: seed", self.seed, minimum=0)
        if seed != int(seed):
            raise InputError(f"powerlaw: seed must be a whole number, got {self.seed!r}")
        object.__setattr__(self, "seed", int(seed))

    def cell_parameters(self, shape, seed=None):
        if self.n_std == 0:
            return {"n": np.full(shape, self.n)}
        rng = np.random.default_rng(self.seed if seed is None else seed)
        n = rng.normal(self.n, self.n_std, size=shape)
        low = n < 2.0
        while np.any(low):  # truncate below at 2 by redrawing those devices
            n[low] = rng.normal(self.n, self.n_std, size=int(low.sum()))
            low = n < 2.0
        return {"n": n}

    def constants(self, g, xp, cell):
        n = cell.get("n", self.n)
        return {"p": math.log2(n) if isinstance(n, (int, float)) else xp.log(n) / math.log(2.0)}

    def formula(self, v, g, k, xp):
        return xp.sign(v) * self.v_ref * g * (xp.abs(v) / self.v_ref) ** k["p"]

    def current_and_slope(self, v, g, cell=None):
        """With a = |V|/V_ref: I = sign(V)·V_ref·G·a·a^(p-1), dI/dV = p·G·a^(p-1) (p >= 1)."""
        import torch

        p = self.constants(g, torch, cell or {})["p"]
        a = v.abs() / self.v_ref
        power = a ** (p - 1.0)
        return torch.sign(v) * (self.v_ref * g) * a * power, (p * g) * power

    def row_terms(self, v, g, cell=None, terms=6, xp=None, phi=None, scratch=None):
        """With per-device n, the Taylor series in the exponent's deviation from the nominal:
        (|v|/v_ref)^p = (|v|/v_ref)^p0 · Σ_k (δp·ln(|v|/v_ref))^k / k!, so term k is
        φ0(v)·ln(|v|/v_ref)^k/k! against G·δp^k. Six terms: ~1e-6 relative for inputs near
        v_ref, ~5e-4 where every input is below v_ref/10 (whose currents are small).
        With numpy, the same steps in place, into `scratch` buffers if given."""
        exact = super().row_terms(v, g, cell, terms, xp, phi)
        if exact is not None or not cell:
            return exact
        from .fast import allocate, power_law

        if xp is None:
            import torch as xp
        if phi is None:  # φ at the nominal n
            phi = (power_law(v, self.v_ref, math.log2(self.n)) if xp is np or v.device.type == "cpu"
                   else self.current(v, xp.ones((), dtype=v.dtype), xp))
        rows = v.shape[-1]
        if xp is np:
            scratch = scratch or allocate
            log_ratio = np.abs(v, out=scratch("log_ratio", v.shape, v.dtype))
            log_ratio += 1e-30  # finite at 0 V
            log_ratio *= 1.0 / self.v_ref
            np.log(log_ratio, out=log_ratio)
            features = scratch("features", (*v.shape[:-1], terms, rows), v.dtype)
            features[..., 0, :] = phi
            for k in range(1, terms):
                np.multiply(features[..., k - 1, :], log_ratio, out=features[..., k, :])
                features[..., k, :] *= 1.0 / k
            deviation = np.log2(np.asarray(cell["n"], dtype=g.dtype)) - g.dtype.type(math.log2(self.n))
            weights = scratch("weights", (*g.shape[:-2], terms * rows, g.shape[-1]), g.dtype)
            power = np.ones_like(deviation)
            for k in range(terms):
                np.multiply(g, power, out=weights[..., k * rows : (k + 1) * rows, :])
                power *= deviation
            return features.reshape(*v.shape[:-1], terms * rows), weights
        log_ratio = xp.log((v.abs() + 1e-30) / self.v_ref)  # finite at 0 V
        features = [phi]
        for k in range(1, terms):
            features.append(features[-1] * log_ratio / k)
        features = xp.stack(features, -2)  # (..., B, K, M): one matmul after a reshape
        deviation = xp.log2(xp.as_tensor(cell["n"], dtype=g.dtype, device=g.device)) - math.log2(self.n)
        weights = xp.cat([g * deviation**k for k in range(terms)], -2)
        return features.reshape(*v.shape[:-1], terms * rows), weights

    def response(self, v, step, cell=None, xp=None, scratch=None):
        """φ and its secant slope (see `Device.response`) from numpy's SIMD log2 and exp2, ~5x
        faster here than torch's pow, which dominated the first-order surrogate's time per
        call; for torch the gradient is the formula's own derivative. Torch tensors off the
        CPU take the generic path."""
        from .fast import power_law_response

        if xp is not np and v.device.type != "cpu":
            return super().response(v, step, cell)
        return power_law_response(v, step, self.v_ref, math.log2((cell or {}).get("n", self.n)), scratch)

    def lib_cell_defaults(self):
        return {"n": self.n}


@dataclass(frozen=True, kw_only=True)
class PooleFrenkel(Device):
    """I = sign(V)·c·|V|·exp(q·sqrt(q|V|/(π·dε))/(k_B·T)).

    c and dε depend on the device's resistance R = 1/G through ln c = a1·ln R + b1 and
    ln dε = a2·ln R + b2. The defaults are the low-resistance SiOx set.

    Devices scatter about those fits when `ln_c_std` or `ln_d_std` > 0: each device's ln c
    and ln dε are shifted by a bivariate normal residual (standard deviations `ln_c_std`,
    `ln_d_std`, correlation `correlation`) drawn with `seed`, as Joksas et al.'s code draws
    them about its fits (their residual covariance comes from measurements not published as
    numbers, so the presets have none).
    """

    name: ClassVar[str] = "poole-frenkel"
    cell_parameter_names: ClassVar[tuple[str, ...]] = ("ln_c_shift", "ln_d_shift")
    a1: float = -1.12
    b1: float = 0.628
    a2: float = -1.34
    b2: float = -25.9
    temperature: float = ROOM_TEMPERATURE
    ln_c_std: float = 0.0
    ln_d_std: float = 0.0
    correlation: float = 0.0
    seed: int = 0

    def __post_init__(self) -> None:
        super().__post_init__()
        for field in ("a1", "b1", "a2", "b2"):
            object.__setattr__(self, field, finite_number(f"poole-frenkel: {field}", getattr(self, field)))
        object.__setattr__(self, "temperature", finite_number("poole-frenkel: temperature", self.temperature,
                                                              minimum=0.0, strict_minimum=True))
        for field in ("ln_c_std", "ln_d_std"):
            object.__setattr__(self, field, finite_number(f"poole-frenkel: {field}", getattr(self, field),
                                                          minimum=0.0))
        correlation = finite_number("poole-frenkel: correlation", self.correlation, minimum=-1.0)
        if correlation > 1.0:
            raise InputError(f"poole-frenkel: correlation must be in [-1, 1], got {correlation:g}")
        object.__setattr__(self, "correlation", correlation)
        seed = finite_number("poole-frenkel: seed", self.seed, minimum=0)
        if seed != int(seed):
            raise InputError(f"poole-frenkel: seed must be a whole number, got {self.seed!r}")
        object.__setattr__(self, "seed", int(seed))

    def cell_parameters(self, shape, seed=None):
        if self.ln_c_std == 0 and self.ln_d_std == 0:
            return {}
        rng = np.random.default_rng(self.seed if seed is None else seed)
        first, second = rng.standard_normal((2, *shape))
        independent = math.sqrt(max(0.0, 1.0 - self.correlation**2))
        return {"ln_c_shift": self.ln_c_std * first,
                "ln_d_shift": self.ln_d_std * (self.correlation * first + independent * second)}

    def constants(self, g, xp, cell):
        log_r = -xp.log(g)
        ln_c = self.a1 * log_r + self.b1
        ln_d_epsilon = self.a2 * log_r + self.b2
        if "ln_c_shift" in cell:
            ln_c = ln_c + cell["ln_c_shift"]
        if "ln_d_shift" in cell:
            ln_d_epsilon = ln_d_epsilon + cell["ln_d_shift"]
        c = xp.exp(ln_c)
        d_epsilon = xp.exp(ln_d_epsilon)
        q = ELEMENTARY_CHARGE
        alpha = q * xp.sqrt(q / (math.pi * d_epsilon)) / (BOLTZMANN * self.temperature)
        return {"c": c, "alpha": alpha}

    def lib_cell_defaults(self):
        return {"ln_c_shift": 0.0, "ln_d_shift": 0.0}

    def exact_row_terms(self, v, g, cell=None, tolerance=EXACT_TERMS_TOLERANCE, max_terms=16):
        """I = c·v·e^(α·s) with s = sqrt(|v| + floor) splits about a common α0 (the middle of
        the devices' α): e^(α·s) = e^(α0·s)·Σ_k (δ·s)^k/k!, δ = α - α0, so term k is
        v·e^(α0·s)·s^k/k! against c·δ^k. The remainder after K terms is at most
        X^K/K!·e^(2X) of each device's current, X = max|δ|·max s: K is the least that keeps
        it within `tolerance` (7 for the high-resistance SiOx set at 0.5 V). A matmul instead
        of the (B, M, N) formula: what makes the device backend fast for these devices."""
        import torch

        k = self.constants(g, torch, cell or {})
        alpha = k["alpha"]
        low, high = float(alpha.detach().min()), float(alpha.detach().max())
        alpha0 = 0.5 * (low + high)
        s = torch.sqrt(v.abs() + _SQRT_FLOOR)
        bound = 0.5 * (high - low) * float(s.detach().max()) if s.numel() else 0.0
        terms, remainder = 1, bound * math.exp(2 * bound)
        while remainder > tolerance:
            if terms == max_terms:
                return None
            terms += 1
            remainder *= bound / terms
        first = v * torch.exp(alpha0 * s)
        features = [first]
        for order in range(1, terms):
            features.append(features[-1] * s / order)
        delta = alpha - alpha0
        weights = [k["c"].expand(g.shape)]
        for _ in range(1, terms):
            weights.append(weights[-1] * delta)
        return torch.cat(features, -1), torch.cat(weights, -2)

    def formula(self, v, g, k, xp):
        return k["c"] * v * xp.exp(k["alpha"] * xp.sqrt(xp.abs(v) + _SQRT_FLOOR))

    def current_and_slope(self, v, g, cell=None):
        """d/dV [c·V·e^(α·s)] with s = sqrt(|V| + floor): c·e^(α·s)·(1 + α·|V|/(2s))."""
        import torch

        k = self.constants(g, torch, cell or {})
        s = torch.sqrt(v.abs() + _SQRT_FLOOR)
        scaled = k["c"] * torch.exp(k["alpha"] * s)
        return scaled * v, scaled * (1.0 + k["alpha"] * v.abs() / (2.0 * s))
