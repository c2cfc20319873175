"""The crossbar's circuit as a networkx graph, checked, and reduced to indexed electrical nodes.

Zero-ohm wires are not resistors: their ends are one electrical node, so they are
contracted here (ngspice would otherwise see a 0-ohm resistor or clamp it to 1 mOhm).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import networkx as nx
import numpy as np

from ..errors import InputError

if TYPE_CHECKING:
    from .spec import Crossbar

GROUND = ("gnd",)
WIRE_KINDS = ("source", "word", "bit")  # resistive wire segments
_SAFE_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


def build_graph(rows: int, columns: int, r_word: float, r_bit: float, r_source: float) -> nx.Graph:
    """All nodes and elements of the array. Edge attribute `kind` is one of
    'source' | 'word' | 'bit' (resistors, attribute `r`), 'device' (attribute `cell`),
    'driver' (voltage source of row i) or 'sense' (0 V source of column j)."""
    graph = nx.Graph()
    previous: tuple[str, int] | tuple[str, int, int]
    for i in range(rows):
        graph.add_edge(("src", i), GROUND, kind="driver", row=i)
        graph.add_edge(("src", i), ("drv", i), kind="source", r=r_source, row=i)
        previous = ("drv", i)
        for j in range(columns):
            graph.add_edge(previous, ("w", i, j), kind="word", r=r_word, cell=(i, j))
            graph.add_edge(("w", i, j), ("b", i, j), kind="device", cell=(i, j))
            previous = ("w", i, j)
    for j in range(columns):
        for i in range(rows):
            below = ("b", i + 1, j) if i + 1 < rows else ("s", j)
            graph.add_edge(("b", i, j), below, kind="bit", r=r_bit, cell=(i, j))
        graph.add_edge(("s", j), GROUND, kind="sense", column=j)
    return graph


def node_name(node: tuple[Any, ...]) -> str:
    kind, *index = node
    return {"src": "src{}", "drv": "d{}", "s": "s{}", "w": "w{}_{}", "b": "b{}_{}"}[kind].format(*index)


# When wires of zero resistance merge nodes, the merged node keeps the name of the most
# significant member: a driven or sensed node first, so sources keep their terminals.
_RANK = {"src": 0, "s": 1, "drv": 2, "w": 3, "b": 3}


@dataclass(frozen=True)
class Topology:
    """Electrical nodes (ground excluded) and index arrays into them."""

    rows: int
    columns: int
    node_names: tuple[str, ...]
    word_node: np.ndarray  # (M, N) node index of word node (i, j)
    bit_node: np.ndarray  # (M, N) node index of bit node (i, j)
    source_node: np.ndarray  # (M,) node the driver of row i sets
    sense_node: np.ndarray  # (N,) node the sense amplifier of column j holds at 0 V
    wires: dict[str, tuple[np.ndarray, np.ndarray, list[str]]]  # kind -> (node a, node b, element names)

    @property
    def node_count(self) -> int:
        return len(self.node_names)


def _check(graph: nx.Graph) -> None:
    isolated = set(graph) - nx.node_connected_component(graph, GROUND)
    if isolated:
        raise InputError(f"crossbar node {node_name(sorted(isolated)[0])} has no DC path to a driver or ground")


@lru_cache(maxsize=16)
def topology(rows: int, columns: int, word_wires: bool, bit_wires: bool, source_wires: bool) -> Topology:
    """The checked topology for an M x N array; `*_wires` say whether those resistances are > 0.

    Cached: it depends on sizes and on which resistances are zero, not on values.
    """
    if rows < 1 or columns < 1:
        raise InputError(f"a crossbar needs at least one row and one column, got {rows} x {columns}")
    graph = build_graph(rows, columns, float(word_wires), float(bit_wires), float(source_wires))
    _check(graph)

    # Contract zero-ohm wires: each connected group of them becomes one electrical node.
    zero = [(a, b) for a, b, kind in graph.edges(data="kind") if kind in WIRE_KINDS and graph.edges[a, b]["r"] == 0]
    representative: dict[tuple[Any, ...], tuple[Any, ...]] = {}
    for group in nx.connected_components(nx.Graph(zero)):
        leader = min(group, key=lambda node: (_RANK[node[0]], node))
        for node in group:
            representative[node] = leader
    electrical = sorted({representative.get(node, node) for node in graph if node != GROUND},
                        key=lambda node: (_RANK[node[0]], node))
    index = {node: k for k, node in enumerate(electrical)}

    def at(node: tuple[Any, ...]) -> int:
        return index[representative.get(node, node)]

    names = tuple(node_name(node) for node in electrical)
    unsafe = [name for name in names if not _SAFE_NAME.match(name)]
    if unsafe:  # cannot happen with generated names; kept as the guard before any netlist text
        raise InputError(f"unsafe node name {unsafe[0]!r}")

    word = np.array([[at(("w", i, j)) for j in range(columns)] for i in range(rows)])
    bit = np.array([[at(("b", i, j)) for j in range(columns)] for i in range(rows)])
    wires: dict[str, tuple[np.ndarray, np.ndarray, list[str]]] = {}
    for kind, prefix in (("source", "Rs"), ("word", "Rw"), ("bit", "Rb")):
        edges = [(a, b, data) for a, b, data in graph.edges(data=True) if data["kind"] == kind and data["r"] > 0]
        edges.sort(key=lambda edge: edge[2].get("cell", (edge[2].get("row"),)))
        labels = ["_".join(map(str, data.get("cell", (data.get("row"),)))) for _, _, data in edges]
        wires[kind] = (np.array([at(a) for a, _, _ in edges], dtype=np.int64),
                       np.array([at(b) for _, b, _ in edges], dtype=np.int64),
                       [prefix + label for label in labels])
    for array in (word, bit):
        array.setflags(write=False)
    return Topology(rows, columns, names, word, bit,
                    np.array([at(("src", i)) for i in range(rows)]),
                    np.array([at(("s", j)) for j in range(columns)]), wires)


def crossbar_topology(crossbar: Crossbar) -> Topology:
    return topology(crossbar.rows, crossbar.columns, crossbar.r_word > 0, crossbar.r_bit > 0, crossbar.r_source > 0)
