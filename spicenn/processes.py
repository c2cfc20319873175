"""Worker processes that never outlive the command that started them.

Ctrl-C reaches the whole process group, but SIGTERM and SIGKILL reach the parent only: left to
themselves, `ProcessPoolExecutor`'s workers would finish (or keep) their tasks as orphans.
Here a failing or interrupted parent stops its workers at once, and a worker whose parent is
gone (killed with SIGKILL) notices within a second and exits.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from typing import Any, TypeVar

from .errors import InputError

PARENT_POLL_SECONDS = 0.5
T = TypeVar("T")
SCHEDULER_TIMEOUT_SECONDS = 10


def _exit_with_parent(parent: int) -> None:
    """Worker initializer: exit when the parent process is gone; one torch thread (the
    parent starts a worker per core)."""
    from .threads import mark_worker

    mark_worker()
    try:  # Linux: the kernel sends SIGTERM to this worker when its parent dies
        import ctypes
        import signal

        ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGTERM))  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass

    def watch() -> None:  # elsewhere (and as a second guard): the parent changes to init
        while os.getppid() == parent:
            time.sleep(PARENT_POLL_SECONDS)
        os._exit(1)

    threading.Thread(target=watch, daemon=True).start()
    if os.getppid() != parent:  # the parent died before the watch began
        os._exit(1)


@contextlib.contextmanager
def worker_pool(workers: int) -> Iterator[ProcessPoolExecutor]:
    """A spawn-context pool (each worker loads its own ngspice: the shared library keeps global
    state) whose workers stop when the block fails, is interrupted, or the parent dies."""
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn"),
                               initializer=_exit_with_parent, initargs=(os.getpid(),))
    try:
        yield pool
    except BaseException:
        # the pool's own shutdown would wait for the running tasks: stop them instead
        processes = list((getattr(pool, "_processes", None) or {}).values())
        pool.shutdown(wait=False, cancel_futures=True)
        for process in processes:
            process.terminate()
        for process in processes:
            process.join(timeout=5)
        raise
    pool.shutdown(wait=True)


def run_as_worker(submitter: int, function: Callable[..., T], *args: Any) -> T:
    """A cluster task: `function(*args)` with one torch thread when it runs in another process
    than the one that submitted it (`submitter`, its pid): a Dask worker runs a task per core."""
    if os.getpid() != submitter:
        from .threads import mark_worker

        mark_worker()
    return function(*args)


@contextlib.contextmanager
def dask_client(scheduler: str) -> Iterator[Any]:
    """A client of the Dask scheduler at `scheduler` (e.g. "tcp://host:8786"), or one clear
    error when it cannot be reached."""
    from distributed import Client

    try:
        client = Client(scheduler, timeout=SCHEDULER_TIMEOUT_SECONDS)
    except (OSError, TimeoutError, ValueError) as error:
        raise InputError(f"cannot reach the Dask scheduler at {scheduler!r}: {error}") from None
    with client:
        yield client
