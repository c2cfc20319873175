"""The energy of one training sample of an MLP, per learning algorithm, from counts.

Each algorithm's step is counted — array reads and the converters around them, digital
operations, random numbers, programming pulses — and priced with `TrainingCosts`. The
counts are exact for the network's shape; the pulses are what a training run measured.
The prices are literature defaults, each with its source, and can be changed:

* crossbar reads and converters: `Peripherals` (ISAAC's 1-bit DACs, its SAR ADC's figure of
  merit, 50 ns reads); multi-bit signals are read bit-serially (`input_bits` reads per MVM,
  each converted by an `adc_bits` ADC), binary ones in one read through a comparator (a
  1-bit conversion, FOM · 2).
* `multiply` 3.7 pJ and `add` 0.9 pJ: 32-bit floating point, 45 nm (Horowitz, ISSCC 2014);
  `counter_add` 0.03 pJ: an 8-bit integer add (same source), what the binary rule's update
  counts cost; `memory_access` 5 pJ: a 32-bit word of an 8 KB SRAM (same source: 10 pJ per
  64 bits).
* `random_number` 0.05 pJ: an 8-bit pseudo-random number (an LFSR's eight flip-flops at
  ~5 fJ each, 45 nm-class cells); the binary algorithm needs one per stochastic bit.
* programming: a pulse of `pulse_voltage` 1 V for `pulse_time` 10 ns across a device at the
  array's mean conductance, V²·G·t — or, where a write was passed through the circuit
  (`spicenn.write`), the drivers' energy per written pulse it measured (`pulse_energy`, from
  `circuit_pulse_energy`): the half-selected cells and the wires included, which the
  formula leaves out (a V/2 write of a 32x32 array: 16x the formula; `BENCHMARKS.md`).
* device energy of a read: V_read²·t_read·ΣG over the devices, times the mean fraction of
  rows driven (measured by the caller from the signals), per read.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field

from ..checks import finite_number
from ..crossbar.peripherals import Peripherals
from ..crossbar.program import WriteProgram, WriteResult
from ..errors import InputError

ALGORITHMS = ("cmos back-propagation", "memristive back-propagation", "binary stochastic")


@dataclass(frozen=True)
class TrainingCosts:
    peripherals: Peripherals = field(default_factory=Peripherals)
    signal_bits: int = 8  # high-precision signals: bit-serial reads, conversions of this many bits
    v_read: float = 0.2  # V, a driven row
    multiply: float = 3.7e-12
    add: float = 0.9e-12
    counter_add: float = 0.03e-12
    memory_access: float = 5e-12
    random_number: float = 0.05e-12
    pulse_voltage: float = 1.0
    pulse_time: float = 10e-9
    pulse_energy: float | None = None  # J per programming pulse, from a circuit write; None: V²·G·t

    def __post_init__(self) -> None:
        if self.pulse_energy is not None:
            finite_number("pulse_energy", self.pulse_energy, minimum=0.0)
        for name in ("v_read", "multiply", "add", "counter_add", "memory_access", "random_number",
                     "pulse_voltage", "pulse_time"):
            finite_number(name, getattr(self, name), minimum=0.0)
        if not isinstance(self.signal_bits, int) or not 1 <= self.signal_bits <= 24:
            raise InputError(f"signal_bits must be a whole number from 1 to 24, got {self.signal_bits!r}")


def _weights(sizes: Sequence[int]) -> list[tuple[int, int]]:
    """(rows, columns) of every layer's array, the bias row included."""
    return [(a + 1, b) for a, b in itertools.pairwise(sizes)]


def high_precision_multiplications(sizes: Sequence[int]) -> int:
    """Per training sample, the digital multiplications back-propagation needs beyond the
    forward pass: output error, each hidden layer's W^T·δ and its product with σ'(h), and the
    outer products of every weight update (biases included). The binary algorithm replaces
    each by a sign or an AND of binary signals."""
    count = sizes[-1]  # output error (softmax − target), one per output
    for k in range(len(sizes) - 2, 0, -1):
        count += sizes[k] * sizes[k + 1] + sizes[k]  # W^T δ, then ⊙ σ'(h)
    return count + sum(r * c for r, c in _weights(sizes))  # Δw = x·δ per weight


