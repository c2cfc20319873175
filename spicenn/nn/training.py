"""Training runs: SGD with the chosen backend in the loop, memristive validation, and a run
folder that survives interruption.

A run folder holds `config.toml`, `last.pt` (everything needed to continue: weights,
optimiser, epoch, metrics), `best.pt` (the weights with the best median validation accuracy
over simulated chips), `metrics.csv` and `curves.png`, each written atomically after every
epoch. Calling `train` on a folder with an unfinished run continues it; the result is the
same as an uninterrupted run (batches and chips are drawn from seeds, not from state).
"""

from __future__ import annotations

import csv
import io
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..errors import InputError
from ..io import atomic_path, folder_lock, remove_stale_parts, save_figure, save_npz_atomic, save_torch_atomic
from ..progress import progress_bar
from ..surrogate.sampling import PROGRAMMED_FILE
from .data import Data, load_data
from .evaluation import VALIDATION_CHIP_BASE, accuracies, chip_seeds
from .network import CrossbarMLP
from .run_config import RunConfig

METRIC_FIELDS = ("epoch", "train_loss", "train_accuracy", "validation_median", "validation_min",
                 "validation_max", "seconds")


def build_model(config: RunConfig) -> CrossbarMLP:
    return CrossbarMLP(config.network.sizes, config.crossbar, config.network.activation,
                       config.training.backend, seed=config.seed)


def run_data(config: RunConfig) -> Data:
    data = load_data(config.data.name, config.seed, config.data.path, config.data.validation, config.data.test)
    if data.features != config.network.sizes[0] or data.classes > config.network.sizes[-1]:
        raise InputError(f"dataset {config.data.name!r} has {data.features} features and {data.classes} classes; "
                         f"the network is {list(config.network.sizes)}")
    return data


def _seed(*parts: int) -> int:
    return int(np.random.SeedSequence([int(p) for p in parts]).generate_state(1)[0])


def _save(path: Path, obj: object) -> None:
    save_torch_atomic(path, obj)


def _write_metrics(run_dir: Path, metrics: list[dict]) -> None:
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=METRIC_FIELDS)
    writer.writeheader()
    writer.writerows(metrics)
    with atomic_path(run_dir / "metrics.csv") as temporary:
        temporary.write_text(text.getvalue())
    plot_curves(metrics, run_dir / "curves.png")


