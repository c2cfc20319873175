"""`spicenn data mnist --from PATH`: the full MNIST set from a user's IDX files, checked."""

import gzip
from pathlib import Path

import numpy as np
import pytest

from spicenn.cli import main
from spicenn.nn.data import MNIST_FILES, load_data


def _idx(values: np.ndarray) -> bytes:
    return bytes([0, 0, 0x08, values.ndim]) + b"".join(int(n).to_bytes(4, "big") for n in values.shape) + \
        values.astype(np.uint8).tobytes()


def _write_set(folder: Path, rng, train=30, test=10, compressed=True, labels_max=9):
    folder.mkdir(parents=True, exist_ok=True)
    arrays = {MNIST_FILES[0]: rng.integers(0, 256, (train, 28, 28)),
              MNIST_FILES[1]: rng.integers(0, labels_max + 1, train),
              MNIST_FILES[2]: rng.integers(0, 256, (test, 28, 28)),
              MNIST_FILES[3]: rng.integers(0, labels_max + 1, test)}
    for stem, values in arrays.items():
        raw = _idx(values)
        if compressed:
            (folder / f"{stem}.gz").write_bytes(gzip.compress(raw))
        else:
            (folder / stem).write_bytes(raw)
    return arrays


@pytest.mark.parametrize("compressed", [True, False])
def test_the_set_is_checked_converted_and_read_back(compressed, tmp_path, monkeypatch, rng, capsys):
    monkeypatch.chdir(tmp_path)
    arrays = _write_set(tmp_path / "downloads", rng, compressed=compressed)
    main(["data", "mnist", "--from", "downloads"])
    assert "30 training and 10 test digits" in capsys.readouterr().out
    assert sorted(p.name for p in Path("data/mnist").iterdir()) == sorted(MNIST_FILES)
    data = load_data("mnist", path="data/mnist", validation=0.2)
    # the converted files hold exactly the given pixels and labels
    np.testing.assert_array_equal(data.test.x, (arrays[MNIST_FILES[2]].reshape(-1, 784) / 255.0).astype(np.float32))
    np.testing.assert_array_equal(data.test.y, arrays[MNIST_FILES[3]])
    assert len(data.train.y) + len(data.validation.y) == 30
    seen = np.sort(np.concatenate([data.train.y, data.validation.y]))
    np.testing.assert_array_equal(seen, np.sort(arrays[MNIST_FILES[1]]))


def _truncate(folder):
    path = folder / f"{MNIST_FILES[0]}.gz"
    path.write_bytes(path.read_bytes()[:-40])


def _bad_magic(folder):
    path = folder / f"{MNIST_FILES[1]}.gz"
    path.write_bytes(gzip.compress(b"\x00\x00\x0d\x01" + bytes(8)))


def _short_images(folder):
    path = folder / f"{MNIST_FILES[2]}.gz"
    raw = gzip.decompress(path.read_bytes())
    path.write_bytes(gzip.compress(raw[:-100]))


def _missing(folder):
    (folder / f"{MNIST_FILES[3]}.gz").unlink()


def _mismatch(folder):
    (folder / f"{MNIST_FILES[1]}.gz").write_bytes(gzip.compress(_idx(np.zeros(29, dtype=np.uint8))))


def _not_gzip(folder):
    (folder / f"{MNIST_FILES[0]}.gz").write_bytes(b"plain bytes, not gzip")


@pytest.mark.parametrize("damage, message", [
    (_truncate, "not a readable gzip"), (_bad_magic, "not an IDX file"), (_short_images, "is truncated"),
    (_missing, "has no t10k-labels"), (_mismatch, "disagree"), (_not_gzip, "not a readable gzip")])
def test_bad_files_are_one_line_and_write_nothing(damage, message, tmp_path, monkeypatch, rng, capsys):
    monkeypatch.chdir(tmp_path)
    _write_set(tmp_path / "downloads", rng)
    damage(tmp_path / "downloads")
    with pytest.raises(SystemExit) as exited:
        main(["data", "mnist", "--from", "downloads"])
    err = capsys.readouterr().err.strip().splitlines()
    assert exited.value.code == 1 and len(err) == 1 and message in err[0], err
    assert not Path("data").exists()


def test_labels_beyond_nine_are_refused(tmp_path, rng):
    from spicenn.errors import InputError
    from spicenn.nn.data import read_mnist

    _write_set(tmp_path, rng, labels_max=12)
    with pytest.raises(InputError, match="not 0-9"):
        read_mnist(tmp_path)
