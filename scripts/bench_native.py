"""The native solver (engine="native") against batched ngspice and badcrossbar, side by side.

    python scripts/bench_native.py            # writes its tables into BENCHMARKS.md
    python scripts/bench_native.py --quick    # smaller, for a look
    python scripts/bench_native.py --linear-only   # the badcrossbar rows only, printed

badcrossbar (exact, linear devices only) is timed where it is importable: its plotting
dependency (pycairo) does not build here, its solver does not need it:
`pip install --no-deps badcrossbar pathvalidate`.

Every row checks its own answer: the native currents against ngspice's (refined, two-visit)
currents to 1e-9 relative, and against the independent nodal solver of tests/nodal.py to
1e-10 on a few vectors (sizes <= 128). Times move by tens of percent on this shared machine:
the solvers run in alternating rounds and the ratio is the median of per-round ratios.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "scripts"))

TILES = {  # name: (conductance range S, wire resistance ohm)
    "normal": ((1e-6, 1e-4), 1.0),
    "harsh": ((1e-4, 3.5e-3), 0.25),
}


def tile(size: int, kind: str, seed: int = 0, device: str = "sinh"):
    from spicenn.crossbar import Crossbar
    from spicenn.devices import get_device

    (low, high), r = TILES[kind]
    rng = np.random.default_rng([seed, size])
    g = rng.uniform(low, high, (size, size))
    model = get_device("sinh", k=3.0) if device == "sinh" else get_device(device)
    return Crossbar(g, model, r_word=r, r_bit=r), rng


def relative(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.max(np.abs(a - b)) / np.max(np.abs(b)))


def nodal_error(crossbar, v: np.ndarray, currents: np.ndarray) -> float:
    import nodal

    device = crossbar.device
    iv = nodal.iv_sinh(crossbar.conductances, device.k) if device.name == "sinh" else \
        nodal.iv_linear(crossbar.conductances)
    reference = np.array([nodal.solve(iv, vector, crossbar.r_word, crossbar.r_bit)[0] for vector in v])
    return relative(currents, reference)


def timed(function, *args):
    started = time.perf_counter()
    out = function(*args)
    return time.perf_counter() - started, out


def versus_ngspice(size: int, kind: str, batch: int, spice_vectors: int, rounds: int) -> dict:
    from spicenn.solvers import simulate

    crossbar, rng = tile(size, kind)
    v = rng.uniform(0, 0.5, (batch, size))
    simulate(crossbar, v[:2], engine="native")
    simulate(crossbar, v[:2])  # warm both
    native, spice = [], []
    for _ in range(rounds):
        seconds, ours = timed(simulate, crossbar, v, "native")
        native.append(seconds / batch)
        seconds, theirs = timed(simulate, crossbar, v[:spice_vectors])
        spice.append(seconds / spice_vectors)
    ratios = sorted(s / n for s, n in zip(spice, native))
    row = {"size": size, "tile": kind, "batch": batch, "native_ms": 1e3 * statistics.median(native),
           "ngspice_ms": 1e3 * statistics.median(spice), "ratio": statistics.median(ratios),
           "ratio_low": ratios[0], "ratio_high": ratios[-1],
           "vs_ngspice": relative(ours.currents[:spice_vectors], theirs.currents)}
    if size <= 128:
        row["vs_nodal"] = nodal_error(crossbar, v[:2], ours.currents[:2])
    assert row["vs_ngspice"] <= 1e-9, row
    assert row.get("vs_nodal", 0.0) <= 1e-10, row
    return row


def versus_badcrossbar(size: int, batch: int, rounds: int) -> dict | None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import logging

            import badcrossbar
            logging.getLogger().setLevel(logging.WARNING)  # badcrossbar logs every call
            badcrossbar.compute  # noqa: B018 - its solver imported
    except (ImportError, AttributeError):
        return None
    from spicenn.solvers import simulate

    crossbar, rng = tile(size, "normal", device="linear")
    v = rng.uniform(0, 0.5, (batch, size))
    resistances = 1.0 / crossbar.conductances
    simulate(crossbar, v[:2], engine="native")
    native, theirs_t, spice = [], [], []
    for _ in range(rounds):
        seconds, ours = timed(simulate, crossbar, v, "native")
        native.append(seconds / batch)
        started = time.perf_counter()
        solution = badcrossbar.compute(v.T, resistances, r_i_word_line=crossbar.r_word,
                                       r_i_bit_line=crossbar.r_bit)
        theirs_t.append((time.perf_counter() - started) / batch)
        seconds, reference = timed(simulate, crossbar, v)
        spice.append(seconds / batch)
    ratio = statistics.median(sorted(b / n for b, n in zip(theirs_t, native)))
    row = {"size": size, "batch": batch, "native_ms": 1e3 * statistics.median(native),
           "badcrossbar_ms": 1e3 * statistics.median(theirs_t), "ngspice_ms": 1e3 * statistics.median(spice),
           "ratio_badcrossbar": ratio, "ratio_ngspice": statistics.median(s / n for s, n in zip(spice, native)),
           "badcrossbar_vs_ngspice": relative(np.asarray(solution.currents.output), reference.currents),
           "vs_ngspice": relative(ours.currents, reference.currents)}
    assert row["vs_ngspice"] <= 1e-9, row
    return row


def scaling_case(size: int, batch: int, kind: str) -> dict:
    """Native solves in a fresh process: the best of three calls per vector, and peak memory."""
    code = f"""
