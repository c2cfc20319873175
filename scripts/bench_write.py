"""Writes through the circuit: the native write engine against ngspice's transient, and the
figures of what a write does (issue 26).

    python scripts/bench_write.py            # the table into BENCHMARKS.md, figures into docs/benchmarks/
    python scripts/bench_write.py --quick    # small arrays only, prints only

Each row runs one program on one array with both engines (ngspice where it finishes in
minutes; above that, native only) and reports the seconds, their ratio and the largest
difference of any cell's state after any slot. Run it on a quiet machine.
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

from bench_spice import write_section  # noqa: E402

import spicenn  # noqa: E402
from spicenn.crossbar.program import DynamicCrossbar, WriteProgram, single_cell, stochastic_update  # noqa: E402
from spicenn.devices import get_dynamic_device  # noqa: E402
from spicenn.devices.dynamic import pulse_curve  # noqa: E402

FIGURES = ROOT / "docs" / "benchmarks"
VOLTAGE, WIDTH = 1.2, 100e-9  # VTEAM's defaults switch at 0.8 V: V/2 and V/3 leave the others still


def program_for(kind: str, n: int, seed: int = 0) -> WriteProgram:
    if kind in ("v/2", "v/3"):  # five pulses into the far corner, the cell the wires starve most
        return single_cell((n, n), (n - 1, n - 1), VOLTAGE, WIDTH, pulses=5, scheme=kind)
    rng = np.random.default_rng(seed)
    return stochastic_update(rng.uniform(0, 1, n), rng.uniform(-1, 1, n), VOLTAGE, 10e-9, bits=31, seed=seed)


def timed(run: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = run()
    return time.perf_counter() - started, result


def speed_table(sizes: list[int], ngspice_limit: dict[str, int]) -> list[dict[str, Any]]:
    rows = []
    for kind in ("v/2", "v/3", "stochastic"):
        for n in sizes:
            wire = 1.0 if kind == "stochastic" else 5.0
            array = DynamicCrossbar(np.full((n, n), 0.5), "vteam", r_word=wire, r_bit=wire)
            program = program_for(kind, n)
            native_s, native = min((timed(lambda: spicenn.write(array, program, engine="native")) for _ in range(2)),
                                   key=lambda pair: pair[0])
            row: dict[str, Any] = {"kind": kind, "n": n, "wire": wire, "slots": program.slots,
                                   "native_s": native_s, "moved": float(np.abs(native.final_states - 0.5).max())}
            if n <= ngspice_limit[kind]:
                ngspice_s, reference = timed(lambda: spicenn.write(array, program, engine="shared"))
                row.update(ngspice_s=ngspice_s, ratio=ngspice_s / native_s,
                           difference=float(np.abs(native.states - reference.states).max()))
            print(row, flush=True)
            rows.append(row)
    return rows


def _save(figure: Any, path: Path) -> None:
    import matplotlib.pyplot as plt

    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def pulse_figure(path: Path) -> dict[str, float]:
    """Pulse-response curves per model: the device's own ODE, the native engine and ngspice
    on a 1x1 array (+V pulses, then −V)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cases = [("vteam", 1.1, 20e-9, 0.1), ("yakopcic", 0.9, 2e-5, 0.1), ("messaris", 1.5, 1e-6, 0.9)]
    figure, axes = plt.subplots(1, len(cases), figsize=(13, 3.6))
    worst: dict[str, float] = {}
    for axis, (name, voltage, width, x0) in zip(axes, cases):
        device = get_dynamic_device(name)
        pulses = 15
        ode = np.array(pulse_curve(device, voltage, width, pulses, x0=x0)["states"])
        rows = np.array([[voltage], [0.0]] * pulses + [[-voltage], [0.0]] * pulses)
        # edges of a millionth of the pulse: the ODE's pulses are rectangular
        program = WriteProgram(rows, np.zeros_like(rows), np.array([width, width] * (2 * pulses)), t_edge=width * 1e-6)
        array = DynamicCrossbar(np.array([[x0]]), device)
        curves = {"ODE (the device alone, rectangular pulses)": ode}
        for engine in ("native", "shared"):
            states = spicenn.write(array, program, engine=engine).states[1::2, 0, 0]
            curves[f"{'ngspice' if engine == 'shared' else 'native engine'}"] = np.concatenate([[x0], states])
        for label, states in curves.items():
            axis.plot(states, ".-" if "ODE" in label else "o", ms=3 if "ODE" in label else 6, mfc="none", label=label)
        worst[name] = max(float(np.abs(curves[key] - ode).max()) for key in curves)
        axis.set_title(f"{device.name}: ±{voltage:g} V, {width:g} s", fontsize=9)
        axis.set_xlabel("pulse number (+V, then −V)")
        axis.set_ylabel("state x")
        axis.legend(fontsize=7)
    _save(figure, path)
    return worst


