"""`spicenn analyze --report`: one self-contained HTML file, opened in a real headless
browser (Debian's chromium-headless-shell, installed by `make setup`), which must render it
and decode every figure."""

from __future__ import annotations

import re
import shutil
import subprocess

import numpy as np
import pytest
import torch
from clirun import run_cli

MODEL_FILE = '''
import torch
from torch import nn


class Tiny(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3)
        self.add_module("<b>head</b>", nn.Linear(4 * 6 * 6, 10))  # a name to escape

    def forward(self, x):
        return getattr(self, "<b>head</b>")(torch.relu(self.conv(x)).flatten(1))
'''


def browser() -> str:
    for name in ("chromium-headless-shell", "chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    pytest.fail("no headless Chromium: run scripts/setup_browser.sh (make setup does)")


def test_the_report_renders_in_a_real_browser_with_every_figure(tmp_path):
    (tmp_path / "tiny.py").write_text(MODEL_FILE)
    namespace: dict = {}
    exec(compile(MODEL_FILE, "tiny.py", "exec"), namespace)
    torch.manual_seed(0)
    torch.save(namespace["Tiny"]().state_dict(), tmp_path / "tiny.pt")
    report = tmp_path / "out" / "report.html"
    (tmp_path / "out").mkdir()
    done = run_cli("analyze", "-m", f"{tmp_path / 'tiny.py'}:Tiny", "-W", tmp_path / "tiny.pt", "--data", "digits",
                   "--device", "sinh", "--tile-rows", "16", "--tile-columns", "16", "--backends", "ideal,device",
                   "--chips", "2", "--images", "60", "--circuit-images", "4", "--verify", "1", "--energy-images", "1",
                   "--drift-nu", "0.05", "--drift-nu-spread", "0.02", "--read-noise", "0.01",
                   "--t-inference", "1,3600,86400", "--report", report)
    assert done.returncode == 0, done.stderr
    page = report.read_text()
    for heading in ("Conversion", "Accuracy", "Accuracy against time", "Energy per inference", "Circuit check",
                    "Verification in ngspice"):
        assert f"<h2>{heading}" in page
    assert "&lt;b&gt;head&lt;/b&gt;" in page and "<b>head</b>" not in page  # the user's names escaped
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)  # nothing fetched at view time
    assert page.count("<img") == 5  # accuracy, accuracy against time, energy, two parity plots
    assert "nu = 0.05 +- 0.02" in page and "read noise" in page
    rendered = subprocess.run([browser(), "--headless", "--no-sandbox", "--disable-gpu", "--dump-dom",
                               report.resolve().as_uri()], capture_output=True, text=True, timeout=120)
    assert rendered.returncode == 0, rendered.stderr[-2000:]
    body = re.search(r"<body[^>]*>", rendered.stdout)
    assert body is not None, rendered.stdout[:500]
    assert 'data-figures-loaded="5"' in body.group(0) and 'data-figures-total="5"' in body.group(0), body.group(0)
    assert "Circuit check" in rendered.stdout  # the DOM the browser built holds the sections
    np.testing.assert_equal(len(list(tmp_path.joinpath("out").iterdir())), 1)  # nothing left beside it


def test_a_report_path_that_is_a_folder_is_refused_before_any_work(tmp_path):
    done = run_cli("analyze", "-m", "examples/python/cnn.py:SmallCNN", "--report", tmp_path)
    assert done.returncode != 0 and "report" in done.stderr and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
