"""Data flows one way: no module imports from a layer above its own, at module level or
inside a function, and the module-level imports have no circle."""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx
import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "spicenn"
# lowest first; the helpers every layer may use sit below them all. ngspice (spice) and the
# native solver (circuit) each have their own level and neither needs the other; the front
# door for both (solvers) sits above them.
LAYERS = [("errors", "checks", "io", "version", "arrays", "activations", "models", "shipped", "processes",
           "threads", "progress"), ("devices",),
          ("crossbar",), ("netlist",), ("spice",), ("circuit",), ("solvers", "doctor"), ("energy",), ("surrogate",),
          ("nn",), ("reproduce",), ("cli",)]
LEVEL = {name: level for level, names in enumerate(LAYERS) for name in names}


def module_name(path: Path, root: Path = PACKAGE) -> str:
    parts = path.relative_to(root.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path, top_level_only: bool = False, root: Path = PACKAGE) -> list[tuple[str, int]]:
    """(absolute spicenn module, line) of every import in the file."""
    tree = ast.parse(path.read_text())
    name = module_name(path, root)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    found = []
    for node in nodes:
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            names = [target] if node.module else [f"{target}.{alias.name}" for alias in node.names]
            found += [(name, node.lineno) for name in names if name.split(".")[0] == "spicenn"]
        elif isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names if alias.name.split(".")[0] == "spicenn"]
    return found


def level(module: str) -> int | None:
    parts = module.split(".")
    return LEVEL.get(parts[1]) if len(parts) > 1 else None


SOURCES = sorted(p for p in PACKAGE.rglob("*.py") if p != PACKAGE / "__init__.py")


def test_every_subpackage_has_a_layer():
    assert {module_name(p).split(".")[1] for p in SOURCES} <= set(LEVEL)


def check_layering(path: Path, root: Path = PACKAGE) -> None:
    own = level(module_name(path, root))
    for target, line in imports(path, root=root):
        assert target != "spicenn" and level(target) is not None, \
            f"{path.name}:{line} imports {target} from the package root (import the module itself)"
        assert level(target) <= own, \
            f"{module_name(path, root)} (layer {own}) imports {target} (layer {level(target)}) at line {line}"


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_import_from_a_layer_above(path):
    check_layering(path)


def test_module_level_imports_have_no_circle():
    graph = nx.DiGraph()
    for path in SOURCES:
        source = module_name(path)
        for target, _ in imports(path, top_level_only=True):
            # `from .x import name` may name a module or an attribute: keep the longest module that exists
            while target and not any(module_name(p) == target for p in SOURCES):
                target = target.rpartition(".")[0]
            if target and target != source and target != "spicenn":
                graph.add_edge(source, target)
    assert graph.number_of_edges() > 100  # the graph was read
    cycles = list(nx.simple_cycles(graph))
    assert not cycles, f"import circles: {cycles[:3]}"


def test_the_checker_sees_an_upward_import(tmp_path):
    """The test can fail: a devices module importing nn inside a function, the root, or
    ngspice's package importing the native solver (the old spice <-> circuit circle), is caught."""
    probe = tmp_path / "spicenn" / "devices" / "probe.py"
    probe.parent.mkdir(parents=True)
    probe.write_text("def f():\n    from ..nn import layer\n")
    with pytest.raises(AssertionError, match=r"imports spicenn\.nn"):
        check_layering(probe, tmp_path / "spicenn")
    spice_probe = tmp_path / "spicenn" / "spice" / "probe.py"
    spice_probe.parent.mkdir(parents=True)
    spice_probe.write_text("def f():\n    from ..circuit import simulate_native\n")
    with pytest.raises(AssertionError, match=r"imports spicenn\.circuit"):
        check_layering(spice_probe, tmp_path / "spicenn")
    probe.write_text("from .. import __version__\n")
    with pytest.raises(AssertionError, match="package root"):
        check_layering(probe, tmp_path / "spicenn")


def test_the_wheel_lists_every_subpackage():
    """pyproject's explicit package list (needed for the shipped-data mapping) names every
    subpackage on disk: a new one left out would be missing from the installed wheel."""
    import tomllib

    listed = set(tomllib.loads((PACKAGE.parent / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    on_disk = {module_name(p) for p in PACKAGE.rglob("__init__.py")}
    assert on_disk <= listed, f"missing from pyproject.toml: {sorted(on_disk - listed)}"
