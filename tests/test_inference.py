"""The first-order surrogate's numpy inference path against the torch function it mirrors."""

import copy
import pickle
import threading

import numpy as np
import pytest
import torch

from spicenn.devices import get_device
from spicenn.surrogate.inference import FirstOrderInference
from spicenn.surrogate.model import CrossbarSurrogate, SurrogateConfig
from spicenn.surrogate.physics import bit_line_modes, first_order, line_kernels

DEVICES = {"sinh": (1e-6, 1e-4), "powerlaw": (9.97e-4, 3.51e-3), "linear": (1e-6, 1e-4),
           "powerlaw-high": (5.25e-7, 2.62e-6)}  # the last with an exponent per device


def _case(rng, g_range, tiles, vectors, rows, columns):
    g = rng.uniform(*g_range, (*tiles, rows, columns))
    v = rng.uniform(0, 0.5, (*tiles, vectors, rows))
    v[..., ::3] = 0.0  # zero inputs (back-biased rows), and one vector of zeros only
    v.reshape(-1, rows)[0] = 0.0
    return v, g


@pytest.mark.parametrize("name", sorted(DEVICES))
@pytest.mark.parametrize("count", [1, 3])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_inference_path_equals_the_torch_function(name, count, dtype, rng):
    device = get_device(name)
    rows, columns = 12, 7
    modes, (word_kernel, _) = bit_line_modes(rows, count), line_kernels(1, columns)
    scales = rng.uniform(0.7, 1.3, 1 + count)
    cell = device.cell_parameters((rows, columns))
    assert (name == "powerlaw-high") == (len(cell) > 0 and np.ptp(cell["n"]) > 0)
    # lines that move the currents by percents: G_on·r·rows ~ 0.1
    r_word, r_bit = (0.1 / (DEVICES[name][1] * rows), 0.06 / (DEVICES[name][1] * rows))
    kernel = FirstOrderInference(device, r_word, r_bit, modes.numpy(), word_kernel.numpy(), 0.02, np.dtype(dtype))
    torch_dtype = getattr(torch, dtype)
    tolerance = dict(rtol=2e-5, atol=0.0) if dtype == "float32" else dict(rtol=1e-12, atol=0.0)
    # tiles with their own vectors, and one tile broadcast over several batches
    for v_shape_tiles, g_tiles in (((4,), (4,)), ((3, 2), ())):
        v, _ = _case(rng, DEVICES[name], v_shape_tiles, 5, rows, columns)
        _, g = _case(rng, DEVICES[name], g_tiles, 5, rows, columns)
        got = kernel(v, g, scales, cell, np.float64)
        expected = first_order(device, torch.tensor(v, dtype=torch_dtype), torch.tensor(g, dtype=torch_dtype), r_word,
                               r_bit, modes.to(torch_dtype), torch.tensor(scales), slope_step=0.02,
                               cell={key: torch.tensor(x, dtype=torch_dtype) for key, x in cell.items()})
        # the lines move the currents by percents: a wrong correction term would show
        device_only = first_order(device, torch.tensor(v), torch.tensor(g), 0.0, 0.0, modes, slope_step=0.02,
                                  cell={key: torch.tensor(x) for key, x in cell.items()})
        assert float((device_only - expected.double()).abs().max()) > 0.01 * float(device_only.abs().max())
        assert got.shape == tuple(expected.shape) and got.dtype == np.float64
        np.testing.assert_allclose(got, expected.double().numpy(), **tolerance)
        assert np.all(got.reshape(-1, columns)[0] == 0.0)  # the all-zero vector: no current, no NaN


