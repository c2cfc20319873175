"""Energy per MVM and TOPS/W from a simulated read, with peripherals, as one report."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..crossbar.peripherals import Peripherals
from ..crossbar.results import SimulationResult
from ..crossbar.tiles import TileGrid
from ..io import save_figure

ARRAY_PARTS = ("devices", "word_lines", "bit_lines", "driver_resistance", "capacitive")
PERIPHERAL_PARTS = ("dac", "adc", "tia")


def tops_per_w(ops: int, energy_j: float) -> float:
    """Tera-operations per joule (= TOPS/W) of `ops` operations costing `energy_j`; inf for no
    energy (e.g. all inputs at 0 V). Every TOPS/W figure of spicenn, any convention, is this."""
    return ops / energy_j / 1e12 if energy_j > 0 else float("inf")


@dataclass
class EnergyReport:
    """Energies in joules per MVM (per inference of a layer that performs `mvms` MVMs, e.g.
    one per output position of a convolution), averaged over the batch of input vectors."""

    ops: int
    energy_j: dict[str, float]
    peripherals: Peripherals = field(default_factory=Peripherals)
    label: str = "crossbar"
    mvms: int = 1

    @property
    def tops_per_w(self) -> dict[str, float]:
        return {"crossbar": tops_per_w(self.ops, self.energy_j["crossbar"]),
                "system": tops_per_w(self.ops, self.energy_j["total"])}

    def to_dict(self) -> dict[str, Any]:
        return {"ops": self.ops, "mvms": self.mvms, "energy_j": dict(self.energy_j), "tops_per_w": self.tops_per_w}

    def to_json(self) -> str:
        return json.dumps(self.to_dict())

    def text(self) -> str:
        total = self.energy_j["total"]
        unit = "MVM" if self.mvms == 1 else f"inference ({self.mvms} MVMs)"
        lines = [f"{self.label}: {self.ops} ops per {unit}, t_read {self.peripherals.t_read * 1e9:g} ns, "
                 f"{self.peripherals.reads_per_mvm} array read(s) per MVM",
                 f"{'part':<18} {'energy per ' + unit.split()[0]:>16} {'share':>8}"]
        for part in ARRAY_PARTS + ("crossbar",) + PERIPHERAL_PARTS + ("total",):
            value = self.energy_j[part]
            lines.append(f"{part:<18} {value:>14.4g} J {100 * value / total if total else 0:>7.2f}%")
        rates = self.tops_per_w
        lines.append(f"TOPS/W: crossbar {rates['crossbar']:.4g}, with peripherals {rates['system']:.4g}")
        return "\n".join(lines)

    def plot(self, path: str | Path) -> None:
        """A stacked bar of where the energy goes, written as PNG."""
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        parts = [p for p in ARRAY_PARTS + PERIPHERAL_PARTS if self.energy_j[p] > 0]
        figure, axis = plt.subplots(figsize=(5, 4.5))
        bottom = 0.0
        for part in parts:
            value = self.energy_j[part] * 1e12
            axis.bar([self.label], [value], bottom=bottom, label=part)
            bottom += value
        axis.set_ylabel("energy per MVM (pJ)" if self.mvms == 1 else "energy per inference (pJ)")
        rates = self.tops_per_w
        axis.set_title(f"{rates['crossbar']:.3g} TOPS/W array, {rates['system']:.3g} TOPS/W system", fontsize=10)
        axis.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8)
        figure.tight_layout()
        save_figure(figure, path)


@dataclass
class NetworkEnergy:
    """A network's energy per inference: one report per layer, their total, and (where it was
    computed) the paper convention — memristors only, device model without wires, t_read ×
    Σ V·I (Joksas et al. 2022) — over `images` inputs. The one result type of whole-network
    energy (weight files, trained runs, converted models)."""

    layers: list[EnergyReport]
    total: EnergyReport
    paper_energy_j: float | None = None
    images: int | None = None

    @property
    def paper_tops_per_w(self) -> float | None:
        return None if self.paper_energy_j is None else tops_per_w(self.total.ops, self.paper_energy_j)

    def to_dict(self) -> dict[str, Any]:
        return {"images": self.images, "ops": self.total.ops, "paper_tops_per_w": self.paper_tops_per_w,
                "tops_per_w": self.total.tops_per_w, "energy_j": self.total.energy_j,
                "layers": {r.label: r.to_dict() for r in self.layers}}

    def text(self) -> str:
        lines = [f"{'layer':<22} {'MVMs':>6} {'ops':>10} {'energy (pJ)':>12} {'ADC share':>10} {'TOPS/W':>9}"]
        for report in self.layers + [self.total]:
            energy = report.energy_j
            share = 100 * energy["adc"] / energy["total"] if energy["total"] else 0.0
            lines.append(f"{report.label:<22} {report.mvms:>6} {report.ops:>10} {energy['total'] * 1e12:>12.4g} "
                         f"{share:>9.1f}% {report.tops_per_w['system']:>9.4g}")
        paper = "" if self.paper_tops_per_w is None else \
            f", {self.paper_tops_per_w:.4g} memristors only (paper convention)"
        images = "" if self.images is None else f"; {self.images} images"
        lines.append(f"TOPS/W: {self.total.tops_per_w['system']:.4g} with peripherals, "
                     f"{self.total.tops_per_w['crossbar']:.4g} arrays only{paper}{images}")
        return "\n".join(lines)


def total_report(reports: list[EnergyReport], label: str = "network") -> EnergyReport:
    """The sum of layers' reports (each per inference): one inference of the network."""
    peripherals = reports[0].peripherals if reports else Peripherals()
    parts = {part: sum(r.energy_j[part] for r in reports) for part in ARRAY_PARTS + PERIPHERAL_PARTS}
    return EnergyReport(sum(r.ops for r in reports), combine(parts, parts), peripherals, label=label)


