"""Netlist text: examples in sync, determinism, names, the small-resistance path."""

import subprocess

import numpy as np
import pytest
from conftest import ROOT

from spicenn.crossbar import Crossbar
from spicenn.devices import get_device
from spicenn.netlist import netlist_text
from spicenn.netlist.examples import examples


def test_example_netlists_are_in_sync_with_the_generator():
    expected = examples()
    folder = ROOT / "netlists"
    assert sorted(p.name for p in folder.glob("*.cir")) == sorted(expected)
    for name, text in expected.items():
        assert (folder / name).read_text() == text, f"netlists/{name} is stale: run `make netlists`"


@pytest.mark.parametrize("name", sorted(examples()))
def test_example_netlists_run_in_plain_ngspice(name):
    ran = subprocess.run(["ngspice", "-b", str(ROOT / "netlists" / name)], capture_output=True, text=True,
                         timeout=120)
    assert ran.returncode == 0
    assert "error" not in (ran.stdout + ran.stderr).lower()


def test_same_inputs_same_text_and_a_seed_changes_it():
    g = np.full((3, 3), 1e-4)
    v = np.full((2, 3), 0.1)
    first = netlist_text(Crossbar(g, get_device("powerlaw", n_std=0.2, seed=1), r_word=1, r_bit=1), v)
    again = netlist_text(Crossbar(g, get_device("powerlaw", n_std=0.2, seed=1), r_word=1, r_bit=1), v)
    other = netlist_text(Crossbar(g, get_device("powerlaw", n_std=0.2, seed=2), r_word=1, r_bit=1), v)
    assert first == again and first != other


def test_numbers_are_written_exactly():
    g = np.array([[1 / 3 * 1e-4, np.nextafter(1e-4, 1)]])
    text = netlist_text(Crossbar(g), np.array([0.1]))
    assert repr(1 / (1 / 3 * 1e-4)) in text and repr(float(1 / np.nextafter(1e-4, 1))) in text


def test_zero_resistance_wires_merge_nodes_instead_of_zero_ohm_resistors():
    text = netlist_text(Crossbar(np.full((2, 2), 1e-4), r_word=0.0, r_bit=1.0), np.array([0.1, 0.2]))
    assert "Rw" not in text and "Rb0_0" in text
    text = netlist_text(Crossbar(np.full((2, 2), 1e-4), r_word=1e-4, r_bit=1.0), np.array([0.1, 0.2]))
    assert "Gw0_0" in text  # below ngspice's 1 mOhm clamp: written as a conductance
