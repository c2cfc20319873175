"""The runnable examples run as a user runs them (a real process each) and say what they claim."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "python"


def run(name: str) -> str:
    done = subprocess.run([sys.executable, str(EXAMPLES / name)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.slow
def test_crossbar_example_agrees_with_ngspice():
    out = run("crossbar.py")
    worst = float(re.search(r"native vs ngspice: (\S+) relative", out).group(1))
    assert worst < 1e-9 and "TOPS/W: crossbar" in out


@pytest.mark.slow
def test_own_device_example_trains_on_both_backends():
    out = run("own_device.py")
    assert float(re.search(r"cubic device: (\S+) A", out).group(1)) < 1e-12
    accuracies = [int(a) for a in re.findall(r"training accuracy (\d+)%", out)]
    assert len(accuracies) == 2 and min(accuracies) >= 80


@pytest.mark.slow
def test_convert_network_example_reports_accuracy_and_energy():
    out = run("convert_network.py")
    accuracy = {name: float(value) for name, value in re.findall(r"^(\w+)\s+accuracy ([\d.]+)%", out, flags=re.M)}
    assert set(accuracy) == {"ideal", "device", "circuit"} and min(accuracy.values()) > 70
    assert "memristors only (paper convention)" in out
