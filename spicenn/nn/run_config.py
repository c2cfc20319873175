"""A training run's whole configuration as one dataclass tree, TOML in and out.

    seed = 0
    [data]        name = "mnist", validation/test shares, optional IDX folder
    [network]     sizes, activation
    [crossbar]    device, conductance range, k_V, weight mapping, tiles, wires, variation
    [training]    backend, epochs, batch size, SGD learning rate, L1, chip draws
    [validation]  backend and number of chips (memristive validation: best median kept)
    [evaluation]  backend, chips and images for the efficiency figures
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomli_w

from ..activations import check_activation
from ..checks import MAX_SEED, finite_number
from ..checks import whole_number as _whole
from ..crossbar.config import CrossbarConfig
from ..errors import InputError
from ..io import read_toml
from .backends import check_backend
from .data import DATASETS

TRAINING_CHIPS = ("nominal", "per-batch")
MAX_LAYER_SIZE = 1_000_000  # neurons in a layer, samples in a batch
MAX_EPOCHS = 100_000


@dataclass(frozen=True)
class DataConfig:
    name: str = "mnist"
    path: str | None = None  # folder with the full MNIST IDX files
    validation: float = 0.2
    test: float = 0.2

    def __post_init__(self) -> None:
        if self.name not in DATASETS:
            raise InputError(f"unknown dataset {self.name!r}; choose one of: {', '.join(DATASETS)}")


@dataclass(frozen=True)
class NetworkConfig:
    sizes: tuple[int, ...] = (784, 25, 10)
    activation: str = "sigmoid"

    def __post_init__(self) -> None:
        object.__setattr__(self, "sizes", tuple(_whole("network size", s, 1, MAX_LAYER_SIZE) for s in self.sizes))
        if len(self.sizes) < 2:
            raise InputError("network sizes need at least inputs and outputs")
        check_activation(self.activation)


@dataclass(frozen=True)
class TrainingConfig:
    backend: str = "ideal"
    epochs: int = 100
    batch_size: int = 64
    learning_rate: float = 0.1
    l1: float = 0.0
    # per-batch: every batch sees a freshly drawn chip (variation, per-device parameters)
    chips: str = "per-batch"

    def __post_init__(self) -> None:
        check_backend(self.backend)
        if self.backend == "spice":
            raise InputError("the spice backend is forward-only: train with ideal, device or surrogate")
        _whole("epochs", self.epochs, 1, MAX_EPOCHS)
        _whole("batch_size", self.batch_size, 1, MAX_LAYER_SIZE)
        finite_number("learning_rate", self.learning_rate, minimum=0.0, strict_minimum=True, maximum=1e6)
        finite_number("l1", self.l1, minimum=0.0, maximum=1e6)
        if self.chips not in TRAINING_CHIPS:
            raise InputError(f"training chips must be one of: {', '.join(TRAINING_CHIPS)}")


@dataclass(frozen=True)
class ValidationConfig:
    backend: str = "ideal"
    chips: int = 5

    def __post_init__(self) -> None:
        check_backend(self.backend)
        _whole("validation chips", self.chips, 1)


@dataclass(frozen=True)
class EvaluationConfig:
    backend: str = "ideal"
    chips: int = 10
    energy_images: int = 20  # test images solved in SPICE for the full efficiency figure

    def __post_init__(self) -> None:
        check_backend(self.backend)
        _whole("evaluation chips", self.chips, 1)
        _whole("energy_images", self.energy_images, 0)


SECTIONS = {"data": DataConfig, "network": NetworkConfig, "crossbar": CrossbarConfig,
            "training": TrainingConfig, "validation": ValidationConfig, "evaluation": EvaluationConfig}


@dataclass(frozen=True)
class RunConfig:
    """A training run: seed, data, network, crossbar hardware, training and validation
    settings; read from and written as TOML (`load`, `to_toml`), checked when built."""

    seed: int = 0
    data: DataConfig = field(default_factory=DataConfig)
    network: NetworkConfig = field(default_factory=NetworkConfig)
    crossbar: CrossbarConfig = field(default_factory=CrossbarConfig)
    training: TrainingConfig = field(default_factory=TrainingConfig)
    validation: ValidationConfig = field(default_factory=ValidationConfig)
    evaluation: EvaluationConfig = field(default_factory=EvaluationConfig)

    def __post_init__(self) -> None:
        _whole("seed", self.seed, 0, MAX_SEED)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"seed": self.seed}
        for name in SECTIONS:
            section = getattr(self, name)
            values = section.to_dict() if hasattr(section, "to_dict") else dataclasses.asdict(section)
            out[name] = {key: list(value) if isinstance(value, tuple) else value
                         for key, value in values.items() if value is not None}
        return out

    def to_toml(self) -> str:
        return tomli_w.dumps(self.to_dict())

    @classmethod
    def from_dict(cls, data: dict[str, Any], where: str = "config") -> RunConfig:
        unknown = sorted(set(data) - set(SECTIONS) - {"seed"})
        if unknown:
            raise InputError(f"{where}: unknown table or key {unknown[0]!r}; expected seed and "
                             f"[{'], ['.join(SECTIONS)}]")
        sections = {}
        for name, section_cls in SECTIONS.items():
            values = data.get(name, {})
            if not isinstance(values, dict):
                raise InputError(f"{where}: [{name}] must be a table")
            known = {f.name for f in dataclasses.fields(section_cls)}
            bad = sorted(set(values) - known)
            if bad:
                raise InputError(f"{where}: [{name}] has no setting {bad[0]!r}; settings: {', '.join(sorted(known))}")
            try:
                sections[name] = section_cls(**values)
            except TypeError as error:
                raise InputError(f"{where}: [{name}]: {error}") from None
        return cls(seed=data.get("seed", 0), **sections)

    @classmethod
    def load(cls, path: str | Path) -> RunConfig:
        """A run configuration from its TOML file, or a shipped one by name
        (`load("mnist-powerlaw-high")`, `spicenn.shipped.example_names()`)."""
        from ..shipped import example

        path = Path(path)
        if not path.exists() and not path.suffix and len(path.parts) == 1:
            path = example(str(path))
        return cls.from_dict(read_toml(path), str(path))

    def replace(self, **sections: Any) -> RunConfig:
        """A copy with some sections' settings changed: replace(training={"epochs": 5})."""
        changes: dict[str, Any] = {}
        for name, values in sections.items():
            if name == "seed":
                changes[name] = values
            else:
                changes[name] = dataclasses.replace(getattr(self, name), **values)
        return dataclasses.replace(self, **changes)