def maps_figure(path: Path, n: int = 16) -> None:
    """Δstate maps for V/2, V/3 and the stochastic update at 0 Ω and 5 Ω segments, beside the
    ideal (only the selected cell, or the outer product x·δ scaled to the 0 Ω map)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rng = np.random.default_rng(0)
    x, delta = rng.uniform(0, 1, n), rng.uniform(-1, 1, n)
    figure, axes = plt.subplots(3, 3, figsize=(10, 9.5))
    for row, kind in enumerate(("v/2", "v/3", "stochastic")):
        if kind == "stochastic":
            program = stochastic_update(x, delta, VOLTAGE, 10e-9, bits=31, seed=0)
        else:
            program = single_cell((n, n), (n - 1, n - 1), VOLTAGE, WIDTH, pulses=5, scheme=kind)
        changes = []
        for wire in (0.0, 5.0):
            array = DynamicCrossbar(np.full((n, n), 0.5), "vteam", r_word=wire, r_bit=wire)
            changes.append(spicenn.write(array, program).final_states - 0.5)
        if kind == "stochastic":
            outer = np.outer(x, delta)
            ideal = outer * float((outer * changes[0]).sum() / (outer * outer).sum())
        else:
            ideal = np.zeros((n, n))
            ideal[-1, -1] = changes[0][-1, -1]
        limit = max(float(np.abs(c).max()) for c in (*changes, ideal)) or 1.0
        for column, (title, change) in enumerate((("0 Ω segments", changes[0]), ("5 Ω segments", changes[1]),
                                                  ("ideal", ideal))):
            axis = axes[row, column]
            image = axis.imshow(change, cmap="RdBu_r", vmin=-limit, vmax=limit)
            axis.set_title(f"{kind}: {title}", fontsize=9)
            axis.set_xticks([])
            axis.set_yticks([])
        figure.colorbar(image, ax=axes[row].tolist(), label="Δ state", shrink=0.8)
    figure.savefig(path, dpi=100)
    plt.close(figure)


def far_corner_figure(path: Path) -> list[dict[str, float]]:
    """The far corner's step under one V/2 pulse against array size and wire resistance."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    points = []
    figure, axis = plt.subplots(figsize=(5.5, 3.8))
    for wire in (0.0, 1.0, 2.0, 5.0):
        steps = []
        for n in (8, 16, 32, 64, 128):
            array = DynamicCrossbar(np.full((n, n), 0.5), "vteam", r_word=wire, r_bit=wire)
            result = spicenn.write(array, single_cell((n, n), (n - 1, n - 1), VOLTAGE, WIDTH, pulses=1))
            steps.append(float(result.final_states[-1, -1] - 0.5))
            points.append({"wire": wire, "n": n, "step": steps[-1]})
        axis.plot([8, 16, 32, 64, 128], steps, "o-", label=f"{wire:g} Ω per segment")
    axis.set_xscale("log", base=2)
    axis.set_xlabel("array size N (N x N)")
    axis.set_ylabel("far-corner Δstate, one V/2 pulse")
    axis.legend(fontsize=8)
    _save(figure, path)
    return points