def test_model_takes_the_inference_path_only_without_gradients(rng):
    config = SurrogateConfig(rows=10, columns=6, device={"name": "powerlaw"}, r_word=0.25, r_bit=0.25,
                             g_off=9.97e-4, g_on=3.51e-3, kind="first-order", modes=2)
    model = CrossbarSurrogate(config)
    with torch.no_grad():
        model.scales.copy_(torch.tensor([0.9, 1.2, 0.8]))
    v, g = (torch.from_numpy(x) for x in _case(rng, DEVICES["powerlaw"], (3,), 4, 10, 6))
    calls = []
    original = FirstOrderInference.__call__

    def counted(self, *args, **kwargs):
        calls.append(1)
        return original(self, *args, **kwargs)

    FirstOrderInference.__call__ = counted
    try:
        with_gradient = model(v, g)
        with torch.no_grad():
            without = model(v, g)
        assert len(calls) == 1 and with_gradient.grad_fn is not None and without.grad_fn is None
        torch.testing.assert_close(without, with_gradient.detach(), rtol=2e-6, atol=0.0)
        # a chip's own cell parameters (an exponent per device) take the inference path too
        chip = {"n": torch.from_numpy(rng.uniform(2.0, 3.0, (10, 6)))}
        with torch.no_grad():
            fast = model(v, g, cell=chip)
        assert len(calls) == 2
        torch.testing.assert_close(fast, model(v, g, cell=chip).detach(), rtol=2e-6, atol=0.0)
        assert not torch.allclose(fast, without)
    finally:
        FirstOrderInference.__call__ = original
    # one vector (M,) against one tile, and one vector against several tiles
    for one, tiles in ((v[0, 1], g[0]), (v[0, 1], g)):
        with torch.no_grad():
            fast = model(one, tiles)
        torch.testing.assert_close(fast, model(one, tiles).detach(), rtol=2e-6, atol=0.0)
        assert fast.shape == (*tiles.shape[:-2], 6)
    # new scales loaded into the model are used on the next call
    state = model.state_dict()
    state["scales"] = torch.tensor([1.0, 1.0, 1.0], dtype=torch.float64)
    model.load_state_dict(state)
    with torch.no_grad():
        plain = model(v, g)
    assert not torch.allclose(plain, without)
    torch.testing.assert_close(plain, model(v, g).detach(), rtol=2e-6, atol=0.0)


def test_inference_buffers_are_per_thread(rng):
    """Two threads calling one model with different shapes get their own, right answers."""
    config = SurrogateConfig(rows=8, columns=5, device={"name": "sinh"}, r_word=1.0, r_bit=1.0, kind="first-order")
    model = CrossbarSurrogate(config)
    cases = [tuple(torch.from_numpy(x) for x in _case(rng, DEVICES["sinh"], (tiles,), vectors, 8, 5))
             for tiles, vectors in ((2, 3), (5, 7))]
    with torch.no_grad():
        expected = [model(v, g) for v, g in cases]
    failures = []

    def work(index):
        v, g = cases[index]
        with torch.no_grad():
            for _ in range(50):
                if not torch.equal(model(v, g), expected[index]):
                    failures.append(index)

    threads = [threading.Thread(target=work, args=(index,)) for index in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures


def test_a_model_with_inference_buffers_copies_and_pickles(rng):
    config = SurrogateConfig(rows=8, columns=5, device={"name": "powerlaw"}, r_word=0.25, r_bit=0.25,
                             g_off=9.97e-4, g_on=3.51e-3, kind="first-order")
    model = CrossbarSurrogate(config)
    v, g = (torch.from_numpy(x) for x in _case(rng, DEVICES["powerlaw"], (2,), 3, 8, 5))
    with torch.no_grad():
        expected = model(v, g)  # fills the buffers
        for twin in (copy.deepcopy(model), pickle.loads(pickle.dumps(model))):
            assert torch.equal(twin(v, g), expected)


@pytest.mark.parametrize("kind", ["first-order", "relaxation"])
@pytest.mark.parametrize("name", ["linear", "powerlaw-high"])
def test_a_used_part_of_the_tile_equals_the_whole_tile_with_idle_rows(kind, name, rng):
    """`used=(m, n)`: only the first m rows driven, the first n columns read — the same
    currents as the whole tile with 0 V on the other rows, on both paths and with gradients."""
    g_off, g_on = DEVICES[name]
    # lines that move the currents by percents, so that a missing term would show
    config = SurrogateConfig(rows=10, columns=8, device={"name": name}, r_word=0.01 / g_on, r_bit=0.01 / g_on,
                             g_off=g_off, g_on=g_on, kind=kind, modes=2, compute_dtype="float64")
    model = CrossbarSurrogate(config)
    chip = {key: torch.from_numpy(value) for key, value in model.device_model.cell_parameters((10, 8)).items()}
    v, g = (torch.from_numpy(x) for x in _case(rng, DEVICES[name], (3,), 4, 10, 8))
    m, n = 6, 3
    v[..., m:] = 0.0
    whole = model(v, g, cell=chip)[..., :n]
    no_lines = first_order(model.device_model, v, g, 0.0, 0.0, bit_line_modes(10, 2), cell=chip)[..., :n]
    assert float((whole - no_lines).detach().abs().max()) > 0.01 * float(no_lines.detach().abs().max())
    for grad in (False, True):
        with torch.set_grad_enabled(grad):
            part = model(v[..., :m], g, cell=chip, used=(m, n))
        assert part.shape == (3, 4, n)
        torch.testing.assert_close(part, whole, rtol=1e-12, atol=0.0)
    with pytest.raises(ValueError, match="voltages must have 6 entries"):
        model(v, g, used=(m, n))
    with pytest.raises(ValueError, match="outside the 10x8 tile"):
        model(v, g, used=(11, n))
