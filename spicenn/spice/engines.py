"""Two ways to run a netlist, one interface: `engine.run(text) -> {vector name: values}`.

* `SharedEngine` — ngspice's shared library through PySpice, in this process: no process
  start, no file round trip; the vectors are read straight from ngspice's memory.
* `SubprocessEngine` — `ngspice -b -r out.raw` in a child process: isolation from crashes.

Vector names are normalised: node voltages by node name, branch currents as `name#branch`.
"""

from __future__ import annotations

import contextlib
import logging
import os
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from ..checks import check_netlist
from ..errors import SpiceError, SpiceNotFoundError
from .ngspice import library_path, parse_version, program
from .raw import read_raw


class Engine(Protocol):
    name: str
    version: int
    klu: bool

    def run(self, netlist: str, accounting: bool = False, includes: tuple[str, ...] = ()) -> dict[str, np.ndarray]: ...


def _error_lines(lines: list[str]) -> list[str]:
    keys = ("error", "singular", "no convergence", "timestep too small", "aborted", "fatal")
    return [line.strip() for line in lines if any(key in line.lower() for key in keys)]


class SubprocessEngine:
    """`ngspice -b` in a child process per run."""

    name = "subprocess"
    summary = "`ngspice -b` in a child process"

    def __init__(self, timeout: float | None = None):
        """`timeout`: seconds before a run is stopped with a SpiceError (default TIME_LIMIT)."""
        found = program()
        self.path, self.version, self.klu = found.path, found.version, found.klu
        self.timeout = TIME_LIMIT if timeout is None else timeout

    def run(self, netlist: str, accounting: bool = False, includes: tuple[str, ...] = ()) -> dict[str, np.ndarray]:
        """`accounting`: ngspice -b prints its `.options acct` statistics by itself; `includes`:
        files the netlist may `.include` (`checks.check_netlist`)."""
        with tempfile.TemporaryDirectory(prefix="spicenn-") as folder:
            circuit, raw = Path(folder) / "circuit.cir", Path(folder) / "out.raw"
            circuit.write_text(check_netlist(netlist, includes))
            started = time.perf_counter()
            try:
                # -n: no .spiceinit, neither the current folder's nor the user's
                done = subprocess.run([self.path, "-b", "-n", "-r", str(raw), str(circuit)], capture_output=True,
                                      text=True, timeout=self.timeout, stdin=subprocess.DEVNULL, cwd=folder)
            except subprocess.TimeoutExpired:
                raise SpiceError(f"ngspice did not finish within {self.timeout:g} s") from None
            output = (done.stdout + done.stderr).splitlines()
            if done.returncode != 0 or not raw.exists():
                problems = _error_lines(output) or output[-3:]
                raise SpiceError("ngspice failed: " + " | ".join(problems[:3]))
            solved = time.perf_counter()
            vectors = read_raw(raw)
        self.last_timing = {"run": solved - started, "transfer": time.perf_counter() - solved}
        self.last_output = output
        return vectors


# seconds: no single ngspice run spicenn starts may take longer (its benchmarks' runs stay
# under a minute); both engines stop a run there with a SpiceError
TIME_LIMIT = 1800.0
# set by ngspice's background thread when a run ends (`bg_run`, the shared engine's way to
# bound a run: the foreground `run` cannot be stopped)
_run_finished = threading.Event()
FOREGROUND_LINES = 400

_shared_lock = threading.Lock()
_shared_instance = None


@contextlib.contextmanager
def _no_local_init() -> Iterator[None]:
    """ngspice's shared library executes `.spiceinit` from the current folder (or, failing
    that, the home folder) when it starts, and has no switch to skip it: start it in an empty
    folder with HOME pointing there, so that running spicenn inside an untrusted data folder
    runs none of that folder's commands."""
    previous_folder, previous_home = os.getcwd(), os.environ.get("HOME")
    with tempfile.TemporaryDirectory(prefix="spicenn-init-") as empty:
        os.chdir(empty)
        os.environ["HOME"] = empty
        try:
            yield
        finally:
            os.chdir(previous_folder)
            if previous_home is None:
                os.environ.pop("HOME", None)
            else:
                os.environ["HOME"] = previous_home


def _pyspice_shared() -> Any:
    """The process's one ngspice shared-library instance (ngspice keeps global state)."""
    global _shared_instance
    if _shared_instance is None:
        # PySpice 1.5 warns "Unsupported Ngspice version" for ngspice > 34 although it works, and
        # logs every ngspice stderr line as an error; spicenn reads ngspice's output itself.
        logging.getLogger("PySpice").setLevel(logging.CRITICAL)
        try:
            from PySpice.Spice.NgSpice.Shared import NgSpiceShared
        except ImportError as error:  # pragma: no cover - PySpice is a dependency
            raise SpiceNotFoundError(f"PySpice is not importable: {error}") from None

        class Shared(NgSpiceShared):
            @staticmethod
            def _background_thread_running(exited: bool, ngspice_id: int, user_data: Any) -> int:
                # ngspice calls this with False when a background run starts and True when it
                # ends (PySpice 1.5's own version returns None where C wants an int)
                if exited:
                    _run_finished.set()
                return 0

        NgSpiceShared.LIBRARY_PATH = library_path()
        try:
            with _no_local_init():
                _shared_instance = Shared.new_instance()
        except OSError as error:
            raise SpiceNotFoundError(f"cannot load the ngspice shared library "
                                     f"{NgSpiceShared.LIBRARY_PATH}: {error}") from None
    return _shared_instance


