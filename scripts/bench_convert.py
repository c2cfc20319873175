"""A converted LeNet-5 (the `reproduce lenet` network) on 64x64 tiles with 1 ohm wires:
inference per image and a fine-tuning step per backend against the ideal backend, side by
side in one process; and the peak memory of converting and running a 1 M-weight model.

    python scripts/bench_convert.py [--no-write]
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_spice import publish, ratio, side_by_side

from spicenn.nn import calibrate, convert
from spicenn.reproduce import lenet
from spicenn.reproduce.wires import build_surrogate

MEMORY_CHILD = """
import resource, torch
from torch import nn
from spicenn.nn import CrossbarConfig, calibrate, convert
torch.manual_seed(0)
model = nn.Sequential(nn.Linear(1024, 1000), nn.ReLU(), nn.Linear(1000, 10))  # 1.04 M weights
hardware = CrossbarConfig(device="powerlaw-high", tile_rows=64, tile_columns=64, r_word=1.0, r_bit=1.0, spread=0.05)
analog = convert(model, hardware, backend="device")
x = torch.rand(64, 1024)
calibrate(analog, x)
analog.set_chip(1)
with torch.no_grad():
    analog(x)
print(sum(p.numel() for p in model.parameters()), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    torch.manual_seed(0)
    torch.set_num_threads(2)
    model = lenet.LeNet5().eval()
    with tempfile.TemporaryDirectory() as folder:
        nominal = lenet.hardware()
        covered = nominal.__class__(**{**nominal.to_dict(), "g_off": nominal.g_off * 0.74, "g_on": nominal.g_on * 1.35})
        surrogate = build_surrogate(Path(folder), covered, lenet.settings(True), progress=False, engine="native")
        analog = convert(model, lenet.hardware(surrogate["path"]), backend="ideal")
        images = torch.rand(64, 784) * (torch.rand(64, 784) < 0.2)  # sparse like MNIST digits
        calibrate(analog, images)
        analog.set_chip(1)
        labels = torch.randint(0, 10, (64,))
        optimizer = torch.optim.SGD(analog.parameters(), lr=1e-3)

        def infer(backend: str):
            def run() -> None:
                with torch.no_grad():
                    analog.forward_with(images, backend)
            return run

        def step(backend: str):
            def run() -> None:
                optimizer.zero_grad()
                torch.nn.functional.cross_entropy(analog.forward_with(images, backend), labels).backward()
                optimizer.step()
            return run

        backends = ("ideal", "device", "surrogate")
        times = side_by_side({**{f"infer {b}": infer(b) for b in backends}, **{f"step {b}": step(b) for b in backends}},
                             rounds=7, block=0.2)
    child = subprocess.run([sys.executable, "-c", MEMORY_CHILD], capture_output=True, text=True, check=True)
    weights, peak_kib = (int(v) for v in child.stdout.split())
    rows = ["| LeNet-5 on 64x64 tiles, 64 images | per image (median) | against ideal (median [IQR] over rounds) |",
            "| --- | --- | --- |"]
    for kind in ("infer", "step"):
        for backend in backends:
            name = f"{kind} {backend}"
            label = ("inference" if kind == "infer" else "fine-tuning step (forward + backward + SGD)") + f", {backend}"
            rows.append(f"| {label} | {1e3 * float(np.median(times[name])) / 64:.3f} ms | "
                        f"{ratio(times, name, f'{kind} ideal')} |")
    rows.append("")
    rows.append(f"Memory: converting and running (device backend, a drawn chip, 64 images) a {weights:,}-weight "
                f"MLP on 64x64 tiles peaks at {peak_kib / 1024:.0f} MiB resident (target: 4 GiB).")
    publish("bench_convert", "python scripts/bench_convert.py",
            f"surrogate: {surrogate['kind']}; {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024} MiB "
            "peak in the timing process", rows, not args.no_write)


if __name__ == "__main__":
    main()
