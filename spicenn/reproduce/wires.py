"""Beyond Joksas et al. 2022: the same networks on 64x64 tiles with 1 ohm line resistance.

The paper's study ignores the wires. Here every layer is cut into 64x64 tiles with
r_word = r_bit = 1 ohm and
* a SPICE surrogate of such a tile (high-resistance power-law devices) is trained on
  ngspice results and validated on held-out ones, of both kinds; the first-order
  (matmul-shaped) one goes into the loop when it meets the accuracy target;
* nonideality-aware training runs with that surrogate in the loop, beside the network
  trained with the device model only (the paper's (c));
* every network is evaluated with each tile solved by ngspice, on the same test images
  and chips as the surrogate backend, and the paper's standard network is also put on
  low-resistance devices with the same wires, where IR drop is no longer small.
"""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path
from typing import Any

import numpy as np

from ..crossbar.config import CrossbarConfig
from ..errors import InputError
from ..io import atomic_path
from ..nn.evaluation import TEST_CHIP_BASE, chip_seeds, compare_backends, efficiency
from ..nn.training import run_data, train
from ..surrogate import DatasetSpec, generate
from ..surrogate.model import KINDS, CrossbarSurrogate
from ..surrogate.training import meets_target, validate
from ..surrogate.training import train as train_surrogate
from . import joksas2022

TILE = 64
R_WIRE = 1.0


def settings(quick: bool) -> dict[str, Any]:
    if quick:
        return {"surrogate_cases": 4, "surrogate_epochs": 60, "epochs": 2, "images": 60, "chips": 1,
                "energy_images": 4}
    return {"surrogate_cases": 16, "surrogate_epochs": 150, "epochs": 20, "images": 500, "chips": 1,
            "energy_images": 20}


def wired(config: CrossbarConfig, surrogate: str | None = None) -> CrossbarConfig:
    return dataclasses.replace(config, tile_rows=TILE, tile_columns=TILE, r_word=R_WIRE, r_bit=R_WIRE,
                               surrogate=surrogate)


