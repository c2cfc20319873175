"""`spicenn doctor`: what spicenn finds on this machine."""

from __future__ import annotations

import importlib.metadata

from .errors import SpicennError

_PROBE = """* spicenn doctor probe
.options klu
V1 a 0 DC 1
R1 a 0 1k
.op
.end
"""


def _version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def report() -> tuple[list[tuple[str, str]], bool]:
    """Rows of (item, finding) and whether spicenn can simulate here with its defaults (the
    ngspice program and the shared library, the default engine, both usable)."""
    from .spice.engines import SharedEngine, SubprocessEngine
    from .spice.ngspice import MIN_KLU_VERSION, program

    rows: list[tuple[str, str]] = []
    ok = True
    try:
        found = program()
        rows.append(("ngspice program", f"{found.path} (ngspice-{found.version})"))
        engine = SubprocessEngine(timeout=60)
        engine.run(_PROBE)
        in_use = any("Using KLU" in line for line in engine.last_output)
        klu = "yes, in use" if in_use else ("compiled in but not in use" if found.klu else "no")
        rows.append(("KLU solver", klu))
        if found.version < MIN_KLU_VERSION or not in_use:
            rows.append(("warning", f"ngspice >= {MIN_KLU_VERSION} with KLU is much faster on large crossbars; "
                                    "run scripts/setup_ngspice.sh"))
    except SpicennError as error:
        rows.append(("ngspice program", f"NOT USABLE: {error}"))
        ok = False
    try:
        shared = SharedEngine()
        shared.run(_PROBE)
        rows.append(("shared library", f"{shared.library} loads through PySpice {_version('PySpice')} "
                                       f"(ngspice-{shared.version}, KLU {'yes' if shared.klu else 'no'})"))
    except SpicennError as error:  # the default engine: without it the default commands fail
        rows.append(("shared library", f"NOT USABLE: {error} (the default engine; use --engine subprocess "
                                       "or native until it is fixed)"))
        ok = False
    except Exception as error:  # PySpice/cffi failures come in many types
        rows.append(("shared library", f"NOT USABLE: {type(error).__name__}: {error}"))
        ok = False
    rows.append(("numpy / torch", f"{_version('numpy')} / {_version('torch')}"))
    return rows, ok