def plot_curves(metrics: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    epochs = [m["epoch"] for m in metrics]
    figure, (left, right) = plt.subplots(1, 2, figsize=(9, 3.5))
    left.plot(epochs, [m["train_loss"] for m in metrics])
    left.set_xlabel("epoch")
    left.set_ylabel("training loss")
    right.plot(epochs, [100 * m["train_accuracy"] for m in metrics], label="training")
    right.plot(epochs, [100 * m["validation_median"] for m in metrics], label="validation (median over chips)")
    right.fill_between(epochs, [100 * m["validation_min"] for m in metrics],
                       [100 * m["validation_max"] for m in metrics], alpha=0.25)
    right.set_xlabel("epoch")
    right.set_ylabel("accuracy (%)")
    right.legend(fontsize=8)
    figure.tight_layout()
    save_figure(figure, path)


def _check_run_folder(config: RunConfig, run_dir: Path) -> None:
    """A run folder holding another configuration's finished epochs is refused; one holding
    only a configuration (a run refused or stopped before its first epoch) is taken over."""
    saved = run_dir / "config.toml"
    if run_dir.exists() and not run_dir.is_dir():
        raise InputError(f"run folder {run_dir} is a file")
    if saved.exists() and (run_dir / "last.pt").exists():
        try:
            same = RunConfig.load(saved) == config
        except InputError:
            same = False
        if not same:
            raise InputError(f"{run_dir} holds a run with a different configuration; choose another run folder")
    run_dir.mkdir(parents=True, exist_ok=True)


def _epochs(config: RunConfig, run_dir: Path, model: CrossbarMLP, optimiser: torch.optim.Optimizer,
            state: dict[str, Any], data: Data, progress: bool) -> None:
    """The epochs from `state["epoch"] + 1` on, each checkpointed (`last.pt`, `best.pt`, metrics)."""
    t = config.training
    x = torch.as_tensor(data.train.x)
    y = torch.as_tensor(data.train.y)
    validation_seeds = chip_seeds(VALIDATION_CHIP_BASE, config.validation.chips)
    with progress_bar(progress and state["epoch"] < t.epochs, total=t.epochs, initial=state["epoch"],
                      desc="epochs", unit="epoch") as bar:
        for epoch in range(state["epoch"] + 1, t.epochs + 1):
            started = time.perf_counter()
            model.set_backend(t.backend)
            model.train()
            order = torch.from_numpy(np.random.default_rng(_seed(config.seed, epoch)).permutation(len(y)))
            loss_sum, correct = 0.0, 0
            for batch, start in enumerate(range(0, len(y), t.batch_size)):
                index = order[start:start + t.batch_size]
                model.set_chip(_seed(config.seed, epoch, batch) if t.chips == "per-batch" else None)
                logits = model(x[index])
                loss = torch.nn.functional.cross_entropy(logits, y[index])
                objective = loss + t.l1 * model.l1() if t.l1 else loss
                optimiser.zero_grad()
                objective.backward()
                optimiser.step()
                model.clamp_()
                loss_sum += float(loss.detach()) * len(index)
                correct += int((logits.argmax(1) == y[index]).sum())
            model.eval()
            val = accuracies(model, data.validation.x, data.validation.y, config.validation.backend, validation_seeds)
            median = float(np.median(val))
            state["metrics"].append({"epoch": epoch, "train_loss": loss_sum / len(y),
                                     "train_accuracy": correct / len(y),
                                     "validation_median": median, "validation_min": min(val),
                                     "validation_max": max(val), "seconds": time.perf_counter() - started})
            if median > state["best"]:
                state["best"] = median
                _save(run_dir / "best.pt", {"model": model.state_dict(), "epoch": epoch, "validation_median": median})
                save_programmed(model, run_dir)
            state["epoch"] = epoch
            _save(run_dir / "last.pt", {"model": model.state_dict(), "optimiser": optimiser.state_dict(), **state})
            _write_metrics(run_dir, state["metrics"])
            bar.set_postfix(loss=f"{loss_sum / len(y):.3f}", val=f"{100 * median:.1f}%")
            bar.update(1)


def load_checkpoint(path: Path) -> dict[str, Any]:
    """A checkpoint as data (`weights_only=True`), or a one-line InputError naming the file."""
    try:
        with warnings.catch_warnings():  # torch warns about foreign files before refusing them
            warnings.simplefilter("ignore")
            saved = torch.load(path, weights_only=True)
    except Exception as error:  # torch raises several kinds for truncated or foreign files
        raise InputError(f"{path} is not a readable checkpoint ({type(error).__name__}); "
                         "remove it to start that run again") from None
    if not isinstance(saved, dict):
        raise InputError(f"{path} is not a spicenn checkpoint")
    return saved


def train(config: RunConfig, run_dir: str | Path, progress: bool = True, data: Data | None = None) -> CrossbarMLP:
    """Train (or continue training) `config` in `run_dir`; returns the best model by median
    validation accuracy over `config.validation.chips` simulated chips."""
    run_dir = Path(run_dir)
    # everything that can refuse the run is tried before the run folder is written
    data = data or run_data(config)
    model = build_model(config)
    if "surrogate" in (config.training.backend, config.validation.backend, config.evaluation.backend):
        for layer in model.layers:
            layer.surrogate_model()  # a missing or mismatched surrogate fails now, not after an epoch
    t = config.training
    optimiser = torch.optim.SGD(model.parameters(), lr=t.learning_rate)
    state: dict[str, Any] = {"epoch": 0, "metrics": [], "best": -1.0}
    if (run_dir / "last.pt").exists():
        saved = load_checkpoint(run_dir / "last.pt")
        try:
            model.load_state_dict(saved["model"])
            optimiser.load_state_dict(saved["optimiser"])
            state = {"epoch": int(saved["epoch"]), "metrics": list(saved["metrics"]), "best": float(saved["best"])}
        except (KeyError, RuntimeError, ValueError, TypeError) as error:
            raise InputError(f"{run_dir / 'last.pt'} does not fit this run ({type(error).__name__}); "
                             "remove it to start the run again") from None
    _check_run_folder(config, run_dir)
    with folder_lock(run_dir, "run folder"):
        remove_stale_parts(run_dir)  # what a killed writer left
        with atomic_path(run_dir / "config.toml") as temporary:
            temporary.write_text(config.to_toml())
        _epochs(config, run_dir, model, optimiser, state, data, progress)
    best = load_run(run_dir, config)
    if not (run_dir / PROGRAMMED_FILE).exists():  # runs trained before the file existed
        save_programmed(best, run_dir)
    return best


@torch.no_grad()
def save_programmed(model: CrossbarMLP, run_dir: Path) -> None:
    """Each layer's programmed (target) conductances as data (`surrogate.sampling` reads them)."""
    hardware = model.layers[0].hardware
    arrays = {f"G{k}": layer.target_conductances().double().numpy() for k, layer in enumerate(model.layers)}
    save_npz_atomic(run_dir / PROGRAMMED_FILE, {**arrays, "layers": np.array(len(model.layers)),
                                                 "g_off": np.array(hardware.g_off), "g_on": np.array(hardware.g_on)})


def best_epoch(run_dir: str | Path) -> dict[str, float]:
    """The metrics.csv row of the epoch with the best median validation accuracy."""
    path = Path(run_dir) / "metrics.csv"
    try:
        rows = list(csv.DictReader(io.StringIO(path.read_text())))
        best = max(rows, key=lambda row: float(row["validation_median"]))
        return {name: float(best[name]) for name in METRIC_FIELDS}
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise InputError(f"{path} is not a spicenn metrics file ({type(error).__name__}: {error})") from None


def load_run(run_dir: str | Path, config: RunConfig | None = None) -> CrossbarMLP:
    """The best model of a run folder."""
    run_dir = Path(run_dir)
    if config is None:
        config = RunConfig.load(run_dir / "config.toml")
    best = run_dir / "best.pt"
    if not best.exists():
        raise InputError(f"{run_dir} has no trained model (best.pt); run `spicenn train` first")
    model = build_model(config)
    saved = load_checkpoint(best)
    try:
        model.load_state_dict(saved["model"])
    except (KeyError, RuntimeError, ValueError, TypeError) as error:
        raise InputError(f"{best} does not fit the run's network ({type(error).__name__})") from None
    bad = [name for name, value in model.state_dict().items()
           if value.is_floating_point() and not bool(torch.isfinite(value).all())]
    if bad:
        raise InputError(f"{best} holds NaN or inf in {bad[0]}: the run diverged; retrain it (a smaller "
                         "learning rate) or use an earlier checkpoint")
    model.eval()
    return model
