"""Bad input, second round (issue 25): fresh cases of every class — forged headers, files
that are not regular, archives holding the wrong things, absurd sizes and numbers, user code
that exits — each one line, exit status 1 or 2, no traceback, nothing left behind."""

from __future__ import annotations

import gzip
import zipfile
from pathlib import Path

import h5py
import numpy as np
import pytest
import torch
from test_bad_input import refused_in_one_line

from spicenn.cli import main
from spicenn.shipped import surrogate as shipped_surrogate

MODEL = '''
import torch
from torch import nn

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(6, 2)

    def forward(self, x):
        return self.fc(x)
'''


@pytest.fixture
def folder(tmp_path, monkeypatch, rng):
    monkeypatch.chdir(tmp_path)
    np.save("G.npy", rng.uniform(1e-6, 1e-4, (4, 3)))
    np.save("V.npy", rng.uniform(0, 0.5, (2, 4)))
    np.save("X.npy", rng.uniform(0, 1, (3, 6)))
    np.save("X0.npy", np.zeros((0, 6)))
    np.savez("net.npz", W0=rng.normal(0, 1, (6, 4)), W1=rng.normal(0, 1, (4, 2)))
    header = np.lib.format.header_data_from_array_1_0(np.zeros(1))
    header["shape"] = (10**12,)
    with open("forged.npy", "wb") as stream:
        np.lib.format.write_array_header_1_0(stream, header)
        stream.write(b"\0" * 64)
    np.savez("gap.npz", W0=rng.normal(0, 1, (6, 4)), W2=rng.normal(0, 1, (4, 2)))
    np.savez("complex.npz", W0=rng.normal(0, 1, (6, 4)) + 1j)
    np.savez("text.npz", W0=np.array(["a", "b"]))
    np.savez("chain.npz", W0=rng.normal(0, 1, (6, 4)), W1=rng.normal(0, 1, (5, 2)))
    np.savez("stray.npz", W0=rng.normal(0, 1, (6, 4)), extra=np.zeros(3))
    Path("cut.npz").write_bytes(Path("net.npz").read_bytes()[:200])
    with zipfile.ZipFile("member.npz", "w") as archive:
        archive.writestr("W0.npy", b"hello")
    Path("deep.toml").write_text("a = " + "[" * 5000 + "]" * 5000 + "\n")
    Path("big.toml").write_text("# " + "x" * (2 << 20) + "\n")
    for name, make in (("int", lambda h: h.create_dataset("currents", data=np.zeros((2, 2, 2), dtype=np.int64))),
                       ("group", lambda h: h.create_group("currents")),
                       ("external", lambda h: h.__setitem__("currents", h5py.ExternalLink("/etc/passwd", "/x")))):
        with h5py.File(f"{name}.h5", "w") as h5:
            h5.attrs["spec"] = ('{"rows": 2, "columns": 2, "cases": 2, "vectors": 2, "engine": "native"}')
            make(h5)
    Path("idx").mkdir()
    for name in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
                 "t10k-labels-idx1-ubyte"):
        Path("idx", name).write_bytes(bytes([0, 0, 8, 255]) + b"\0" * 16)
    saved = torch.load(shipped_surrogate("powerlaw32"), weights_only=True)
    torch.save({**saved, "config": {**saved["config"], "slope_step": -1.0}}, "negative_step.pt")
    scales = {key: value * 1e300 if key == "scales" else value for key, value in saved["state_dict"].items()}
    torch.save({**saved, "state_dict": scales}, "huge_scales.pt")
    Path("exits.py").write_text("import sys\nsys.exit(5)\n")
    Path("interrupts.py").write_text("raise KeyboardInterrupt\n")
    Path("net.py").write_text(MODEL)
    torch.manual_seed(0)
    torch.save({"fc.weight": torch.randn(2, 6), "fc.bias": torch.randn(2)}, "net.pt")
    return tmp_path


