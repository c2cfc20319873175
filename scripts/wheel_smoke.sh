#!/usr/bin/env bash
# The built wheel, installed into a fresh virtual environment outside the checkout, does what
# the README's first commands do: doctor, simulate, and predict with a shipped surrogate by name.
# Run by `make test` (and so by .ci/run).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
python="${PYTHON:-$root/.venv/bin/python}"
work="$(mktemp -d -t spicenn-wheel-XXXXXX)"
trap 'rm -rf "$work"' EXIT

"$python" -m pip wheel --no-deps -q -w "$work/dist" "$root" 2> "$work/build.log" || { cat "$work/build.log"; exit 1; }
"$python" -m venv "$work/venv"
pip() { "$work/venv/bin/pip" install -q "$@" > "$work/pip.log" 2>&1 || { cat "$work/pip.log"; exit 1; }; }
pip --upgrade pip
pip torch==2.13.0  # the CPU build, before the package (README)
pip "$work"/dist/spicenn-*.whl

cd "$work"  # nothing of the checkout is importable from here
export PATH="$work/venv/bin:$PATH"
spicenn doctor
python - <<'PY'
import numpy as np
rng = np.random.default_rng(0)
np.save("G.npy", rng.uniform(9.97e-4, 3.51e-3, (32, 32)))
np.save("V.npy", rng.uniform(0, 0.5, (4, 32)))
PY
spicenn simulate -g G.npy -v V.npy -d powerlaw --r-word 0.25 --r-bit 0.25 -o sim.npz
spicenn surrogate predict -M powerlaw32 -g G.npy -v V.npy -o pred.npz
spicenn devices --lib devices.lib
python - <<'PY'
import numpy as np, spicenn, spicenn.shipped as models
from pathlib import Path
assert "site-packages" in spicenn.__file__, spicenn.__file__
for path in (models.device_library(), models.surrogate("sinh64"), models.example("mnist-powerlaw-high"),
             models.write_surrogate("write-vteam-64")):
    assert path.is_file() and "site-packages" in str(path), path
assert Path("devices.lib").read_text() == models.device_library().read_text()
simulated, predicted = np.load("sim.npz")["currents"], np.load("pred.npz")["currents"]
error = np.sqrt(np.mean((predicted - simulated) ** 2)) / np.ptp(simulated)
assert error < 0.01, error  # the shipped surrogate against ngspice on its own kind of tile
print(f"wheel smoke test passed: shipped surrogate vs ngspice NRMSE {100 * error:.3f} %")
PY
