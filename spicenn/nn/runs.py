"""What the command line asks of a trained run folder: accuracy per backend and energy."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np

from ..checks import whole_number
from ..crossbar.peripherals import Peripherals
from ..energy.network import network_energy
from ..energy.report import NetworkEnergy
from ..errors import InputError
from .backends import check_backend
from .evaluation import TEST_CHIP_BASE, chip_seeds, compare_backends
from .run_config import RunConfig
from .training import load_run, run_data


def run_config(run_dir: str | Path) -> RunConfig:
    """The configuration a run folder was trained with."""
    path = Path(run_dir) / "config.toml"
    if not path.exists():
        raise InputError(f"{run_dir} is not a run folder (no config.toml)")
    return RunConfig.load(path)


def evaluate_run(run_dir: str | Path, backend: str = "spice", compare: str | None = None, images: int = 500,
                 chips: int = 1, workers: int = 1, progress: bool = False, scheduler: str | None = None,
                 images_per_task: int = 100) -> dict[str, Any]:
    """Test accuracy of a run's best network on `backend` beside `compare` (default: the
    surrogate if the run has one, else the device model), on the same images and chips:
    {backend: {"accuracy": median over chips, "per_chip": [...]}, ..., "images": n}.
    `scheduler`: a Dask scheduler's address; the evaluation runs there in tasks of
    `images_per_task` images (`nn.cluster`), with the same result."""
    config = run_config(run_dir)
    compare = compare or ("surrogate" if config.crossbar.surrogate else "device")
    backends = [check_backend(backend), check_backend(compare)]
    for name, value in (("images", images), ("chips", chips), ("workers", workers),
                        ("images_per_task", images_per_task)):
        whole_number(name, value, 1)
    model = load_run(run_dir, config)
    data = run_data(config)
    x, y = data.test.x[:images], data.test.y[:images]
    seeds = chip_seeds(TEST_CHIP_BASE, chips)
    if scheduler:
        from .cluster import cluster_accuracies

        results = cluster_accuracies(config, model.state_dict(), x, y, backends, seeds, scheduler, images_per_task,
                                     progress)
    else:
        results = compare_backends(model, x, y, backends, seeds, workers, progress)
    summary: dict[str, Any] = {name: {"accuracy": float(np.median(values)), "per_chip": values}
                               for name, values in results.items()}
    summary["images"] = len(y)
    return summary


def run_network_energy(run_dir: str | Path, inputs: Any, peripherals: Peripherals | None = None,
                       chip: int | None = None, workers: int = 1, progress: bool = False,
                       engine: str = "shared") -> NetworkEnergy:
    """`energy.network_energy` of a run's best network on the tiles its layers run (its own
    device, wires and tile size), as chip `chip` holds them (None: the nominal chip)."""
    config = run_config(run_dir)
    model = load_run(run_dir, config)
    model.set_chip(chip)
    hardware = config.crossbar if peripherals is None else dataclasses.replace(config.crossbar,
                                                                                 peripherals=peripherals)
    return network_energy([layer.programmed() for layer in model.layers], inputs, hardware,
                          activation=config.network.activation, engine=engine, workers=workers, progress=progress)
