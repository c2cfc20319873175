"""The command line: the contract for people and scripts, and every bad input as one line."""

import subprocess

import numpy as np
import pytest
from clirun import run_cli, run_cli_process

from spicenn.crossbar import Crossbar
from spicenn.devices import get_device


@pytest.fixture
def inputs(tmp_path, rng):
    g = rng.uniform(1e-6, 1e-4, (6, 4))
    v = rng.uniform(0, 0.5, (3, 6))
    np.save(tmp_path / "G.npy", g)
    np.save(tmp_path / "V.npy", v)
    return tmp_path, g, v


def test_simulate_writes_the_documented_arrays(inputs):
    folder, g, v = inputs
    done = run_cli("simulate", "-g", folder / "G.npy", "-v", folder / "V.npy", "--device", "sinh", "--param", "k=2.5",
                   "--r-word", "1", "--r-bit", "1.5", "--out", folder / "r.npz")
    assert done.returncode == 0, done.stderr
    with np.load(folder / "r.npz") as result:
        assert result["currents"].shape == (3, 4)
        for key in ("power", "device_power", "word_line_power", "bit_line_power"):
            assert result[key].shape == (3,)
        from spicenn.solvers import simulate
        expected = simulate(Crossbar(g, get_device("sinh", k=2.5), r_word=1, r_bit=1.5), v)
        np.testing.assert_allclose(result["currents"], expected.currents, rtol=1e-12)


def test_one_dimensional_voltages_are_one_vector(inputs):
    folder, g, v = inputs
    np.save(folder / "v1.npy", v[0])
    done = run_cli("simulate", "-g", folder / "G.npy", "-v", folder / "v1.npy", "--engine", "subprocess",
                   "--out", folder / "r.npz")
    assert done.returncode == 0, done.stderr
    with np.load(folder / "r.npz") as result:
        np.testing.assert_allclose(result["currents"], v[:1] @ g, rtol=1e-9)


def test_netlist_runs_on_its_own_in_ngspice(inputs):
    folder, _g, _v = inputs
    done = run_cli("netlist", "-g", folder / "G.npy", "-v", folder / "V.npy", "-d", "poole-frenkel-high",
                   "--r-word", "2", "--r-bit", "2", "--out", folder / "x.cir")
    assert done.returncode == 0, done.stderr
    ran = subprocess.run(["ngspice", "-b", str(folder / "x.cir")], capture_output=True, text=True, timeout=120)
    assert ran.returncode == 0 and "error" not in ran.stdout.lower()


def test_doctor_reports_version_and_klu():
    done = run_cli("doctor")
    assert done.returncode == 0, done.stderr
    assert "ngspice-" in done.stdout and "KLU" in done.stdout and "PySpice" in done.stdout


def test_doctor_fails_when_the_default_engine_cannot_load():
    """A fresh process whose shared library is missing: the default engine is unusable, so
    doctor says so and exits 1 (it used to exit 0)."""
    done = run_cli_process("doctor", env={"NGSPICE_LIBRARY_PATH": "/nonexistent/libngspice.so"})
    assert done.returncode == 1
    assert "shared library" in done.stdout and "NOT USABLE" in done.stdout and "default engine" in done.stdout


def _bad(folder, name, array):
    np.save(folder / name, array)
    return folder / name


BAD_INPUTS = {
    "missing conductances": (lambda f: ["-g", f / "nope.npy"], "does not exist"),
    "conductances not numeric": (lambda f: ["-g", _write(f / "t.npy", b"hello")], "not a numeric"),
    "conductances 1-D": (lambda f: ["-g", _bad(f, "g1.npy", np.ones(3) * 1e-4)], "must be 2-D"),
    "conductances NaN": (lambda f: ["-g", _bad(f, "gn.npy", np.full((6, 4), np.nan))], "non-finite"),
    "conductances inf": (lambda f: ["-g", _bad(f, "gi.npy", np.full((6, 4), np.inf))], "non-finite"),
    "conductances negative": (lambda f: ["-g", _bad(f, "gneg.npy", -np.ones((6, 4)))], "must be > 0"),
    "conductances empty": (lambda f: ["-g", _bad(f, "ge.npy", np.ones((0, 4)))], "empty"),
    "conductances in microsiemens": (lambda f: ["-g", _bad(f, "gu.npy", np.full((6, 4), 50.0))], "<= 1 S"),
    "voltages wrong width": (lambda f: ["-v", _bad(f, "vw.npy", np.ones((2, 5)) * 0.1)], "6 rows"),
    "voltages NaN": (lambda f: ["-v", _bad(f, "vn.npy", np.full((2, 6), np.nan))], "non-finite"),
    "voltages 3-D": (lambda f: ["-v", _bad(f, "v3.npy", np.zeros((2, 6, 1)))], "1-D or 2-D"),
    "voltages huge": (lambda f: ["-v", _bad(f, "vh.npy", np.full((2, 6), 1e4))], "within"),
    "sinh overflow": (lambda f: ["-v", _bad(f, "vo.npy", np.full((2, 6), 99.0)), "-d", "sinh", "-p", "k=50"],
                      "overflows"),
    "unknown device": (lambda f: ["-d", "memristor9000"], "unknown device"),
    "unknown parameter": (lambda f: ["-d", "sinh", "-p", "q=1"], "no parameter 'q'"),
    "parameter not a number": (lambda f: ["-d", "sinh", "-p", "k=three"], "must be a number"),
    "parameter without value": (lambda f: ["-d", "sinh", "-p", "k"], "KEY=VALUE"),
    "negative resistance": (lambda f: ["--r-word", "-1"], "'--r-word': must be >= 0"),
    "resistance not a number": (lambda f: ["--r-bit", "1ohm"], "'--r-bit': must be a number"),
    "resistance nan": (lambda f: ["--r-bit", "nan"], "'--r-bit': must be finite"),
    "unknown engine": (lambda f: ["--engine", "hspice"], "hspice"),
    "missing ngspice": (lambda f: ["--engine", "subprocess"], "ngspice is not installed"),
    "missing shared library": (lambda f: ["--engine", "shared"], "does not exist"),
}
ENV = {"missing ngspice": {"SPICENN_NGSPICE": "/nonexistent/ngspice"},
       "missing shared library": {"NGSPICE_LIBRARY_PATH": "/nonexistent/libngspice.so"}}


