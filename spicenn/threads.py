"""How many threads torch may use, from the size of the work and the cores actually free.

torch starts one intra-op thread per core. When another process keeps a core busy, a
two-thread solve waits on the descheduled thread at every parallel region: on this 2-core
machine the native solver at 64x64 went from 1.7 to 17-32 ms per vector (BENCHMARKS.md,
`scripts/bench_threads.py`), while one thread stayed at 2.5 ms. So spicenn measures the load
that *other* processes put on the cores (Linux /proc/stat, less this process's own CPU time)
and uses only the free ones; small work gets one thread (thread start-up would cost more than
it saves), and so does every worker process and Dask task (their parents already fill the
cores). `SPICENN_THREADS=N`, `spicenn --threads N` or `set_threads(N)` fix the count.
"""

from __future__ import annotations

import contextlib
import math
import os
import time
from collections.abc import Iterator

from .errors import InputError

ENVIRONMENT = "SPICENN_THREADS"
# elements (cells x vectors) below which one thread is used: a 16x16 tile's batch of 64
PARALLEL_WORK = 2**14
# a core another process keeps more busy than this counts as taken (oversubscribing costs
# ~10x, leaving a core idle at most ~1.6x on this machine)
TAKEN_FRACTION = 0.3
SAMPLE_SECONDS = 0.05  # the first look at the load (later ones use the time since the last)
STALE_SECONDS = 5.0  # a window longer than this is looked at afresh
REUSE_SECONDS = 0.5  # a measurement younger than this is reused

_fixed: int | None = None
_worker = False
_last: tuple[float, float, float] | None = None  # (wall, busy seconds of all cores, own CPU seconds)
_measured: tuple[float, int] | None = None  # (wall, free cores)


def available_cores() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def set_threads(count: int | None) -> None:
    """Fix the thread count for this process (None: choose it from the work and the load)."""
    global _fixed
    if count is not None and (isinstance(count, bool) or int(count) != count or count < 1):
        raise InputError(f"threads must be a whole number >= 1, got {count!r}")
    _fixed = None if count is None else int(count)


def mark_worker() -> None:
    """This process is one of several workers: one thread each."""
    global _worker
    _worker = True


def _fixed_count() -> int | None:
    if _fixed is not None:
        return _fixed
    text = os.environ.get(ENVIRONMENT, "").strip()
    if not text:
        return None
    try:
        count = int(text)
    except ValueError:
        raise InputError(f"{ENVIRONMENT} must be a whole number >= 1, got {text!r}") from None
    if count < 1:
        raise InputError(f"{ENVIRONMENT} must be a whole number >= 1, got {text!r}")
    return count


def _snapshot() -> tuple[float, float, float] | None:
    try:
        with open("/proc/stat") as stat:
            fields = [int(x) for x in stat.readline().split()[1:9]]
    except (OSError, ValueError):
        return None
    idle = fields[3] + fields[4]  # idle, iowait
    ticks = os.sysconf("SC_CLK_TCK")
    return time.monotonic(), (sum(fields) - idle) / ticks, time.process_time()


def free_cores() -> int:
    """Cores that other processes leave free (all of them where the load cannot be read)."""
    global _last, _measured
    cores = available_cores()
    now = time.monotonic()
    if _measured is not None and now - _measured[0] < REUSE_SECONDS:
        return _measured[1]
    if _last is None or now - _last[0] > STALE_SECONDS:
        _last = _snapshot()
        if _last is None:
            return cores
        time.sleep(SAMPLE_SECONDS)
    current = _snapshot()
    if current is None or _last is None:
        return cores
    wall = current[0] - _last[0]
    others = max(0.0, (current[1] - _last[1]) - (current[2] - _last[2])) / max(wall, 1e-9)
    _last = current
    taken = math.floor(others + (1.0 - TAKEN_FRACTION))
    free = max(1, min(cores, cores - taken))
    _measured = (current[0], free)
    return free


def threads_for(work: int) -> int:
    """The thread count for `work` elements (cells x vectors) now."""
    fixed = _fixed_count()
    if fixed is not None:
        return fixed
    if _worker or work < PARALLEL_WORK:
        return 1
    return free_cores()


def fit_threads(work: int) -> int:
    """Set torch's thread count for `work` (until the next call) and return it."""
    import torch

    count = threads_for(work)
    if torch.get_num_threads() != count:
        torch.set_num_threads(count)
    return count


@contextlib.contextmanager
def fitted_threads(work: int) -> Iterator[int]:
    """torch's thread count fitted to `work` inside the block, restored after it."""
    import torch

    before = torch.get_num_threads()
    try:
        yield fit_threads(work)
    finally:
        if torch.get_num_threads() != before:
            torch.set_num_threads(before)
