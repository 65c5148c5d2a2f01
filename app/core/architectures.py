"""Declared network architectures: each is an ordered list of named layers."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable

import torch
from torch import nn

INPUT_SHAPE = (1, 28, 28)


DESCRIPTIONS: dict[str, str] = {
    "lenet": "A LeNet-shaped network with today's choices: two 5×5 convolutions with ReLU and 2×2 max pooling, "
    "three fully connected layers and a softmax.",
    "lenet5": "LeNet-5-style, after LeCun et al. (1998): the same layer sizes (6 and 16 feature maps of 5×5 "
    "kernels, 120, 84, 10 units) with tanh and 2×2 average pooling. It differs from the 1998 network: its "
    "activations are plain tanh, not the scaled 1.7159·tanh(2x/3); its subsampling layers average without the "
    "trainable coefficient and bias of each S2/S4 map; every C3 map reads all 6 S2 maps instead of the paper's "
    "partial connection table; and the output is a linear layer with a softmax instead of Euclidean RBF units.",
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


ARCHITECTURES: dict[str, Callable[[], nn.Sequential]] = {"lenet": lenet, "lenet5": lenet5}


def build(architecture: str) -> nn.Sequential:
    """Build an untrained network by architecture name."""
    try:
        factory = ARCHITECTURES[architecture]
    except KeyError:
        raise ValueError(f"unknown architecture {architecture!r}; known: {sorted(ARCHITECTURES)}") from None
    return factory()


def logits_part(model: nn.Sequential) -> nn.Sequential:
    """The network without its final softmax, for training with cross-entropy."""
    if not isinstance(model[-1], nn.Softmax):
        raise ValueError("expected the network to end with a softmax layer")
    head = model[:-1]
    assert isinstance(head, nn.Sequential)
    return head


def describe(model: nn.Sequential) -> list[str]:
    """Layer names in forward order, for manifests."""
    return [name for name, _ in model.named_children()]


def count_parameters(module: nn.Module) -> int:
    """Number of trainable values in a module."""
    return sum(p.numel() for p in module.parameters())


def forward_logits(model: nn.Sequential, x: torch.Tensor) -> torch.Tensor:
    """Plain forward pass to the logits."""
    return logits_part(model)(x)