def _write(path, data):
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_input_is_one_line_and_non_zero(case, inputs):
    folder, _, _ = inputs
    extra, message = BAD_INPUTS[case]
    args = {"-g": folder / "G.npy", "-v": folder / "V.npy", "--out": folder / "r.npz"}
    overrides = extra(folder)
    pairs = list(zip(overrides[::2], overrides[1::2]))
    for key, value in pairs:
        args[key] = value
    argv = ["simulate"] + [item for pair in args.items() for item in pair]
    # a missing ngspice is found when a process starts (the engines are made once per process)
    done = run_cli_process(*argv, env=ENV[case]) if case in ENV else run_cli(*argv)
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "Traceback" not in done.stderr
    assert message in lines[0], lines[0]
    assert not (folder / "r.npz").exists()


@pytest.mark.parametrize("payload", [
    "1\n.control\nshell touch INJECTED\n.endc",
    "3 ; shell touch INJECTED",
    "3}\n.control",
])
def test_nothing_a_user_passes_reaches_the_netlist_as_text(payload, inputs):
    folder, _, _ = inputs
    for argv in (["-p", f"k={payload}"], ["-p", f"{payload}=1"], ["--r-word", payload], ["-d", payload]):
        done = run_cli("netlist", "-g", folder / "G.npy", "-v", folder / "V.npy", "-d", "sinh", *argv,
                       "--out", folder / "x.cir", cwd=folder)
        assert done.returncode != 0
        assert len(done.stderr.strip().splitlines()) == 1
        assert not (folder / "x.cir").exists() and not (folder / "INJECTED").exists()


def test_devices_lists_models_and_presets():
    done = run_cli("devices")
    assert done.returncode == 0
    for name in ("linear", "sinh", "powerlaw", "poole-frenkel", "poole-frenkel-high"):
        assert name in done.stdout


def test_simulate_with_the_native_engine_verified_against_ngspice(inputs):
    folder, _, _ = inputs
    done = run_cli("simulate", "-g", folder / "G.npy", "-v", folder / "V.npy", "-d", "sinh", "--r-word", "1",
                   "--r-bit", "1", "--engine", "native", "--verify", "2", "--out", folder / "native.npz")
    assert done.returncode == 0, done.stderr
    spice = run_cli("simulate", "-g", folder / "G.npy", "-v", folder / "V.npy", "-d", "sinh", "--r-word", "1",
                    "--r-bit", "1", "--out", folder / "spice.npz")
    assert spice.returncode == 0, spice.stderr
    with np.load(folder / "native.npz") as a, np.load(folder / "spice.npz") as b:
        np.testing.assert_allclose(a["currents"], b["currents"], rtol=1e-9)
    for args, message in [(("--verify", "2"), "needs --engine native"),
                          (("--engine", "native", "--verify", "-1"), "whole number")]:
        failed = run_cli("simulate", "-g", folder / "G.npy", "-v", folder / "V.npy", "--out", folder / "x.npz", *args)
        assert failed.returncode != 0 and message in failed.stderr and len(failed.stderr.strip().splitlines()) == 1
    failed = run_cli("energy", "-g", folder / "G.npy", "-v", folder / "V.npy", "--engine", "native", "--transient")
    assert failed.returncode != 0 and "needs an ngspice engine" in failed.stderr
