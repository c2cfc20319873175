"""A few Adam steps on a crossbar network, for tests that a device trains at all."""

from __future__ import annotations

from pathlib import Path

import torch


def training_losses(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor, steps: int,
                    lr: float = 0.05) -> list[float]:
    """The cross-entropy after each of `steps` Adam steps (conductances clamped after each)."""
    optimiser = torch.optim.Adam(model.parameters(), lr=lr)
    losses = []
    for _ in range(steps):
        optimiser.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(x), y)
        loss.backward()
        optimiser.step()
        model.clamp_()  # type: ignore[operator]
        losses.append(loss.item())
    return losses


NETWORKS = Path(__file__).resolve().parent.parent / "examples" / "python" / "networks.py"
DIGITS_HARDWARE = ("--device", "sinh", "--tile-rows", "16", "--tile-columns", "16")


def analyze_digits_model(tmp_path, class_name: str, steps: int, lr: float, sample_shape: tuple[int, ...],
                         *options: str, hardware: tuple[str, ...] = DIGITS_HARDWARE) -> dict:
    """The class `class_name` of examples/python/networks.py trained `steps` full-batch Adam
    steps in plain PyTorch on scikit-learn's 8x8 digits (fed as `sample_shape`, stored flat),
    then `spicenn analyze`d from its file and weights (`hardware` options: the sinh device on
    16x16 tiles unless given; `options` added): the --json results."""
    import importlib.util
    import json

    import numpy as np
    from clirun import run_cli
    from sklearn.datasets import load_digits

    spec = importlib.util.spec_from_file_location("networks_under_test", NETWORKS)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    digits = load_digits()
    x = torch.as_tensor((digits.data / 16.0).astype(np.float32))
    y = torch.as_tensor(digits.target)
    torch.manual_seed(0)
    model = getattr(module, class_name)()
    optimiser = torch.optim.Adam(model.parameters(), lr=lr)
    for _ in range(steps):
        optimiser.zero_grad()
        torch.nn.functional.cross_entropy(model(x.reshape(-1, *sample_shape)), y).backward()
        optimiser.step()
    torch.save(model.eval().state_dict(), tmp_path / "model.pt")
    np.savez(tmp_path / "digits.npz", x=x.numpy(), y=y.numpy())
    done = run_cli("analyze", "-m", f"{NETWORKS}:{class_name}", "-W", tmp_path / "model.pt",
                   "--data", tmp_path / "digits.npz", *hardware, "--chips", "1", "--images", "100",
                   "--energy-images", "1", "--json", *options)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)
