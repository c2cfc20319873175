"""What a surrogate dataset samples: conductance matrices and input vectors, case by case.

Case k draws from `numpy.random.default_rng([seed, k])`: the same seed gives the same case
whatever the order, worker or machine that computes it, so a resumed or distributed job
produces exactly the data of an uninterrupted local one.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..checks import MAX_SEED, finite_number
from ..checks import whole_number as _whole
from ..crossbar.config import MAX_TILE_SIDE, conductance_range
from ..devices import Device, from_dict, get_static_device
from ..errors import InputError
from ..solvers import get_solver

CONDUCTANCE_DISTRIBUTIONS = ("uniform", "skewed", "trained")
INPUT_DISTRIBUTIONS = ("uniform", "sparse", "binary")



# a dataset this large takes days here and hundreds of GB: beyond it, a typing slip is likelier
MAX_CASES, MAX_VECTORS = 10_000_000, 100_000

@dataclass(frozen=True)
class TileConfig:
    """One crossbar tile's circuit and value ranges: what a dataset samples and a surrogate serves."""

    rows: int
    columns: int
    device: dict[str, Any] = field(default_factory=lambda: {"name": "linear"})
    r_word: float = 0.0
    r_bit: float = 0.0
    g_off: float = 1e-6
    g_on: float = 1e-4
    v_max: float = 0.5
    # the lowest input voltage: 0 for unsigned inputs, -v_max for signed ones (a layer fed
    # normalised images, an RNN's state, anything after a residual sum without ReLU)
    v_min: float = 0.0

    def __post_init__(self) -> None:
        for name in ("rows", "columns"):
            object.__setattr__(self, name, _whole(name, getattr(self, name), 1))
            if getattr(self, name) > MAX_TILE_SIDE:
                raise InputError(f"{name} = {getattr(self, name)}: tiles of at most {MAX_TILE_SIDE} a side")
        device = self.device if isinstance(self.device, Device) else from_dict(dict(self.device))
        object.__setattr__(self, "device", device.to_dict())
        for name in ("r_word", "r_bit"):
            object.__setattr__(self, name, finite_number(name, getattr(self, name), minimum=0.0))
        g_off = finite_number("g_off", self.g_off, minimum=0.0, strict_minimum=True)
        g_on = finite_number("g_on", self.g_on, minimum=g_off, strict_minimum=True)
        object.__setattr__(self, "g_off", g_off)
        object.__setattr__(self, "g_on", g_on)
        object.__setattr__(self, "v_max", finite_number("v_max", self.v_max, minimum=0.0, strict_minimum=True))
        object.__setattr__(self, "v_min", finite_number("v_min", self.v_min, minimum=-self.v_max, maximum=0.0))

    @property
    def signed(self) -> bool:
        """Whether negative input voltages are in the range."""
        return self.v_min < 0

    def device_model(self) -> Device:
        return get_static_device(self.device["name"], **{k: v for k, v in self.device.items() if k != "name"})

    def tile(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(TileConfig)}


@dataclass(frozen=True)
class DatasetSpec(TileConfig):
    """Everything that defines a dataset; stored with it, checked on resume."""

    # uniform in [g_off, g_on] | skewed toward g_off (as after L1 training) | trained: tiles cut
    # from the conductance matrices of a trained network (`network`: its run folder)
    conductances: str = "uniform"
    inputs: str = "uniform"  # uniform in [v_min, v_max] | sparse (70 % zeros) | binary {0, v_max} ({0, ±v_max})
    cases: int = 100
    vectors: int = 16  # input vectors per conductance matrix
    seed: int = 0
    network: str | None = None
    network_sha256: str | None = None  # of the network's weights, filled in when the spec is made
    engine: str = "shared"  # what solves the cases: ngspice ("shared", "subprocess") or "native"

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.conductances == "trained":
            if not self.network:
                raise InputError("the 'trained' conductance distribution needs a network run folder")
            digest = trained_network_digest(self.network)
            if self.network_sha256 is None:
                object.__setattr__(self, "network_sha256", digest)
            elif self.network_sha256 != digest:
                raise InputError(f"the network in {self.network} changed since this dataset was started")
        for name, minimum, maximum in (("cases", 1, MAX_CASES), ("vectors", 1, MAX_VECTORS), ("seed", 0, MAX_SEED)):
            object.__setattr__(self, name, _whole(name, getattr(self, name), minimum, maximum))
        if self.conductances not in CONDUCTANCE_DISTRIBUTIONS:
            raise InputError(f"unknown conductance distribution {self.conductances!r}; "
                             f"choose one of: {', '.join(CONDUCTANCE_DISTRIBUTIONS)}")
        get_solver(self.engine)  # refuses an unknown one
        if self.inputs not in INPUT_DISTRIBUTIONS:
            raise InputError(f"unknown input distribution {self.inputs!r}; "
                             f"choose one of: {', '.join(INPUT_DISTRIBUTIONS)}")

    @classmethod
    def for_device(cls, device: Device, g_off: float | None = None, g_on: float | None = None,
                   **settings: Any) -> DatasetSpec:
        """A spec for `device` over the given conductance range, else the device preset's,
        else the generic one (`crossbar.config.conductance_range`, the one policy)."""
        g_off, g_on = conductance_range(device, g_off, g_on)
        return cls(device=device.to_dict(), g_off=g_off, g_on=g_on, **settings)

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> DatasetSpec:
        return cls(**json.loads(text))


