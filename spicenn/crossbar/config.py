"""The hardware a crossbar layer maps onto, as one serialisable dataclass: the device and its
conductance range, the weight mapping, tiles, wires, non-idealities, the read-out (ADC bits)
and the peripherals whose energy is counted — one object, so that the energy always
describes the read-out that was simulated.

The conductance range has one policy (`conductance_range`), used by every path that maps
weights or samples conductances: the range given, else the device preset's, else the
generic [1 µS, 100 µS] of a model without one.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from ..checks import finite_number, whole_number
from ..devices import ConductanceNonidealities, Device, from_dict
from ..errors import InputError
from .peripherals import Peripherals

WEIGHT_MAPPINGS = ("double", "differential")
MAX_ADC_BITS = 24
DEFAULT_G_OFF, DEFAULT_G_ON = 1e-6, 1e-4  # S, for device models without a preset range
# rows or columns of one tile (a layer's, a surrogate's, a dataset's); real arrays stop far
# below (ADC and IR drop)
MAX_TILE_SIDE = 1024
TIME_AND_READ_SETTINGS = ("programming_noise", "drift_nu", "drift_nu_spread", "drift_t0", "drift_compensation",
                          "read_noise")


def conductance_range(device: Device, g_off: float | None = None, g_on: float | None = None) -> tuple[float, float]:
    """The range to program (S): as given, else the device preset's, else [1 µS, 100 µS].

    >>> from spicenn.devices import get_device
    >>> conductance_range(get_device("linear")), conductance_range(get_device("powerlaw-high"))
    ((1e-06, 0.0001), (5.25e-07, 2.62e-06))
    """
    g_off = g_off if g_off is not None else (device.g_off or DEFAULT_G_OFF)
    g_on = g_on if g_on is not None else (device.g_on or DEFAULT_G_ON)
    g_off = finite_number("g_off", g_off, minimum=0.0, strict_minimum=True)
    return g_off, finite_number("g_on", g_on, minimum=g_off, strict_minimum=True)


@dataclass(frozen=True)
class CrossbarConfig:
    """How a layer's weights become a chip.

    `weights`: "double" — two non-negative trainable tensors w+ and w−, one device each,
    G = k_G·w + G_off with k_G = (G_on − G_off)/max weight of the layer (Joksas et al. 2022);
    "differential" — one signed tensor, G± = G_off + k_G·max(±w, 0).
    `tile_rows` x `tile_columns` tiles (None: one tile for the whole layer); a partial tile
    is padded with G_off devices on rows driven at 0 V, as on a real chip.
    `spread`, `p_stuck_off`, `p_stuck_on`, `levels` are drawn once per chip (seeded).
    `surrogate` is the path of a trained SPICE surrogate, for the "surrogate" backend.
    `adc_bits`: each column current is read by a signed ADC of that many bits whose full
    scale is calibrated per layer (`spicenn.nn.calibrate`); None: exact currents. The ADC
    energy counted is that of the same bits (`peripherals.adc_bits` follows it).
    `peripherals`: DACs, ADCs, TIAs and the read time, for the energy (given as a
    `Peripherals` or its dict; the defaults of `spicenn.crossbar.peripherals`).
    Over time and per read (`spicenn.devices.nonidealities`): `programming_noise` (σ as a
    fraction of G_on − G_off, drawn per chip), power-law drift with exponent `drift_nu`
    (device-to-device `drift_nu_spread`) from `drift_t0` seconds after programming, read by
    a layer at its `t_inference`; `drift_compensation`: the read-out rescaled by a global
    factor measured on a reference input (ΣG at t0 over ΣG at t), as chips do; `read_noise`:
    σ of each device's conductance at each read, relative; `dac_bits`: the input DACs'
    resolution (signed levels over the calibrated input range; None: exact voltages).
    """

    # given as a name, a Device or its dict; always held as the dict (resolved in __post_init__)
    device: Any = field(default_factory=lambda: {"name": "linear"})
    # None: the device preset's range (resolved in __post_init__, so a config always has floats)
    g_off: float = None  # type: ignore[assignment]
    g_on: float = None  # type: ignore[assignment]
    k_v: float = 0.5
    weights: str = "double"
    tile_rows: int | None = None
    tile_columns: int | None = None
    r_word: float = 0.0
    r_bit: float = 0.0
    spread: float = 0.0
    p_stuck_off: float = 0.0
    p_stuck_on: float = 0.0
    levels: int | None = None
    surrogate: str | None = None
    adc_bits: int | None = None  # read-out quantisation in the forward pass (None: exact currents)
    peripherals: Any = field(default_factory=Peripherals)
    programming_noise: float = 0.0
    drift_nu: float = 0.0
    drift_nu_spread: float = 0.0
    drift_t0: float = 1.0
    drift_compensation: bool = True
    read_noise: float = 0.0
    dac_bits: int | None = None

    def __post_init__(self) -> None:
        device = self.device if isinstance(self.device, Device) else from_dict(
            {"name": self.device} if isinstance(self.device, str) else dict(self.device))
        object.__setattr__(self, "device", device.to_dict())
        g_off, g_on = conductance_range(device, self.g_off, self.g_on)
        object.__setattr__(self, "g_off", g_off)
        object.__setattr__(self, "g_on", g_on)
        object.__setattr__(self, "k_v", finite_number("k_v", self.k_v, minimum=0.0, strict_minimum=True))
        if self.weights not in WEIGHT_MAPPINGS:
            raise InputError(f"unknown weight mapping {self.weights!r}; choose one of: {', '.join(WEIGHT_MAPPINGS)}")
        for name in ("adc_bits", "dac_bits"):
            bits = getattr(self, name)
            if bits is not None and (isinstance(bits, bool) or int(bits) != bits or not 2 <= bits <= MAX_ADC_BITS):
                raise InputError(f"{name} must be a whole number in [2, {MAX_ADC_BITS}], got {bits!r}")
        object.__setattr__(self, "read_noise", finite_number("read_noise", self.read_noise, minimum=0.0))
        if not isinstance(self.drift_compensation, bool):
            raise InputError(f"drift_compensation must be true or false, got {self.drift_compensation!r}")
        for name in ("tile_rows", "tile_columns"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, whole_number(name, value, 1, MAX_TILE_SIDE))
        for name in ("r_word", "r_bit"):
            object.__setattr__(self, name, finite_number(name, getattr(self, name), minimum=0.0))
        self.nonidealities()  # validates spread, stuck and levels
        peripherals = self.peripherals
        if not isinstance(peripherals, Peripherals):
            if not isinstance(peripherals, dict):
                raise InputError(f"peripherals must be a table of peripheral settings, got {peripherals!r}")
            peripherals = Peripherals.from_dict(peripherals)
        if self.adc_bits is not None:  # the ADCs whose energy is counted are those that quantise
            peripherals = dataclasses.replace(peripherals, adc_bits=int(self.adc_bits))
        object.__setattr__(self, "peripherals", peripherals)

    def device_model(self) -> Device:
        return from_dict(self.device)

    def energy_peripherals(self, given: Peripherals | None = None) -> Peripherals:
        """The peripherals whose energy a read of this hardware costs: `given` or the
        configuration's own, with the ADC bits of the read-out where it is quantised."""
        peripherals = given if given is not None else self.peripherals
        if self.adc_bits is not None and peripherals.adc_bits != self.adc_bits:
            peripherals = dataclasses.replace(peripherals, adc_bits=int(self.adc_bits))
        return peripherals

    def nonidealities(self) -> ConductanceNonidealities:
        return ConductanceNonidealities(self.spread, self.p_stuck_off, self.p_stuck_on, self.levels,
                                        self.programming_noise, self.drift_nu, self.drift_nu_spread, self.drift_t0)

    @property
    def has_wires(self) -> bool:
        return self.r_word > 0 or self.r_bit > 0

    def to_dict(self) -> dict[str, Any]:
        defaults = {f.name: f.default for f in dataclasses.fields(self) if f.name in TIME_AND_READ_SETTINGS}
        # settings at their defaults are left out, so that configurations written before they existed stay the same
        data = {key: value for key, value in dataclasses.asdict(self).items()
                if value is not None and not (key in defaults and value == defaults[key])}
        default = Peripherals() if self.adc_bits is None else Peripherals(adc_bits=int(self.adc_bits))
        if self.peripherals == default:
            del data["peripherals"]  # configurations written before it existed stay the same
        else:
            data["peripherals"] = self.peripherals.to_dict()
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CrossbarConfig:
        allowed = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - allowed)
        if unknown:
            raise InputError(f"unknown crossbar setting {unknown[0]!r}; settings are: {', '.join(sorted(allowed))}")
        return cls(**data)