def plot_layers(reports: list[EnergyReport], path: str | Path) -> None:
    """Energy per inference of each layer as stacked bars by part, written as PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    parts = [p for p in ARRAY_PARTS + PERIPHERAL_PARTS if any(r.energy_j[p] > 0 for r in reports)]
    figure, axis = plt.subplots(figsize=(1.6 + 1.1 * len(reports), 4.5))
    labels = [r.label for r in reports]
    bottom = np.zeros(len(reports))
    for part in parts:
        values = np.array([r.energy_j[part] for r in reports]) * 1e12
        axis.bar(labels, values, bottom=bottom, label=part)
        bottom += values
    axis.set_ylabel("energy per inference (pJ)")
    total = total_report(reports)
    axis.set_title(f"network: {total.tops_per_w['system']:.3g} TOPS/W with peripherals", fontsize=10)
    axis.tick_params(axis="x", labelrotation=30, labelsize=8)
    axis.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8)
    figure.tight_layout()
    save_figure(figure, path)


def mvm_ops(rows: int, columns: int) -> int:
    """Operations of one matrix-vector product with a rows x columns matrix: a multiply and
    an add per element (the count every TOPS/W figure of spicenn uses)."""
    return 2 * rows * columns


def tile_peripherals(peripherals: Peripherals, grid: TileGrid) -> dict[str, float]:
    """Peripheral energy per MVM of a layer cut into tiles: each tile has its own DACs,
    ADCs and TIAs for all of its rows and columns (padding included)."""
    return {part: value * grid.tiles for part, value in peripherals.energies(grid.tile_rows, grid.tile_columns).items()}


def combine(energy_parts: dict[str, float], peripheral_parts: dict[str, float]) -> dict[str, float]:
    energy = {part: float(energy_parts.get(part, 0.0)) for part in ARRAY_PARTS}
    energy["crossbar"] = sum(energy[part] for part in ARRAY_PARTS)
    energy.update({part: float(peripheral_parts[part]) for part in PERIPHERAL_PARTS})
    energy["total"] = energy["crossbar"] + sum(energy[part] for part in PERIPHERAL_PARTS)
    return energy


# per-vector powers of a SimulationResult -> the array parts they feed
POWER_FIELDS = {"device_power": "devices", "word_line_power": "word_lines", "bit_line_power": "bit_lines",
                "source_power": "driver_resistance"}


def dc_array_energy(powers: dict[str, Any], peripherals: Peripherals) -> dict[str, float]:
    """Array energy per MVM of DC reads from per-vector powers (W) named as in
    `SimulationResult`: mean power x t_read x reads per MVM, per part."""
    scale = peripherals.t_read * peripherals.reads_per_mvm
    return {part: float(np.mean(powers[name])) * scale for name, part in POWER_FIELDS.items()}


def dc_report(result: SimulationResult, peripherals: Peripherals | None = None, ops: int | None = None,
              label: str = "crossbar") -> EnergyReport:
    """Energy of DC reads: each part's power x t_read, x the reads per MVM (bit-serial inputs,
    weight slices), averaged over the batch; peripherals for an M x N array."""
    peripherals = peripherals or Peripherals()
    _batch, columns = result.currents.shape
    rows = result.word_voltages.shape[1]
    array = dc_array_energy({name: getattr(result, name) for name in POWER_FIELDS}, peripherals)
    return EnergyReport(ops if ops is not None else mvm_ops(rows, columns),
                        combine(array, peripherals.energies(rows, columns)), peripherals, label)
