"""One HTML file to read an analysis by: `write_report` (what `spicenn analyze --report`
writes).

Self-contained — figures are PNG inside the file, no script or style is fetched — so it
opens offline and can be mailed. Sections: the hardware and the data; the conversion (each
layer's tiles, devices and how much of its tiles they use; what stayed digital and why);
accuracy per backend and chip with its spread, and against time after programming;
energy per layer by part with TOPS/W; the
circuit check, per-layer NRMSE with parity plots of the fast backend's column currents
against the circuit's (and the native solver's against ngspice's). Every text that comes
from the user's model or files is escaped.
"""

from __future__ import annotations

import base64
import html
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ..crossbar.config import CrossbarConfig
from ..io import save_figure, write_text_atomic
from ..version import __version__

STYLE = """
body { font-family: system-ui, sans-serif; max-width: 70em; margin: 2em auto; color: #222; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: right; }
th:first-child, td:first-child { text-align: left; }
img { max-width: 100%; }
.muted { color: #666; }
"""
# sets data-figures-loaded / data-figures-total on <body> once the page has loaded: a check
# for a headless browser (and a reader's devtools) that every figure decoded
CHECK_SCRIPT = """
window.addEventListener("load", function () {
  var images = Array.prototype.slice.call(document.images);
  var loaded = images.filter(function (i) { return i.complete && i.naturalWidth > 0; }).length;
  document.body.setAttribute("data-figures-loaded", String(loaded));
  document.body.setAttribute("data-figures-total", String(images.length));
});
"""


def _png(path: Path) -> str:
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return f'<img alt="{html.escape(path.stem)}" src="data:image/png;base64,{data}">'