def _mvm(costs: TrainingCosts, rows: int, columns: int, g_sum: float, activity: float, bits: int) -> dict[str, float]:
    """One MVM on an array: `bits` reads (bit-serial) of `rows` drivers and `columns`
    conversions, or for bits = 1 one read through comparators."""
    p = costs.peripherals
    conversion = p.adc_fom * 2.0 ** (1 if bits == 1 else p.adc_bits) if not p.adc_table else p.adc_conversion_energy()
    return {"array reads (devices)": bits * costs.v_read**2 * p.t_read * g_sum * activity,
            "drivers (DACs)": bits * rows * p.dac_energy,
            "converters (ADCs, comparators)": bits * columns * (conversion + p.tia_energy)}


def circuit_pulse_energy(program: WriteProgram, result: WriteResult) -> float:
    """J per written pulse of a write passed through the circuit: the drivers' energy over
    the pulses the program meant to give — each slot's cells across which the drivers put
    its full voltage — so the disturbed cells and the wires are charged to the pulses that
    made them work. `TrainingCosts(pulse_energy=...)` takes it."""
    pulses = sum(int(program.written(slot).sum()) for slot in range(program.slots))
    if pulses == 0:
        raise InputError("the program writes no cell: no pulse to share its energy")
    return float(result.energy["drivers"]) / pulses


def training_step_energy(sizes: Sequence[int], algorithm: str, costs: TrainingCosts | None = None,
                         pulses_per_sample: float = 0.0, g_mean: float = 5e-5, batch_size: int = 10,
                         activity: Sequence[float] = (0.5,)) -> dict[str, float]:
    """J per training sample, by part, for an MLP of `sizes` trained by `algorithm`
    (one of `ALGORITHMS`): float back-propagation on a digital processor; back-propagation on
    crossbars with high-precision signals (forward and backward MVMs in the arrays, the
    error terms and weight-update products in float, updates as device pulses); the binary
    stochastic algorithm (binary signals read through comparators, signed errors, update
    counts, no multiplications). `pulses_per_sample`: measured programming pulses per
    training sample (both memristive algorithms); `g_mean`: the arrays' mean conductance
    (S, every weight a device and a reference device); `activity`: mean fraction of rows
    driven per read, per layer (last value repeated)."""
    if algorithm not in ALGORITHMS:
        raise InputError(f"unknown algorithm {algorithm!r}; choose one of: {', '.join(ALGORITHMS)}")
    costs = costs or TrainingCosts()
    layers = _weights(sizes)
    weights = sum(r * c for r, c in layers)
    hidden = list(sizes[1:-1])
    backward_products = sum(sizes[k] * sizes[k + 1] for k in range(1, len(sizes) - 1))
    error_products = high_precision_multiplications(sizes)
    parts: dict[str, float] = {}

    def add(part: str, joules: float) -> None:
        parts[part] = parts.get(part, 0.0) + joules

    if algorithm == "cmos back-propagation":
        add("multiplications", (weights + error_products) * costs.multiply)
        add("additions", (weights + backward_products + weights) * costs.add)
        # weights read for the forward and backward passes; read and written once per batch to update
        add("memory", (weights + backward_products + 2 * weights / batch_size) * costs.memory_access)
        return parts
    bits = costs.signal_bits if algorithm == "memristive back-propagation" else 1
    activities = list(activity) or [0.5]
    for index, (rows, columns) in enumerate(layers):
        share = activities[min(index, len(activities) - 1)]
        g_sum = 2 * rows * columns * g_mean
        for part, joules in _mvm(costs, rows, columns, g_sum, share, bits).items():
            add(part, joules)
        if index > 0:  # the transposed read that carries the error back: columns driven, rows read
            for part, joules in _mvm(costs, columns, rows - 1, g_sum, share, bits).items():
                add(part, joules)
    pulse = costs.pulse_energy if costs.pulse_energy is not None else \
        costs.pulse_voltage**2 * g_mean * costs.pulse_time
    add("programming pulses", pulses_per_sample * pulse)
    if algorithm == "memristive back-propagation":
        add("multiplications", error_products * costs.multiply)
        add("additions", (sizes[-1] + weights) * costs.add)
        add("random numbers", weights / batch_size * costs.random_number)  # stochastic rounding to steps
    else:
        add("update counts", weights * costs.counter_add)
        # binarised inputs and hidden units, the hidden units' derivative bits; one draw per weight per batch
        add("random numbers", (sizes[0] + 2 * sum(hidden) + weights / batch_size) * costs.random_number)
    return parts
