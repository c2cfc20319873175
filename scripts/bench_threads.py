"""Speed on a busy machine: the native solver and a training epoch with the other cores kept
busy by spinning processes, beside a quiet machine, for torch's default thread count, one
thread, and spicenn's fitted count (`spicenn.threads`).

    python scripts/bench_threads.py            # writes its table into BENCHMARKS.md
    python scripts/bench_threads.py --quick    # fewer rounds, prints only

Run it on an otherwise quiet machine: it makes the load itself. Loads alternate in rounds
(quiet, busy, quiet, ...) and each figure is the median over rounds.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

from bench_spice import write_section  # noqa: E402

from spicenn import threads  # noqa: E402
from spicenn.circuit import simulate_native  # noqa: E402
from spicenn.crossbar import Crossbar  # noqa: E402
from spicenn.devices import get_device  # noqa: E402
from spicenn.nn.config import CrossbarConfig  # noqa: E402
from spicenn.nn.network import CrossbarMLP  # noqa: E402

DEFAULT_THREADS = torch.get_num_threads()


def spin() -> None:
    while True:
        pass


def native_case() -> Callable[[], float]:
    """Seconds per input vector: a 64x64 sinh tile with 1 ohm wires, 64 vectors."""
    rng = np.random.default_rng(0)
    crossbar = Crossbar(rng.uniform(1e-6, 1e-4, (64, 64)), get_device("sinh", k=3.0), r_word=1.0, r_bit=1.0)
    v = rng.uniform(0.0, 0.5, (64, 64))

    def run() -> float:
        started = time.perf_counter()
        simulate_native(crossbar, v)
        return (time.perf_counter() - started) / len(v)
    return run


def epoch_case(samples: int) -> Callable[[], float]:
    """Seconds per epoch: 784-25-10 on power-law devices, device backend, batch 64."""
    generator = torch.Generator().manual_seed(0)
    x = torch.rand(samples, 784, generator=generator)
    y = torch.randint(0, 10, (samples,), generator=generator)
    model = CrossbarMLP((784, 25, 10), CrossbarConfig(device="powerlaw-high"), backend="device", seed=0)
    optimiser = torch.optim.SGD(model.parameters(), lr=0.1)

    def run() -> float:
        started = time.perf_counter()
        for start in range(0, samples, 64):
            optimiser.zero_grad()
            loss = torch.nn.functional.cross_entropy(model(x[start:start + 64]), y[start:start + 64])
            loss.backward()
            optimiser.step()
            model.clamp_()
        return time.perf_counter() - started
    return run


def timed(case: Callable[[], float], policy: str, repeats: int) -> float:
    if policy == "fitted":
        threads.set_threads(None)
    else:
        threads.set_threads(DEFAULT_THREADS if policy == "torch default" else 1)
    # let the fitted policy see the present load (it re-measures every half second)
    deadline = time.perf_counter() + 1.2
    while time.perf_counter() < deadline:
        case()
    return min(case() for _ in range(repeats))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    rounds, repeats, samples = (2, 3, 640) if args.quick else (4, 5, 1920)
    cores = threads.available_cores()
    cases = {"native solver, ms per vector (64x64, 64 vectors)": (native_case(), 1e3),
             f"training epoch, s ({samples} samples, 784-25-10, device backend)": (epoch_case(samples), 1.0)}
    policies = ("torch default", "one thread", "fitted")
    times: dict[tuple[str, str, str], list[float]] = {}
    for round_index in range(rounds):
        for load in ("quiet", "busy"):
            spinners = []
            if load == "busy":
                spinners = [multiprocessing.Process(target=spin, daemon=True) for _ in range(cores - 1)]
                for process in spinners:
                    process.start()
                time.sleep(0.5)
            try:
                for name, (case, _scale) in cases.items():
                    for policy in policies:
                        times.setdefault((name, policy, load), []).append(timed(case, policy, repeats))
            finally:
                for process in spinners:
                    process.terminate()
                    process.join()
            time.sleep(1.0)
        print(f"round {round_index + 1}/{rounds} done", flush=True)
    threads.set_threads(None)
    lines = ["| work | threads | quiet | busy | busy / quiet |", "|---|---|---:|---:|---:|"]
    for name, (_case, scale) in cases.items():
        for policy in policies:
            quiet = statistics.median(times[(name, policy, "quiet")]) * scale
            busy = statistics.median(times[(name, policy, "busy")]) * scale
            label = f"{policy} ({DEFAULT_THREADS})" if policy == "torch default" else policy
            lines.append(f"| {name} | {label} | {quiet:.3g} | {busy:.3g} | {busy / quiet:.2f}x |")
        fitted_quiet = statistics.median(times[(name, "fitted", "quiet")])
        best_quiet = min(statistics.median(times[(name, p, "quiet")]) for p in policies)
        lines.append(f"| {name} | fitted quiet / best quiet | | | {fitted_quiet / best_quiet:.2f}x |")
    table = "\n".join(lines)
    print(table)
    if args.quick:
        return
    machine = platform.processor() or platform.machine()
    body = (f"Machine: {machine}, {os.cpu_count()} cores, torch {torch.__version__}; "
            f"{date.today().isoformat()}; `python scripts/bench_threads.py` ({rounds} rounds alternating quiet and "
            f"busy, {cores - 1} spinning process(es) for busy; best of {repeats} per round, median over rounds).\n\n"
            + table)
    write_section(ROOT / "BENCHMARKS.md", "threads", body)
    print("wrote BENCHMARKS.md")


if __name__ == "__main__":
    main()
