"""The shipped surrogate of the command line's default hardware (powerlaw-high64: 64x64
tiles, 1 ohm wires, signed inputs) validated on held-out cases solved by ngspice: signed
uniform inputs, signed sparse inputs on skewed conductances, unsigned inputs; beside the
ideal V·G and the device-only model. Parity plots into docs/benchmarks/.

    python scripts/bench_surrogate_signed.py [--no-write]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_spice import publish

from spicenn.shipped import DEFAULT_SURROGATE
from spicenn.surrogate import DatasetSpec, generate
from spicenn.surrogate.model import CrossbarSurrogate
from spicenn.surrogate.training import validate

ROOT = Path(__file__).resolve().parents[1]
HELD_OUT = {  # name -> (v_min, conductances, inputs, seed); the training set used seed 0
    "signed, uniform": (-0.5, "uniform", "uniform", 11),
    "signed, sparse, skewed G": (-0.5, "skewed", "sparse", 12),
    "unsigned, uniform": (0.0, "uniform", "uniform", 13),
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=8)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    model = CrossbarSurrogate.load(DEFAULT_SURROGATE)
    rows = ["| held-out cases (ngspice, 16 vectors each) | surrogate NRMSE | worst column | device-only NRMSE | "
            "ideal V·G NRMSE |", "| --- | --- | --- | --- | --- |"]
    with tempfile.TemporaryDirectory() as folder:
        for index, (name, (v_min, conductances, inputs, seed)) in enumerate(HELD_OUT.items()):
            spec = DatasetSpec(**{**model.config.tile(), "v_min": v_min}, conductances=conductances, inputs=inputs,
                               cases=args.cases, vectors=16, seed=seed, engine="shared")
            data = generate(spec, Path(folder) / f"held-out-{seed}.h5", workers=2, progress=False)
            plots = ROOT / "docs" / "benchmarks" / "surrogate-powerlaw-high64" if index == 0 else None
            report = validate(model, data, plots=plots)
            rows.append(f"| {name} ({args.cases} cases) | {100 * report['surrogate']['nrmse']:.3f} % | "
                        f"{100 * report['surrogate']['worst_column']:.3f} % | "
                        f"{100 * report['device_only']['nrmse']:.3f} % | {100 * report['ideal']['nrmse']:.2f} % |")
    rows.append("\nParity plot and error histogram (signed, uniform): "
                "docs/benchmarks/surrogate-powerlaw-high64/parity.png, error_histogram.png.")
    publish("bench_surrogate_signed", "python scripts/bench_surrogate_signed.py",
            f"surrogate {DEFAULT_SURROGATE}, trained by scripts/rebuild_surrogates.py on 32 ngspice cases", rows,
            not args.no_write)


if __name__ == "__main__":
    main()
