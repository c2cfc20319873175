"""What every reproduction shares: the output folder, results written atomically, plots."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from ..devices.programming import ProgrammingModel, load_programming_file, programming_to_dict
from ..io import atomic_path
from ..progress import progress_bar


def write_results(out: Path, results: dict[str, Any]) -> None:
    with atomic_path(out / "results.json") as temporary:
        temporary.write_text(json.dumps(results, indent=1))


def resume(out: Path, setup: dict[str, Any]) -> dict[str, Any]:
    """The partial results of an interrupted run with the same setup (JSON-normalised), else
    a fresh record: each finished case is written at once, so a rerun skips it."""
    setup = json.loads(json.dumps(setup))
    path = out / "results.json"
    if path.exists():
        saved = json.loads(path.read_text())
        if saved.get("setup") == setup:
            return saved
    return {"setup": setup}


def record_each(out: Path, results: dict[str, Any], runs: dict[str, Any], tasks: Mapping[str, Callable[[], Any]],
                progress: bool, what: str = "networks") -> None:
    """Compute every task whose key is not yet in `runs`, writing the results after each one,
    so that an interrupted grid resumes where it stopped."""
    with progress_bar(progress, total=len(tasks), initial=sum(key in runs for key in tasks), desc=what) as bar:
        for key, compute in tasks.items():
            if key in runs:
                continue
            runs[key] = compute()
            write_results(out, results)
            bar.update(1)


def figure(columns: int = 2, width: float = 9.0, height: float = 3.6):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt.subplots(1, columns, figsize=(width, height))


def spice_check(model, x, y, images: int) -> dict[str, Any]:
    """A device-trained network's accuracy read out in ngspice beside the simulated one."""
    from ..nn.onchip import onchip_accuracy, spice_accuracy

    x, y = x[:images], y[:images]
    return {"images": len(y), "spice": spice_accuracy(model, x, y)["accuracy"],
            "simulated": onchip_accuracy(model, x, y)}


def spice_check_line(label: str, check: dict[str, Any]) -> str:
    return (f"  SPICE check ({label}, {check['images']} images): ngspice {100 * check['spice']:.1f}% "
            f"vs simulated {100 * check['simulated']:.1f}% accuracy")


def programming_devices(device_file: str | Path | None, paper: ProgrammingModel) -> tuple[ProgrammingModel,
                                                                                          dict[str, Any]]:
    """The paper's devices, or those of a programming file (`spicenn devices fit pulses`), and
    the entry for the run's setup that keeps a resumed run on the same devices."""
    if device_file is None:
        return paper, {}
    devices = load_programming_file(device_file)
    return devices, {"device_file": {"path": Path(device_file).name, **programming_to_dict(devices)}}
