"""The one way tests run the command line.

`run_cli` runs `spicenn ...` inside the test process (no interpreter or torch start-up per
call); `run_cli_process` starts a real process, for the tests where the process boundary is
the thing tested: signals, exit statuses set by the interpreter, worker processes, ngspice's
start-up files, an environment without torch. Both return (returncode, stdout, stderr).
"""

from __future__ import annotations

import contextlib
import io
import os
import signal
import subprocess
import sys
import traceback
import warnings
from dataclasses import dataclass


@dataclass
class Completed:
    returncode: int
    stdout: str
    stderr: str


def run_cli(*args, env=None, cwd=None) -> Completed:
    from spicenn.cli import main

    out, err = io.StringIO(), io.StringIO()
    saved_env = {key: os.environ.get(key) for key in (env or {})}
    saved_cwd, saved_handler, saved_show = os.getcwd(), signal.getsignal(signal.SIGTERM), warnings.showwarning
    code = 0
    try:
        os.environ.update({key: str(value) for key, value in (env or {}).items()})
        if cwd is not None:
            os.chdir(cwd)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), warnings.catch_warnings():
            warnings.simplefilter("default")
            try:
                main([str(a) for a in args])
            except SystemExit as done:
                code = done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
            except Exception:  # what a real process would print as a traceback, exit status 1
                err.write(traceback.format_exc())
                code = 1
    finally:
        os.chdir(saved_cwd)
        signal.signal(signal.SIGTERM, saved_handler)
        warnings.showwarning = saved_show
        for key, value in saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        from spicenn import threads

        threads.set_threads(None)  # --threads is per command
    return Completed(code, out.getvalue(), err.getvalue())


def run_cli_process(*args, env=None, cwd=None, timeout=600) -> Completed:
    environment = {**os.environ, **(env or {})}
    done = subprocess.run([sys.executable, "-m", "spicenn.cli", *map(str, args)], capture_output=True, text=True,
                          env=environment, cwd=cwd, timeout=timeout)
    return Completed(done.returncode, done.stdout, done.stderr)