def sample_case(spec: DatasetSpec, index: int) -> tuple[np.ndarray, np.ndarray]:
    """(conductances (M, N), voltages (vectors, M)) of case `index`."""
    rng = np.random.default_rng([spec.seed, index])
    shape = (spec.rows, spec.columns)
    if spec.conductances == "uniform":
        g = spec.g_off + (spec.g_on - spec.g_off) * rng.random(shape)
    elif spec.conductances == "skewed":  # most devices near G_off, a tail toward G_on, as after L1 training
        g = spec.g_off + (spec.g_on - spec.g_off) * rng.beta(0.5, 3.0, shape)
    else:
        g = trained_tile(spec, rng)
    v: np.ndarray
    v = spec.v_min + (spec.v_max - spec.v_min) * rng.random((spec.vectors, spec.rows))
    if spec.inputs == "sparse":
        v[rng.random(v.shape) < 0.7] = 0.0
    elif spec.inputs == "binary":
        v = spec.v_max * (rng.random(v.shape) < 0.5)
        if spec.signed:
            v *= rng.choice([-1.0, 1.0], v.shape)
    return g, v


# Written by `spicenn train` beside best.pt: each layer's programmed conductances as data, so
# that datasets read a trained network without importing the layers above them.
PROGRAMMED_FILE = "best-conductances.npz"


def trained_network_digest(run_dir: str) -> str:
    import hashlib

    return hashlib.sha256(_programmed_path(run_dir).read_bytes()).hexdigest()


def _programmed_path(run_dir: str) -> Path:
    path = Path(run_dir) / PROGRAMMED_FILE
    if not path.exists():
        raise InputError(f"{run_dir} is not a trained run folder (no {PROGRAMMED_FILE}; "
                         "`spicenn train` on the run writes it)")
    return path


def trained_tile(spec: DatasetSpec, rng: np.random.Generator) -> np.ndarray:
    """A rows x columns window of one layer's programmed conductances, rescaled from the
    network's [G_off, G_on] onto the spec's; windows overhanging a layer are padded with G_off."""
    assert spec.network is not None  # checked when the spec was made
    layers = _trained_conductances(spec.network)
    g, g_off, g_on = layers[int(rng.integers(len(layers)))]
    top = int(rng.integers(max(1, g.shape[0] - spec.rows + 1)))
    left = int(rng.integers(max(1, g.shape[1] - spec.columns + 1)))
    window = np.full((spec.rows, spec.columns), g_off)
    part = g[top:top + spec.rows, left:left + spec.columns]
    window[:part.shape[0], :part.shape[1]] = part
    fraction = np.clip((window - g_off) / (g_on - g_off), 0.0, 1.0)  # float32 weights overshoot by ~1e-8
    return spec.g_off + (spec.g_on - spec.g_off) * fraction


_TRAINED: dict[str, list] = {}


def _trained_conductances(run_dir: str) -> list[tuple[np.ndarray, float, float]]:
    if run_dir not in _TRAINED:
        path = _programmed_path(run_dir)
        try:
            with np.load(path, allow_pickle=False) as data:
                g_off, g_on = float(data["g_off"]), float(data["g_on"])
                _TRAINED[run_dir] = [(np.asarray(data[f"G{k}"], float), g_off, g_on)
                                     for k in range(int(data["layers"]))]
        except (OSError, ValueError, KeyError) as error:
            raise InputError(f"{path} is not a programmed-conductances file ({error})") from None
    return _TRAINED[run_dir]
