"""Declared network architectures: ordered lists of named layers (LeNets) and a small residual network."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable

import torch
from torch import nn

INPUT_SHAPE = (1, 28, 28)
COLOUR_INPUT_SHAPE = (3, 32, 32)
RESNET_WIDTHS = (16, 32, 64)
RESNET_BLOCKS = (1, 1, 1)


DESCRIPTIONS: dict[str, str] = {
    "lenet": "A LeNet-shaped network with today's choices: two 5×5 convolutions with ReLU and 2×2 max pooling, "
    "three fully connected layers and a softmax.",
    "lenet5": "LeNet-5-style, after LeCun et al. (1998): the same layer sizes (6 and 16 feature maps of 5×5 "
    "kernels, 120, 84, 10 units) with tanh and 2×2 average pooling. It differs from the 1998 network: its "
    "activations are plain tanh, not the scaled 1.7159·tanh(2x/3); its subsampling layers average without the "
    "trainable coefficient and bias of each S2/S4 map; every C3 map reads all 6 S2 maps instead of the paper's "
    "partial connection table; and the output is a linear layer with a softmax instead of Euclidean RBF units.",
    "colour-shapes": "A colour LeNet for 3×32×32 images: three 3×3 convolutions (16, 32, 64 feature maps, each "
    "reading every channel of the layer before) with ReLU and 2×2 max pooling, two fully connected layers and a "
    "softmax over ten shapes and textures.",
}


def lenet() -> nn.Sequential:
    """The convscope LeNet: ReLU activations and max pooling (a modern LeNet, not a reproduction of 1998)."""
    return nn.Sequential(
        OrderedDict(
            [
                ("conv1", nn.Conv2d(1, 6, kernel_size=5, padding=2)),  # (N, 6, 28, 28)
                ("relu1", nn.ReLU()),
                ("pool1", nn.MaxPool2d(kernel_size=2, stride=2)),  # (N, 6, 14, 14)
                ("conv2", nn.Conv2d(6, 16, kernel_size=5)),  # (N, 16, 10, 10)
                ("relu2", nn.ReLU()),
                ("pool2", nn.MaxPool2d(kernel_size=2, stride=2)),  # (N, 16, 5, 5)
                ("flatten", nn.Flatten()),  # (N, 400)
                ("fc1", nn.Linear(400, 120)),
                ("relu3", nn.ReLU()),
                ("fc2", nn.Linear(120, 84)),
                ("relu4", nn.ReLU()),
                ("fc3", nn.Linear(84, 10)),  # (N, 10) logits
                ("softmax", nn.Softmax(dim=1)),
            ]
        )
    )


def lenet5() -> nn.Sequential:
    """LeNet-5-style (after LeCun et al. 1998): tanh activations and average pooling.

    Not the 1998 network: plain tanh instead of the scaled 1.7159·tanh(2x/3); parameter-free average pooling instead
    of subsampling with a trainable coefficient and bias per map; C3 (conv2) connected to all six S2 maps instead of
    the paper's partial connection table; a linear layer and softmax instead of the Euclidean RBF output units.
    """
    return nn.Sequential(
        OrderedDict(
            [
                ("conv1", nn.Conv2d(1, 6, kernel_size=5, padding=2)),  # (N, 6, 28, 28)
                ("tanh1", nn.Tanh()),
                ("pool1", nn.AvgPool2d(kernel_size=2, stride=2)),  # (N, 6, 14, 14)
                ("conv2", nn.Conv2d(6, 16, kernel_size=5)),  # (N, 16, 10, 10)
                ("tanh2", nn.Tanh()),
                ("pool2", nn.AvgPool2d(kernel_size=2, stride=2)),  # (N, 16, 5, 5)
                ("flatten", nn.Flatten()),  # (N, 400)
                ("fc1", nn.Linear(400, 120)),
                ("tanh3", nn.Tanh()),
                ("fc2", nn.Linear(120, 84)),
                ("tanh4", nn.Tanh()),
                ("fc3", nn.Linear(84, 10)),  # (N, 10) logits
                ("softmax", nn.Softmax(dim=1)),
            ]
        )
    )


def colour_shapes() -> nn.Sequential:
    """A colour LeNet for the generated shapes and textures (app.core.shapes): 3×32×32 in, ten classes out."""
    return nn.Sequential(
        OrderedDict(
            [
                ("conv1", nn.Conv2d(3, 16, kernel_size=3, padding=1)),  # (N, 16, 32, 32)
                ("relu1", nn.ReLU()),
                ("pool1", nn.MaxPool2d(kernel_size=2, stride=2)),  # (N, 16, 16, 16)
                ("conv2", nn.Conv2d(16, 32, kernel_size=3, padding=1)),  # (N, 32, 16, 16)
                ("relu2", nn.ReLU()),
                ("pool2", nn.MaxPool2d(kernel_size=2, stride=2)),  # (N, 32, 8, 8)
                ("conv3", nn.Conv2d(32, 64, kernel_size=3, padding=1)),  # (N, 64, 8, 8)
                ("relu3", nn.ReLU()),
                ("pool3", nn.MaxPool2d(kernel_size=2, stride=2)),  # (N, 64, 4, 4)
                ("flatten", nn.Flatten()),  # (N, 1024)
                ("fc1", nn.Linear(1024, 64)),
                ("relu4", nn.ReLU()),
                ("fc2", nn.Linear(64, 10)),  # (N, 10) logits
                ("softmax", nn.Softmax(dim=1)),
            ]
        )
    )


class BasicBlock(nn.Module):
    """torchvision's BasicBlock: two 3×3 conv + BN, an identity (or 1×1 conv + BN) shortcut, in-place ReLU and add."""

    expansion = 1

    def __init__(self, inplanes: int, planes: int, stride: int = 1, downsample: nn.Module | None = None) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, kernel_size=3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(planes, planes, kernel_size=3, stride=1, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Residual unit: relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x))."""
        identity = x  # (N, C_in, H, W)
        out = self.conv1(x)  # (N, C, H / stride, W / stride)
        out = self.bn1(out)
        out = self.relu(out)
        out = self.conv2(out)  # (N, C, H / stride, W / stride)
        out = self.bn2(out)
        if self.downsample is not None:
            identity = self.downsample(x)  # (N, C, H / stride, W / stride)
        out += identity
        out = self.relu(out)
        return out


class ResNetMNIST(nn.Module):
    """A small torchvision-style ResNet for 1×28×28 digits whose last layer is the softmax."""

    def __init__(
        self, widths: tuple[int, int, int] = RESNET_WIDTHS, blocks: tuple[int, int, int] = RESNET_BLOCKS
    ) -> None:
        super().__init__()
        self.inplanes = widths[0]
        self.conv1 = nn.Conv2d(1, widths[0], kernel_size=3, stride=1, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(widths[0])
        self.relu = nn.ReLU(inplace=True)
        self.layer1 = self._make_layer(widths[0], blocks[0], stride=1)
        self.layer2 = self._make_layer(widths[1], blocks[1], stride=2)
        self.layer3 = self._make_layer(widths[2], blocks[2], stride=2)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.flatten = nn.Flatten()
        self.fc = nn.Linear(widths[2], 10)
        self.softmax = nn.Softmax(dim=1)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)

    def _make_layer(self, planes: int, blocks: int, stride: int) -> nn.Sequential:
        """One stage: the first block changes width/resolution (with a 1×1 conv + BN shortcut), the rest keep it."""
        downsample = None
        if stride != 1 or self.inplanes != planes:
            downsample = nn.Sequential(
                nn.Conv2d(self.inplanes, planes, kernel_size=1, stride=stride, bias=False), nn.BatchNorm2d(planes)
            )
        layers = [BasicBlock(self.inplanes, planes, stride, downsample)]
        self.inplanes = planes
        layers += [BasicBlock(planes, planes) for _ in range(1, blocks)]
        return nn.Sequential(*layers)

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        """Forward pass up to the class scores, without the softmax."""
        x = self.conv1(x)  # (N, 16, 28, 28)
        x = self.bn1(x)
        x = self.relu(x)
        x = self.layer1(x)  # (N, 16, 28, 28)
        x = self.layer2(x)  # (N, 32, 14, 14)
        x = self.layer3(x)  # (N, 64, 7, 7)
        x = self.avgpool(x)  # (N, 64, 1, 1)
        x = self.flatten(x)  # (N, 64)
        return self.fc(x)  # (N, 10) logits

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Class probabilities (N, 10)."""
        return self.softmax(self.logits(x))


