"""Benchmark: per-vector time and peak memory of the ways to solve a crossbar in ngspice.

Sinh crossbars (k = 3, G uniform in [1e-6, 1e-4] S, 1 ohm word and bit lines, V uniform in
[0, 0.5] V), side by side in one run:
  (a) one `ngspice -b` run per input vector, ngspice's default solver (Sparse 1.3)
  (b) one `ngspice -b` run per input vector with `.options klu`
  (c) spicenn's batched shared-library engine (one DC sweep per batch, KLU), refined (default)
  (c1) the same without the refining second visit (single pass)
Every case runs in its own Python process, so peak memory (this process plus ngspice
children) belongs to that case alone. Where the time goes comes from ngspice's own
accounting (`.options acct`) and spicenn's timers.

    python scripts/bench_spice.py                 # 32, 64, 128, 256; writes BENCHMARKS.md
    python scripts/bench_spice.py --sizes 32 64   # a quick look, printed only
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
# (a) takes ~150 s per vector at 128x128 and far longer at 256x256: fewer vectors there.
VECTORS = {"a": {32: 3, 64: 2, 128: 1}, "b": {32: 4, 64: 3, 128: 2, 256: 1},
           "c": {32: 64, 64: 32, 128: 24, 256: 8}, "c1": {32: 64, 64: 32, 128: 24, 256: 8}}
ACCT_KEYS = {"parse": ("Netlist loading time", "Subckt and Param expansion time", "Netlist parsing time"),
             "load": ("Matrix load time",), "reorder": ("Matrix reorder time",),
             "factor": ("Matrix factor time",), "solve": ("Matrix solve time",)}


def crossbar_and_inputs(size: int, count: int):
    from spicenn.crossbar import Crossbar
    from spicenn.devices import get_device

    rng = np.random.default_rng(size)
    crossbar = Crossbar(rng.uniform(1e-6, 1e-4, (size, size)), get_device("sinh", k=3.0), r_word=1.0, r_bit=1.0)
    return crossbar, rng.uniform(0.0, 0.5, (count, size))


def acct(lines: list[str]) -> dict[str, float]:
    text = "\n".join(lines)
    out = {}
    for key, labels in ACCT_KEYS.items():
        out[key] = sum(float(m) for label in labels
                       for m in re.findall(re.escape(label) + r"\s*=\s*([0-9.eE+-]+)", text))
    iterations = re.findall(r"Total iterations\s*=\s*(\d+)", text)
    out["iterations"] = sum(int(i) for i in iterations)
    return out


def run_case(mode: str, size: int) -> dict:
    """One case, in this process; returns seconds per vector, a breakdown and the result."""
    from spicenn.netlist import SolverOptions, netlist_text
    from spicenn.solvers import simulate
    from spicenn.spice import get_engine
    from spicenn.spice.ngspice import program

    count = VECTORS[mode][size]
    crossbar, v = crossbar_and_inputs(size, count)
    breakdown: dict[str, float] = {}
    if mode in ("a", "b"):
        options = SolverOptions(klu=(mode == "b"), accounting=True)
        started = time.perf_counter()
        currents = []
        for k in range(count):
            with tempfile.TemporaryDirectory() as folder:
                t0 = time.perf_counter()
                text = netlist_text(crossbar, v[k:k + 1], options)
                breakdown["netlist"] = breakdown.get("netlist", 0) + time.perf_counter() - t0
                path = Path(folder) / "x.cir"
                path.write_text(text)
                done = subprocess.run([program().path, "-b", "-r", str(Path(folder) / "x.raw"), str(path)],
                                      capture_output=True, text=True, check=True)
                for key, value in acct(done.stdout.splitlines()).items():
                    breakdown[key] = breakdown.get(key, 0) + value
                from spicenn.spice.raw import read_raw

                raw = read_raw(Path(folder) / "x.raw")
                currents.append([raw[f"vs{j}#branch"][0] for j in range(size)])
        seconds = time.perf_counter() - started
        currents = np.array(currents)
    else:
        engine = get_engine("shared")
        simulate(crossbar, v[:2], engine=engine)  # load the library once, outside the timing
        options = SolverOptions(klu=True, refine=(mode == "c"), accounting=True)
        t0 = time.perf_counter()
        netlist_text(crossbar, np.repeat(v, 2 if options.refine else 1, axis=0), options)
        breakdown["netlist"] = time.perf_counter() - t0
        started = time.perf_counter()
        result = simulate(crossbar, v, engine=engine, options=options, chunk=count)
        seconds = time.perf_counter() - started
        currents = result.currents
        breakdown.update(acct(engine.last_output))
        breakdown.update(engine.last_timing)
    usage_self = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    usage_children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return {"mode": mode, "size": size, "vectors": count, "seconds_per_vector": seconds / count,
            "peak_rss_mib": max(usage_self, usage_children) / 1024,
            "breakdown": {k: v / count for k, v in breakdown.items()},
            "currents": currents.tolist()}


def spawn(mode: str, size: int, timeout: float) -> dict:
    done = subprocess.run([sys.executable, __file__, "--case", mode, str(size)], capture_output=True, text=True,
                          timeout=timeout)
    if done.returncode != 0:
        raise RuntimeError(f"case {mode} {size} failed: {done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    from spicenn.spice.ngspice import program

    found = program()
    return (f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, ngspice-{found.version} "
            f"(KLU {'yes' if found.klu else 'no'})")


def table(results: dict) -> str:
    rows = ["| size | (a) -b, Sparse | (b) -b, KLU | (c) batched shared, refined | (c1) batched, single pass "
            "| (a)/(c) | (b)/(c) | (b)/(c1) | peak RSS a / b / c (MiB) |",
            "|---|---|---|---|---|---|---|---|---|"]
    for size in sorted({r["size"] for r in results.values()}):
        get = lambda m: results.get((m, size))  # noqa: E731
        cell = lambda m: f"{get(m)['seconds_per_vector']:.4g} s" if get(m) else "not run"  # noqa: E731
        ratio = lambda x, y: (f"{get(x)['seconds_per_vector'] / get(y)['seconds_per_vector']:.1f}x"  # noqa: E731
                              if get(x) and get(y) else "—")
        memory = " / ".join(f"{get(m)['peak_rss_mib']:.0f}" if get(m) else "—" for m in ("a", "b", "c"))
        rows.append(f"| {size}x{size} | {cell('a')} | {cell('b')} | {cell('c')} | {cell('c1')} | "
                    f"{ratio('a', 'c')} | {ratio('b', 'c')} | {ratio('b', 'c1')} | {memory} |")
    return "\n".join(rows)


def breakdown_table(results: dict, size: int) -> str:
    keys = ["netlist", "parse", "load", "reorder", "factor", "solve", "transfer", "iterations"]
    rows = [f"| {size}x{size}, per vector | " + " | ".join(keys) + " |", "|---|" + "---|" * len(keys)]
    for mode in ("a", "b", "c", "c1"):
        r = results.get((mode, size))
        if not r:
            continue
        b = r["breakdown"]
        cells = [f"{b[k]:.3g}" if k == "iterations" else (f"{b[k] * 1e3:.1f} ms" if k in b else "—") for k in keys]
        rows.append(f"| ({mode}) | " + " | ".join(cells) + " |")
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[32, 64, 128, 256])
    parser.add_argument("--case", nargs=2, metavar=("MODE", "SIZE"), help=argparse.SUPPRESS)
    parser.add_argument("--no-write", action="store_true", help="print only, leave BENCHMARKS.md alone")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds allowed per case")
    args = parser.parse_args()
    if args.case:
        print(json.dumps(run_case(args.case[0], int(args.case[1]))))
        return
    from tqdm import tqdm

    cases = [(m, s) for s in args.sizes for m in ("a", "b", "c", "c1") if s in VECTORS[m]]
    results = {}
    for mode, size in tqdm(cases, desc="bench_spice", unit="case"):
        results[(mode, size)] = spawn(mode, size, args.timeout)
    # every mode solved the same vectors: their currents must agree
    for size in args.sizes:
        reference = np.array(results[("c", size)]["currents"])
        for mode in ("a", "b", "c1"):
            if (mode, size) in results:
                got = np.array(results[(mode, size)]["currents"])
                error = np.max(np.abs(got - reference[:len(got)])) / np.max(np.abs(reference))
                assert error < 1e-6, f"{mode} at {size}: currents differ from (c) by {error:.2g}"
    header = (f"Machine: {machine()}. Date: {time.strftime('%Y-%m-%d')}.\n"
              f"Command: `python scripts/bench_spice.py --sizes {' '.join(map(str, args.sizes))}`. "
              f"Vectors per case: {json.dumps({m: VECTORS[m] for m in VECTORS})}.")
    body = header + "\n\n" + table(results) + \
        "\n\nWhere the time goes (ngspice's `.options acct` and spicenn's timers):\n\n" + \
        "\n\n".join(breakdown_table(results, s) for s in args.sizes)
    print(body)
    if not args.no_write:
        write_section(ROOT / "BENCHMARKS.md", "bench_spice", body)


def best(function, repeats: int = 3) -> float:
    """The shortest wall time of `repeats` calls."""
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return min(times)


def side_by_side(functions: dict, rounds: int = 21, block: float = 0.02) -> dict[str, list[float]]:
    """Seconds per call of each function, in `rounds` interleaved rounds: each round runs every
    function in turn, repeated to fill about `block` seconds. This machine's speed drifts by
    tens of percent within a minute (a shared virtual machine), so compare per round and take
    the median: `ratio(times, a, b)`."""
    repeats = {}
    for name, function in functions.items():
        function()  # warm
        repeats[name] = max(1, int(block / max(best(function, repeats=2), 1e-9)))
    times = {name: [] for name in functions}
    for _ in range(rounds):
        for name, function in functions.items():
            started = time.perf_counter()
            for _ in range(repeats[name]):
                function()
            times[name].append((time.perf_counter() - started) / repeats[name])
    return times


def ratio(times: dict[str, list[float]], numerator: str, denominator: str) -> str:
    """The median over rounds of the per-round ratio, with its quartiles, as text."""
    import numpy as np

    per_round = np.array(times[numerator]) / np.array(times[denominator])
    low, middle, high = np.percentile(per_round, [25, 50, 75])
    return f"{middle:.3g}x [{low:.3g}, {high:.3g}]"


def publish(section: str, command: str, note: str, table_rows: list[str], write: bool) -> None:
    """Print a table with machine, date and command, and put it into BENCHMARKS.md."""
    body = (f"Machine: {machine()}. Date: {time.strftime('%Y-%m-%d')}.\n"
            f"Command: `{command}` ({note}).\n\n" + "\n".join(table_rows))
    print(body)
    if write:
        write_section(ROOT / "BENCHMARKS.md", section, body)


def write_section(path: Path, name: str, body: str) -> None:
    """Replace the text between `<!-- name:start -->` and `<!-- name:end -->` (append if absent)."""
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    block = f"{start}\n{body}\n{end}"
    if start in text and end in text:
        text = text[:text.index(start)] + block + text[text.index(end) + len(end):]
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    path.write_text(text)


if __name__ == "__main__":
    main()
