"""Input checks shared by every entry point: each returns a clean float64 array or raises InputError."""

from __future__ import annotations

import math
import os
import re
from typing import Any, TypeVar

import numpy as np

from .errors import InputError

T = TypeVar("T")


def finite_array(name: str, value: Any, ndim: int | tuple[int, ...]) -> np.ndarray:
    """`value` as a float64 array of the given rank(s), non-empty and finite."""
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise InputError(f"{name} must be numeric, got {type(value).__name__}") from None
    ranks = (ndim,) if isinstance(ndim, int) else ndim
    if array.ndim not in ranks:
        want = " or ".join(f"{r}-D" for r in ranks)
        raise InputError(f"{name} must be {want}, got shape {array.shape}")
    if array.size == 0 or 0 in array.shape:
        raise InputError(f"{name} is empty (shape {array.shape})")
    if not np.all(np.isfinite(array)):
        bad = np.argwhere(~np.isfinite(array))[0]
        raise InputError(f"{name} has a non-finite value (NaN or inf) at index {tuple(int(i) for i in bad)}")
    return array


# a number as people write one: 3, -0.5, .5, 1e-4 (not Python's 1_000 nor hex), or inf/nan
# (then refused as not finite)
_NUMBER_TEXT = re.compile(r"^[+-]?((\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?|inf|infinity|nan)$", re.IGNORECASE)


def finite_number(name: str, value: Any, *, minimum: float | None = None, maximum: float | None = None,
                  strict_minimum: bool = False) -> float:
    """`value` as a finite float within [minimum, maximum] (or (minimum, ...] when strict)."""
    if isinstance(value, bool) or (isinstance(value, str) and not _NUMBER_TEXT.match(value.strip())):
        raise InputError(f"{name} must be a number, got {value!r}")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InputError(f"{name} must be a number, got {value!r}") from None
    if not math.isfinite(number):
        raise InputError(f"{name} must be finite, got {value!r}")
    if minimum is not None:
        if strict_minimum and number <= minimum:
            raise InputError(f"{name} must be > {minimum:g}, got {number:g}")
        if not strict_minimum and number < minimum:
            raise InputError(f"{name} must be >= {minimum:g}, got {number:g}")
    if maximum is not None and number > maximum:
        raise InputError(f"{name} must be <= {maximum:g}, got {number:g}")
    return number


# the largest seed anything spicenn seeds (numpy, torch) takes the same way everywhere
MAX_SEED = 2**32 - 1


