"""The reproductions, one row each: the command line (`spicenn reproduce NAME`), the RESULTS
tables (`scripts/results_tables.py`) and the README's list all read this table.

    >>> [r.name for r in reproductions()][:3]
    ['joksas2022', 'joksas2022-wires', 'lenet']
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from ..errors import InputError
from ..io import folder_lock, remove_stale_parts

# the options a reproduction may take beyond --quick, --json and --out (the CLI declares each once)
OPTIONS = ("devices", "seed", "workers", "mnist", "device_file", "updates")


@dataclass(frozen=True)
class Reproduction:
    """`spicenn reproduce <name>` runs `<module>.<run>(out, quick=..., progress=..., **options)`
    and prints `<module>.<table>(results)`; `--json` prints `<module>.<summary>(results)` (the
    results themselves where `summary` is None)."""

    name: str
    module: str  # a module of spicenn.reproduce, or a full module path (a user's own)
    summary_line: str
    quick_help: str
    written: tuple[str, ...]  # files the run writes into its folder, besides its parts
    options: tuple[str, ...] = ()
    run: str = "run"
    table: str = "table"
    summary: str | None = None
    tabled: bool = True  # whether RESULTS.md holds its table

    def __post_init__(self) -> None:
        unknown = sorted(set(self.options) - set(OPTIONS))
        if unknown:
            raise InputError(f"reproduction {self.name!r}: unknown option {unknown[0]!r}; "
                             f"options: {', '.join(OPTIONS)}")

    def load(self) -> ModuleType:
        name = self.module if "." in self.module else f"{__package__}.{self.module}"
        return importlib.import_module(name)

    def function(self, which: str) -> Callable[..., Any]:
        found: Callable[..., Any] = getattr(self.load(), which)
        return found

    def execute(self, out: Any, quick: bool, progress: bool, **options: Any) -> dict[str, Any]:
        """Run it in folder `out`, held by this process alone (a second run there is refused);
        a folder holding a training run is refused, and one this call made is removed again
        when the run is refused before writing anything."""
        out = Path(out)
        if (out / "config.toml").exists() and (out / "last.pt").exists():
            raise InputError(f"{out} holds a training run (config.toml, last.pt); choose another folder")
        created = not out.exists()
        out.mkdir(parents=True, exist_ok=True)
        try:
            with folder_lock(out, "run folder"):
                remove_stale_parts(out)
                return self.function(self.run)(out, quick=quick, progress=progress, **options)
        except BaseException:
            if created and out.is_dir() and not any(out.iterdir()):
                out.rmdir()
            raise

    def table_text(self, results: dict[str, Any]) -> str:
        return self.function(self.table)(results)

    def json_payload(self, results: dict[str, Any]) -> Any:
        return results if self.summary is None else self.function(self.summary)(results)


REPRODUCTIONS: dict[str, Reproduction] = {}


def register_reproduction(reproduction: Reproduction) -> Reproduction:
    """Add a row: `spicenn reproduce <name>` and the RESULTS tables take it from here."""
    REPRODUCTIONS[reproduction.name] = reproduction
    return reproduction


def reproductions() -> list[Reproduction]:
    """Every row, in the order the README lists them."""
    return list(REPRODUCTIONS.values())


def get_reproduction(name: str) -> Reproduction:
    """The row named `name`, or one clear error listing them."""
    if name not in REPRODUCTIONS:
        raise InputError(f"unknown reproduction {name!r}; choose one of: {', '.join(REPRODUCTIONS)}")
    return REPRODUCTIONS[name]


QUICK_TRAINING = "short training (a few minutes on 2 cores)"
for _row in (
    Reproduction("joksas2022", "joksas2022", "Nonideality-aware training (Joksas et al., Adv. Sci. 2022): error and "
                 "TOPS/W of cases a-d.", QUICK_TRAINING, ("results.json", "joksas2022.png"),
                 options=("devices", "seed", "workers"), summary="summary"),
    Reproduction("joksas2022-wires", "wires", "The joksas2022 networks on 64x64 tiles with 1 ohm wires: SPICE, "
                 "surrogate in the loop.", "short training, 60 test images", ("results.json",), options=("workers",)),
    Reproduction("lenet", "lenet", "A LeNet-5 trained in plain PyTorch, converted onto crossbars: accuracy, energy, "
                 "circuit check.", "short training, 500 test images, 2 images in ngspice",
                 ("results.json", "accuracy.png", "energy-per-layer.png"), options=("mnist", "seed", "workers"),
                 tabled=False),
    Reproduction("babu2017", "babu2017", "Stochastic updates on 32-level devices (Babu & Rajendran).", QUICK_TRAINING,
                 ("results.json", "babu2017.png"), options=("seed", "device_file", "updates")),
    Reproduction("babu2017-noise", "babu2017", "Babu & Rajendran's noise claim as a grid: variability x pixel noise "
                 "x 3 seeds.", "2 epochs per network (about a minute on 2 cores)",
                 ("results.json", "babu2017-noise-grid.png"), run="noise_grid", table="grid_table", tabled=False),
    Reproduction("kim2019", "kim2019", "Soft-bounds devices with and without zero-shifting (Kim et al.).",
                 QUICK_TRAINING, ("results.json", "kim2019.png"), options=("seed", "device_file", "updates")),
    Reproduction("li2023", "li2023", "Binary stochastic learning against back-propagation (Li et al.).",
                 QUICK_TRAINING, ("results.json", "li2023.png"), options=("seed", "device_file", "updates")),
    Reproduction("li2023-comparison", "li2023", "Li et al.'s comparison: binary learning against back-propagation "
                 "on the same devices, 3 seeds.", "4 epochs per network", ("results.json", "li2023-comparison.png"),
                 options=("updates",), run="comparison", table="comparison_table", tabled=False),
):
    register_reproduction(_row)
