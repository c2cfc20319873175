"""Every command against every class of bad input: one line on stderr, the documented exit
status, no traceback, and nothing left behind in the folder it was run in.

Run in process through `spicenn.cli.main` (a traceback would surface here as the exception
itself); the folder's listing before and after shows what a refused command left behind.
"""

from __future__ import annotations

import os
from pathlib import Path

import h5py
import numpy as np
import pytest
import torch

from spicenn.cli import main
from spicenn.shipped import surrogate as shipped_surrogate

G, V = "G.npy", "V.npy"
INJECTION = "x\n.control\nshell touch pwned\n.endc"


@pytest.fixture
def folder(tmp_path, monkeypatch, rng):
    """A working folder with good inputs and one file of each bad kind."""
    monkeypatch.chdir(tmp_path)
    np.save(G, rng.uniform(1e-6, 1e-4, (4, 3)))
    np.save(V, rng.uniform(0, 0.5, (2, 4)))
    np.save("V32.npy", rng.uniform(0, 0.5, (2, 32)))
    np.save("G32.npy", rng.uniform(1e-3, 3e-3, (32, 32)))
    Path("empty.npy").write_bytes(b"")
    Path("truncated.npy").write_bytes(Path(G).read_bytes()[:90])
    np.save("nan.npy", np.full((4, 3), np.nan))
    np.save("text.npy", np.array(["a", "b"]))
    Path("corrupt.npz").write_bytes(b"PK\x03\x04 not a zip")
    Path("notes.txt").write_text("not a folder\n")
    Path("a_folder").mkdir()
    Path("bad.toml").write_text("[network\nsizes = 3\n")
    Path("adc1000.toml").write_text("[peripherals]\nadc_bits = 1000\n")
    Path("empty.pt").write_bytes(b"")
    torch.save({"config": {"rows": 3000, "columns": 3000}, "state_dict": {}}, "huge.pt")
    saved = torch.load(shipped_surrogate("powerlaw32"), weights_only=True)
    saved["state_dict"] = {key: torch.full_like(value, float("nan")) if value.is_floating_point() else value
                           for key, value in saved["state_dict"].items()}
    torch.save(saved, "nan_scales.pt")
    with h5py.File("nospec.h5", "w") as h5:
        h5["currents"] = np.zeros((1, 1, 1))
    Path("run_is_file").write_text("x")
    Path("runs_no_config").mkdir()
    from spicenn.shipped import example

    for name, content in (("corrupt_best", b"\x80\x04 not a checkpoint"), ("pickle_best", None)):
        Path(name).mkdir()
        Path(name, "config.toml").write_text(example("mnist-powerlaw-high").read_text())
        if content is None:  # a pickle that would run code if unpickled
            import pickle

            content = pickle.dumps(os.system)
        Path(name, "best.pt").write_bytes(content)
    Path("corrupt_metrics").mkdir()
    Path("corrupt_metrics", "metrics.csv").write_text("epoch,validation_median\n1,\n")
    return tmp_path