def whole_number(name: str, value: Any, minimum: int, maximum: int | None = None) -> int:
    """An integer setting (a float like 3.0 is accepted, True is not) in [minimum, maximum]."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
            or int(value) != value or value < minimum:
        raise InputError(f"{name} must be a whole number >= {minimum}, got {value!r}")
    if maximum is not None and value > maximum:
        raise InputError(f"{name} must be at most {maximum:,}, got {int(value):,}")
    return int(value)


def memory_bytes() -> int:
    """This machine's physical memory (bytes); 0 where it cannot be read."""
    try:
        return int(os.sysconf("SC_PHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):
        return 0


# work whose arrays would take more than this share of the machine's memory is refused before
# it starts (what would otherwise end in a MemoryError, or in the kernel's OOM killer)
MEMORY_SHARE = 0.7


def affordable(what: str, nbytes: float) -> None:
    """Refuse `what` in one line, with the estimate, if its arrays (`nbytes`) cannot fit."""
    total = memory_bytes()
    if total and nbytes > MEMORY_SHARE * total:
        raise InputError(f"{what} needs about {nbytes / 2**30:,.1f} GiB of memory; this machine has "
                         f"{total / 2**30:,.1f} GiB: make it smaller")


# ngspice runs what a netlist's control block says, shell commands included: no text a user
# passes may start a line or a control block. Printable characters only (no newline, no
# carriage return, no form feed), and none of the words that open one.
_NETLIST_FORBIDDEN_WORDS = (".control", ".endc", "shell", ".include", ".inc ", ".lib", ".exec", "source ")
_IDENTIFIER = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,63}$")


def netlist_comment(name: str, value: Any) -> str:
    """`value` as text fit for a netlist comment line, or a one-line InputError."""
    if not isinstance(value, str):
        raise InputError(f"{name} must be text, got {type(value).__name__}")
    if len(value) > 200:
        raise InputError(f"{name} is longer than 200 characters")
    unprintable = [c for c in value if not c.isprintable()]
    if unprintable:
        raise InputError(f"{name} holds a control character ({unprintable[0]!r}); give one line of printable text")
    lowered = value.lower()
    word = next((w for w in _NETLIST_FORBIDDEN_WORDS if w.strip() in lowered), None)
    if word is not None:
        raise InputError(f"{name} holds {word.strip()!r}, ngspice command syntax; remove it")
    return value


def netlist_identifier(name: str, value: Any) -> str:
    """`value` as a netlist name (letters, digits, '_' and '-', starting with a letter)."""
    if not isinstance(value, str) or not _IDENTIFIER.match(value):
        raise InputError(f"{name} must be a name of letters, digits, '_' and '-' starting with a letter "
                         f"(at most 64), got {value!r}")
    return value


# What spicenn's netlists are made of, and nothing else (`check_netlist`): ngspice accepts
# many spellings of the lines that read files or run commands (`.inc`, `.incl`, `.inclu`,
# `.includ`, `.include`, `.lib`, `.libr`, upper or lower case, indented; `.control` blocks), so
# the guard lists what may pass instead of what may not.
# resistors, conductances (G as a VCCS), capacitors, sources, behavioural sources, subcircuits
_ELEMENT = re.compile(r"^[RGCVBX][A-Za-z0-9_#]* ")
_ELEMENT_TEXT = re.compile(r"^[A-Za-z0-9_#.,=+\-*/()<>:' ]*$")  # node names, numbers, expressions
_CONTINUATION = {"element": re.compile(r"^\+[0-9eE.,+\- ()]*$"),  # the numbers of a PWL source
                 "output": re.compile(r"^\+( [A-Za-z]\([A-Za-z0-9_#,]+\))+$")}  # more vectors to print
_DOT_COMMANDS = {
    ".options": re.compile(r"^\.options( [a-z0-9_]+(=[0-9eE.+\-]+)?)*$"),
    ".op": re.compile(r"^\.op$"),
    ".dc": re.compile(r"^\.dc( [A-Za-z0-9_]+)( [0-9eE.+\-]+){3}$"),
    ".tran": re.compile(r"^\.tran( [0-9eE.+\-]+){2,4}( uic)?$"),
    ".save": re.compile(r"^\.save( [A-Za-z]\([A-Za-z0-9_#,]+\))+$"),
    ".print": re.compile(r"^\.print (dc|tran|op)( [A-Za-z]\([A-Za-z0-9_#,]+\))+$"),
    ".end": re.compile(r"^\.end$"),
}


def check_netlist(text: str, includes: tuple[str, ...] = ()) -> str:
    """The guard before ngspice reads a netlist: every line must be of a form spicenn writes —
    a comment, an element (R, C, V, B; X only where a device library is included), the numbers
    continuing a source, one of the analyses and options it uses, `.end` — or `.include` of
    exactly one of the files named in `includes` (e.g. the shipped device .lib). Anything else
    (a control block, any spelling of an include or library, another command) is refused with
    its line number."""
    allowed_includes = {f".include {path}" for path in includes}
    previous = ""
    for number, line in enumerate(text.split("\n"), 1):
        if any(not c.isprintable() for c in line):
            raise InputError(f"netlist line {number} holds a control character; refusing to run it")
        stripped = line.strip()
        if number == 1 or not stripped:  # the title line is never parsed as a command
            if number == 1 and stripped.lower().startswith("*ng_script"):
                raise InputError("netlist line 1 marks the file as an ngspice script; refusing to run it")
            previous = "comment" if number == 1 else previous
            continue
        if stripped.startswith("*"):
            if stripped[1:2] == "#" or stripped.lower().startswith("*ng_script"):
                raise InputError(f"netlist line {number} is an ngspice command comment; refusing to run it")
            kind = "comment"
        elif stripped in allowed_includes:
            kind = "include"
        elif stripped.startswith("+"):
            form = _CONTINUATION.get(previous)
            if form is None or not form.match(stripped):
                raise InputError(f"netlist line {number} continues a line with something spicenn does not write; "
                                 "refusing to run it")
            kind = previous
        elif stripped.startswith("."):
            word = stripped.split()[0].lower()
            form = _DOT_COMMANDS.get(word)
            if form is None or not form.match(stripped):
                raise InputError(f"netlist line {number} is not a command spicenn writes ({stripped.split()[0]!r}: "
                                 "control blocks, includes and other commands are refused); refusing to run it")
            kind = "output" if word in (".print", ".save") else "command"
        else:
            if not _ELEMENT.match(stripped) or not _ELEMENT_TEXT.match(stripped) or \
                    (stripped[0] == "X" and not includes):
                raise InputError(f"netlist line {number} is not an element spicenn writes "
                                 f"({stripped.split()[0]!r}); refusing to run it")
            kind = "element"
        previous = kind
    return text


def build_dataclass(cls: type[T], what: str, params: dict[str, Any]) -> T:
    """`cls(**params)`, a parameter the dataclass does not have refused in one line naming
    `what` (e.g. "device 'sinh'") and the parameters it has."""
    import dataclasses

    allowed = {field.name for field in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(params) - allowed)
    if unknown:
        raise InputError(f"{what} has no parameter {unknown[0]!r}; its parameters are: {', '.join(sorted(allowed))}")
    return cls(**params)
