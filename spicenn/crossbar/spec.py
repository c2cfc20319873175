"""A crossbar: conductances, a device model and the wires, checked on construction."""

from __future__ import annotations

import dataclasses
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..checks import finite_array, finite_number
from ..devices import Device, Linear, get_static_device
from ..errors import InputError, SpicennWarning

MAX_CONDUCTANCE = 1.0  # S; a crossbar device above 1 S is almost surely a unit mistake
MAX_ABS_VOLTAGE = 100.0  # V
MAX_RESISTANCE = 1e12  # ohm
# a preset's I-V was fitted over [g_off, g_on]; beyond this factor outside it, say so (once per preset)
FITTED_RANGE_SLACK = 2.0
_warned_outside_fit: set[str] = set()


def _warn_outside_fit(device: Device, g: np.ndarray) -> None:
    if device.g_off is None or device.g_on is None or device.name in _warned_outside_fit:
        return
    low, high = float(g.min()), float(g.max())
    if low < device.g_off / FITTED_RANGE_SLACK or high > device.g_on * FITTED_RANGE_SLACK:
        factor = max(device.g_off / low, high / device.g_on)
        _warned_outside_fit.add(device.name)
        warnings.warn(f"conductances reach {factor:.3g}x outside the range {device.name} was fitted over "
                      f"[{device.g_off:g}, {device.g_on:g}] S: its I-V is an extrapolation there",
                      SpicennWarning, stacklevel=4)


@dataclass(frozen=True, eq=False)
class Crossbar:
    """An M x N passive array.

    Word line i is driven at its left end by V[i] (through `r_source` when it is > 0) and
    crosses cells (i, 0), (i, 1), ... with `r_word` before each cell. Bit line j runs from
    row 0 to row M-1 with `r_bit` between neighbouring cells and one more `r_bit` from cell
    (M-1, j) to the column's sense node, held at 0 V by an ideal transimpedance amplifier.
    Cell (i, j) joins word node (i, j) to bit node (i, j); current flows word -> bit for V > 0.

    `cell` holds per-device random parameters of the model (e.g. power-law n per device),
    drawn from the device's seed when not given.
    """

    conductances: np.ndarray
    device: Device = field(default_factory=Linear)
    r_word: float = 0.0
    r_bit: float = 0.0
    r_source: float = 0.0
    cell: dict[str, np.ndarray] = field(default_factory=dict)

    def __new__(cls, conductances: Any = None, device: Any = None, *args: Any, **kwargs: Any) -> Any:
        """A crossbar of dynamic devices (`get_device("vteam")`, `"yakopcic"`) holds each
        cell's state in [0, 1] where this one holds conductances: `Crossbar(states,
        device=get_device("yakopcic"), r_word=..., r_bit=...)` is then a `DynamicCrossbar`,
        the array `spicenn.write` takes."""
        from ..devices import DYNAMIC_MODELS, DynamicDevice

        if isinstance(device, DynamicDevice) or (isinstance(device, str) and device.strip().lower() in DYNAMIC_MODELS):
            from .program import DynamicCrossbar

            return DynamicCrossbar(conductances, device, *args, **kwargs)
        return super().__new__(cls)

    def __post_init__(self) -> None:
        g = finite_array("conductances", self.conductances, 2)
        if np.any(g <= 0):
            bad = tuple(int(i) for i in np.argwhere(g <= 0)[0])
            raise InputError(f"conductances must be > 0 S; got {g[bad]:g} at {bad}")
        if np.any(g > MAX_CONDUCTANCE):
            bad = tuple(int(i) for i in np.argwhere(g > MAX_CONDUCTANCE)[0])
            raise InputError(f"conductances must be <= {MAX_CONDUCTANCE:g} S (siemens, not microsiemens?); "
                             f"got {g[bad]:g} at {bad}")
        g = np.array(g, dtype=np.float64, order="C")
        g.setflags(write=False)
        object.__setattr__(self, "conductances", g)
        device = self.device if isinstance(self.device, Device) else get_static_device(self.device)
        object.__setattr__(self, "device", device)
        _warn_outside_fit(device, g)
        for name in ("r_word", "r_bit", "r_source"):
            object.__setattr__(self, name, finite_number(name, getattr(self, name), minimum=0.0,
                                                         maximum=MAX_RESISTANCE))
        cell = dict(self.cell) or device.cell_parameters(g.shape)
        for key, value in cell.items():
            value = finite_array(f"cell parameter {key!r}", value, 2)
            if value.shape != g.shape:
                raise InputError(f"cell parameter {key!r} has shape {value.shape}, conductances {g.shape}")
            cell[key] = value
        object.__setattr__(self, "cell", cell)

    @property
    def shape(self) -> tuple[int, int]:
        return self.conductances.shape

    @property
    def rows(self) -> int:
        return self.shape[0]

    @property
    def columns(self) -> int:
        return self.shape[1]

    def replace(self, **changes: Any) -> Crossbar:
        return dataclasses.replace(self, **changes)

    def check_voltages(self, voltages: Any) -> np.ndarray:
        """Input voltages as a (B, M) array (a 1-D vector is one input), checked."""
        v = finite_array("voltages", voltages, (1, 2))
        if v.ndim == 1:
            v = v[None, :]
        if v.shape[1] != self.rows:
            raise InputError(f"voltages have {v.shape[1]} entries per vector but the crossbar has "
                             f"{self.rows} rows (conductances {self.shape}); voltages are (B, M)")
        peak = float(np.max(np.abs(v)))
        if peak > MAX_ABS_VOLTAGE:
            raise InputError(f"voltages must be within ±{MAX_ABS_VOLTAGE:g} V, got {peak:g} V")
        self.device.check_voltage_range(peak, self.conductances, self.cell)
        return np.ascontiguousarray(v)

    def device_currents(self, voltage_across: np.ndarray) -> np.ndarray:
        """Device currents for voltages across every device, broadcast over leading batch axes."""
        return self.device.current(voltage_across, self.conductances, np, self.cell)

    def ideal_currents(self, voltages: Any) -> np.ndarray:
        """Output currents of linear devices without wires: V·G."""
        return self.check_voltages(voltages) @ self.conductances

    def device_only_currents(self, voltages: Any) -> np.ndarray:
        """Output currents with the device nonlinearity but no wire resistance."""
        v = self.check_voltages(voltages)
        return self.device_currents(v[:, :, None]).sum(axis=1)
