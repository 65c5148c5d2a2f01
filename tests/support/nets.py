"""Test networks written here (no torchvision): residual, branched, depthwise, dilated, adaptive, non-square colour.

Each takes `act` (the activation module class) and `max_pool` (the max-pool class), so a test can build the
linear "twin" of a net — activations → Identity, max pools → average pools — whose input gradient's support is the
receptive field by definition.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import nn

Act = Callable[..., nn.Module]


def twin_pool(kernel_size: Any, stride: Any = None, padding: Any = 0, ceil_mode: bool = False, **_: Any) -> nn.Module:
    """The average pool with a max pool's window: same cells, linear."""
    return nn.AvgPool2d(kernel_size, stride, padding, ceil_mode=ceil_mode)


def identity(*_: Any, **__: Any) -> nn.Module:
    """An activation replaced by the identity."""
    return nn.Identity()


class BasicBlock(nn.Module):
    """torchvision's ResNet BasicBlock: in-place ReLU and `out += identity`, with an optional downsample branch."""

    def __init__(self, cin: int, cout: int, stride: int = 1, act: Act = nn.ReLU) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.relu = act(inplace=True)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.downsample = (
            nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))
            if stride != 1 or cin != cout
            else None
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        out += identity
        return self.relu(out)


class ResNet18(nn.Module):
    """ResNet-18's shape (torchvision layout, 3×224×224, 1000 classes), random weights."""

    def __init__(
        self,
        act: Act = nn.ReLU,
        max_pool: Callable[..., nn.Module] = nn.MaxPool2d,
        classes: int = 1000,
        width: int = 64,
    ) -> None:
        super().__init__()
        w = width
        self.conv1 = nn.Conv2d(3, w, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(w)
        self.relu = act(inplace=True)
        self.maxpool = max_pool(kernel_size=3, stride=2, padding=1)
        self.layer1 = nn.Sequential(BasicBlock(w, w, act=act), BasicBlock(w, w, act=act))
        self.layer2 = nn.Sequential(BasicBlock(w, 2 * w, 2, act=act), BasicBlock(2 * w, 2 * w, act=act))
        self.layer3 = nn.Sequential(BasicBlock(2 * w, 4 * w, 2, act=act), BasicBlock(4 * w, 4 * w, act=act))
        self.layer4 = nn.Sequential(BasicBlock(4 * w, 8 * w, 2, act=act), BasicBlock(8 * w, 8 * w, act=act))
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(8 * w, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))  # (N, 64, 56, 56)
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))  # (N, 512, 7, 7)
        return self.fc(torch.flatten(self.avgpool(x), 1))  # (N, 1000)


