"""The models and configurations spicenn ships, found by name wherever spicenn is installed.

In a checkout they are the top-level `models/` and `examples/` folders; in an installed wheel
the same files are package data (`spicenn/_shipped/`). `surrogate("powerlaw32")` is the path
of `models/surrogates/powerlaw32.pt`; the command line's `-M powerlaw32` takes it by name.

>>> surrogate("powerlaw32").name
'powerlaw32.pt'
>>> "sinh64" in surrogate_names()
True
"""

from __future__ import annotations

from pathlib import Path

from .errors import InputError

_PACKAGE = Path(__file__).resolve().parent
_CHECKOUT = _PACKAGE.parent


def _folder(kind: str) -> Path:
    """`models` or `examples`: the installed package data, else the checkout's folder."""
    installed = _PACKAGE / "_shipped" / ("" if kind == "models" else kind)
    if kind == "models" and (installed / "spicenn_devices.lib").exists():
        return installed
    if kind == "examples" and installed.is_dir():
        return installed
    return _CHECKOUT / kind


def device_library() -> Path:
    """`spicenn_devices.lib`: one ngspice subcircuit per device model and preset."""
    return _folder("models") / "spicenn_devices.lib"


def surrogate_names() -> list[str]:
    """The shipped surrogates' names (`surrogate(name)` gives each one's file)."""
    return sorted(path.stem for path in (_folder("models") / "surrogates").glob("*.pt"))


def surrogate(name: str) -> Path:
    """The file of a shipped surrogate by name (e.g. "sinh64"); load it with
    `spicenn.surrogate.CrossbarSurrogate.load`."""
    names = surrogate_names()
    if name not in names:
        raise InputError(f"no shipped surrogate {name!r}; choose one of: {', '.join(names) or 'none found'}")
    return _folder("models") / "surrogates" / f"{name}.pt"


def example_names() -> list[str]:
    """The shipped run configurations' names (`example(name)` gives each one's file)."""
    return sorted(path.stem for path in _folder("examples").glob("*.toml"))


def example(name: str) -> Path:
    """A shipped run configuration (TOML) by name, e.g. "mnist-powerlaw-high"."""
    names = example_names()
    if name not in names:
        raise InputError(f"no shipped configuration {name!r}; choose one of: {', '.join(names) or 'none found'}")
    return _folder("examples") / f"{name}.toml"


# the shipped surrogate of the command line's default hardware (`spicenn analyze`: powerlaw-high
# devices, 64x64 tiles, 1 ohm wires), trained on signed inputs
DEFAULT_SURROGATE = "powerlaw-high64"


def surrogate_path(given: str | Path) -> Path:
    """A surrogate file given by path, or a shipped one by name (`-M powerlaw32`)."""
    path = Path(given)
    if path.exists() or path.suffix or len(path.parts) > 1:
        return path
    return surrogate(str(given))


def write_surrogate_names() -> list[str]:
    """The shipped write surrogates' names (`spicenn.surrogate.write.load_write_surrogate`)."""
    return sorted(path.stem for path in (_folder("models") / "surrogates").glob("write-*.json"))


def write_surrogate(name: str) -> Path:
    """The file of a shipped write surrogate by name (e.g. "write-vteam-64")."""
    names = write_surrogate_names()
    if name not in names:
        raise InputError(f"no shipped write surrogate {name!r}; choose one of: {', '.join(names) or 'none found'}")
    return _folder("models") / "surrogates" / f"{name}.json"
