"""A third array namespace beside numpy and torch: it builds ngspice expression text.

A device writes its I-V formula once, as a function of `xp` (numpy, torch or `spice`).
Called with `spice` and symbolic arguments, the same function returns the text of an
ngspice behavioural expression, so the SPICE netlist and the torch model cannot drift apart.
"""

from __future__ import annotations

import math
from typing import Union

Operand = Union["Expr", float, int]


def number(value: float) -> str:
    """A float as ngspice text that reads back to the same double (17 significant digits)."""
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"cannot write a non-finite number into a netlist: {value!r}")
    text = repr(value)
    return f"({text})" if value < 0 else text


class Expr:
    """A node of an ngspice expression; every binary operation is parenthesised."""

    __slots__ = ("text",)
    __array_priority__ = 1000  # numpy scalars defer to our reflected operators

    def __init__(self, text: str):
        self.text = text

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return f"Expr({self.text!r})"

    @staticmethod
    def of(value: Operand) -> Expr:
        return value if isinstance(value, Expr) else Expr(number(value))

    def _binary(self, op: str, other: Operand, reflected: bool = False) -> Expr:
        left, right = (Expr.of(other), self) if reflected else (self, Expr.of(other))
        return Expr(f"({left.text}{op}{right.text})")

    def __add__(self, other: Operand) -> Expr:
        return self._binary("+", other)

    def __radd__(self, other: Operand) -> Expr:
        return self._binary("+", other, reflected=True)

    def __sub__(self, other: Operand) -> Expr:
        return self._binary("-", other)

    def __rsub__(self, other: Operand) -> Expr:
        return self._binary("-", other, reflected=True)

    def __mul__(self, other: Operand) -> Expr:
        return self._binary("*", other)

    def __rmul__(self, other: Operand) -> Expr:
        return self._binary("*", other, reflected=True)

    def __truediv__(self, other: Operand) -> Expr:
        return self._binary("/", other)

    def __rtruediv__(self, other: Operand) -> Expr:
        return self._binary("/", other, reflected=True)

    def __pow__(self, other: Operand) -> Expr:
        # Only used on non-negative bases (abs(...)); ngspice's pow() has the plain derivative.
        return Expr(f"pow({self.text},{Expr.of(other).text})")

    def __neg__(self) -> Expr:
        return Expr(f"(-{self.text})")


def _function(spice_name: str):
    def apply(x: Operand) -> Expr:
        return Expr(f"{spice_name}({Expr.of(x).text})")

    apply.__name__ = spice_name
    return apply


class _SpiceNamespace:
    """The subset of the numpy/torch API that device formulas use, spelled for ngspice."""

    exp = staticmethod(_function("exp"))
    log = staticmethod(_function("ln"))
    sqrt = staticmethod(_function("sqrt"))
    sinh = staticmethod(_function("sinh"))
    cosh = staticmethod(_function("cosh"))
    abs = staticmethod(_function("abs"))
    sign = staticmethod(_function("sgn"))


spice = _SpiceNamespace()
