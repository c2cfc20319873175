"""The open registries, used from outside the package as a user would: a device model, a
backend and a solver defined here, registered with one call each, work everywhere a built-in
one does."""

from __future__ import annotations

from dataclasses import dataclass

import nodal
import numpy as np
import pytest
import torch
from training import training_losses

from spicenn.crossbar import Crossbar
from spicenn.devices import Device, get_device, names, register_device, register_preset, unregister
from spicenn.energy import crossbar_energy
from spicenn.errors import InputError
from spicenn.nn.backends import Backend, backend_names, register_backend
from spicenn.nn.config import CrossbarConfig
from spicenn.nn.network import CrossbarMLP
from spicenn.solvers import NativeSolver, register_solver, simulate, solver_names


@dataclass(frozen=True, kw_only=True)
class Cubic(Device):
    """I = G·(V + a·V³): a device only this test file knows."""

    name = "cubic-test"
    separable = True
    a: float = 2.0

    def formula(self, v, g, k, xp):
        return g * (v + self.a * v * v * v)


@pytest.fixture
def cubic():
    register_device(Cubic)
    register_preset("cubic-test-high", Cubic, a=4.0, g_off=1e-6, g_on=1e-4)
    yield Cubic
    unregister("cubic-test")
    unregister("cubic-test-high")


def iv_cubic(g, a):
    return lambda v: (g * (v + a * v**3), g * (1 + 3 * a * v**2))


def test_a_registered_device_simulates_in_ngspice_and_natively_as_the_nodal_solver_says(cubic):
    assert "cubic-test" in names() and "cubic-test-high" in names()
    device = get_device("cubic-test-high")
    assert device == Cubic(a=4.0, g_off=1e-6, g_on=1e-4)
    g = np.random.default_rng(0).uniform(1e-6, 1e-4, (5, 4))
    v = np.random.default_rng(1).uniform(0, 0.4, (3, 5))
    crossbar = Crossbar(g, "cubic-test-high", r_word=3.0, r_bit=2.0)
    expected = np.array([nodal.solve(iv_cubic(g, 4.0), row, 3.0, 2.0)[0] for row in v])
    for engine in ("shared", "native"):
        currents = simulate(crossbar, v, engine=engine).currents
        np.testing.assert_allclose(currents, expected, rtol=1e-9, atol=1e-15)
    assert "spicenn_cubic_test" in device.lib_subcircuit()


def test_a_registered_device_trains_a_network_on_the_device_and_circuit_backends(cubic):
    hardware = CrossbarConfig(device={"name": "cubic-test", "a": 2.0}, g_off=1e-6, g_on=1e-4, tile_rows=4,
                              tile_columns=4, r_word=2.0, r_bit=2.0)
    x = torch.rand(32, 6, generator=torch.Generator().manual_seed(0))
    y = (x[:, :3].sum(1) > x[:, 3:].sum(1)).long()
    for backend in ("device", "circuit"):
        losses = training_losses(CrossbarMLP((6, 4, 2), hardware, backend=backend, seed=0).double(), x.double(), y, 15)
        assert losses[-1] < 0.8 * losses[0], (backend, losses)
    # the two backends differ by the wires only: close without them
    no_wires = CrossbarConfig(device={"name": "cubic-test", "a": 2.0}, g_off=1e-6, g_on=1e-4, tile_rows=4,
                              tile_columns=4)
    model = CrossbarMLP((6, 4, 2), no_wires, seed=1).double()
    torch.testing.assert_close(model.forward_with(x.double(), "device"), model.forward_with(x.double(), "circuit"),
                               rtol=1e-9, atol=1e-12)


def test_a_registered_backend_runs_in_layers_and_networks():
    class HalfIdeal(Backend):
        name, summary = "half-ideal-test", "half of V·G (a test backend)"

        def currents(self, layer, v, g):
            return 0.5 * (v @ g)

    register_backend(HalfIdeal())
    try:
        assert "half-ideal-test" in backend_names()
        model = CrossbarMLP((5, 3), CrossbarConfig(g_off=1e-6, g_on=1e-4), backend="half-ideal-test")
        x = torch.rand(4, 5, generator=torch.Generator().manual_seed(2))
        layer = model.layers[0]
        torch.testing.assert_close(layer.column_currents(x), 0.5 * layer.column_currents(x, "ideal"))
    finally:
        from spicenn.nn import backends

        backends.BACKENDS.pop("half-ideal-test")
    with pytest.raises(InputError, match="unknown backend 'half-ideal-test'"):
        CrossbarMLP((5, 3), backend="half-ideal-test")


def test_a_registered_solver_is_an_engine_everywhere():
    calls = []

    class Counting(NativeSolver):
        name = "counting-test"

        def solve(self, crossbar, v, options=None, chunk=None, progress=False):
            calls.append(v.shape[0])
            return super().solve(crossbar, v, options, chunk, progress)

    register_solver(Counting())
    try:
        assert "counting-test" in solver_names()
        crossbar = Crossbar(np.full((3, 2), 5e-5), "sinh", r_word=1.0, r_bit=1.0)
        v = np.full((2, 3), 0.3)
        ours = simulate(crossbar, v, engine="counting-test", verify=2)
        np.testing.assert_allclose(ours.currents, simulate(crossbar, v, engine="shared").currents, rtol=1e-9)
        report = crossbar_energy(crossbar, v, engine="counting-test")
        assert report.energy_j["devices"] > 0 and calls == [2, 2]
    finally:
        from spicenn.solvers import registry

        registry.SOLVERS.pop("counting-test")


def test_registries_refuse_what_is_not_theirs():
    with pytest.raises(InputError, match="dataclass subclass"):
        register_device(int)  # type: ignore[arg-type]
    with pytest.raises(InputError, match="built into spicenn"):
        unregister("sinh")
    with pytest.raises(InputError, match=r"must be a spicenn\.nn\.backends\.Backend"):
        register_backend(object())  # type: ignore[arg-type]
    with pytest.raises(InputError, match=r"must be a spicenn\.solvers\.Solver"):
        register_solver(object())  # type: ignore[arg-type]
    with pytest.raises(InputError, match="already names a device model"):
        register_preset("sinh", Cubic)
