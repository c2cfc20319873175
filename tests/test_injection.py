"""No text a user passes runs as ngspice commands, and no `.spiceinit` of the current folder
is executed: each door is tried with a payload that would create a file if it opened."""

import subprocess
import sys

import numpy as np
import pytest

import spicenn
from spicenn.checks import check_netlist, netlist_comment, netlist_identifier
from spicenn.devices import get_device
from spicenn.errors import InputError
from spicenn.netlist import netlist_text
from spicenn.spice.engines import get_engine

PAYLOAD = "\n.control\nshell touch {marker}\n.endc\n"


def _marker(tmp_path):
    return tmp_path / "pwned"


@pytest.mark.parametrize("engine", ["shared", "subprocess"])
def test_a_spiceinit_in_the_current_folder_is_not_executed(engine, tmp_path):
    marker = _marker(tmp_path)
    (tmp_path / ".spiceinit").write_text(f"* a hostile folder\nshell touch {marker}\n")
    script = ("import numpy as np, spicenn\n"
              "xb = spicenn.Crossbar(np.full((2, 2), 1e-4))\n"
              f"print(spicenn.simulate(xb, np.full((1, 2), 0.1), engine={engine!r}).currents[0, 0])\n")
    done = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert float(done.stdout.split()[-1]) == pytest.approx(2e-5, rel=1e-9)  # it did run ngspice
    assert not marker.exists()


@pytest.mark.parametrize("title", ["x" + PAYLOAD, "x\r.control", "a .control block", "run shell ls", "tab\there"])
def test_a_title_cannot_carry_commands(title, tmp_path):
    crossbar = spicenn.Crossbar(np.full((2, 2), 1e-4))
    with pytest.raises(InputError) as refused:
        netlist_text(crossbar, np.full(2, 0.1), title=title.format(marker=_marker(tmp_path)))
    assert "\n" not in str(refused.value)
    assert not _marker(tmp_path).exists()
    # an honest title passes through as the comment it is
    assert netlist_text(crossbar, np.full(2, 0.1), title="sinh, 1 ohm wires: I = V·G").startswith(
        "* sinh, 1 ohm wires: I = V·G\n")


@pytest.mark.parametrize("label", ["a" + PAYLOAD, "1abc", "a b", "a;b", "x" * 65])
def test_a_lib_label_is_a_name(label, tmp_path):
    with pytest.raises(InputError, match="label must be a name"):
        get_device("sinh").lib_subcircuit(label.format(marker=_marker(tmp_path)))
    assert get_device("sinh").lib_subcircuit("poole-frenkel-high").splitlines()[1].startswith(
        ".subckt spicenn_poole_frenkel_high p n")


# Every spelling ngspice 46 accepts for a line that reads a file or opens a control block:
# each payload is first run by plain `ngspice -b` to show it does create the marker file,
# then given to both engines, which must refuse it with its line number and create nothing.
INCLUDED = "* included\n.control\nshell touch {marker}\n.endc\n"
LIBRARY = "* library\n.lib section\n.control\nshell touch {marker}\n.endc\n.endl section\n"
PAYLOADS = {
    "control": ".control\nshell touch {marker}\n.endc",
    "CONTROL": ".CONTROL\nshell touch {marker}\n.ENDC",
    "indented control": "   .control\nshell touch {marker}\n.endc",
    ".inc": ".inc {included}",
    ".incl": ".incl {included}",
    ".inclu": ".inclu {included}",
    ".includ": ".includ {included}",
    ".include": ".include {included}",
    ".INCLUDE quoted": '.INCLUDE "{included}"',
    ".lib": ".lib {library} section",
    ".libr": ".libr {library} section",
}


def _payload_netlist(tmp_path, name):
    marker = _marker(tmp_path)
    (tmp_path / "included.cir").write_text(INCLUDED.format(marker=marker))
    (tmp_path / "library.lib").write_text(LIBRARY.format(marker=marker))
    crossbar = spicenn.Crossbar(np.full((2, 2), 1e-4))
    payload = PAYLOADS[name].format(marker=marker, included=tmp_path / "included.cir", library=tmp_path / "library.lib")
    return netlist_text(crossbar, np.full(2, 0.1)).replace(".end\n", payload + "\n.end\n"), marker


@pytest.mark.parametrize("name", sorted(PAYLOADS))
def test_every_spelling_of_a_file_read_or_control_block_is_refused_by_both_engines(name, tmp_path):
    text, marker = _payload_netlist(tmp_path, name)
    (tmp_path / "payload.cir").write_text(text)
    subprocess.run(["ngspice", "-b", "-n", str(tmp_path / "payload.cir")], cwd=tmp_path, capture_output=True,
                   timeout=60)
    assert marker.exists(), f"{name}: the payload does not run in plain ngspice, so it tests nothing"
    marker.unlink()
    for engine in ("shared", "subprocess"):
        with pytest.raises(InputError, match=r"netlist line \d+ is not a command spicenn writes"):
            get_engine(engine).run(text)
        assert not marker.exists()


def test_the_guards_pass_what_spicenn_writes_and_refuse_the_rest():
    crossbar = spicenn.Crossbar(np.full((3, 2), 1e-4), device="sinh", r_word=1.0, r_bit=1.0)
    text = netlist_text(crossbar, np.full((2, 3), 0.1))
    assert check_netlist(text) == text
    for bad in (".include /etc/passwd", ".lib x.lib tt", "  SHELL rm -rf x", ".exec", "a\x00b", "*# shell ls",
                ".param x=1", "A1 in out model", "R1 a b 1 ; fine", "+ shell ls", ".options klu; shell ls",
                "Bx a 0 V=\\x", ".print dc v(a) ; x"):
        with pytest.raises(InputError):
            check_netlist(text + bad + "\n")
    honest = "plain words, numbers 1e-4 and symbols ±Ω"
    assert netlist_comment("title", honest) == honest
    assert netlist_identifier("label", "powerlaw-high") == "powerlaw-high"
    with pytest.raises(InputError, match="must be text"):
        netlist_comment("title", 3)