class SharedEngine:
    """ngspice's shared library, in process, through PySpice."""

    name = "shared"
    summary = "ngspice's shared library in this process (PySpice)"

    def __init__(self, timeout: float | None = None) -> None:
        """`timeout`: seconds before a run is halted with a SpiceError (default TIME_LIMIT)."""
        self.timeout = TIME_LIMIT if timeout is None else timeout
        self._ng = _pyspice_shared()
        from PySpice.Spice.NgSpice.Shared import ffi

        self._ffi = ffi
        self._lib = self._ng._ngspice_shared
        # ngspice's OpenMP threads keep spinning after a run and starve torch's in the same
        # process (small torch ops measured 8-14x slower after one simulation on 2 cores);
        # one thread costs ngspice nothing measurable on these circuits (KLU solves serially)
        self._command("set num_threads=1")
        self.version, self.klu = parse_version(self._command("version -f"))
        self.library = self._ng.library_path

    def _command(self, command: str) -> str:
        self._ng.clear_output()
        rc = self._lib.ngSpice_Command(command.encode("ascii"))
        if rc:
            raise SpiceError(f"ngspice command {command!r} returned {rc}")
        return "\n".join(self._ng._stdout + self._ng._stderr)

    def run(self, netlist: str, accounting: bool = False, includes: tuple[str, ...] = ()) -> dict[str, np.ndarray]:
        """`accounting`: append ngspice's time accounting (`rusage all`) to `last_output`;
        `includes`: files the netlist may `.include` (`checks.check_netlist`)."""
        with _shared_lock:
            started = time.perf_counter()
            ng, ffi = self._ng, self._ffi
            lines = [line for line in check_netlist(netlist, includes).splitlines() if line] + [""]
            keepalive = [ffi.new("char[]", line.encode("utf-8")) for line in lines] + [ffi.NULL]
            ng.clear_output()
            if self._lib.ngSpice_Circ(ffi.new("char *[]", keepalive)):
                errors = _error_lines(ng._stdout + ng._stderr)[:3]
                raise SpiceError("ngspice refused the circuit: " + " | ".join(errors))
            loaded_output = ng._stdout + ng._stderr
            loaded = time.perf_counter()
            problems = _error_lines(loaded_output)
            if problems:
                self._command("remcirc")
                raise SpiceError("ngspice could not parse the circuit: " + " | ".join(problems[:3]))
            try:
                # a small netlist (few devices, few vectors: its cost bounded by the step and
                # iteration limits) runs in the foreground: the background run's thread
                # hand-off costs ~0.6 ms, half of such a run (scripts/bench_shared_bounded.py)
                output = self._command("run") if len(lines) < FOREGROUND_LINES else self._run_bounded()
                problems = _error_lines(output.splitlines())
                plot = ffi.string(self._lib.ngSpice_CurPlot()).decode()
                solved = time.perf_counter()
                if accounting:
                    output += "\n" + self._command("rusage all")
                vectors = {} if problems else self._read_plot(plot)
                self.last_timing = {"load": loaded - started, "run": solved - loaded,
                                    "transfer": time.perf_counter() - solved}
            finally:
                self._command("destroy all")
                self._command("remcirc")
            if problems:
                raise SpiceError("ngspice failed: " + " | ".join(problems[:3]))
            self.last_output = loaded_output + output.splitlines()
            return vectors

    def _run_bounded(self) -> str:
        """`run` in ngspice's background thread, waited for up to `timeout` seconds; halted
        (and waited for, so that nothing reads or frees the circuit under it) when it takes
        longer or the wait is interrupted."""
        self._ng.clear_output()
        _run_finished.clear()
        if self._lib.ngSpice_Command(b"bg_run"):
            raise SpiceError("ngspice refused to start the run")
        try:
            finished = _run_finished.wait(self.timeout)
        except BaseException:
            self._halt()
            raise
        if not finished:
            self._halt()
            raise SpiceError(f"ngspice did not finish within {self.timeout:g} s (halted)")
        return "\n".join(self._ng._stdout + self._ng._stderr)

    def _halt(self) -> None:
        self._lib.ngSpice_Command(b"bg_halt")
        _run_finished.wait(60)

    def _read_plot(self, plot: str) -> dict[str, np.ndarray]:
        ffi, lib = self._ffi, self._lib
        names = lib.ngSpice_AllVecs(plot.encode())
        vectors = {}
        k = 0
        while names[k] != ffi.NULL:
            name = ffi.string(names[k]).decode()
            info = lib.ngGet_Vec_Info(f"{plot}.{name}".encode())
            if info != ffi.NULL and info.v_realdata != ffi.NULL:
                vectors[name.lower()] = np.frombuffer(ffi.buffer(info.v_realdata, info.v_length * 8),
                                                      dtype=np.float64).copy()
            k += 1
        return vectors


ENGINES: dict[str, Callable[[], Engine]] = {"shared": SharedEngine, "subprocess": SubprocessEngine}
_engines: dict[str, Engine] = {}


def get_engine(name: str | Engine = "shared") -> Engine:
    """An engine by name ('shared' or 'subprocess'), created once per process."""
    if not isinstance(name, str):
        return name
    key = name.strip().lower()
    if key not in ENGINES:
        from ..errors import InputError

        raise InputError(f"unknown ngspice engine {name!r}; choose one of: {', '.join(ENGINES)}")
    if key not in _engines:
        _engines[key] = ENGINES[key]()
    return _engines[key]
