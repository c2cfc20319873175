"""A crossbar read three ways, its energy, and the native solver checked against ngspice.

    python examples/python/crossbar.py
"""

import numpy as np

import spicenn
from spicenn.energy import crossbar_energy

rng = np.random.default_rng(0)
xbar = spicenn.Crossbar(rng.uniform(1e-6, 1e-4, (32, 32)), device="sinh", r_word=1.0, r_bit=1.0)
v = rng.uniform(0, 0.5, (8, 32))

ngspice = spicenn.simulate(xbar, v)                         # ngspice's shared library
native = spicenn.simulate(xbar, v, engine="native", verify=2)  # spicenn's solver, 2 vectors checked in ngspice
ideal = v @ xbar.conductances                               # no wires, linear devices

worst = np.max(np.abs(native.currents - ngspice.currents)) / np.max(np.abs(ngspice.currents))
print(f"native vs ngspice: {worst:.1e} relative (worst column current)")
print(f"IR drop and nonlinearity vs V·G: {np.max(np.abs(ngspice.currents - ideal)) / np.max(ideal):.1%}")
print(crossbar_energy(xbar, v, engine="native").text())