def energy_figure(path: Path, n: int = 32) -> list[dict[str, float]]:
    """The energy of one write per scheme by part, beside the V²·G·t estimate of the cells written."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rng = np.random.default_rng(0)
    device = get_dynamic_device("vteam")
    g = float(device.conductance(0.5, 0.1))
    cases = {"v/2": single_cell((n, n), (n - 1, n - 1), VOLTAGE, WIDTH, pulses=1, scheme="v/2"),
             "v/3": single_cell((n, n), (n - 1, n - 1), VOLTAGE, WIDTH, pulses=1, scheme="v/3"),
             "stochastic": stochastic_update(rng.uniform(0, 1, n), rng.uniform(-1, 1, n), VOLTAGE, 10e-9, bits=31)}
    parts = ("selected", "half_selected", "unselected", "wires")
    rows = []
    figure, axis = plt.subplots(figsize=(6.5, 4))
    for position, (kind, program) in enumerate(cases.items()):
        array = DynamicCrossbar(np.full((n, n), 0.5), "vteam", r_word=5.0, r_bit=5.0)
        result = spicenn.write(array, program)
        # the estimate: V²·G·t for every cell the full voltage reaches, over the pulses' holds
        written = float(sum((program.across(s) >= VOLTAGE * (1 - 1e-9)).sum() * program.durations[s]
                            for s in range(program.slots)))
        estimate = VOLTAGE**2 * g * written
        bottom = 0.0
        for part in parts:
            axis.bar(position, result.energy[part] * 1e12, bottom=bottom, label=part if position == 0 else None,
                     color={"selected": "C0", "half_selected": "C1", "unselected": "C2", "wires": "C3"}[part])
            bottom += result.energy[part] * 1e12
        axis.plot(position, estimate * 1e12, "k_", ms=30, mew=2, label="V²·G·t estimate" if position == 0 else None)
        rows.append({"kind": kind, "drivers_pJ": result.energy["drivers"] * 1e12, "estimate_pJ": estimate * 1e12,
                     **{f"{part}_pJ": result.energy[part] * 1e12 for part in parts}})
    axis.set_xticks(range(len(cases)), list(cases))
    axis.set_yscale("log")
    axis.set_ylabel("energy of the write (pJ)")
    axis.set_title(f"{n}x{n}, VTEAM at x = 0.5, 5 Ω segments", fontsize=9)
    axis.legend(fontsize=7)
    _save(figure, path)
    return rows


def markdown(rows: list[dict[str, Any]], pulses: dict[str, float], corner: list[dict[str, float]],
             energy: list[dict[str, Any]]) -> str:
    lines = [f"Machine: {platform.machine()}, {torch.get_num_threads()} torch threads, torch {torch.__version__}; "
             f"{date.today().isoformat()}; `python scripts/bench_write.py`. VTEAM defaults, every cell at x = 0.5; "
             f"V/2 and V/3: 5 pulses of {VOLTAGE} V, {WIDTH * 1e9:g} ns into the far corner, 5 Ω segments; stochastic "
             "update: BL = 31, both sign phases, 10 ns pulses, 1 Ω segments. Each pulse slot is followed by a rest "
             "slot; edges 1 ns. ngspice: the shared engine with the write netlist's reference tolerances (reltol 1e-7, "
             "abstol 1e-15, vntol 1e-10, steps of at most a hundredth of the shortest slot).",
             "",
             "| program | array | slots | ngspice (s) | native (s) | ngspice / native | max state difference |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for row in rows:
        ngspice = f"{row['ngspice_s']:.2f}" if "ngspice_s" in row else "not run"
        ratio = f"{row['ratio']:.0f}x" if "ratio" in row else ""
        difference = f"{row['difference']:.1e}" if "difference" in row else ""
        lines.append(f"| {row['kind']} | {row['n']}x{row['n']} | {row['slots']} | {ngspice} | "
                     f"{row['native_s']:.3f} | {ratio} | {difference} |")
    lines += ["", "Pulse-response curves (1x1, ODE vs native vs ngspice), largest state difference from the ODE: "
              + ", ".join(f"{k} {v:.1e}" for k, v in pulses.items()) + ".",
              "", "Far corner's Δstate after one V/2 pulse (1.2 V, 100 ns):", "",
              "| segment | " + " | ".join(f"{n}x{n}" for n in sorted({p['n'] for p in corner})) + " |",
              "|---|" + "---:|" * len({p["n"] for p in corner})]
    for wire in sorted({p["wire"] for p in corner}):
        lines.append(f"| {wire:g} Ω | " + " | ".join(f"{p['step']:.4f}" for p in corner if p["wire"] == wire) + " |")
    lines += ["", "Energy of one write, 32x32, 5 Ω segments (pJ):", "",
              "| program | drivers | selected | half-selected | unselected | wires | V²·G·t estimate |",
              "|---|---:|---:|---:|---:|---:|---:|"]
    for row in energy:
        lines.append(f"| {row['kind']} | {row['drivers_pJ']:.3g} | {row['selected_pJ']:.3g} | "
                     f"{row['half_selected_pJ']:.3g} | {row['unselected_pJ']:.3g} | {row['wires_pJ']:.3g} | "
                     f"{row['estimate_pJ']:.3g} |")
    lines += ["", "![pulse responses](docs/benchmarks/write-pulse-response.png)",
              "![Δstate maps](docs/benchmarks/write-maps.png)",
              "![far corner](docs/benchmarks/write-far-corner.png)",
              "![write energy](docs/benchmarks/write-energy.png)"]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    if args.quick:
        rows = speed_table([8, 16], {"v/2": 16, "v/3": 16, "stochastic": 8})
        print(rows)
        return
    FIGURES.mkdir(parents=True, exist_ok=True)
    rows = speed_table([8, 16, 32, 64, 128], {"v/2": 32, "v/3": 32, "stochastic": 16})
    pulses = pulse_figure(FIGURES / "write-pulse-response.png")
    maps_figure(FIGURES / "write-maps.png")
    corner = far_corner_figure(FIGURES / "write-far-corner.png")
    energy = energy_figure(FIGURES / "write-energy.png")
    write_section(ROOT / "BENCHMARKS.md", "write", markdown(rows, pulses, corner, energy))
    print(markdown(rows, pulses, corner, energy))


if __name__ == "__main__":
    main()