def resnet_mnist() -> ResNetMNIST:
    """Residual MNIST network: 3×3 stem, three stages of BasicBlocks (16, 32, 64 channels), global average pool."""
    return ResNetMNIST()


class _Logits(nn.Module):
    """A view of a model's `logits` method as a module (shares the model's parameters)."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The wrapped model's pre-softmax class scores."""
        logits = self.model.logits
        assert callable(logits)
        out = logits(x)
        assert isinstance(out, torch.Tensor)
        return out


ARCHITECTURES: dict[str, Callable[[], nn.Module]] = {
    "lenet": lenet,
    "lenet5": lenet5,
    "resnet-mnist": resnet_mnist,
    "colour-shapes": colour_shapes,
}


def build(architecture: str) -> nn.Module:
    """Build an untrained network by architecture name."""
    try:
        factory = ARCHITECTURES[architecture]
    except KeyError:
        raise ValueError(f"unknown architecture {architecture!r}; known: {sorted(ARCHITECTURES)}") from None
    return factory()


def logits_part(model: nn.Module) -> nn.Module:
    """The network without its final softmax, for training with cross-entropy (shares its parameters)."""
    if isinstance(model, nn.Sequential):
        if not isinstance(model[-1], nn.Softmax):
            raise ValueError("expected the network to end with a softmax layer")
        head = model[:-1]
        assert isinstance(head, nn.Sequential)
        return head
    if not callable(getattr(model, "logits", None)):
        raise ValueError("expected an nn.Sequential ending in softmax or a module with a logits(x) method")
    return _Logits(model)


def describe(model: nn.Module) -> list[str]:
    """Layer names for manifests: forward order for a Sequential, leaf module names otherwise."""
    if isinstance(model, nn.Sequential):
        return [name for name, _ in model.named_children()]
    return [name for name, m in model.named_modules() if name and next(m.children(), None) is None]


def count_parameters(module: nn.Module) -> int:
    """Number of trainable values in a module."""
    return sum(p.numel() for p in module.parameters())


def forward_logits(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """Plain forward pass to the logits."""
    out = logits_part(model)(x)
    assert isinstance(out, torch.Tensor)
    return out
