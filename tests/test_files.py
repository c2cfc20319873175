"""Writers that respect the file system: devices written into, never replaced; FIFOs refused;
symbolic links followed; the name typed is the file written; one writer per folder; stale
temporary files removed on resume; finished dataset parts kept whatever the task size."""

from __future__ import annotations

import os
import stat

import numpy as np
import pytest
from clirun import run_cli

from spicenn.io import folder_lock
from spicenn.surrogate import dataset
from spicenn.surrogate.sampling import DatasetSpec


@pytest.fixture
def inputs(tmp_path, rng):
    np.save(tmp_path / "G.npy", rng.uniform(1e-6, 1e-4, (4, 3)))
    np.save(tmp_path / "V.npy", rng.uniform(0, 0.5, (2, 4)))
    return tmp_path


def test_a_character_device_is_written_into_and_never_replaced():
    done = run_cli("devices", "--lib", "/dev/null")
    assert done.returncode == 0, done.stderr
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)
    if os.path.exists("/dev/full"):  # a device that refuses writes: one line, still a device
        failed = run_cli("devices", "--lib", "/dev/full")
        assert failed.returncode == 1 and len(failed.stderr.strip().splitlines()) == 1, failed.stderr
        assert "No space left" in failed.stderr and stat.S_ISCHR(os.stat("/dev/full").st_mode)


def test_a_fifo_is_refused_before_any_work(tmp_path, inputs):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    failed = run_cli("simulate", "-g", inputs / "G.npy", "-v", inputs / "V.npy", "-o", fifo, "-e", "native")
    assert failed.returncode != 0 and "is a FIFO" in failed.stderr and len(failed.stderr.strip().splitlines()) == 1
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)


def test_a_symbolic_link_is_followed_and_kept(tmp_path, inputs):
    real = tmp_path / "real.npz"
    link = tmp_path / "link.npz"
    link.symlink_to(real)
    done = run_cli("simulate", "-g", inputs / "G.npy", "-v", inputs / "V.npy", "-o", link, "-e", "native")
    assert done.returncode == 0, done.stderr
    assert link.is_symlink() and real.is_file()
    with np.load(link) as result:
        assert result["currents"].shape == (2, 3)


def test_the_plot_is_written_under_the_name_typed(tmp_path, inputs):
    done = run_cli("energy", "-g", inputs / "G.npy", "-v", inputs / "V.npy", "-e", "native", "--plot",
                   tmp_path / "eplot")
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "eplot").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not (tmp_path / "eplot.png").exists()
    assert not list(tmp_path.glob("*.part"))


def test_a_second_writer_of_a_dataset_is_refused_in_one_line(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    parts = tmp_path / "d.h5.parts"
    parts.mkdir()
    with folder_lock(parts, "dataset"):
        failed = run_cli("surrogate", "dataset", "-m", "4", "-n", "4", "--cases", "2", "--vectors", "2",
                         "-e", "native", "-o", "d.h5")
    assert failed.returncode == 1 and len(failed.stderr.strip().splitlines()) == 1, failed.stderr
    assert f"being written by another spicenn process (pid {os.getpid()})" in failed.stderr
    assert not (tmp_path / "d.h5").exists()
    done = run_cli("surrogate", "dataset", "-m", "4", "-n", "4", "--cases", "2", "--vectors", "2",
                   "-e", "native", "-o", "d.h5")  # the lock is gone with its holder
    assert done.returncode == 0, done.stderr


def test_a_resume_with_another_task_size_keeps_the_finished_parts_and_stale_files_go(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    spec = DatasetSpec(rows=3, columns=3, cases=7, vectors=2, engine="native")
    parts = tmp_path / "d.h5.parts"
    parts.mkdir()
    (parts / "spec.json").write_text(spec.to_json())
    for start, stop in ((0, 2), (2, 4)):  # finished with 2 cases per task
        np.savez(parts / f"cases_{start:09d}_{stop:09d}.npz", **dataset.simulate_cases(spec.to_json(), start, stop))
    (parts / "cases_000000004_000000006.npz.x1y2.part").write_bytes(b"half")  # a killed writer's leftover
    computed = []
    real = dataset.simulate_cases

    def recording(text, start, stop):
        computed.append((start, stop))
        return real(text, start, stop)

    monkeypatch.setattr(dataset, "simulate_cases", recording)
    out = dataset.generate(spec, "d.h5", cases_per_task=3, progress=False)
    assert computed == [(4, 7)]
    assert not parts.exists()
    _, arrays = dataset.load(out)
    whole = real(spec.to_json(), 0, 7)
    np.testing.assert_array_equal(arrays["currents"], whole["currents"])


def test_a_reproduction_refuses_a_training_run_and_leaves_no_folder_when_refused(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    (run / "config.toml").write_text("seed = 0\n")
    (run / "last.pt").write_bytes(b"x")
    failed = run_cli("reproduce", "kim2019", "--quick", "--out", run)
    assert failed.returncode == 1 and "holds a training run" in failed.stderr
    assert sorted(p.name for p in run.iterdir()) == ["config.toml", "last.pt"]
    refused = run_cli("reproduce", "joksas2022", "--quick", "--devices", "foo", "--out", tmp_path / "new")
    assert refused.returncode == 1 and len(refused.stderr.strip().splitlines()) == 1, refused.stderr
    assert not (tmp_path / "new").exists()


@pytest.fixture
def tiny_disk(tmp_path):
    """A 64 KiB tmpfs (root only; skipped where mounting is not allowed)."""
    import subprocess

    mount = tmp_path / "tiny"
    mount.mkdir()
    if os.geteuid() != 0 or subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount)],
                                           capture_output=True).returncode != 0:
        pytest.skip("cannot mount a small tmpfs here")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], capture_output=True)


def test_a_full_disk_is_one_line_and_leaves_no_partial_file(tiny_disk, tmp_path):
    from spicenn.nn.run_config import RunConfig

    config = RunConfig.from_dict({"data": {"name": "digits"}, "network": {"sizes": [64, 64, 10]},
                                  "crossbar": {"device": {"name": "linear"}},
                                  "training": {"backend": "ideal", "epochs": 1, "batch_size": 256},
                                  "validation": {"backend": "ideal", "chips": 1}})
    (tmp_path / "run.toml").write_text(config.to_toml())
    (tiny_disk / "filler").write_bytes(b"\0" * 40_000)  # leave less room than a checkpoint needs
    failed = run_cli("train", "--config", tmp_path / "run.toml", "--run", tiny_disk / "run", "--no-progress")
    assert failed.returncode == 1, failed.stderr
    assert len(failed.stderr.strip().splitlines()) == 1 and "No space left on device" in failed.stderr
    assert not list(tiny_disk.rglob("*.part"))
