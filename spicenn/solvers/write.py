"""`write`: a write program through an array of dynamic devices, by any solver that has a
write engine (the native one, or ngspice's transient as the reference)."""

from __future__ import annotations

from typing import Any

from ..crossbar.program import DynamicCrossbar, WriteProgram, WriteResult
from .registry import Solver, get_solver


def write(array: DynamicCrossbar, program: WriteProgram | tuple[Any, Any, Any],
          engine: str | Solver = "native") -> WriteResult:
    """Write `program` into `array`: a `WriteProgram` (e.g. from `crossbar.program.single_cell`)
    or a raw `(row_voltages (S, M), column_voltages (S, N), durations (S,))` in V, V, s.
    Returns the states after every slot, the read conductances, and the energy by part."""
    if not isinstance(program, WriteProgram):
        try:
            rows, columns, durations = program
        except (TypeError, ValueError):
            from ..errors import InputError

            raise InputError("a write program is a WriteProgram or (row_voltages, column_voltages, "
                             "durations)") from None
        program = WriteProgram(rows, columns, durations)
    return get_solver(engine).write(array, program)
