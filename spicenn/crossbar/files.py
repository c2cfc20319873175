"""A crossbar circuit and its input vectors from .npy files."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..devices import Device, get_static_device
from ..io import load_array
from .spec import Crossbar


def load_circuit(conductances: str | Path, voltages: str | Path, device: Device | str = "linear",
                 r_word: float = 0.0, r_bit: float = 0.0, r_source: float = 0.0) -> tuple[Crossbar, np.ndarray]:
    """(crossbar, (B, M) voltages) from an (M, N) conductance file and a (B, M) or (M,)
    voltage file, both checked."""
    model = device if isinstance(device, Device) else get_static_device(device)
    crossbar = Crossbar(load_array(conductances, "conductances"), model, r_word=r_word, r_bit=r_bit, r_source=r_source)
    return crossbar, crossbar.check_voltages(load_array(voltages, "voltages"))
