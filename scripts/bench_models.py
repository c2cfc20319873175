"""Every network on every backend: the standard CNN, torchvision's ResNet-18 and MobileNetV2
at 32x32, a small transformer and an LSTM (examples/), converted onto the defaults' hardware
(powerlaw-high, 64x64 tiles, 1-ohm wires; the shipped signed surrogate), one forward each on
ideal, device, surrogate, circuit and spice. Each cell runs in a fresh process: its forward
time per image and the peak memory the forward adds. ngspice on ResNet-18 and MobileNetV2
would take hours an image; their cells are projected from a measured sample of their tile
solves and say so.

    python scripts/bench_models.py [--no-write] [--only resnet18]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import torch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "examples" / "python"))

BACKENDS = ("ideal", "device", "surrogate", "circuit", "spice")
# name: (module, class, sample shape, images per forward on the fast backends, on the circuit)
MODELS = {"CNN (52 k)": ("cnn", "SmallCNN", (1, 28, 28), 8, 8),
          "ResNet-18 (11.2 M)": ("networks", "ResNet18", (3, 32, 32), 8, 8),
          "MobileNetV2 (2.2 M)": ("networks", "MobileNetV2", (3, 32, 32), 8, 1),
          "transformer (4 k)": ("networks", "SmallTransformer", (8, 8), 8, 8),
          "LSTM (1 k)": ("networks", "RowLSTM", (8, 8), 8, 8)}
PROJECTED = ("ResNet-18 (11.2 M)", "MobileNetV2 (2.2 M)")  # ngspice projected from a sample
SPICE_SAMPLE = 4  # vectors through one layer's tiles (the smallest layer of full tiles), for the projection


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def cell(model_name: str, backend: str) -> dict:
    """One forward of `model_name` on `backend` in this process: seconds per image, peak MB added."""
    import importlib

    from spicenn.nn import CrossbarConfig, calibrate, convert
    from spicenn.nn.convert import record
    from spicenn.shipped import DEFAULT_SURROGATE

    module, cls, shape, fast_images, circuit_images = MODELS[model_name]
    torch.manual_seed(0)
    model = getattr(importlib.import_module(module), cls)().eval()
    hardware = CrossbarConfig(device="powerlaw-high", tile_rows=64, tile_columns=64, r_word=1.0, r_bit=1.0,
                              surrogate=DEFAULT_SURROGATE)
    analog = convert(model, hardware, backend=backend)
    calibrate(analog, torch.rand(32, *shape))
    analog.set_chip(1)
    images = {"circuit": circuit_images, "spice": 1}.get(backend, fast_images)
    x = torch.rand(images, *shape)
    if backend == "spice" and model_name in PROJECTED:
        layers = analog.crossbar_layers()
        _, seen = record(analog, layers, x, "ideal", lambda layer, inputs, currents: inputs)
        solves = {k: len(v) * layers[k].grid.row_tiles * layers[k].grid.column_tiles for k, v in seen.items()}
        full = [k for k in seen if layers[k].in_features + 1 >= hardware.tile_rows
                and 2 * layers[k].out_features >= hardware.tile_columns]  # its tiles (nearly) all full
        sampled = layers[min(full, key=lambda k: layers[k].grid.row_tiles * layers[k].grid.column_tiles)]
        sample = seen[layers.index(sampled)][:SPICE_SAMPLE]
        started = time.perf_counter()
        sampled.spice(sample)
        per_solve = (time.perf_counter() - started) / (len(sample) * sampled.grid.row_tiles
                                                       * sampled.grid.column_tiles)
        return {"per_image_s": per_solve * sum(solves.values()), "peak_mb": None, "projected": True,
                "solves": sum(solves.values()), "per_solve_s": per_solve}
    before = peak_mb()
    started = time.perf_counter()
    with torch.no_grad():
        analog(x)
    seconds = time.perf_counter() - started
    return {"per_image_s": seconds / images, "images": images, "seconds": seconds,
            "peak_mb": max(0.0, peak_mb() - before), "projected": False}


def run_cell(model_name: str, backend: str) -> dict:
    done = subprocess.run([sys.executable, __file__, "--cell", model_name, backend], capture_output=True, text=True)
    if done.returncode != 0:
        return {"error": (done.stderr.strip().splitlines() or ["failed"])[-1]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def text_of(result: dict) -> str:
    if "error" in result:
        return f"fails: {result['error'][:60]}"
    seconds = result["per_image_s"]
    shown = f"{seconds * 1e3:.3g} ms" if seconds < 1 else f"{seconds:.3g} s" if seconds < 600 else \
        f"{seconds / 3600:.3g} h"
    if result["projected"]:
        return f"{shown} projected ({result['solves']:,} tile solves x {result['per_solve_s'] * 1e3:.3g} ms)"
    return f"{shown}, +{result['peak_mb']:.0f} MB ({result['images']} image{'s' if result['images'] > 1 else ''})"


def main() -> None:
    from bench_spice import publish

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--only", default=None, help="one model (a prefix of its name)")
    parser.add_argument("--cell", nargs=2, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.cell:
        print(json.dumps(cell(*args.cell)))
        return
    names = [name for name in MODELS if args.only is None or name.lower().startswith(args.only.lower())]
    results = {}
    for name in names:
        for backend in BACKENDS:
            results[(name, backend)] = run_cell(name, backend)
            print(f"{name:<22} {backend:<10} {text_of(results[(name, backend)])}", flush=True)
    rows = ["| network (weights), input | " + " | ".join(BACKENDS) + " |", "|---" * (len(BACKENDS) + 1) + "|"]
    for name in names:
        shape = "x".join(map(str, MODELS[name][2]))
        rows.append(f"| {name}, {shape} | " + " | ".join(text_of(results[(name, b)]) for b in BACKENDS) + " |")
    publish("bench_models", "python scripts/bench_models.py",
            "forward time per image and the peak memory the forward adds, each cell a fresh process; random "
            "weights, calibrated on 32 random inputs, chip 1; powerlaw-high, 64x64 tiles, 1-ohm wires, the shipped "
            "signed surrogate", rows, write=not args.no_write and args.only is None)


if __name__ == "__main__":
    main()
