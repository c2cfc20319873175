"""Rebuild the shipped surrogates from scratch: SPICE dataset, then training.

    python scripts/rebuild_surrogates.py            # all; datasets under runs/surrogates/
    python scripts/rebuild_surrogates.py sinh64

Shipped: sinh64.pt and powerlaw32.pt (first-order kind: a few matmuls per read, 0.1-0.5 % on
fresh SPICE cases), and the same tiles as the relaxation kind, sinh64-relaxation.pt and
powerlaw32-relaxation.pt (~0.003 %, ~10^3x slower); powerlaw-high64.pt, the command line's
default hardware with signed inputs in [-0.5, 0.5] V (first-order).
Equivalent to, for sinh64:
    spicenn surrogate dataset -m 64 -n 64 -d sinh -p k=3 --r-word 1 --r-bit 1 --g-off 1e-6 --g-on 1e-4 \
        --cases 32 --vectors 16 --seed 0 --workers 2 --out runs/surrogates/sinh64-train.h5
    spicenn surrogate train -D runs/surrogates/sinh64-train.h5 --kind first-order --epochs 100 \
        -o models/surrogates/sinh64.pt
"""

from __future__ import annotations

import sys
from pathlib import Path

from spicenn.surrogate import DatasetSpec, generate
from spicenn.surrogate.training import train

ROOT = Path(__file__).resolve().parent.parent
CONFIGS = {
    "sinh64": dict(rows=64, columns=64, device={"name": "sinh", "k": 3.0}, r_word=1.0, r_bit=1.0,
                   g_off=1e-6, g_on=1e-4, v_max=0.5),
    "powerlaw32": dict(rows=32, columns=32, device={"name": "powerlaw", "v_ref": 0.25, "n": 2.13}, r_word=0.25,
                       r_bit=0.25, g_off=9.97e-4, g_on=3.51e-3, v_max=0.5),
    # the command line's default hardware (`spicenn analyze`): powerlaw-high devices with their
    # per-device exponents, 64x64 tiles, 1 ohm wires, signed inputs (any layer of a user's model)
    "powerlaw-high64": dict(rows=64, columns=64, device={"name": "powerlaw", "g_off": 5.25e-07, "g_on": 2.62e-06,
                                                         "v_ref": 0.25, "n": 2.99, "n_std": 0.369, "seed": 0},
                            r_word=1.0, r_bit=1.0, g_off=5.25e-07, g_on=2.62e-06, v_max=0.5, v_min=-0.5),
}
# shipped model -> (tile configuration, surrogate kind)
MODELS = {"sinh64": ("sinh64", "first-order"), "sinh64-relaxation": ("sinh64", "relaxation"),
          "powerlaw32": ("powerlaw32", "first-order"), "powerlaw32-relaxation": ("powerlaw32", "relaxation"),
          "powerlaw-high64": ("powerlaw-high64", "first-order")}
TRAINING_CASES = 32
VECTORS = 16
ITERATIONS = 6
EPOCHS = 100


def training_spec(name: str) -> DatasetSpec:
    return DatasetSpec(**CONFIGS[name], cases=TRAINING_CASES, vectors=VECTORS, seed=0)


def main() -> None:
    names = sys.argv[1:] or list(MODELS)
    runs = ROOT / "runs" / "surrogates"
    runs.mkdir(parents=True, exist_ok=True)
    for name in names:
        tile, kind = MODELS[name]
        data = generate(training_spec(tile), runs / f"{tile}-train.h5", workers=2)
        model, history = train(data, iterations=ITERATIONS, epochs=EPOCHS, kind=kind)
        model.save(ROOT / "models" / "surrogates" / f"{name}.pt")
        print(f"{name}: training NRMSE {history[0]:.3g} -> {history[-1]:.3g}; wrote models/surrogates/{name}.pt")


if __name__ == "__main__":
    main()
