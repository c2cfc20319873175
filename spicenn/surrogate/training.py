"""Fitting the surrogate to SPICE results, and validating it against held-out ones."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from ..io import save_figure
from ..progress import tracked
from .dataset import load
from .model import CrossbarSurrogate, SurrogateConfig


def _tensors(path):
    spec, data = load(path)
    return spec, torch.from_numpy(data["voltages"]), torch.from_numpy(data["conductances"]), data


def train(data: str | Path, iterations: int = 8, epochs: int = 200, learning_rate: float = 0.05,
          progress: bool = True, kind: str = "relaxation", modes: int = 1) -> tuple[CrossbarSurrogate, list[float]]:
    """Fit the model's parameters (the relaxation's damping schedule, or the first-order
    model's term scales) to a SPICE dataset (full batch, Adam, relative squared error)."""
    spec, v, g, arrays = _tensors(data)
    target = torch.from_numpy(arrays["currents"])
    model = CrossbarSurrogate(SurrogateConfig.from_dataset(spec, iterations, kind, modes))
    optimiser = torch.optim.Adam(model.parameters(), lr=learning_rate)
    scale = target.pow(2).mean()
    history = []
    for _ in tracked(range(epochs), progress, desc="surrogate", unit="epoch"):
        optimiser.zero_grad()
        loss = (model(v, g) - target).pow(2).mean() / scale
        loss.backward()
        optimiser.step()
        history.append(float(loss.detach().sqrt()))
    return model, history


def errors(predicted: np.ndarray, spice: np.ndarray) -> dict[str, float]:
    """NRMSE = RMS(pred - spice)/RMS(spice); worst column error relative to that column's
    full-scale current (the largest |I| of that column over the case's vectors)."""
    nrmse = float(np.sqrt(np.mean((predicted - spice) ** 2)) / np.sqrt(np.mean(spice**2)))
    full_scale = np.max(np.abs(spice), axis=-2, keepdims=True)
    worst = float(np.max(np.abs(predicted - spice) / full_scale))
    return {"nrmse": nrmse, "worst_column": worst}


def validate(model: CrossbarSurrogate, data: str | Path, plots: str | Path | None = None) -> dict[str, dict]:
    """The surrogate's errors on a SPICE dataset beside the ideal V·G and device-only models'."""
    _, v, g, arrays = _tensors(data)
    spice = arrays["currents"]
    with torch.no_grad():
        predicted = model(v, g).numpy()
        device_only = model.device_model.current(v.unsqueeze(-1), g.unsqueeze(-3), torch,
                                                 model.cell).sum(-2).numpy()
    ideal = np.einsum("cbm,cmn->cbn", arrays["voltages"], arrays["conductances"])
    report = {"surrogate": errors(predicted, spice), "ideal": errors(ideal, spice),
              "device_only": errors(device_only, spice)}
    if plots is not None:
        _plots(Path(plots), predicted, ideal, spice)
    return report


def meets_target(report: dict[str, dict]) -> bool:
    """The surrogate's accuracy target on a `validate` report: NRMSE <= 0.5 % and at most 1/5
    of the better of the ideal and device-only models'."""
    nrmse = report["surrogate"]["nrmse"]
    return nrmse <= 0.005 and nrmse <= min(report["ideal"]["nrmse"], report["device_only"]["nrmse"]) / 5


def _plots(folder: Path, predicted: np.ndarray, ideal: np.ndarray, spice: np.ndarray) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    folder.mkdir(parents=True, exist_ok=True)
    figure, axis = plt.subplots(figsize=(5, 5))
    axis.plot(spice.ravel() * 1e6, ideal.ravel() * 1e6, ".", ms=2, alpha=0.3, label="ideal V·G")
    axis.plot(spice.ravel() * 1e6, predicted.ravel() * 1e6, ".", ms=2, label="surrogate")
    low, high = spice.min() * 1e6, spice.max() * 1e6
    axis.plot([low, high], [low, high], "k-", lw=0.8)
    axis.set_xlabel("ngspice current (µA)")
    axis.set_ylabel("predicted current (µA)")
    axis.legend()
    figure.tight_layout()
    save_figure(figure, folder / "parity.png")
    figure, axis = plt.subplots(figsize=(5, 3.5))
    relative = ((predicted - spice) / np.max(np.abs(spice), axis=-2, keepdims=True)).ravel()
    axis.hist(relative, bins=80)
    axis.set_xlabel("error / column full scale")
    axis.set_ylabel("outputs")
    figure.tight_layout()
    save_figure(figure, folder / "error_histogram.png")
