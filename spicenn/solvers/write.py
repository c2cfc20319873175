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


def plot_write(result: WriteResult, initial: Any, path: Any, title: str = "") -> None:
    """The change of every cell's state (a disturb map) and the energy by part, as PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    from ..io import save_figure

    change = result.final_states - np.asarray(initial)
    figure, (left, right) = plt.subplots(1, 2, figsize=(9, 3.8), gridspec_kw={"width_ratios": [1.2, 1]})
    limit = float(np.abs(change).max()) or 1.0
    image = left.imshow(change, cmap="RdBu_r", vmin=-limit, vmax=limit)
    figure.colorbar(image, ax=left, label="Δ state")
    left.set_xlabel("column")
    left.set_ylabel("row")
    parts = ["selected", "half_selected", "unselected", "wires"]
    right.bar(parts, [result.energy[p] * 1e12 for p in parts])
    right.set_ylabel("energy (pJ)")
    right.set_title(f"drivers: {result.energy['drivers'] * 1e12:.4g} pJ", fontsize=9)
    right.tick_params(axis="x", labelrotation=20, labelsize=8)
    figure.suptitle(title, fontsize=8)
    figure.tight_layout()
    save_figure(figure, path)
