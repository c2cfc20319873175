"""`make demo`: a 64x64 memristive crossbar in ngspice, against the ideal V·G, with its power."""

from __future__ import annotations

import time

import numpy as np

import spicenn
from spicenn.crossbar import Crossbar
from spicenn.devices import get_device

SEED = 0
rng = np.random.default_rng(SEED)
conductances = rng.uniform(1e-6, 1e-4, (64, 64))  # siemens
voltages = rng.uniform(0.0, 0.5, (16, 64))  # 16 input vectors, volts
crossbar = Crossbar(conductances, device=get_device("sinh", k=3.0), r_word=1.0, r_bit=1.0)

print(f"spicenn {spicenn.__version__}: 64x64 crossbar, device {crossbar.device.describe()}, "
      f"1 ohm word and bit lines, {len(voltages)} input vectors (seed {SEED})")
started = time.perf_counter()
result = spicenn.simulate(crossbar, voltages)
elapsed = time.perf_counter() - started
print(f"ngspice (shared library, one batched DC sweep): {elapsed:.2f} s, "
      f"{1e3 * elapsed / len(voltages):.0f} ms per input vector\n")

ideal = crossbar.ideal_currents(voltages)
device_only = crossbar.device_only_currents(voltages)
print("Output currents of input vector 0, first 8 columns (µA):")
print(f"{'column':>6} {'ngspice':>10} {'ideal V·G':>10} {'devices only':>13} {'ngspice/ideal':>14}")
for j in range(8):
    print(f"{j:>6} {1e6 * result.currents[0, j]:>10.3f} {1e6 * ideal[0, j]:>10.3f} "
          f"{1e6 * device_only[0, j]:>13.3f} {result.currents[0, j] / ideal[0, j]:>14.4f}")


def nrmse(estimate: np.ndarray) -> float:
    return float(np.sqrt(np.mean((estimate - result.currents) ** 2)) / np.sqrt(np.mean(result.currents**2)))


print(f"\nError against the circuit over all {result.currents.size} outputs (NRMSE): "
      f"ideal V·G {100 * nrmse(ideal):.2f} %, devices without wires {100 * nrmse(device_only):.2f} %")

parts = {"devices": result.device_power, "word lines": result.word_line_power,
         "bit lines": result.bit_line_power}
print("\nPower per input vector (mean over the batch):")
total = result.power.mean()
print(f"  delivered by the drivers  {1e3 * total:8.4f} mW")
for name, power in parts.items():
    print(f"  dissipated in {name:<11} {1e3 * power.mean():8.4f} mW  ({100 * power.mean() / total:5.2f} %)")
balance = np.max(np.abs(result.power - result.dissipated_power) / result.power)
print(f"  power balance (drivers vs dissipated): {balance:.1e} relative")

# Energy per MVM and TOPS/W from the same circuit, with peripherals (defaults: see
# spicenn/energy/peripherals.py), and the breakdown as a picture.
from pathlib import Path  # noqa: E402

from spicenn.energy import Peripherals, dc_report  # noqa: E402

report = dc_report(result, Peripherals())
print("\n" + report.text())
Path("out").mkdir(exist_ok=True)
report.plot("out/demo_energy.png")
print("wrote out/demo_energy.png")

# The shipped surrogate against fresh SPICE results (cases it never saw).
import torch  # noqa: E402

from spicenn.surrogate.model import CrossbarSurrogate  # noqa: E402

surrogate = CrossbarSurrogate.load(Path(__file__).resolve().parent.parent / "models" / "surrogates" / "powerlaw32.pt")
c = surrogate.config
fresh = np.random.default_rng(2026)
g32 = fresh.uniform(c.g_off, c.g_on, (c.rows, c.columns))
v32 = fresh.uniform(0, c.v_max, (8, c.rows))
spice32 = spicenn.simulate(Crossbar(g32, surrogate.device_model, r_word=c.r_word, r_bit=c.r_bit), v32).currents
with torch.no_grad():
    predicted32 = surrogate(torch.from_numpy(v32), torch.from_numpy(g32)).numpy()
error = np.sqrt(np.mean((predicted32 - spice32) ** 2)) / np.sqrt(np.mean(spice32**2))
ideal_error = np.sqrt(np.mean((v32 @ g32 - spice32) ** 2)) / np.sqrt(np.mean(spice32**2))
print(f"\nSurrogate models/surrogates/powerlaw32.pt ({c.kind} kind) on 8 fresh SPICE vectors "
      "(32x32 power-law, 0.25 ohm wires): "
      f"NRMSE {100 * error:.4f} % (ideal V·G: {100 * ideal_error:.1f} %)")