SIM = ["-g", G, "-v", V]
CASES = {
    # paths to write
    "simulate: --out is a folder": (["simulate", *SIM, "-o", "a_folder"], 2, "is a folder"),
    "simulate: --out in a missing folder": (["simulate", *SIM, "-o", "nowhere/r.npz"], 2, "does not exist"),
    "simulate: --out under a file": (["simulate", *SIM, "-o", "notes.txt/r.npz"], 2, "is not a folder"),
    "netlist: --out is a folder": (["netlist", *SIM, "-o", "a_folder"], 2, "is a folder"),
    "energy: --plot is a folder": (["energy", *SIM, "--plot", "a_folder"], 2, "is a folder"),
    "energy: --plot in a missing folder": (["energy", *SIM, "--plot", "nowhere/e.png"], 2, "does not exist"),
    "devices: --lib is a folder": (["devices", "--lib", "a_folder"], 2, "is a folder"),
    "train: --run is a file": (["train", "-c", "mnist-powerlaw-high", "-r", "run_is_file"], 2, "is a file"),
    "reproduce: --out is a file": (["reproduce", "kim2019", "--quick", "-o", "notes.txt"], 2, "is a file"),
    "surrogate validate: --plots is a file": (["surrogate", "validate", "-M", "powerlaw32", "-D", "nospec.h5",
                                               "--plots", "notes.txt"], 2, "is a file"),
    "analyze: --plots is a file": (["analyze", "-m", "x.py:Net", "--plots", "notes.txt"], 2, "is a file"),
    # files to read: missing, empty, truncated, corrupt, wrong kind, non-finite
    "simulate: missing conductances": (["simulate", "-g", "missing.npy", "-v", V, "-o", "r.npz"], 1, "does not exist"),
    "simulate: empty .npy": (["simulate", "-g", "empty.npy", "-v", V, "-o", "r.npz"], 1, "is empty"),
    "simulate: truncated .npy": (["simulate", "-g", "truncated.npy", "-v", V, "-o", "r.npz"], 1, "not a numeric"),
    "simulate: corrupt .npz": (["simulate", "-g", "corrupt.npz", "-v", V, "-o", "r.npz"], 1, "not a numeric"),
    "simulate: text array": (["simulate", "-g", "text.npy", "-v", V, "-o", "r.npz"], 1, "not numbers"),
    "simulate: NaN conductances": (["simulate", "-g", "nan.npy", "-v", V, "-o", "r.npz"], 1, "NaN"),
    "simulate: a folder as input": (["simulate", "-g", "a_folder", "-v", V, "-o", "r.npz"], 1, "is a folder"),
    "energy: --config is a folder": (["energy", *SIM, "--config", "a_folder"], 1, "is a folder"),
    "energy: --config not TOML": (["energy", *SIM, "--config", "bad.toml"], 1, "not valid TOML"),
    "train: config not TOML": (["train", "-c", "bad.toml"], 1, "not valid TOML"),
    "train: unknown shipped config": (["train", "-c", "no-such-config"], 1, "no shipped configuration"),
    "evaluate: a corrupt best.pt": (["evaluate", "-r", "corrupt_best", "-b", "ideal", "--n", "5"], 1,
                                    "not a readable checkpoint"),
    "evaluate: a pickle as best.pt": (["evaluate", "-r", "pickle_best", "-b", "ideal", "--n", "5"], 1,
                                      "not a readable checkpoint"),
    "evaluate: not a run folder": (["evaluate", "-r", "runs_no_config", "-b", "ideal"], 1, "not a run folder"),
    "surrogate predict: empty model": (["surrogate", "predict", "-M", "empty.pt", *SIM, "-o", "p.npz"], 1,
                                       "not a spicenn surrogate"),
    "surrogate predict: huge tile": (["surrogate", "predict", "-M", "huge.pt", *SIM, "-o", "p.npz"], 1,
                                     "at most 1024"),
    "surrogate predict: NaN parameters": (["surrogate", "predict", "-M", "nan_scales.pt", "-g", "G32.npy", "-v",
                                           "V32.npy", "-o", "p.npz"], 1, "not a finite tensor"),
    "surrogate predict: unknown shipped name": (["surrogate", "predict", "-M", "powerlaw99", *SIM, "-o", "p.npz"], 1,
                                                "no shipped surrogate"),
    "surrogate train: dataset without spec": (["surrogate", "train", "-D", "nospec.h5", "-o", "m.pt"], 1,
                                              "no spec attribute"),
    "surrogate train: dataset not HDF5": (["surrogate", "train", "-D", "notes.txt", "-o", "m.pt"], 1,
                                          "not a spicenn HDF5"),
    # values and options
    "energy: options without effect": (["energy", *SIM, "--c-word", "1e-15"], 1, "only with --transient"),
    "energy: a transient read of millions of steps": (["energy", *SIM, "--transient", "--t-read", "1e-15"], 1,
                                                     "time steps"),
    "simulate: negative wire resistance": (["simulate", *SIM, "--r-word", "-1", "-o", "r.npz"], 2, "--r-word"),
    "simulate: unknown device": (["simulate", *SIM, "-d", "unobtainium", "-o", "r.npz"], 1, "unknown device"),
    "surrogate dataset: unknown device": (["surrogate", "dataset", "-m", "4", "-n", "4", "-d", "nope", "--cases", "2",
                                           "-o", "d.h5"], 1, "unknown device"),
    "energy: a 1000-bit ADC": (["energy", *SIM, "--config", "adc1000.toml"], 1, "adc_bits must be"),
    # free text that could reach a netlist or a file name is a checked name, never passed on
    "simulate: a device name carrying commands": (["simulate", *SIM, "-d", INJECTION, "-o", "r.npz"], 1,
                                                   "unknown device"),
    "simulate: a parameter carrying commands": (["simulate", *SIM, "-d", "sinh", "-p", f"k={INJECTION}",
                                                 "-o", "r.npz"], 1, "k"),
    "network-energy: an activation carrying commands": (["network-energy", "-n", "G.npy", "-x", V, "--activation",
                                                        INJECTION], 1, "activation"),
    "evaluate: a backend carrying commands": (["evaluate", "-r", "runs_no_config", "-b", INJECTION], 1, ""),
    "surrogate dataset: tile too large": (["surrogate", "dataset", "-m", "5000", "-n", "4", "--cases", "2",
                                           "-o", "d.h5"], 1, "at most 1024"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input_is_one_line_and_leaves_nothing(case, folder, capsys):
    refused_in_one_line(*CASES[case], folder, capsys)


def refused_in_one_line(argv, status, fragment, folder, capsys):
    """`spicenn argv` exits with `status`, one `error:` line holding `fragment`, no traceback,
    and the folder as it was (the table-driven tests of both rounds share it)."""
    before = sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))
    with pytest.raises(SystemExit) as exited:
        main(argv)
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert exited.value.code == status, captured.err
    assert len(lines) == 1 and lines[0].startswith("error: "), captured.err
    assert fragment in lines[0], lines[0]
    assert "Traceback" not in captured.err + captured.out
    after = sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))
    assert after == before, f"left behind: {sorted(set(after) - set(before))}"
    assert not (folder / "pwned").exists()