def _table(header: list[str], rows: list[list[Any]]) -> str:
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _parity_figure(samples: Mapping[str, np.ndarray], fast: str, truth: str, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    count = len(samples)
    columns = min(4, count)
    rows = -(-count // columns)
    figure, axes = plt.subplots(rows, columns, figsize=(3.2 * columns, 3.0 * rows), squeeze=False)
    for axis, (name, pairs) in zip(axes.ravel(), samples.items()):
        truth_ua, fast_ua = pairs[:, 0] * 1e6, pairs[:, 1] * 1e6
        axis.plot(truth_ua, fast_ua, ".", ms=2, alpha=0.5)
        low, high = float(truth_ua.min()), float(truth_ua.max())
        axis.plot([low, high], [low, high], "k-", lw=0.7)
        axis.set_title(name, fontsize=8)
        axis.set_xlabel(f"{truth} (µA)", fontsize=8)
        axis.set_ylabel(f"{fast} (µA)", fontsize=8)
        axis.tick_params(labelsize=7)
    for axis in axes.ravel()[count:]:
        axis.set_visible(False)
    figure.tight_layout()
    save_figure(figure, path)


def _time_and_read_settings(hardware: CrossbarConfig) -> list[tuple[str, str]]:
    """The hardware's non-idealities of time and reading that are set, as (label, value)."""
    settings = []
    if hardware.programming_noise:
        settings.append(("programming noise", f"{hardware.programming_noise:g} of G_on - G_off"))
    if hardware.read_noise:
        settings.append(("read noise", f"{hardware.read_noise:g} of G per read"))
    if hardware.drift_nu or hardware.drift_nu_spread:
        settings.append(("drift", f"nu = {hardware.drift_nu:g} +- {hardware.drift_nu_spread:g} from "
                         f"t0 = {hardware.drift_t0:g} s, " + ("compensated" if hardware.drift_compensation
                                                              else "not compensated")))
    if hardware.dac_bits is not None:
        settings.append(("input DACs", f"{hardware.dac_bits} bits"))
    if hardware.adc_bits is not None:
        settings.append(("ADCs", f"{hardware.adc_bits} bits"))
    return settings


def write_report(path: str | Path, results: Mapping[str, Any], analog: Any, hardware: CrossbarConfig,
                 energy: Any = None, parity: Mapping[str, Mapping[str, np.ndarray]] | None = None,
                 source: Mapping[str, Any] | None = None) -> Path:
    """Write the analysis `results` (of `analyze`) of the converted model `analog` on
    `hardware` as one HTML file at `path` (atomically); `energy` its NetworkEnergy, `parity`
    the checks' (truth, fast) column-current samples per layer."""
    from .analyze import plot_accuracy, plot_accuracy_over_time

    path = Path(path)
    parts = [f"<h1>spicenn analysis</h1><p class=muted>spicenn {html.escape(__version__)}, "
             f"{time.strftime('%Y-%m-%d %H:%M')}</p>"]
    facts = [[key, value] for key, value in (source or {}).items()]
    facts += [["input shape", tuple(results.get("input_shape", ()))], ["device", hardware.device_model().describe()],
              ["conductances", f"{hardware.g_off:g} - {hardware.g_on:g} S"],
              ["tiles", f"{hardware.tile_rows} x {hardware.tile_columns}"],
              ["wire segments", f"{hardware.r_word:g} ohm word, {hardware.r_bit:g} ohm bit"],
              ["surrogate", hardware.surrogate or "none"]]
    facts += [[label, value] for label, value in _time_and_read_settings(hardware)]
    parts.append("<h2>Hardware and data</h2>" + _table(["", ""], facts))
    report = analog.report
    cells = (hardware.tile_rows or 0) * (hardware.tile_columns or 0)
    converted = [[layer.name, layer.kind, layer.tiles, layer.devices,
                  f"{100 * layer.devices / (layer.tiles * cells):.1f} %" if cells else "one tile per layer",
                  layer.mvms_per_input] for layer in report.converted]
    parts.append("<h2>Conversion</h2>" + _table(["module", "kind", "tiles", "devices", "tile use", "MVMs"],
                                                 converted))
    if report.digital:
        parts.append("<p>Kept digital:</p>" + _table(["module", "kind", "why"], [list(d) for d in report.digital]))
    parts += [f"<p class=muted>note: {html.escape(note)}</p>" for note in report.notes]
    accuracy_rows = [[backend, f"{100 * a['median']:.2f} %", f"{100 * a['q1']:.2f} - {100 * a['q3']:.2f} %",
                      ", ".join(f"chip {k + 1}: {100 * v:.2f} %" for k, v in enumerate(a["per_chip"]))]
                     for backend, a in results["accuracy"].items()]
    with tempfile.TemporaryDirectory() as folder:
        figures = Path(folder)
        plot_accuracy(dict(results), figures / "accuracy.png")
        parts.append(f"<h2>Accuracy</h2><p>{results['images']} test inputs, {results['chips']} simulated chips "
                     "(the ideal backend on the nominal chip).</p>"
                     + _table(["backend", "median", "interquartile range", "per chip"], accuracy_rows)
                     + _png(figures / "accuracy.png"))
        over_time = results.get("accuracy_vs_time")
        if over_time:
            plot_accuracy_over_time(over_time, figures / "accuracy-vs-time.png")
            rows = [[f"{t:g}", *(f"{100 * v[k]['median']:.2f} % ({100 * v[k]['q1']:.2f} - {100 * v[k]['q3']:.2f})"
                                 for v in over_time["accuracy"].values())]
                    for k, t in enumerate(over_time["seconds"])]
            compensated = "with" if hardware.drift_compensation else "without"
            parts.append(f"<h2>Accuracy against time</h2><p>Read at each time after programming, {compensated} "
                         "global drift compensation; median over chips (interquartile range).</p>"
                         + _table(["seconds", *over_time["accuracy"]], rows)
                         + _png(figures / "accuracy-vs-time.png"))
        if energy is not None:
            from ..energy.report import plot_layers

            plot_layers(energy.layers, figures / "energy-per-layer.png")
            rows = [[r.label, r.mvms, r.ops, f"{r.energy_j['total'] * 1e12:.4g}", f"{r.tops_per_w['system']:.4g}",
                     f"{r.tops_per_w['crossbar']:.4g}"] for r in [*energy.layers, energy.total]]
            parts.append("<h2>Energy per inference</h2>"
                         + _table(["layer", "MVMs", "operations", "energy (pJ)", "TOPS/W with peripherals",
                                   "TOPS/W arrays only"], rows) + _png(figures / "energy-per-layer.png"))
        for key, title in (("circuit_check", "Circuit check: every tile solved exactly (native solver)"),
                           ("spice_check", "Verification in ngspice")):
            check = results.get(key)
            if not check:
                continue
            fast, truth = check["fast_backend"], check["truth"]
            rows = [[name, f"{100 * value:.4f} %"] for name, value in check["layer_nrmse"].items()]
            parts.append(f"<h2>{html.escape(title)}</h2><p>{check['images']} inputs on chip {check['chip']}: "
                         f"accuracy {100 * check[truth]:.2f} % ({html.escape(truth)}) against "
                         f"{100 * check[fast]:.2f} % ({html.escape(fast)}).</p>"
                         + _table(["layer", f"column-current NRMSE of {fast} against {truth}"], rows))
            samples = (parity or {}).get(key)
            if samples:
                _parity_figure(samples, fast, truth, figures / f"parity-{key}.png")
                parts.append(_png(figures / f"parity-{key}.png"))
        page = ("<!DOCTYPE html><html lang=en><head><meta charset=utf-8><title>spicenn analysis</title>"
                f"<style>{STYLE}</style><script>{CHECK_SCRIPT}</script></head><body>"
                + "\n".join(parts) + "</body></html>")
    write_text_atomic(path, page)
    return path