SIM = ["-g", "G.npy", "-v", "V.npy", "-o", "r.npz"]
NETWORK = ["network-energy", "-x", "X.npy", "-n"]
CASES = {
    "forged .npy shape": (["simulate", "-g", "G.npy", "-v", "forged.npy", "-o", "r.npz"], 1, "truncated or forged"),
    "network with a gap": (NETWORK + ["gap.npz"], 1, "has W2 but no W1"),
    "complex weights": (NETWORK + ["complex.npz"], 1, "complex numbers"),
    "text weights": (NETWORK + ["text.npz"], 1, "not numbers"),
    "shapes that do not chain": (NETWORK + ["chain.npz"], 1, "W0 has 4 outputs but W1 takes 5 inputs"),
    "a stray array": (NETWORK + ["stray.npz"], 1, "unknown array 'extra'"),
    "a cut archive": (NETWORK + ["cut.npz"], 1, "not a readable zip"),
    "a member that is not .npy": (NETWORK + ["member.npz"], 1, "not a numeric .npy array"),
    "no input vectors": (["network-energy", "-x", "X0.npy", "-n", "net.npz"], 1, "is empty"),
    "config nested without end": (["energy", *SIM[:4], "--config", "deep.toml"], 1, "nests"),
    "config of megabytes": (["energy", *SIM[:4], "--config", "big.toml"], 1, "more than such a file can be"),
    "config from a device": (["energy", *SIM[:4], "--config", "/dev/zero"], 1, "not a regular file"),
    "read time of 1e300 s": (["energy", *SIM[:4], "--t-read", "1e300", "-e", "native"], 1, "t_read must be <= 1"),
    "a Python literal as a number": (["simulate", *SIM, "-d", "sinh", "-p", "k=1_0"], 1, "must be a number"),
    "a tile of 1e8 rows": (NETWORK + ["net.npz", "--tile-rows", "100000000"], 2, "at most 1,024"),
    "1e12 cases": (["surrogate", "dataset", "-m", "4", "-n", "4", "--cases", "1000000000000", "-o", "d.h5",
                    "-e", "native"], 1, "at most 10,000,000"),
    "a seed of 1e20": (["surrogate", "dataset", "-m", "4", "-n", "4", "--seed", "100000000000000000000",
                        "-o", "d.h5", "-e", "native"], 2, "at most 4,294,967,295"),
    "no backend named": (["analyze", "--model", "net.py:Net", "--backends", ""], 2, "names no backend"),
    "an int dataset": (["surrogate", "validate", "-M", "powerlaw32", "-D", "int.h5"], 1, "not real floats"),
    "a group for an array": (["surrogate", "validate", "-M", "powerlaw32", "-D", "group.h5"], 1, "is a group"),
    "a link out of the file": (["surrogate", "validate", "-M", "powerlaw32", "-D", "external.h5"], 1, "is a link"),
    "an IDX header of 255 dimensions": (["data", "mnist", "--from", "idx", "--to", "mnist"], 1, "255 dimensions"),
    "a negative slope step": (["surrogate", "predict", "-M", "negative_step.pt", *SIM], 1, "slope_step"),
    "scales times 1e300": (["surrogate", "predict", "-M", "huge_scales.pt", *SIM], 1, "term scales"),
    "a model file that exits": (NETWORK + ["net.pt", "--model", "exits.py:Net"], 1, "exited (sys.exit(5))"),
    "a model file that interrupts": (NETWORK + ["net.pt", "--model", "interrupts.py:Net"], 1,
                                     "stopped with KeyboardInterrupt"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input_is_one_line_and_leaves_nothing(case, folder, capsys):
    refused_in_one_line(*CASES[case], folder, capsys)


def test_a_model_file_imports_a_module_beside_it_and_a_module_path_works(folder, capsys):
    Path("helpers.py").write_text("WIDTH = 2\n")
    Path("beside.py").write_text(MODEL.replace("import torch\n", "import torch\nfrom helpers import WIDTH\n")
                                 .replace("nn.Linear(6, 2)", "nn.Linear(6, WIDTH)"))
    main(NETWORK + ["net.pt", "--model", "beside.py:Net", "--json"])  # returns: no error
    assert '"ops"' in capsys.readouterr().out
    from spicenn.nn.user_model import load_class

    assert load_class("spicenn.reproduce.lenet:LeNet5").__name__ == "LeNet5"


def test_a_gzip_bomb_is_cut_off(folder, monkeypatch):
    from spicenn.errors import InputError
    from spicenn.nn import data

    monkeypatch.setattr(data, "MAX_IDX_BYTES", 100_000)  # the cut-off, at a size a test can write
    bomb = Path("bomb-idx1-ubyte.gz")
    with gzip.open(bomb, "wb") as stream:
        stream.write(bytes([0, 0, 8, 1]) + (10**8).to_bytes(4, "big"))
        stream.write(b"\0" * 200_000)
    with pytest.raises(InputError, match="more than"):
        data._read_idx(bomb)


def test_a_run_whose_weights_diverged_is_refused_not_scored(folder, capsys):
    from spicenn.nn.run_config import RunConfig
    from spicenn.nn.training import train

    config = RunConfig.from_dict({"data": {"name": "digits"}, "network": {"sizes": [64, 8, 10]},
                                  "crossbar": {"device": {"name": "linear"}},
                                  "training": {"backend": "ideal", "epochs": 1, "batch_size": 256},
                                  "validation": {"backend": "ideal", "chips": 1}})
    train(config, "run", progress=False)
    saved = torch.load("run/best.pt", weights_only=True)
    saved["model"] = {key: torch.full_like(value, float("nan")) if value.is_floating_point() else value
                      for key, value in saved["model"].items()}
    torch.save(saved, "run/best.pt")
    with pytest.raises(SystemExit) as exited:
        main(["evaluate", "-r", "run", "-b", "ideal", "--n", "5"])
    err = capsys.readouterr().err
    assert exited.value.code == 1 and "holds NaN or inf" in err and len(err.strip().splitlines()) == 1