def test_a_preset_far_outside_its_fitted_range_is_said_once(folder, capsys):
    from spicenn.crossbar import spec

    spec._warned_outside_fit.clear()
    np.save("Gfar.npy", np.full((4, 3), 1e-4))  # poole-frenkel-high is fitted over ~0.5-2.6 uS
    main(["simulate", "-g", "Gfar.npy", "-v", V, "-d", "poole-frenkel-high", "-o", "r.npz"])
    main(["simulate", "-g", "Gfar.npy", "-v", V, "-d", "poole-frenkel-high", "-o", "r.npz"])
    warned = [line for line in capsys.readouterr().err.splitlines() if line.startswith("warning: ")]
    assert len(warned) == 1 and "outside the range poole-frenkel was fitted over" in warned[0]


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write anywhere")
def test_an_unwritable_folder_is_refused_before_work(folder, capsys):
    Path("locked").mkdir(mode=0o500)
    with pytest.raises(SystemExit) as exited:
        main(["simulate", *SIM, "-o", "locked/r.npz"])
    assert exited.value.code == 2 and "cannot write" in capsys.readouterr().err


def test_a_refused_dataset_leaves_nothing_that_blocks_the_corrected_rerun(folder, capsys):
    with pytest.raises(SystemExit):
        main(["surrogate", "dataset", "-m", "3", "-n", "3", "-d", "nope", "--cases", "2", "-o", "d.h5"])
    capsys.readouterr()
    assert not Path("d.h5.parts").exists() and not Path("d.h5").exists()
    # an earlier, abandoned job's spec with no finished part does not block the corrected command
    Path("d.h5.parts").mkdir()
    Path("d.h5.parts/spec.json").write_text('{"rows": 9, "columns": 9}')
    main(["surrogate", "dataset", "-m", "3", "-n", "3", "-d", "linear", "--cases", "2", "--vectors", "2",
          "-e", "native", "-o", "d.h5"])
    assert Path("d.h5").exists() and not Path("d.h5.parts").exists()


def test_a_damaged_part_is_found_before_new_work_and_redone(folder):
    from spicenn.surrogate import dataset
    from spicenn.surrogate.sampling import DatasetSpec

    spec = DatasetSpec(rows=3, columns=3, cases=4, vectors=2, engine="native")
    parts = Path("d.h5.parts")
    parts.mkdir()
    (parts / "spec.json").write_text(spec.to_json())
    whole = dataset.simulate_cases(spec.to_json(), 0, 2)
    np.savez(parts / "cases_000000000_000000002.npz", **whole)
    (parts / "cases_000000002_000000004.npz").write_bytes(b"PK\x03\x04 truncated")
    assert dataset._stored_parts(parts, spec) == [(0, 2)]
    assert not (parts / "cases_000000002_000000004.npz").exists()
    out = dataset.generate(spec, "d.h5", cases_per_task=2, progress=False)
    _, arrays = dataset.load(out)
    assert np.isfinite(arrays["currents"]).all() and arrays["currents"].shape == (4, 2, 3)


