"""The networks people have, through `spicenn analyze` from their own file and weights on
every backend: a ResNet (basic blocks, batch norm, shortcuts) and a MobileNet (inverted
residuals with packed depthwise convolutions), each test-sized (examples/python/networks.py),
trained briefly in plain PyTorch — on the defaults' hardware (powerlaw-high, 64x64 tiles,
1-ohm wires), so that the shipped signed surrogate serves; the circuit check on the native
solver and one image in ngspice. (The CNN, transformer and LSTM: test_user_data,
test_transformers, test_recurrent.)"""

from __future__ import annotations

import pytest
from training import analyze_digits_model

# accuracy on the ideal, device and surrogate backends; the circuit backend in the check (its
# accuracy on 100 images would take a minute a network), ngspice in the verification
EVERY_BACKEND = ("--backends", "ideal,device,surrogate", "--circuit-images", "4", "--verify", "1")


@pytest.mark.parametrize("name,first", [("SmallResNet", "conv1"), ("SmallMobileNet", "features.0")])
def test_a_resnet_and_a_mobilenet_on_every_backend(tmp_path, name, first):
    results = analyze_digits_model(tmp_path, name, 40, 0.01, (1, 8, 8), *EVERY_BACKEND, hardware=())
    assert results["input_shape"] == [1, 8, 8]
    accuracy = results["accuracy"]
    assert set(accuracy) == {"ideal", "device", "surrogate"}
    assert accuracy["ideal"]["median"] > 0.5  # it learned, and converts with its weights
    # powerlaw-high's I-V nonlinearity costs these untuned deep networks much (measured: ResNet
    # 0.96 -> 0.78, MobileNet 0.95 -> 0.20); the surrogate must tell the same story as the device model
    assert abs(accuracy["surrogate"]["median"] - accuracy["device"]["median"]) <= 0.1
    check = results["circuit_check"]
    assert first in check["layer_nrmse"] and max(check["layer_nrmse"].values()) < 0.01  # surrogate vs circuit
    assert abs(check["circuit"] - check["surrogate"]) <= 0.25  # one image of four at most
    assert max(results["spice_check"]["layer_nrmse"].values()) < 1e-6  # native solver vs ngspice
    assert results["energy"]["tops_per_w"]["system"] > 0