class Inception(nn.Module):
    """An Inception-style block: 1×1, 3×3, 5×5 and pool branches concatenated, then a classifier."""

    def __init__(self, act: Act = nn.ReLU, max_pool: Callable[..., nn.Module] = nn.MaxPool2d) -> None:
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 3, padding=1)
        self.act = act()
        self.b1 = nn.Conv2d(8, 4, 1)
        self.b3 = nn.Sequential(nn.Conv2d(8, 4, 1), act(), nn.Conv2d(4, 6, 3, padding=1))
        self.b5 = nn.Sequential(nn.Conv2d(8, 2, 1), act(), nn.Conv2d(2, 4, 5, padding=2))
        self.bp = nn.Sequential(max_pool(kernel_size=3, stride=1, padding=1), nn.Conv2d(8, 2, 1))
        self.pool = max_pool(kernel_size=2, stride=2, ceil_mode=True)
        self.head = nn.Linear(16 * 5 * 4, 10)
        self.softmax = nn.Softmax(dim=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.act(self.stem(x))  # (N, 8, 9, 7)
        x = torch.cat([self.b1(x), self.b3(x), self.b5(x), self.bp(x)], dim=1)  # (N, 16, 9, 7)
        x = self.pool(x)  # (N, 16, 5, 4): ceil mode keeps the partial windows
        return self.softmax(self.head(torch.flatten(x, 1)))


class Separable(nn.Module):
    """Depthwise-separable blocks (MobileNet style), strided, with hardswish, on a non-square colour input."""

    def __init__(self, act: Act = nn.Hardswish, max_pool: Callable[..., nn.Module] = nn.MaxPool2d) -> None:
        super().__init__()
        self.dw1 = nn.Conv2d(3, 3, 3, stride=2, padding=1, groups=3)
        self.pw1 = nn.Conv2d(3, 8, 1)
        self.bn1 = nn.BatchNorm2d(8)
        self.act1 = act()
        self.dw2 = nn.Conv2d(8, 16, 3, padding=1, groups=8)  # channel multiplier 2
        self.act2 = act()
        self.pw2 = nn.Conv2d(16, 8, 1, stride=2)  # strided 1×1: a field with holes
        self.gap = nn.AdaptiveAvgPool2d((2, 3))
        self.fc = nn.Linear(8 * 6, 5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.act1(self.bn1(self.pw1(self.dw1(x))))
        x = self.pw2(self.act2(self.dw2(x)))
        return self.fc(self.gap(x).flatten(1))


class Dilated(nn.Module):
    """Dilated convolutions ('same' and explicit padding), a residual sum and leaky ReLU / GELU / SiLU."""

    def __init__(self, act: Act = nn.LeakyReLU, max_pool: Callable[..., nn.Module] = nn.MaxPool2d) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(2, 6, 3, padding="same", dilation=2)
        self.act1 = act()
        self.conv2 = nn.Conv2d(6, 6, 3, padding=3, dilation=3)
        self.act2 = act()
        self.conv3 = nn.Conv2d(6, 4, 4, padding="same")  # even kernel: PyTorch pads one more cell on the far side
        self.pool = max_pool(kernel_size=3, stride=2, padding=1, ceil_mode=True)
        self.proj = nn.Conv2d(6, 4, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.act2(self.conv2(self.act1(self.conv1(x))))
        return self.pool(self.conv3(y) + self.proj(y))


def colour_lenet(act: Act = nn.ReLU, max_pool: Callable[..., nn.Module] = nn.MaxPool2d) -> nn.Module:
    """A LeNet for non-square colour images (3×24×40), with an adaptive max pool and dropout."""
    return nn.Sequential(
        nn.Conv2d(3, 6, 5, padding=2),
        act(),
        max_pool(kernel_size=2, stride=2),
        nn.Conv2d(6, 12, (3, 5)),
        act(),
        nn.AdaptiveAvgPool2d((4, 6)),
        nn.Flatten(),
        nn.Dropout(0.3),
        nn.Linear(12 * 24, 10),
    )


NETS: dict[str, tuple[Callable[..., nn.Module], tuple[int, int, int]]] = {
    "resnet18": (ResNet18, (3, 224, 224)),
    "inception": (Inception, (3, 9, 7)),
    "separable": (Separable, (3, 18, 26)),
    "dilated": (Dilated, (2, 15, 12)),
    "colour_lenet": (colour_lenet, (3, 24, 40)),
}


def build(name: str, twin: bool = False, seed: int = 0) -> tuple[nn.Module, torch.Tensor]:
    """A test net in eval mode with random weights (and BN statistics) and an example input; twin: linear twin."""
    factory, shape = NETS[name]
    torch.manual_seed(seed)
    net = factory(act=identity, max_pool=twin_pool) if twin else factory()
    torch.manual_seed(seed)
    reference = factory()  # same parameter order either way: copy the real net's state into the twin
    net.load_state_dict(_randomised(reference).state_dict())
    return net.eval(), torch.randn(1, *shape, generator=torch.Generator().manual_seed(seed))


def _randomised(net: nn.Module) -> nn.Module:
    """Give BatchNorm layers non-trivial statistics, so BN is tested as the affine map it is."""
    gen = torch.Generator().manual_seed(1)
    for m in net.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.copy_(torch.randn(m.num_features, generator=gen) * 0.1)
            m.running_var.copy_(torch.rand(m.num_features, generator=gen) + 0.5)
            m.weight.data.copy_(torch.rand(m.num_features, generator=gen) + 0.5)
            m.bias.data.copy_(torch.randn(m.num_features, generator=gen) * 0.1)
    return net


def resnet18() -> nn.Module:
    """Factory for `convscope serve --model tests.support.nets:resnet18 --input 3x224x224` (random weights)."""
    return build("resnet18")[0]


def colour() -> nn.Module:
    """Factory for `convscope serve --model tests.support.nets:colour --input 3x24x40` (a colour LeNet, random)."""
    return build("colour_lenet")[0]
