"""How tiling changes a trained network's TOPS/W: the same layers on one array per layer and
on 64x64 tiles, through the one network-energy path, with a stacked-bar PNG.

    spicenn reproduce joksas2022 --quick --out runs/joksas2022-quick
    python scripts/network_energy_tiles.py --runs runs/joksas2022-quick [--images 20]

Prints a Markdown table (and writes docs/results/network-energy-tiles.png); the full
convention's peripherals are the defaults of spicenn.energy.Peripherals.
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

from spicenn.energy import network_energy
from spicenn.energy.report import ARRAY_PARTS, PERIPHERAL_PARTS
from spicenn.io import save_figure
from spicenn.nn.training import load_run, run_data
from spicenn.reproduce import joksas2022

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=Path, default=Path("runs/joksas2022-quick"))
    parser.add_argument("--images", type=int, default=20)
    parser.add_argument("--plot", type=Path, default=ROOT / "docs" / "results" / "network-energy-tiles.png")
    args = parser.parse_args()
    configs = joksas2022.configs("powerlaw", quick="quick" in args.runs.name)
    data = run_data(configs["standard"])
    x = data.test.x[: args.images]
    hardware = configs["aware-l1"].crossbar
    layouts = {"one array per layer": hardware,
               "64x64 tiles": dataclasses.replace(hardware, tile_rows=64, tile_columns=64),
               "64x64 tiles, 1 ohm wires": dataclasses.replace(hardware, tile_rows=64, tile_columns=64,
                                                              r_word=1.0, r_bit=1.0)}
    model = load_run(args.runs / "aware-l1")
    rows, totals = [], {}
    for label, layout in layouts.items():
        on_chip = joksas2022.on_chip(model, configs["aware-l1"], layout)
        on_chip.set_chip(None)
        total = network_energy([layer.programmed() for layer in on_chip.layers], x, layout,
                               activation=configs["aware-l1"].network.activation).total
        tiles = sum(layer.grid.tiles for layer in on_chip.layers)
        e = total.energy_j
        totals[label] = e
        rows.append(f"| {label} | {tiles} | {e['crossbar']:.3g} | {e['adc']:.3g} | {e['total']:.3g} | "
                    f"{100 * e['adc'] / e['total']:.0f} % | {total.tops_per_w['system']:.4g} |")
    print("| layout | tiles | array J | ADC J | total J | ADC share | TOPS/W (system) |")
    print("|---|---|---|---|---|---|---|")
    print("\n".join(rows))

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(6.5, 4))
    labels = list(totals)
    bottom = [0.0] * len(labels)
    for part in ARRAY_PARTS + PERIPHERAL_PARTS:
        values = [totals[label][part] * 1e12 for label in labels]
        if any(values):
            axis.bar(labels, values, bottom=bottom, label=part)
            bottom = [b + v for b, v in zip(bottom, values)]
    axis.set_ylabel("energy per inference (pJ)")
    axis.set_title("aware + L1 network (784-25-10), high-resistance power-law devices", fontsize=9)
    axis.legend(fontsize=8)
    figure.tight_layout()
    save_figure(figure, args.plot)
    print(f"wrote {args.plot}")


if __name__ == "__main__":
    main()
