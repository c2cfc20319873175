"""Peripheral circuits around a crossbar read: input DACs/drivers, ADCs, sense amplifiers.

Defaults and their sources (every value can be set in a TOML file, see `load_config`):

* `dac_energy` 0.39 pJ per row per read — ISAAC (Shafiee et al., ISCA 2016, Table 6):
  8 x 128 one-bit DACs draw 4 mW at a 100 ns read: 4 mW · 100 ns / 1024.
* `adc_fom` 48.8 fJ per conversion step, E_conversion = FOM · 2^bits — ISAAC's 8-bit,
  1.28 GS/s, 16 mW SAR ADC: 16 mW / 1.28 GS/s / 2^8. Walden figures of merit of recent
  designs in Murmann's ADC survey range from ~1 to ~100 fJ/step; `adc_table` takes measured
  energies per conversion by bit count instead.
* `tia_energy` 1 fJ per column per read — ISAAC's sample-and-hold (10 µW for 1024 columns at
  100 ns); a transimpedance amplifier costs more: set it from your design.
* `adc_bits` 8, `input_bits` 1 (bit-serial inputs: p reads per MVM), `weight_slices` 1
  (bit-sliced weights: s arrays per MVM); reads and conversions scale with p·s, ops do not.
* `t_read` 50 ns, the read time of the seed paper (Joksas et al., Adv. Sci. 2022).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomli_w

from ..checks import finite_number
from ..errors import InputError
from ..io import read_toml


@dataclass(frozen=True)
class Peripherals:
    """The circuits around a crossbar read and their energy (the module's docstring gives
    each default and its source); part of the hardware object, `CrossbarConfig.peripherals`."""

    t_read: float = 50e-9  # s
    dac_energy: float = 0.39e-12  # J per row per read
    adc_fom: float = 48.8e-15  # J per conversion step
    adc_bits: int = 8
    adc_table: dict[int, float] = field(default_factory=dict)  # bits -> J per conversion
    tia_energy: float = 1e-15  # J per column per read
    input_bits: int = 1
    weight_slices: int = 1

    def __post_init__(self) -> None:
        finite_number("t_read", self.t_read, minimum=0.0, strict_minimum=True, maximum=1.0)  # a read, not a second
        for name in ("dac_energy", "adc_fom", "tia_energy"):
            finite_number(name, getattr(self, name), minimum=0.0)
        # beyond these, no converter or bit-serial scheme exists (a 1000-bit ADC is a slip)
        for name, low, high in (("adc_bits", 1, 24), ("input_bits", 1, 32), ("weight_slices", 1, 64)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                raise InputError(f"{name} must be a whole number from {low} to {high}, got {value!r}")
        table = {}
        for bits, energy in dict(self.adc_table).items():
            try:
                key = int(bits)
            except (TypeError, ValueError):
                raise InputError(f"adc_table keys are bit counts, got {bits!r}") from None
            table[key] = finite_number(f"adc_table[{bits}]", energy, minimum=0.0)
        object.__setattr__(self, "adc_table", table)

    @property
    def reads_per_mvm(self) -> int:
        return self.input_bits * self.weight_slices

    def adc_conversion_energy(self) -> float:
        """J per conversion: the measured table's value for `adc_bits`, else FOM · 2^bits."""
        if self.adc_table:
            if self.adc_bits not in self.adc_table:
                raise InputError(f"adc_table has no entry for adc_bits = {self.adc_bits} "
                                 f"(it has {sorted(self.adc_table)})")
            return self.adc_table[self.adc_bits]
        return self.adc_fom * 2.0**self.adc_bits

    def energies(self, rows: int, columns: int) -> dict[str, float]:
        """Peripheral energy per MVM (J) of an array with `rows` driven rows and `columns` sensed columns."""
        reads = self.reads_per_mvm
        return {"dac": self.dac_energy * rows * reads,
                "adc": self.adc_conversion_energy() * columns * reads,
                "tia": self.tia_energy * columns * reads}

    def to_dict(self) -> dict[str, Any]:
        """TOML/JSON-ready (string keys in the ADC table); `from_dict` reverses it."""
        data = dataclasses.asdict(self)
        data["adc_table"] = {str(k): v for k, v in self.adc_table.items()}
        if not data["adc_table"]:
            del data["adc_table"]
        return data

    @classmethod
    def from_dict(cls, values: dict[str, Any], where: str = "peripherals") -> Peripherals:
        """Checked: unknown keys and non-numbers are one error naming `where`."""
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise InputError(f"{where}: unknown key {unknown[0]!r}; known keys: {', '.join(sorted(known))}")
        for key in ("dac_energy", "adc_fom", "tia_energy", "t_read"):
            if key in values and (isinstance(values[key], bool) or not isinstance(values[key], (int, float))):
                raise InputError(f"{where}: {key} must be a number, got {values[key]!r}")
            if key in values and values[key] < 0:
                raise InputError(f"{where}: {key} must be >= 0, got {values[key]!r}")
        return cls(**values)

    def to_toml(self) -> str:
        return tomli_w.dumps({"peripherals": self.to_dict()})


def peripherals_from(config: str | Path | None = None, t_read: float | None = None) -> Peripherals:
    """The defaults, or a TOML file's `[peripherals]`, with `t_read` overriding the read time."""
    peripherals = load_config(config) if config is not None else Peripherals()
    return peripherals if t_read is None else dataclasses.replace(peripherals, t_read=t_read)


def load_config(path: str | Path) -> Peripherals:
    """Peripherals from a TOML file with a `[peripherals]` table; unknown keys are errors."""
    data = read_toml(path)
    unknown_tables = sorted(set(data) - {"peripherals"})
    if unknown_tables:
        raise InputError(f"config file {path}: unknown table or key {unknown_tables[0]!r} (expected [peripherals])")
    values = data.get("peripherals", {})
    if not isinstance(values, dict):
        raise InputError(f"config file {path}: [peripherals] must be a table")
    return Peripherals.from_dict(dict(values), where=f"config file {path}")
