"""Thread counts fitted to the work and the free cores (`spicenn.threads`)."""

from __future__ import annotations

import multiprocessing
import time

import pytest
import torch

from spicenn import threads
from spicenn.errors import InputError


@pytest.fixture(autouse=True)
def fresh_state(monkeypatch):
    monkeypatch.setattr(threads, "_fixed", None)
    monkeypatch.setattr(threads, "_worker", False)
    monkeypatch.setattr(threads, "_last", None)
    monkeypatch.setattr(threads, "_measured", None)
    monkeypatch.delenv(threads.ENVIRONMENT, raising=False)
    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)


def spin() -> None:
    while True:
        pass


def test_small_work_workers_and_fixed_counts():
    assert threads.threads_for(threads.PARALLEL_WORK - 1) == 1
    threads.set_threads(3)
    assert threads.threads_for(10) == 3 and threads.fit_threads(10) == 3 and torch.get_num_threads() == 3
    threads.set_threads(None)
    threads.mark_worker()
    assert threads.threads_for(10**9) == 1


def test_the_environment_variable_fixes_the_count_and_bad_values_are_one_error(monkeypatch):
    monkeypatch.setenv(threads.ENVIRONMENT, "2")
    assert threads.threads_for(1) == 2
    for bad in ("0", "two", "-1"):
        monkeypatch.setenv(threads.ENVIRONMENT, bad)
        with pytest.raises(InputError, match="SPICENN_THREADS must be a whole number"):
            threads.threads_for(1)
    with pytest.raises(InputError, match="threads must be a whole number"):
        threads.set_threads(0)


def test_fitted_threads_restores_the_count():
    torch.set_num_threads(1)
    threads.set_threads(2)
    with threads.fitted_threads(10**6) as count:
        assert count == 2 and torch.get_num_threads() == 2
    assert torch.get_num_threads() == 1


@pytest.mark.slow
@pytest.mark.skipif(threads.available_cores() < 2, reason="needs two cores")
def test_a_core_kept_busy_by_another_process_is_not_counted_free():
    spinner = multiprocessing.get_context("spawn").Process(target=spin, daemon=True)
    spinner.start()
    try:
        time.sleep(1.0)  # the spawned interpreter starts, then spins
        threads._last = None
        assert threads.free_cores() <= threads.available_cores() - 1
        assert threads.threads_for(10**8) <= threads.available_cores() - 1
    finally:
        spinner.terminate()
        spinner.join()
