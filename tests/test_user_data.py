"""A user's network and data from the command line: input shapes found from the first
layer, `.npz`/`.pt` data files and folders, each bad file refused in one line."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from clirun import run_cli
from torch import nn

from spicenn.errors import InputError
from spicenn.nn.data import load_data, read_data_file
from spicenn.nn.user_model import candidate_shapes, input_shape, parse_shape

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "python"

SEQUENCE_MODEL = '''
import torch
from torch import nn


class RowMixer(nn.Module):
    """Reads an 8x8 digit as 8 rows of 8 features: a Linear on (B, T, C), mean over T."""

    def __init__(self):
        super().__init__()
        self.token = nn.Linear(8, 24)
        self.head = nn.Linear(24, 10)

    def forward(self, x):
        return self.head(torch.relu(self.token(x)).mean(1))
'''


def _train(model: nn.Module, x: torch.Tensor, y: torch.Tensor, steps: int = 150) -> nn.Module:
    torch.manual_seed(0)
    optimiser = torch.optim.Adam(model.parameters(), lr=0.02)
    for _ in range(steps):
        optimiser.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        optimiser.step()
    return model.eval()


def test_the_standard_cnn_example_is_fed_images_from_the_command_line(tmp_path):
    sys.path.insert(0, str(EXAMPLES))
    try:
        import cnn
    finally:
        sys.path.remove(str(EXAMPLES))
    torch.manual_seed(1)
    model = cnn.SmallCNN().eval()
    torch.save(model.state_dict(), tmp_path / "cnn.pt")
    done = run_cli("analyze", "-m", f"{EXAMPLES / 'cnn.py'}:SmallCNN", "-W", tmp_path / "cnn.pt", "--data", "mnist",
                   "--backends", "ideal", "--chips", "1", "--images", "200", "--energy-images", "0", "--json")
    assert done.returncode == 0, done.stderr
    results = json.loads(done.stdout)
    assert results["input_shape"] == [1, 28, 28]
    # the ideal backend computes what the model computes: the same accuracy on the same images
    data = load_data("mnist")
    with torch.no_grad():
        logits = model(torch.as_tensor(data.test.x[:200]).reshape(-1, 1, 28, 28))
    expected = float((logits.argmax(1).numpy() == data.test.y[:200]).mean())
    assert results["accuracy"]["ideal"]["median"] == pytest.approx(expected, abs=1 / 200)
    refused = run_cli("analyze", "-m", f"{EXAMPLES / 'cnn.py'}:SmallCNN", "--data", "mnist", "--input-shape",
                      "784", "--backends", "ideal")
    assert refused.returncode == 1 and "refuses mnist inputs of shape (2, 784)" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1


def test_a_sequence_model_on_the_users_own_npz_and_pt_files(tmp_path):
    from sklearn.datasets import load_digits

    (tmp_path / "mixer.py").write_text(SEQUENCE_MODEL)
    namespace: dict = {}
    exec(compile(SEQUENCE_MODEL, "mixer.py", "exec"), namespace)
    digits = load_digits()
    x = (digits.data / 16.0).astype(np.float32).reshape(-1, 8, 8)
    y = digits.target.astype(np.int64)
    torch.manual_seed(0)
    model = _train(namespace["RowMixer"](), torch.as_tensor(x), torch.as_tensor(y))
    torch.save(model.state_dict(), tmp_path / "mixer.pt")
    np.savez(tmp_path / "digits.npz", x=x, y=y)
    folder = tmp_path / "parts"
    folder.mkdir()
    torch.save({"inputs": torch.as_tensor(x[:900]), "labels": torch.as_tensor(y[:900])}, folder / "a.pt")
    np.savez(folder / "b.npz", inputs=x[900:], labels=y[900:])
    for data in (tmp_path / "digits.npz", folder):
        done = run_cli("analyze", "-m", f"{tmp_path / 'mixer.py'}:RowMixer", "-W", tmp_path / "mixer.pt",
                       "--data", data, "--backends", "ideal,device", "--device", "sinh", "--tile-rows", "16",
                       "--tile-columns", "16", "--chips", "1", "--images", "200", "--energy-images", "1", "--json")
        assert done.returncode == 0, done.stderr
        results = json.loads(done.stdout)
        assert results["input_shape"] == [8, 8]
        test = read_data_file(data).test
        with torch.no_grad():
            own = float((model(torch.as_tensor(test.x[:200])).argmax(1).numpy() == test.y[:200]).mean())
        assert own > 0.7 and results["accuracy"]["ideal"]["median"] == pytest.approx(own, abs=1 / 200)
        # the token Linear runs once per row: 8 MVMs an image
        assert results["energy"]["layers"]["token"]["mvms"] == 8
    # the same file split by the user keeps its own test split
    np.savez(tmp_path / "split.npz", x_train=x[:1500], y_train=y[:1500], x_test=x[1500:], y_test=y[1500:])
    split = read_data_file(tmp_path / "split.npz")
    assert np.array_equal(split.test.y, y[1500:]) and split.sample_shape == (8, 8)
    assert len(split.train.y) + len(split.validation.y) == 1500


def test_shapes_offered_follow_the_first_layer():
    x = np.zeros((4, 784), np.float32)
    conv = nn.Sequential(nn.Conv2d(1, 2, 3))
    assert candidate_shapes(conv, x, None)[0] == (1, 28, 28)
    assert candidate_shapes(nn.Sequential(nn.Conv1d(4, 2, 3)), x, None)[0] == (4, 196)
    assert candidate_shapes(nn.Linear(784, 2), x, (1, 28, 28))[0] == (784,)
    assert input_shape(nn.Sequential(nn.Conv2d(1, 2, 3), nn.Flatten()), x, "test") == (1, 28, 28)
    assert parse_shape("1,28,28") == (1, 28, 28) and parse_shape("28x28") == (28, 28)
    with pytest.raises(InputError, match="positive sizes"):
        parse_shape("1,-2")


def test_bad_data_files_are_one_line(tmp_path):
    x = np.random.default_rng(0).random((20, 4)).astype(np.float32)
    y = np.arange(20) % 3
    np.savez(tmp_path / "nan.npz", x=np.where(x > 0.9, np.nan, x), y=y)
    np.savez(tmp_path / "keys.npz", a=x, b=y)
    np.savez(tmp_path / "short.npz", x=x, y=y[:5])
    np.savez(tmp_path / "negative.npz", x=x, y=y - 1)
    np.savez(tmp_path / "fraction.npz", x=x, y=y + 0.5)
    np.savez(tmp_path / "text.npz", x=np.array(["a"] * 20), y=y)
    np.save(tmp_path / "objects.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    (tmp_path / "objects.npy").rename(tmp_path / "objects.npz")
    np.savez(tmp_path / "pickled.npz", x=np.array([object()] * 20, dtype=object), y=y)
    np.savez(tmp_path / "half.npz", x_train=x, y_train=y)
    torch.save(nn.Linear(2, 2), tmp_path / "module.pt")
    (tmp_path / "empty").mkdir()
    cases = {
        "nan.npz": "NaN", "keys.npz": "needs inputs under", "short.npz": "need 20 labels",
        "negative.npz": "class numbers from 0", "fraction.npz": "whole class numbers", "text.npz": "not numbers",
        "objects.npz": "not a readable", "pickled.npz": "not a readable", "half.npz": "no x_test",
        "module.pt": "not a readable", "empty": "holds no .npz", "missing.npz": "does not exist",
    }
    for name, message in cases.items():
        with pytest.raises(InputError, match=message):
            read_data_file(tmp_path / name)
    np.savez(tmp_path / "labels.npz", x=np.random.default_rng(0).random((30, 64)).astype(np.float32),
             y=np.full(30, 12))
    model = tmp_path / "net.py"
    model.write_text("from torch import nn\n\nclass Net(nn.Sequential):\n"
                     "    def __init__(self):\n        super().__init__(nn.Linear(64, 10))\n")
    for arguments, message in ((["--data", tmp_path / "labels.npz"], "has label 12; the model gives 10 logits"),
                               (["--data", tmp_path / "nan.npz"], "NaN"),
                               (["--data", "digits", "--input-shape", "3,3"], "holds 9 values"),
                               (["--data", "cifar"], "unknown dataset 'cifar'")):
        done = run_cli("analyze", "-m", f"{model}:Net", *arguments, "--backends", "ideal")
        assert done.returncode == 1 and message in done.stderr, (arguments, done.stderr)
        assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1
