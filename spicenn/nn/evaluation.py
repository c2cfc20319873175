"""Accuracy over simulated chips, and a trained network's energy efficiency in two conventions."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from ..crossbar.peripherals import Peripherals
from ..energy.network import network_energy
from ..energy.report import EnergyReport, tops_per_w
from .network import CrossbarMLP, CrossbarNetwork

VALIDATION_CHIP_BASE = 1_000_000  # chip seeds: validation and test chips never coincide
TEST_CHIP_BASE = 2_000_000
REDRAW_KEY = 3  # keeps a redrawn pass's chips apart from the chips drawn by seed


def chip_seeds(base: int, chips: int) -> list[int]:
    return [base + k for k in range(chips)]


def redrawn_chip(chip: int, batch: int) -> int:
    """The seed of the chip that batch `batch` of a redrawn pass over chip seed `chip` reads."""
    return int(np.random.SeedSequence([int(chip), int(batch), REDRAW_KEY]).generate_state(1)[0])


@torch.no_grad()
def accuracy(model: CrossbarNetwork, x: np.ndarray, y: np.ndarray, backend: str, chip: int | None,
             batch_size: int = 500, redraw: bool = False) -> float:
    """Fraction of correct predictions on one chip (`chip` = None: the nominal chip).
    `redraw`: a fresh chip for every batch of `batch_size` images, seeded from `chip` and the
    batch's index — the devices redrawn at every forward call, as Joksas et al.'s code
    evaluates — instead of one chip held for the whole pass."""
    return correct_predictions(model, x, y, backend, chip, batch_size, redraw) / len(y)


def correct_predictions(model: CrossbarNetwork, x: np.ndarray, y: np.ndarray, backend: str, chip: int | None,
                        batch_size: int = 500, redraw: bool = False) -> int:
    """How many of the images `accuracy` classifies correctly."""
    model.set_backend(backend)
    model.set_chip(chip)
    correct = 0
    for batch, start in enumerate(range(0, len(y), batch_size)):
        if redraw and chip is not None:
            model.set_chip(redrawn_chip(chip, batch))
        logits = model(torch.as_tensor(x[start:start + batch_size]))
        correct += int((logits.argmax(1).numpy() == y[start:start + batch_size]).sum())
    return correct


def accuracies(model: CrossbarNetwork, x: np.ndarray, y: np.ndarray, backend: str,
               seeds: Sequence[int | None], batch_size: int = 500, redraw: bool = False) -> list[float]:
    return [accuracy(model, x, y, backend, seed, batch_size, redraw) for seed in seeds]


@torch.no_grad()
def paper_power(model: CrossbarMLP, x: np.ndarray, chip: int | None, batch_size: int = 200) -> np.ndarray:
    """Per-image power of the memristors alone, Σ V·I over every device of every layer,
    with the device model and no wires (the convention of Joksas et al. 2022)."""
    model.set_chip(chip)
    out = []
    for start in range(0, len(x), batch_size):
        xb = torch.as_tensor(x[start:start + batch_size])
        inputs = model.layer_inputs(xb, "device")
        out.append(torch.stack([layer.device_power(inp) for layer, inp in zip(model.layers, inputs)]).sum(0))
    return torch.cat(out).double().numpy()


@dataclass
class Efficiency:
    ops: int
    paper_energy_j: float  # memristors only, per inference
    full: EnergyReport | None  # SPICE-solved arrays with wires, plus peripherals

    @property
    def paper_tops_per_w(self) -> float:
        return tops_per_w(self.ops, self.paper_energy_j)

    @property
    def full_tops_per_w(self) -> float | None:
        return None if self.full is None else self.full.tops_per_w["system"]


def efficiency(model: CrossbarMLP, x: np.ndarray, chip: int | None, spice_images: int = 20,
               peripherals: Peripherals | None = None, workers: int = 1, progress: bool = False) -> Efficiency:
    """ops = Σ `mvm_ops` of the layers (biases included). Paper convention: t_read × Σ V·I
    of the devices per layer read, averaged over `x`. Full convention: the network-energy
    path (`energy.network_energy`) on the layers' own tiles as this chip holds them, for the
    first `spice_images` of `x`: devices, word and bit lines in ngspice, plus every tile's
    DACs, ADCs and TIAs."""
    hardware = model.layers[0].hardware
    if peripherals is not None:
        hardware = dataclasses.replace(hardware, peripherals=peripherals)
    peripherals = hardware.energy_peripherals()
    model.set_chip(chip)
    layers = [layer.programmed() for layer in model.layers]
    ops = sum(layer.ops for layer in layers)
    paper = float(np.mean(paper_power(model, x, chip))) * peripherals.t_read
    full = None
    if spice_images > 0:
        full = network_energy(layers, x[:spice_images], hardware, activation=model.activation, workers=workers,
                              progress=progress).total
    return Efficiency(ops, paper, full)


def compare_backends(model: CrossbarNetwork, x: np.ndarray, y: np.ndarray, backends: list[str],
                     seeds: Sequence[int | None], workers: int = 1, progress: bool = False) -> dict[str, list[float]]:
    """Accuracy per backend on the same images and the same chips (one value per chip)."""
    model.set_spice(workers, progress)
    # SPICE runs as few, large batches: every tile of a layer gets all images at once
    return {backend: [accuracy(model, x, y, backend, seed, batch_size=len(y) if backend == "spice" else 500)
                      for seed in seeds] for backend in backends}