def build_surrogate(out: Path, hardware: CrossbarConfig, s: dict[str, Any], progress: bool,
                    engine: str = "shared") -> dict[str, Any]:
    """A surrogate of the 64x64, 1 ohm tile of `hardware`, trained on SPICE cases solved by
    `engine` and validated on held-out cases of other conductances and inputs."""
    tile: dict[str, Any] = dict(rows=TILE, columns=TILE, device=hardware.device, r_word=R_WIRE, r_bit=R_WIRE,
                g_off=hardware.g_off, g_on=hardware.g_on, v_max=hardware.k_v, vectors=16, engine=engine)
    train_data = generate(DatasetSpec(**tile, cases=s["surrogate_cases"], seed=1), out / "surrogate-train.h5",
                          progress=progress)
    held_out = generate(DatasetSpec(**tile, cases=max(2, s["surrogate_cases"] // 2), seed=2, conductances="skewed",
                                    inputs="sparse"), out / "surrogate-held-out.h5", progress=progress)
    reports = {}
    for kind in KINDS:
        path = out / f"surrogate-{kind}.pt"
        if not path.exists():
            try:
                model, _ = train_surrogate(train_data, iterations=3, epochs=s["surrogate_epochs"],
                                           progress=progress, kind=kind)
            except InputError:  # the first-order kind takes only devices with I = G·f(V)
                continue
            model.save(path)
        reports[kind] = validate(CrossbarSurrogate.load(path), held_out, plots=out / kind)
    # the matmul-shaped kind in the loop where it meets the surrogate's accuracy target
    kind = "first-order" if "first-order" in reports and meets_target(reports["first-order"]) else "relaxation"
    return {"path": str(out / f"surrogate-{kind}.pt"), "kind": kind, "validation": reports[kind],
            "validation_by_kind": reports}


def run(out: str | Path, quick: bool = False, workers: int = 1, progress: bool = True) -> dict[str, Any]:
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    s = settings(quick)
    paper = joksas2022.configs("powerlaw", quick)
    data = run_data(paper["standard"])
    # the paper's networks: standard training and aware training with the device model only
    standard = train(paper["standard"], out / "standard", progress, data)
    aware = train(paper["aware"], out / "aware-device", progress, data)
    surrogate = build_surrogate(out, paper["aware"].crossbar, s, progress)
    in_loop = paper["aware"].replace(crossbar=dataclasses.asdict(wired(paper["aware"].crossbar, surrogate["path"])),
                                     training={"backend": "surrogate", "epochs": s["epochs"]},
                                     validation={"backend": "surrogate", "chips": 1})
    started = time.perf_counter()
    aware_surrogate = train(in_loop, out / "aware-surrogate", progress, data)
    x, y = data.test.x[: s["images"]], data.test.y[: s["images"]]
    seeds = chip_seeds(TEST_CHIP_BASE, s["chips"])
    cases = {"standard, low-resistance": (standard, paper["low"].crossbar),
             "standard, high-resistance": (standard, paper["standard"].crossbar),
             "aware (device model), high-resistance": (aware, paper["aware"].crossbar),
             "aware (surrogate in the loop), high-resistance": (aware_surrogate, paper["aware"].crossbar)}
    results: dict[str, Any] = {"setup": {**s, "quick": quick, "tile": TILE, "r_wire": R_WIRE, "images": len(y)},
                               "surrogate": surrogate, "surrogate_training_s": time.perf_counter() - started}
    for label, (model, hardware) in cases.items():
        surrogate_path = surrogate["path"] if hardware.g_on < 1e-3 else None
        programmed = joksas2022.on_chip(model, paper["standard"], wired(hardware, surrogate_path))
        backends = ["spice", "device"] + (["surrogate"] if hardware.g_on < 1e-3 else [])
        accuracy = compare_backends(programmed, x, y, backends, seeds, workers, progress)
        eff = efficiency(programmed, data.test.x, seeds[0], spice_images=s["energy_images"], workers=workers)
        results[label] = {"accuracy": {b: float(np.median(a)) for b, a in accuracy.items()},
                          "tops_per_w_full": eff.full_tops_per_w,
                          "energy_full_j": None if eff.full is None else eff.full.energy_j,
                          "tops_per_w_paper": eff.paper_tops_per_w}
    with atomic_path(out / "results.json") as temporary:
        temporary.write_text(json.dumps(results, indent=1))
    return results


def table(results: dict[str, Any]) -> str:
    lines = [f"{'network on 64x64 tiles, 1 ohm wires':<48} {'SPICE':>7} {'surrogate':>9} {'device only':>11} "
             f"{'TOPS/W full':>11}"]
    for label, r in results.items():
        if not isinstance(r, dict) or "accuracy" not in r:
            continue
        a = r["accuracy"]
        surrogate = f"{100 * a['surrogate']:.1f}%" if "surrogate" in a else "-"
        lines.append(f"{label:<48} {100 * a['spice']:>6.1f}% {surrogate:>9} {100 * a['device']:>10.1f}% "
                     f"{r['tops_per_w_full']:>11.4g}")
    by_kind = results["surrogate"].get("validation_by_kind", {"relaxation": results["surrogate"]["validation"]})
    for kind, v in by_kind.items():
        lines.append(f"{kind} surrogate held-out NRMSE {100 * v['surrogate']['nrmse']:.4f}% "
                     f"(ideal {100 * v['ideal']['nrmse']:.2f}%, device-only {100 * v['device_only']['nrmse']:.4f}%)")
    lines.append(f"in the loop: the {results['surrogate'].get('kind', 'relaxation')} surrogate, "
                 f"{results['surrogate_training_s'] / 60:.1f} min of training")
    return "\n".join(lines)


__all__ = ["run", "table"]
