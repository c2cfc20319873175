"""Grouped and depthwise convolutions packed onto shared tiles: crossbar layers, tiles and
tile use of a MobileNetV2 (torchvision's architecture, width 1.0, written out in
examples/python/networks.py so that spicenn needs no torchvision) converted onto 64x64
tiles, one core per group (before) against groups packed block-diagonally (now), side by
side in one run.

    python scripts/bench_packing.py [--no-write]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "examples" / "python"))
from bench_spice import publish
from networks import MobileNetV2

from spicenn.nn import CrossbarConfig, conv, convert


def census(model: nn.Module, hardware: CrossbarConfig) -> tuple[int, int, float, float]:
    started = time.perf_counter()
    analog = convert(model, hardware)
    seconds = time.perf_counter() - started
    layers = analog.crossbar_layers()
    tiles = sum(layer.grid.row_tiles * layer.grid.column_tiles for layer in layers)
    used = sum(2 * layer.synapses for layer in layers) / (tiles * hardware.tile_rows * hardware.tile_columns)
    return len(layers), tiles, used, seconds


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    model = MobileNetV2()
    hardware = CrossbarConfig(device="powerlaw-high", tile_rows=64, tile_columns=64, r_word=1.0, r_bit=1.0)
    packed = census(model, hardware)
    original = conv.packed_groups
    conv.packed_groups = lambda *arguments: 1  # type: ignore[assignment]  # one core per group, as before
    try:
        unpacked = census(model, hardware)
    finally:
        conv.packed_groups = original
    rows = ["| MobileNetV2 (3.5 M weights), 64x64 tiles | crossbar layers | tiles | devices / cells of its tiles | "
            "conversion time |", "| --- | --- | --- | --- | --- |"]
    for label, (layers, tiles, used, seconds) in (("one core per group (before)", unpacked),
                                                  ("groups packed on the tile diagonal (now)", packed)):
        rows.append(f"| {label} | {layers:,} | {tiles:,} | {100 * used:.1f} % | {seconds:.1f} s |")
    rows.append(f"\nTiles: {unpacked[1] / packed[1]:.2f}x fewer (target: at most 1/5 of 8,289).")
    publish("bench_packing", "python scripts/bench_packing.py", "conversion only", rows, not args.no_write)


if __name__ == "__main__":
    main()
