"""The three questions about a converted model: accuracy on hardware, energy, circuit agreement.

`analyze(analog, x, y)` gives accuracy per backend over simulated chips (median and
spread), the spice backend on a sample of images beside the surrogate (or the device
model) on the same images and chip, the per-layer agreement of the fast model's column
currents with ngspice's on the same inputs, and energy per layer (`model_energy`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..checks import whole_number
from ..crossbar.config import CrossbarConfig
from ..crossbar.peripherals import Peripherals
from ..errors import InputError
from ..io import save_figure
from ..progress import tracked
from .backends import check_backend
from .evaluation import TEST_CHIP_BASE, accuracy, chip_seeds
from .model_energy import model_energy, named_layers
from .network import CrossbarNetwork


def spread(values: Sequence[float]) -> dict[str, Any]:
    """Median and interquartile range of per-chip values."""
    q1, median, q3 = (float(v) for v in np.percentile(values, [25, 50, 75]))
    return {"median": median, "q1": q1, "q3": q3, "per_chip": [float(v) for v in values]}


CHECK_IMAGES_PER_PASS = 8  # images per recorded pass of a check: what it holds stays bounded
PARITY_POINTS = 2000  # column currents per layer kept for the report's parity plots


@torch.no_grad()
def circuit_check(model: CrossbarNetwork, x: np.ndarray, y: np.ndarray, fast: str, chip: int,
                  truth: str = "circuit", progress: bool = False) -> dict[str, Any]:
    """One pass of the network on the `truth` backend (the native solver's `circuit`, or
    ngspice's `spice`) on chip `chip`: its accuracy, `fast`'s accuracy on the same images
    and chip, and per layer the NRMSE of `fast`'s column currents against the truth's on
    the inputs that layer received in the truth's pass. Images go through in passes of
    CHECK_IMAGES_PER_PASS, so memory does not grow with their number."""
    from .convert import record

    model.set_chip(chip)
    layers = model.crossbar_layers()
    position = {id(layer): k for k, layer in enumerate(layers)}
    names = named_layers(model)
    squared = {name: [0.0, 0.0] for name, _ in names}  # Σ(fast − truth)², Σ truth²
    parity: dict[str, list[np.ndarray]] = {name: [] for name, _ in names}  # (truth, fast) samples
    sampler = np.random.default_rng(0)
    correct = 0
    passes = [slice(start, start + CHECK_IMAGES_PER_PASS) for start in range(0, len(y), CHECK_IMAGES_PER_PASS)]
    for part in tracked(passes, progress and truth == "circuit", desc=f"{truth} check", unit="pass"):
        logits, seen = record(model, layers, torch.as_tensor(x[part]), truth,
                              lambda layer, inputs, currents: torch.cat([inputs, currents], 1))
        correct += int((logits.argmax(1).numpy() == y[part]).sum())
        for name, cores in names:
            for core in cores:
                both = seen[position[id(core)]]
                inputs, currents = both[:, :core.in_features], both[:, core.in_features:].double()
                predicted = core.column_currents(inputs, fast).double()
                squared[name][0] += float(((predicted - currents) ** 2).sum())
                squared[name][1] += float((currents**2).sum())
                pairs = torch.stack([currents.reshape(-1), predicted.reshape(-1)], 1).numpy()
                keep = sampler.choice(len(pairs), min(len(pairs), PARITY_POINTS // len(passes) + 1), replace=False)
                parity[name].append(pairs[keep])
    fast_accuracy = accuracy(model, x, y, fast, chip, batch_size=CHECK_IMAGES_PER_PASS)
    errors = {name: float(np.sqrt(error / scale)) if scale > 0 else 0.0 for name, (error, scale) in squared.items()}
    return {"images": len(y), "truth": truth, "fast_backend": fast, truth: correct / len(y),
            fast: fast_accuracy, "layer_nrmse": errors,
            "_parity": {name: np.concatenate(parts) for name, parts in parity.items()}}


def spice_check(model: CrossbarNetwork, x: np.ndarray, y: np.ndarray, fast: str, chip: int) -> dict[str, Any]:
    """`circuit_check` with ngspice as the truth."""
    return circuit_check(model, x, y, fast, chip, truth="spice")


def analyze(model: CrossbarNetwork, x: np.ndarray, y: np.ndarray, backends: Sequence[str] = ("ideal", "device"),
            chips: int = 5, images: int = 1000, spice_images: int = 0, energy_images: int = 10,
            peripherals: Peripherals | None = None, workers: int = 1, progress: bool = False,
            circuit_images: int = 0, energy_backend: str = "device", times: Sequence[float] = ()) -> dict[str, Any]:
    """Accuracy per backend (`chips` simulated chips, `images` test images; the ideal
    backend on the nominal chip); the circuit check on the first chip: `circuit_images`
    images through every tile solved exactly by the native solver beside the fastest
    non-ideal backend given, and `spice_images` of them in ngspice beside the native solver
    (without circuit images: ngspice beside the fastest backend); energy on `energy_images`
    images, each layer's inputs recorded on `energy_backend` and every tile solved exactly
    on them. `times`: seconds after programming at which the accuracy is measured again on
    every backend and chip (drift, compensated if the hardware says so; read noise anew);
    the rest is read as programmed."""
    for name, value, low in (("chips", chips, 1), ("images", images, 1), ("spice_images", spice_images, 0),
                             ("energy_images", energy_images, 0), ("circuit_images", circuit_images, 0)):
        whole_number(name, value, low)
    if len(x) != len(y) or len(y) == 0:
        raise InputError(f"analysis needs as many labels as images (got {len(x)} and {len(y)})")
    for backend in (*backends, energy_backend):
        check_backend(backend)
    x, y = x[:images], y[:images]
    seeds = chip_seeds(TEST_CHIP_BASE, chips)
    model.set_spice(workers, progress)
    results: dict[str, Any] = {"images": len(y), "chips": chips, "accuracy": {}}
    measured = [b for b in backends if b != "spice"]
    results["accuracy"] = {backend: spread(values) for backend, values in
                           accuracy_per_chip(model, x, y, measured, seeds, progress).items()}
    if times:
        results["accuracy_vs_time"] = accuracy_over_time(model, x, y, measured, seeds, times, progress)
    fast = next((b for b in ("surrogate", "device") if b in backends), "device")
    spice_fast = "circuit" if circuit_images > 0 else next(
        (b for b in ("surrogate", "circuit", "device") if b in backends), "device")
    if circuit_images > 0:
        results["circuit_check"] = circuit_check(model, x[:circuit_images], y[:circuit_images], fast, seeds[0],
                                                 progress=progress)
    if spice_images > 0:
        xs, ys = x[:spice_images], y[:spice_images]
        results["spice_check"] = spice_check(model, xs, ys, spice_fast, seeds[0])
    for key in ("circuit_check", "spice_check"):
        if key in results:  # chips are named by their place among the drawn ones, not by seed
            results[key]["chip"] = 1
    if energy_images > 0:
        energy = model_energy(model, torch.as_tensor(x[:energy_images]), peripherals, chip=seeds[0],
                              backend=energy_backend, workers=workers, progress=progress)
        results["energy"] = energy.to_dict()
        results["energy_text"] = energy.text()
        results["_energy"] = energy
    return results


def accuracy_per_chip(model: CrossbarNetwork, x: np.ndarray, y: np.ndarray, backends: Sequence[str],
                      seeds: Sequence[int], progress: bool = False, what: str = "accuracy") -> dict[str, list[float]]:
    """Accuracy per backend on every chip of `seeds` (the ideal backend on the nominal chip)."""
    runs = [(backend, None if backend == "ideal" else seed) for backend in backends
            for seed in (seeds[:1] if backend == "ideal" else seeds)]
    per_backend: dict[str, list[float]] = {}
    for backend, seed in tracked(runs, progress, desc=f"{what} (backend x chip)", unit="chip"):
        per_backend.setdefault(backend, []).append(accuracy(model, x, y, backend, seed, batch_size=100))
    return per_backend


def accuracy_over_time(model: CrossbarNetwork, x: np.ndarray, y: np.ndarray, backends: Sequence[str],
                       seeds: Sequence[int], times: Sequence[float], progress: bool = False) -> dict[str, Any]:
    """`accuracy_per_chip` at each of `times` seconds after programming (the nominal chip of
    the ideal backend drifting with the mean exponent)."""
    times = sorted(float(t) for t in times)
    per_time = []
    try:
        for t in times:
            model.set_time(t)
            per_time.append(accuracy_per_chip(model, x, y, backends, seeds, progress, f"accuracy at {t:g} s"))
    finally:
        model.set_time(None)
    return {"seconds": times, "accuracy": {backend: [spread(values[backend]) for values in per_time]
                                           for backend in backends}}


def text(results: dict[str, Any]) -> str:
    lines = [f"accuracy on {results['images']} test images ({results['chips']} chips; median [IQR]):"]
    for backend, a in results["accuracy"].items():
        lines.append(f"  {backend:<10} {100 * a['median']:6.2f}%  [{100 * a['q1']:.2f}, {100 * a['q3']:.2f}]")
    over_time = results.get("accuracy_vs_time")
    if over_time:
        lines.append("accuracy after programming (median over chips):")
        lines.append("  " + f"{'seconds':>10}" + "".join(f"{b:>11}" for b in over_time["accuracy"]))
        for k, t in enumerate(over_time["seconds"]):
            lines.append("  " + f"{t:>10.4g}" + "".join(f"{100 * v[k]['median']:>10.2f}%"
                                                         for v in over_time["accuracy"].values()))
    for key in ("circuit_check", "spice_check"):
        check = results.get(key)
        if not check:
            continue
        fast, truth = check["fast_backend"], check["truth"]
        solver = "native solver" if truth == "circuit" else "ngspice"
        lines.append(f"circuit check ({solver}) on {check['images']} images, chip {check['chip']}: {truth} "
                     f"{100 * check[truth]:.2f}% vs {fast} {100 * check[fast]:.2f}%")
        lines.append(f"  per-layer column-current NRMSE of {fast} against {truth}: " +
                     ", ".join(f"{name} {100 * value:.3g}%" for name, value in check["layer_nrmse"].items()))
    if "energy_text" in results:
        lines.append(results["energy_text"])
    return "\n".join(lines)


def analyze_saved(model: str, weights: str | None, data: str = "mnist", data_path: str | None = None,
                  hardware: CrossbarConfig | None = None, backends: Sequence[str] = ("ideal", "device"),
                  digital: Sequence[str] = (), keep_first: bool = False, keep_last: bool = False,
                  calibration_images: int = 256, percentile: float = 99.99, plots: str | Path | None = None,
                  input_shape: Sequence[int] | None = None, report: str | Path | None = None,
                  **options: Any) -> dict[str, Any]:
    """`analyze` of a saved model (`file.py:Class` and a state_dict) on a dataset's test
    inputs (`data`: mnist, digits, or a user's .npz/.pt file or folder), fed in the shape the
    model takes (`input_shape`, else found from its first layer: MNIST as (N, 1, 28, 28)
    for a convolutional model), converted onto `hardware` and calibrated on its first
    training inputs; with `plots`, the per-layer energy and the accuracy per backend as PNG
    in that folder. The surrogate backend uses `hardware.surrogate`, else the shipped one of
    the default hardware; one that does not fit a layer (tile, device, wires, conductance or
    voltage range, signed inputs) is refused before anything runs. `report`: one
    self-contained HTML file of it all (`spicenn.nn.report`)."""
    from .convert import calibrate, convert
    from .data import load_data
    from .user_model import check_labels, load_model
    from .user_model import input_shape as shape_for

    hardware = hardware or CrossbarConfig()
    if report is not None:
        from ..io import check_output

        report = check_output(report, what="report")
    plot_folder = None
    if plots is not None:
        plot_folder = Path(plots)
        if plot_folder.exists() and not plot_folder.is_dir():
            raise InputError(f"--plots {plot_folder} is a file, not a folder")
    if "surrogate" in backends and not hardware.surrogate:
        from ..shipped import DEFAULT_SURROGATE

        hardware = dataclasses.replace(hardware, surrogate=DEFAULT_SURROGATE)
    whole_number("calibration_images", calibration_images, 1)
    user_model = load_model(model, weights)
    dataset = load_data(data, path=data_path)
    shape = shape_for(user_model, dataset.test.x, data, dataset.sample_shape,
                      None if input_shape is None else tuple(input_shape))
    test_x = dataset.test.x.reshape(-1, *shape)
    train_x = dataset.train.x.reshape(-1, *shape)
    check_labels(user_model, test_x, np.concatenate([dataset.train.y, dataset.test.y]), data)
    analog = convert(user_model, hardware, backend=backends[0], digital=digital, keep_first=keep_first,
                     keep_last=keep_last)
    if not analog.crossbar_layers():
        raise InputError("the model has no Linear or Conv layer to put on crossbars")
    calibrate(analog, torch.as_tensor(train_x[:calibration_images]), percentile=percentile)
    if "surrogate" in backends:  # a surrogate that does not fit a layer is refused before any work
        for layer in analog.crossbar_layers():
            layer.surrogate_model()
    results = analyze(analog, test_x, dataset.test.y, backends, **options)
    results["input_shape"] = list(shape)
    results["conversion"] = analog.report.text()
    energy = results.pop("_energy", None)
    parity: dict[str, Any] = {key: results[key].pop("_parity") for key in ("circuit_check", "spice_check")
                              if key in results}
    if report is not None:
        from .report import write_report

        write_report(report, results, analog, hardware, energy, parity,
                     {"model": model, "weights": weights or "(as built)", "data": data})
    if plot_folder is not None:
        from ..energy.report import plot_layers

        plot_folder.mkdir(parents=True, exist_ok=True)
        if energy is not None:
            plot_layers(energy.layers, plot_folder / "energy-per-layer.png")
        plot_accuracy(results, plot_folder / "accuracy.png")
        if "accuracy_vs_time" in results:
            plot_accuracy_over_time(results["accuracy_vs_time"], plot_folder / "accuracy-vs-time.png")
    return results


def plot_accuracy(results: dict[str, Any], path: Path) -> None:
    """Median accuracy per backend with its interquartile range, as PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(results["accuracy"])
    medians = np.array([100 * results["accuracy"][n]["median"] for n in names])
    low = medians - np.array([100 * results["accuracy"][n]["q1"] for n in names])
    high = np.array([100 * results["accuracy"][n]["q3"] for n in names]) - medians
    figure, axis = plt.subplots(figsize=(1.5 + 1.2 * len(names), 4))
    axis.bar(names, medians, yerr=[low, high], capsize=4)
    axis.set_ylabel("test accuracy (%)")
    axis.set_ylim(0, 100)
    axis.set_title(f"{results['images']} images, {results['chips']} chips (median, IQR)", fontsize=10)
    figure.tight_layout()
    save_figure(figure, path)


def plot_accuracy_over_time(over_time: dict[str, Any], path: Path) -> None:
    """Median accuracy per backend against seconds after programming (IQR shaded), as PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    seconds = np.asarray(over_time["seconds"])
    figure, axis = plt.subplots(figsize=(5.5, 4))
    for backend, per_time in over_time["accuracy"].items():
        median = np.array([100 * v["median"] for v in per_time])
        axis.plot(seconds, median, marker="o", label=backend)
        axis.fill_between(seconds, [100 * v["q1"] for v in per_time], [100 * v["q3"] for v in per_time], alpha=0.2)
    axis.set_xscale("log")
    axis.set_xlabel("time after programming (s)")
    axis.set_ylabel("test accuracy (%)")
    axis.legend()
    figure.tight_layout()
    save_figure(figure, path)
