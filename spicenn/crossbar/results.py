"""What a solved crossbar did: `SimulationResult`, the one result type of every solver, and
`extract`, from solved node voltages and branch currents to output currents and where the
power goes."""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np

from ..io import save_npz_atomic
from .graph import Topology
from .spec import Crossbar


@dataclass
class SimulationResult:
    """What the circuit did for each of B input vectors.

    currents          (B, N) A, flowing into each column's sense node
    power             (B,)   W, delivered by the row drivers
    device_power      (B,)   W, dissipated in the memristors
    word_line_power   (B,)   W, dissipated in word-line segments
    bit_line_power    (B,)   W, dissipated in bit-line segments
    source_power      (B,)   W, dissipated in the drivers' own resistance
    word_voltages, bit_voltages  (B, M, N) V, at every cell's two terminals
    """

    currents: np.ndarray
    power: np.ndarray
    device_power: np.ndarray
    word_line_power: np.ndarray
    bit_line_power: np.ndarray
    source_power: np.ndarray
    word_voltages: np.ndarray
    bit_voltages: np.ndarray

    ARRAYS_SAVED = ("currents", "power", "device_power", "word_line_power", "bit_line_power", "source_power")

    @property
    def dissipated_power(self) -> np.ndarray:
        return self.device_power + self.word_line_power + self.bit_line_power + self.source_power

    def save(self, path: str | Path, include_voltages: bool = False) -> None:
        """Write an .npz atomically (a temporary file renamed into place)."""
        names = self.ARRAYS_SAVED + (("word_voltages", "bit_voltages") if include_voltages else ())
        save_npz_atomic(path, {name: getattr(self, name) for name in names})

    @classmethod
    def concatenate(cls, parts: list[SimulationResult]) -> SimulationResult:
        return cls(**{f.name: np.concatenate([getattr(p, f.name) for p in parts]) for f in fields(cls)})


def _wire_power(node_voltages: np.ndarray, topo: Topology, kind: str, resistance: float) -> np.ndarray:
    a, b, _ = topo.wires[kind]
    if len(a) == 0:
        return np.zeros(node_voltages.shape[0])
    drop = node_voltages[:, a] - node_voltages[:, b]
    return np.einsum("bk,bk->b", drop, drop) / resistance


def extract(crossbar: Crossbar, topo: Topology, voltages: np.ndarray, node_voltages: np.ndarray,
            driver_currents: np.ndarray, sense_currents: np.ndarray) -> SimulationResult:
    """`node_voltages` (B, nodes) in topology order; `driver_currents` (B, M) as ngspice reports
    them (into the source's + terminal); `sense_currents` (B, N) into each sense node."""
    word = node_voltages[:, topo.word_node]
    bit = node_voltages[:, topo.bit_node]
    across = word - bit
    device_power = crossbar.device.power(across, crossbar.conductances, np, crossbar.cell).sum(axis=(1, 2))
    return SimulationResult(
        currents=sense_currents,
        power=np.einsum("bi,bi->b", voltages, -driver_currents),
        device_power=device_power,
        word_line_power=_wire_power(node_voltages, topo, "word", crossbar.r_word),
        bit_line_power=_wire_power(node_voltages, topo, "bit", crossbar.r_bit),
        source_power=_wire_power(node_voltages, topo, "source", crossbar.r_source),
        word_voltages=word,
        bit_voltages=bit,
    )
