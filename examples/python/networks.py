"""Standard networks as people write them, for `spicenn analyze` and the benchmarks: a
torchvision-style ResNet-18, MobileNetV2 (Sandler et al. 2018), a small transformer
classifier and a row-by-row LSTM — written out here so that nothing needs torchvision.
Each class builds without arguments (as `analyze --model file.py:Class` builds it); the
`Small...` ones are their test-sized versions for 8x8 one-channel digits.

    spicenn analyze --model examples/python/networks.py:SmallResNet --data digits --backends ideal,device
    python scripts/bench_models.py          # every network on every backend
"""

from __future__ import annotations

import torch
from torch import nn


class BasicBlock(nn.Module):
    """Two 3x3 convolutions with batch norm and a shortcut (1x1 where the shape changes)."""

    def __init__(self, inputs: int, outputs: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(inputs, outputs, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(outputs)
        self.conv2 = nn.Conv2d(outputs, outputs, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(outputs)
        self.downsample = nn.Sequential()
        if stride != 1 or inputs != outputs:
            self.downsample = nn.Sequential(nn.Conv2d(inputs, outputs, 1, stride, bias=False), nn.BatchNorm2d(outputs))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = torch.relu(self.bn1(self.conv1(x)))
        return torch.relu(self.bn2(self.conv2(out)) + self.downsample(x))


class ResNet(nn.Module):
    """torchvision's ResNet with basic blocks: a 7x7 stride-2 stem and max pool, four stages
    of `blocks` blocks at `width`·(1, 2, 4, 8) channels, global average pool, one Linear."""

    def __init__(self, blocks: tuple[int, ...] = (2, 2, 2, 2), width: int = 64, classes: int = 10,
                 in_channels: int = 3, stem: bool = True) -> None:
        super().__init__()
        if stem:
            self.conv1 = nn.Conv2d(in_channels, width, 7, 2, 3, bias=False)
            self.maxpool: nn.Module = nn.MaxPool2d(3, 2, 1)
        else:  # small inputs: a 3x3 stem, no pooling
            self.conv1 = nn.Conv2d(in_channels, width, 3, 1, 1, bias=False)
            self.maxpool = nn.Identity()
        self.bn1 = nn.BatchNorm2d(width)
        stages, channels = [], width
        for index, count in enumerate(blocks):
            outputs = width * 2**index
            stages.append(nn.Sequential(*[BasicBlock(channels if k == 0 else outputs, outputs,
                                                     2 if index > 0 and k == 0 else 1) for k in range(count)]))
            channels = outputs
        self.layers = nn.Sequential(*stages)
        self.fc = nn.Linear(channels, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.maxpool(torch.relu(self.bn1(self.conv1(x))))
        return self.fc(torch.flatten(nn.functional.adaptive_avg_pool2d(self.layers(x), 1), 1))


class ResNet18(ResNet):
    """torchvision's resnet18 (11.2 M weights with 10 classes), for 3-channel images."""

    def __init__(self) -> None:
        super().__init__((2, 2, 2, 2), 64)


class SmallResNet(ResNet):
    """Two stages of one block at 8 and 16 channels, for 8x8 one-channel digits."""

    def __init__(self) -> None:
        super().__init__((1, 1), 8, in_channels=1, stem=False)


def _conv_bn(inputs: int, outputs: int, kernel: int, stride: int = 1, groups: int = 1, relu: bool = True) -> list:
    layers = [nn.Conv2d(inputs, outputs, kernel, stride, kernel // 2, groups=groups, bias=False),
              nn.BatchNorm2d(outputs)]
    return layers + [nn.ReLU6()] if relu else layers


class InvertedResidual(nn.Module):
    """MobileNetV2's block: 1x1 expansion, 3x3 depthwise, linear 1x1 projection, residual."""

    def __init__(self, inputs: int, outputs: int, stride: int, expansion: int) -> None:
        super().__init__()
        hidden = inputs * expansion
        layers = _conv_bn(inputs, hidden, 1) if expansion != 1 else []
        layers += _conv_bn(hidden, hidden, 3, stride, groups=hidden) + _conv_bn(hidden, outputs, 1, relu=False)
        self.block = nn.Sequential(*layers)
        self.residual = stride == 1 and inputs == outputs

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.block(x) if self.residual else self.block(x)


# (expansion t, output channels c, repeats n, first stride s), as in Sandler et al. 2018
INVERTED_RESIDUALS = ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2),
                      (6, 320, 1, 1))


class MobileNet(nn.Module):
    """MobileNetV2 with the stages `settings` (t, c, n, s), a stem of `stem` channels and a
    `last`-channel 1x1 head convolution."""

    def __init__(self, settings: tuple[tuple[int, int, int, int], ...] = INVERTED_RESIDUALS, stem: int = 32,
                 last: int = 1280, classes: int = 10, in_channels: int = 3, first_stride: int = 2) -> None:
        super().__init__()
        layers, channels = _conv_bn(in_channels, stem, 3, first_stride), stem
        for t, c, n, s in settings:
            for k in range(n):
                layers.append(InvertedResidual(channels, c, s if k == 0 else 1, t))
                channels = c
        layers += _conv_bn(channels, last, 1)
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Linear(last, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(torch.flatten(nn.functional.adaptive_avg_pool2d(self.features(x), 1), 1))


class MobileNetV2(MobileNet):
    """MobileNetV2 at width 1.0 (2.2 M weights with 10 classes), for 3-channel images."""

    def __init__(self) -> None:
        super().__init__()


class SmallMobileNet(MobileNet):
    """Three inverted-residual blocks (one with a residual) for 8x8 one-channel digits."""

    def __init__(self) -> None:
        super().__init__(((1, 8, 1, 1), (4, 12, 2, 2)), stem=8, last=32, in_channels=1, first_stride=1)


class SmallTransformer(nn.Module):
    """An 8x8 digit as 8 tokens of 8 pixels: embedding, one encoder layer, mean pool, head."""

    def __init__(self) -> None:
        super().__init__()
        self.embed = nn.Linear(8, 16)
        self.position = nn.Parameter(torch.zeros(8, 16))
        layer = nn.TransformerEncoderLayer(16, 2, dim_feedforward=32, dropout=0.0, batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, 1)
        self.head = nn.Linear(16, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.encoder(self.embed(x) + self.position).mean(1))


class RowLSTM(nn.Module):
    """An 8x8 digit read row by row: an LSTM over 8 steps of 8 pixels, a head on the last state."""

    def __init__(self) -> None:
        super().__init__()
        self.lstm = nn.LSTM(8, 12, batch_first=True)
        self.head = nn.Linear(12, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out, _ = self.lstm(x)
        return self.head(out[:, -1])
