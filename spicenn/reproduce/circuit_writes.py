"""The learning papers rerun with their updates written through the circuit.

`spicenn reproduce babu2017 | li2023 | li2023-comparison | kim2019 --updates circuit|surrogate`
trains each paper's network on dynamic devices calibrated to its device
(`spicenn.devices.written`), every update written through 64x64 tiles with 0, 1 and 5 Ω wire
segments — by the native write engine (`circuit`: exact; small networks: the 8x8 digits on a
subset of samples) or the write surrogate (`surrogate`: the paper's own network and data) —
beside the same devices written ideally (`rules`: each pulse lands as the device's pulse map
says); an engine run trains the surrogate's network beside it on the same data and seeds.
Per case and seed: the test accuracy, the write energy per training step (a batch) and per
epoch from the circuit, the pulses per step, the seconds per epoch; per wire the
accuracy's median and spread over seeds against the ideal writes', and the write energy
beside `spicenn.energy.training`'s formula (V²·G·t per pulse: the selected cells only).
Every case is recorded as it finishes, so an interrupted run resumes.
"""

from __future__ import annotations

import dataclasses
import functools
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..devices.written import DevicePulses, pulse_response, write_preset
from ..energy.training import TrainingCosts, training_step_energy
from ..errors import InputError
from ..io import save_figure
from ..nn.data import Data, load_data
from ..nn.learning import BinaryStochasticMLP, DeviceMLP, EngineWrites, SurrogateWrites, UpdateRule
from ..nn.onchip import onchip_accuracy, train_on_chip
from .common import figure, record_each, resume, write_results

UPDATES = ("rules", "circuit", "surrogate")
WIRES = (0.0, 1.0, 5.0)
TILE = 64
SURROGATE = "write-vteam-64"


@dataclass(frozen=True)
class Variant:
    """One network the paper trains: its rule, its devices (a write preset and options) and
    whether its reference devices are zero-shifted first."""

    rule: str
    preset: str
    preset_options: tuple[tuple[str, float], ...] = ()
    zero_shift: bool = False
    binary: bool = False  # a BinaryStochasticMLP
    w_max: float = 1.0

    def devices(self) -> DevicePulses:
        return write_preset(self.preset, **dict(self.preset_options))


@dataclass(frozen=True)
class Paper:
    name: str
    claim: str
    dataset: tuple[str, str]  # of the surrogate and rules runs, quick and full (the engine's: the 8x8 digits)
    hidden: tuple[int, ...]
    variants: dict[str, Variant]
    epochs: tuple[int, int]  # quick, full
    learning_rate: float = 0.1
    batch_size: int = 10
    pulse_length: int = 10


PAPERS = {
    "babu2017": Paper("babu2017", "32 levels over a range of 15 lose < 3 % against floating point",
                      ("mnist", "mnist"), (100,),
                      {"levels32, stochastic coincidences": Variant("pulse", "levels32")}, (2, 10)),
    "li2023": Paper("li2023", "binary stochastic learning trains the devices", ("digits", "mnist"), (32,),
                    {"levels32, binary stochastic": Variant("binary", "levels32", binary=True)}, (4, 10)),
    "li2023-comparison": Paper(
        "li2023-comparison", "binary stochastic learning spends far less energy than back-propagation on the devices",
        ("digits", "mnist"), (32,),
        {"binary stochastic": Variant("binary", "levels32", binary=True),
         "back-propagation on the devices": Variant("rounding", "levels32")}, (4, 10)),
    "kim2019": Paper("kim2019", "zero-shifting rescues soft-bounds devices whose up and down steps differ",
                     ("mnist", "mnist"),
                     (64,), {"imbalance 0.5, plain": Variant("pulse", "soft-bounds", (("imbalance", 0.5),),
                                                               w_max=4.0),
                             "imbalance 0.5, zero-shifted": Variant("pulse", "soft-bounds", (("imbalance", 0.5),),
                                                                    zero_shift=True, w_max=4.0)}, (2, 5)),
}


def settings(paper: Paper, updates: str, quick: bool) -> dict[str, Any]:
    engine = updates == "circuit"
    return {"paper": paper.name, "updates": updates, "tile": TILE, "wires": list(WIRES[1:2] if engine and quick
                                                                                  else WIRES),
            "seeds": 2 if quick else 3, "dataset": "digits" if engine else paper.dataset[0 if quick else 1],
            "hidden": [32] if engine else list(paper.hidden if quick or paper.dataset[1] == paper.dataset[0]
                                               else (100,)),
            "epochs": 1 if engine else paper.epochs[0 if quick else 1],
            "train_samples": (300 if quick else None) if engine else None,
            "learning_rate": paper.learning_rate, "batch_size": paper.batch_size, "pulse_length": paper.pulse_length,
            "surrogate": SURROGATE if updates == "surrogate" else None}


