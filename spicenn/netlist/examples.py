"""The example netlists kept in `netlists/` (regenerate: `make netlists`; a test keeps them in sync)."""

from __future__ import annotations

import numpy as np

from ..crossbar import Crossbar, DifferentialMapping
from ..devices import get_static_device as get_device
from .writer import netlist_text


def examples() -> dict[str, str]:
    """File name -> netlist text, all from seed 0."""
    rng = np.random.default_rng(0)
    out = {}

    g = rng.uniform(1e-6, 1e-4, (4, 4))
    out["linear_4x4_ideal.cir"] = netlist_text(Crossbar(g), rng.uniform(0, 0.5, 4),
                                               title="linear devices, ideal wires: I = V·G")

    g = rng.uniform(1e-6, 1e-4, (8, 8))
    out["sinh_8x8_wires_batch.cir"] = netlist_text(
        Crossbar(g, get_device("sinh", k=3.0), r_word=1.0, r_bit=1.0), rng.uniform(0, 0.5, (3, 8)),
        title="sinh devices with 1 ohm wires, a batch of 3 input vectors as one DC sweep")

    device = get_device("poole-frenkel-high")
    assert device.g_off is not None and device.g_on is not None  # a preset's range
    g = rng.uniform(device.g_off, device.g_on, (4, 4))
    out["poole_frenkel_high_4x4_driver.cir"] = netlist_text(
        Crossbar(g, device, r_word=10.0, r_bit=10.0, r_source=100.0), rng.uniform(0, 0.5, 4),
        title="high-resistance SiOx (Poole-Frenkel) devices, wires and driver resistance")

    device = get_device("powerlaw-low")
    assert device.g_off is not None and device.g_on is not None
    weights, biases = rng.normal(0, 1, (3, 2)), rng.normal(0, 0.1, 2)
    mapping = DifferentialMapping.fit(weights, device.g_off, device.g_on, k_v=0.5, biases=biases)
    crossbar = Crossbar(mapping.conductances(weights, biases), device, r_word=0.25, r_bit=0.25)
    out["powerlaw_low_differential_3x2.cir"] = netlist_text(
        crossbar, mapping.voltages(rng.uniform(0, 1, 3)),
        title="a 3-input, 2-output layer with bias as differential pairs (columns G+, G-)")
    return out