def test_a_dataset_with_a_nan_current_is_refused_on_load(folder):
    from spicenn.errors import InputError
    from spicenn.surrogate import dataset
    from spicenn.surrogate.sampling import DatasetSpec

    spec = DatasetSpec(rows=3, columns=3, cases=2, vectors=2, engine="native")
    out = dataset.generate(spec, "d.h5", cases_per_task=2, progress=False)
    with h5py.File(out, "r+") as h5:
        h5["currents"][0, 1, 2] = np.nan
    with pytest.raises(InputError, match=r"'currents' holds NaN or inf \(first at index \[0, 1, 2\]\)"):
        dataset.load(out)


def _children(pid: int) -> list[int]:
    """Live child processes of `pid`, from /proc (zombies are dead)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                status = (entry / "status").read_text()
            except OSError:
                continue
            fields = dict(line.split(":\t", 1) for line in status.splitlines() if ":\t" in line)
            if fields.get("PPid", "").strip() == str(pid) and not fields.get("State", "").startswith("Z"):
                found.append(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        return not (Path(f"/proc/{pid}/status").read_text().split("State:\t")[1].startswith("Z"))
    except (OSError, IndexError):
        return False


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads /proc")
@pytest.mark.parametrize("signal_name", ["SIGTERM", "SIGKILL"])
def test_workers_do_not_outlive_a_killed_dataset_job(signal_name, tmp_path):
    import signal
    import subprocess
    import sys
    import time

    job = subprocess.Popen([sys.executable, "-m", "spicenn.cli", "surrogate", "dataset", "-m", "8", "-n", "8",
                            "--cases", "4000", "--cases-per-task", "2", "-j", "2", "-o", str(tmp_path / "d.h5")],
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and not list((tmp_path / "d.h5.parts").glob("cases_*.npz")):
            time.sleep(0.2)
        workers = _children(job.pid)
        assert len(workers) >= 2, "the job's workers did not start"
        job.send_signal(getattr(signal, signal_name))
        job.wait(timeout=30)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and any(_alive(pid) for pid in workers):
            time.sleep(0.2)
        assert not any(_alive(pid) for pid in workers), "worker processes outlived their parent"
        if signal_name == "SIGTERM":
            assert job.returncode == 143
            assert job.stderr.read().strip().splitlines()[-1] == "error: terminated"
        # finished parts stay for the rerun; no half-written part is among them
        parts = sorted((tmp_path / "d.h5.parts").glob("cases_*.npz"))
        assert parts and all(np.load(p)["currents"].shape == (2, 16, 8) for p in parts)
    finally:
        if job.poll() is None:
            job.kill()


def test_a_corrupt_metrics_file_is_named(folder):
    from spicenn.errors import InputError
    from spicenn.nn.training import best_epoch

    with pytest.raises(InputError, match=r"corrupt_metrics/metrics\.csv is not a spicenn metrics file"):
        best_epoch("corrupt_metrics")


@pytest.mark.parametrize("engine", ["shared", "subprocess"])
def test_a_run_over_the_time_limit_is_stopped_and_the_engine_still_works(engine, rng):
    import time

    import spicenn
    from spicenn.errors import SpiceError
    from spicenn.netlist import netlist_text
    from spicenn.spice.engines import SharedEngine, SubprocessEngine

    slow = spicenn.Crossbar(np.full((64, 64), 1e-4), device="sinh", r_word=1.0, r_bit=1.0)
    text = netlist_text(slow, rng.uniform(0, 0.5, (32, 64)))  # seconds in ngspice
    bounded = (SharedEngine if engine == "shared" else SubprocessEngine)(timeout=0.2)
    started = time.perf_counter()
    with pytest.raises(SpiceError, match=r"did not finish within 0\.2 s"):
        bounded.run(text)
    assert time.perf_counter() - started < 5
    g, v = rng.uniform(1e-6, 1e-4, (3, 2)), rng.uniform(0, 0.5, (2, 3))
    result = spicenn.simulate(spicenn.Crossbar(g), v, engine=engine)
    np.testing.assert_allclose(result.currents, v @ g, rtol=1e-9)