def _subset(data: Data, samples: int | None) -> Data:
    if samples is None:
        return data
    return dataclasses.replace(data, train=dataclasses.replace(data.train, x=data.train.x[:samples],
                                                               y=data.train.y[:samples]))


def train_case(variant: Variant, s: dict[str, Any], data: Data, writes: EngineWrites | SurrogateWrites | None,
               seed: int, progress: bool = False) -> dict[str, Any]:
    """One network trained with its writes; its accuracy, write energy and costs."""
    devices = variant.devices()
    sizes = (data.features, *s["hidden"], data.classes)
    cls = BinaryStochasticMLP if variant.binary else DeviceMLP
    model = cls(sizes, devices, seed=seed, w_max=variant.w_max)
    if variant.zero_shift:
        for layer in model.layers:
            layer.zero_shift()
    rule = UpdateRule(variant.rule, s["learning_rate"], s["pulse_length"], writes=writes)
    start = time.perf_counter()
    history = train_on_chip(model, data, rule, s["epochs"], s["batch_size"], seed, progress)
    seconds = time.perf_counter() - start
    steps = s["epochs"] * -(-len(data.train.y) // s["batch_size"])
    energy = sum(layer.write_energy for layer in model.layers)
    pulses = sum(layer.pulses for layer in model.layers)
    g_mean = float(np.mean([float(layer.g.mean()) for layer in model.layers]))
    costs = TrainingCosts(pulse_voltage=devices.voltage, pulse_time=devices.square_time)
    algorithm = "binary stochastic" if variant.binary else "memristive back-propagation"
    formula = training_step_energy(sizes, algorithm, costs, pulses / steps / s["batch_size"], g_mean,
                                   s["batch_size"])["programming pulses"] * s["batch_size"]
    return {"accuracy": onchip_accuracy(model, data.test.x, data.test.y), "validation": history,
            "write_energy_per_step": energy / steps if writes is not None else None,
            "write_energy_per_epoch": energy / s["epochs"] if writes is not None else None,
            "formula_write_energy_per_step": formula, "pulses_per_step": pulses / steps,
            "seconds_per_epoch": seconds / s["epochs"], "steps_per_epoch": steps // s["epochs"]}


def run(paper_name: str, out: str | Path, updates: str, quick: bool = False, seed: int = 0,
        progress: bool = True) -> dict[str, Any]:
    if updates not in UPDATES:
        raise InputError(f"unknown updates {updates!r}; choose one of: {', '.join(UPDATES)}")
    paper = PAPERS[paper_name]
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    s = settings(paper, updates, quick)
    data = _subset(load_data(s["dataset"], seed), s["train_samples"])
    results = resume(out, s)
    runs = results.setdefault("runs", {})
    tasks: dict[str, Callable[[], Any]] = {}
    for label, variant in paper.variants.items():
        for k in range(s["seeds"]):
            tasks[f"{label}/rules/-/{seed + k}"] = functools.partial(train_case, variant, s, data, None, seed + k)
            for wire in s["wires"]:
                writes: EngineWrites | SurrogateWrites = EngineWrites(TILE, wire) if updates == "circuit" else \
                    SurrogateWrites(TILE, wire, s["surrogate"] or SURROGATE)
                tasks[f"{label}/{updates}/{wire:g}/{seed + k}"] = functools.partial(
                    train_case, variant, s, data, writes, seed + k)
                if updates == "circuit":  # the surrogate on the same network, data and bit streams
                    tasks[f"{label}/surrogate/{wire:g}/{seed + k}"] = functools.partial(
                        train_case, variant, s, data, SurrogateWrites(TILE, wire, SURROGATE), seed + k)
    record_each(out, results, runs, tasks, progress, what=f"{paper.name} networks")
    results["summary"] = summary(results)
    results["pulse_response"] = {label: pulse_response(variant.devices(), 40)
                                 for label, variant in paper.variants.items()}
    write_results(out, results)
    plot(results, paper, out / f"{paper.name}.png")  # the file the reproduction's row names
    return results


def summary(results: dict[str, Any]) -> dict[str, Any]:
    """Per variant and writes: accuracy median [min, max] over seeds; write energy per step
    and per epoch (median), the formula's per step, pulses per step, seconds per epoch."""
    groups: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for key, entry in results["runs"].items():
        label, updates, wire, _ = key.split("/")
        name = "ideal writes (rules)" if updates == "rules" else f"{updates}, {wire} Ω"
        groups.setdefault(label, {}).setdefault(name, []).append(entry)
    table: dict[str, Any] = {}
    for label, cases in groups.items():
        table[label] = {}
        for name, entries in cases.items():
            accuracy = [e["accuracy"] for e in entries]
            row = {"accuracy": float(np.median(accuracy)), "accuracy_min": min(accuracy),
                   "accuracy_max": max(accuracy), "seeds": len(entries),
                   "pulses_per_step": float(np.median([e["pulses_per_step"] for e in entries])),
                   "formula_write_energy_per_step": float(np.median([e["formula_write_energy_per_step"]
                                                                     for e in entries])),
                   "seconds_per_epoch": float(np.median([e["seconds_per_epoch"] for e in entries]))}
            if entries[0]["write_energy_per_step"] is not None:
                row["write_energy_per_step"] = float(np.median([e["write_energy_per_step"] for e in entries]))
                row["write_energy_per_epoch"] = float(np.median([e["write_energy_per_epoch"] for e in entries]))
            table[label][name] = row
    return table


def table(results: dict[str, Any]) -> str:
    s = results["setup"]
    lines = [f"{s['paper']} with updates through the circuit ({s['updates']}; {s['tile']}x{s['tile']} tiles; "
             f"{s['dataset']}, hidden {s['hidden']}, {s['epochs']} epoch(s)"
             + (f", {s['train_samples']} training samples" if s["train_samples"] else "") + f", {s['seeds']} seeds)",
             f"{'case':<34} {'accuracy [min, max]':>24} {'write J/step':>13} {'J/epoch':>10} {'formula J/step':>15} "
             f"{'pulses/step':>12} {'s/epoch':>8}"]
    for label, cases in results["summary"].items():
        lines.append(label)
        for name, row in cases.items():
            accuracy = (f"{100 * row['accuracy']:.1f}% [{100 * row['accuracy_min']:.1f}, "
                        f"{100 * row['accuracy_max']:.1f}]")
            energy = f"{row['write_energy_per_step']:.3g}" if "write_energy_per_step" in row else "-"
            epoch = f"{row['write_energy_per_epoch']:.3g}" if "write_energy_per_epoch" in row else "-"
            lines.append(f"  {name:<32} {accuracy:>24} {energy:>13} {epoch:>10} "
                         f"{row['formula_write_energy_per_step']:>15.3g} {row['pulses_per_step']:>12.1f} "
                         f"{row['seconds_per_epoch']:>8.1f}")
    return "\n".join(lines)


def json_summary(results: dict[str, Any]) -> dict[str, Any]:
    return {"setup": results["setup"], "summary": results["summary"]}


def plot(results: dict[str, Any], paper: Paper, path: Path) -> None:
    fig, (left, right) = figure()
    for label, curve in results["pulse_response"].items():
        g = np.asarray(curve["conductance"]) * 1e6
        left.plot(curve["pulse"], g, ".-", ms=3, label=label)
    left.set_xlabel("pulse (up, then down)")
    left.set_ylabel("conductance (µS), ideal writes")
    left.set_title("the calibrated device's pulse response", fontsize=8)
    left.legend(fontsize=7)
    names: list[str] = []
    for offset, (label, cases) in enumerate(results["summary"].items()):
        names = list(cases)
        x = np.arange(len(names)) + 0.15 * offset
        median = [100 * cases[n]["accuracy"] for n in names]
        low = [100 * (cases[n]["accuracy"] - cases[n]["accuracy_min"]) for n in names]
        high = [100 * (cases[n]["accuracy_max"] - cases[n]["accuracy"]) for n in names]
        right.errorbar(x, median, yerr=[low, high], fmt="o", capsize=3, label=label)
    right.set_xticks(np.arange(len(names)))
    right.set_xticklabels(names, rotation=20, fontsize=7)
    right.set_ylabel("test accuracy (%), median and range")
    right.legend(fontsize=7)
    fig.tight_layout()
    save_figure(fig, path)


__all__ = ["PAPERS", "UPDATES", "json_summary", "run", "summary", "table", "train_case"]