import json, resource, time, sys
sys.path.insert(0, {str(ROOT / 'scripts')!r})
from bench_native import tile
from spicenn.circuit import simulate_native
from spicenn.circuit.solver import solve
import torch
crossbar, rng = tile({size}, {kind!r})
v = rng.uniform(0, 0.5, ({batch}, {size}))
simulate_native(crossbar, v[:2])
seconds = float("inf")
for _ in range(3):  # the best of three calls
    started = time.perf_counter()
    simulate_native(crossbar, v)
    seconds = min(seconds, time.perf_counter() - started)
with torch.no_grad():
    s = solve(crossbar, torch.tensor(v[:min(16, {batch})]))
print(json.dumps({{"ms": 1e3 * seconds / {batch}, "rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "newton": s.newton_steps, "cg": s.cg_iterations}}))
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=1800)
    if done.returncode != 0:
        return {"size": size, "batch": batch, "error": done.stderr.strip().splitlines()[-1]}
    return {"size": size, "batch": batch, **json.loads(done.stdout.strip().splitlines()[-1])}


def main() -> None:
    from bench_spice import publish

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--linear-only", action="store_true", help="only the linear rows against badcrossbar, printed")
    args = parser.parse_args()
    rounds = 3
    if args.linear_only:
        for size in (64, 128):
            print(json.dumps(versus_badcrossbar(size, 16, rounds)), flush=True)
        return
    rows = ["| tile | size | vectors per batch | native, ms/vector | batched ngspice, ms/vector | "
            "ngspice / native (median; range) | native vs ngspice | native vs nodal |",
            "|---|---|---|---|---|---|---|---|"]
    cases = [(64, "normal", 64, 16), (128, "normal", 64, 8), (64, "harsh", 64, 16), (128, "harsh", 64, 8),
             (64, "normal", 1, 1), (128, "normal", 1, 1), (64, "harsh", 1, 1), (128, "harsh", 1, 1)]
    if args.quick:
        cases = [c for c in cases if c[0] == 64]
    for size, kind, batch, spice_vectors in cases:
        r = versus_ngspice(size, kind, batch, spice_vectors, rounds)
        print(json.dumps(r), flush=True)
        nodal_text = f"{r['vs_nodal']:.1e}" if "vs_nodal" in r else "-"
        rows.append(f"| {kind} | {size}x{size} | {batch} | {r['native_ms']:.3g} | {r['ngspice_ms']:.4g} | "
                    f"**{r['ratio']:.1f}x** ({r['ratio_low']:.1f}-{r['ratio_high']:.1f}) | "
                    f"{r['vs_ngspice']:.1e} | {nodal_text} |")
    rows += ["", "Linear devices, normal tile, 16 vectors, against badcrossbar (exact, linear only):", "",
             "| size | native, ms/vector | badcrossbar, ms/vector | batched ngspice, ms/vector | "
             "badcrossbar / native | ngspice / native | badcrossbar vs ngspice | native vs ngspice |",
             "|---|---|---|---|---|---|---|---|"]
    for size in ((64,) if args.quick else (64, 128)):
        b = versus_badcrossbar(size, 16, rounds)
        if b is None:
            rows.append("| badcrossbar not installed (`pip install --no-deps badcrossbar pathvalidate`) |||||||| ")
            break
        print(json.dumps(b), flush=True)
        rows.append(f"| {size}x{size} | {b['native_ms']:.3g} | {b['badcrossbar_ms']:.4g} | {b['ngspice_ms']:.4g} | "
                    f"**{b['ratio_badcrossbar']:.1f}x** | {b['ratio_ngspice']:.1f}x | "
                    f"{b['badcrossbar_vs_ngspice']:.1e} | {b['vs_ngspice']:.1e} |")
    rows += ["", "Scaling of the native solver (sinh k = 3; a fresh process per case; peak resident memory "
             "of that process, torch included; Newton steps and CG iterations of 16 vectors):", "",
             "| tile | size | vectors | ms/vector | peak MiB | Newton steps | CG iterations |",
             "|---|---|---|---|---|---|---|"]
    sizes = (32, 64, 128) if args.quick else (32, 64, 128, 256, 512)
    batches = (1, 64) if args.quick else (1, 16, 64, 256, 1024)
    for kind in ("normal", "harsh"):
        grid = [(s, 64) for s in sizes] + [(128, b) for b in batches if b != 64]
        for size, batch in grid:
            s = scaling_case(size, batch, kind)
            print(json.dumps(s), flush=True)
            if "error" in s:
                rows.append(f"| {kind} | {size}x{size} | {batch} | failed: {s['error']} |||| ")
                continue
            rows.append(f"| {kind} | {size}x{size} | {batch} | {s['ms']:.3g} | {s['rss_mib']:.0f} | "
                        f"{s['newton']} | {s['cg']} |")
    note = ("normal tile: G uniform in [1e-6, 1e-4] S, 1 ohm wires; harsh: [1e-4, 3.5e-3] S, 0.25 ohm; sinh k = 3, "
            "inputs uniform in [0, 0.5] V; ngspice: the shared engine with KLU, its refined two-visit sweep, on the "
            "first vectors of the same batch; native: float64 on the CPU")
    publish("bench_native", "python scripts/bench_native.py" + (" --quick" if args.quick else ""), note, rows,
            not args.no_write)


if __name__ == "__main__":
    main()
