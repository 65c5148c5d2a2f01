"""Describe a network's layers generically from its module sequence: kind, shape and hyper-parameters."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import torch
from torch import nn

from app.core.architectures import INPUT_SHAPE, count_parameters

LayerKind = Literal["input", "conv", "relu", "tanh", "pool", "flatten", "linear", "softmax"]
Role = Literal["input", "hidden", "logits", "probabilities"]
KINDS: dict[type[nn.Module], LayerKind] = {
    nn.Conv2d: "conv",
    nn.ReLU: "relu",
    nn.Tanh: "tanh",
    nn.MaxPool2d: "pool",
    nn.AvgPool2d: "pool",
    nn.Flatten: "flatten",
    nn.Linear: "linear",
    nn.Softmax: "softmax",
}
ACTIVATIONS: frozenset[LayerKind] = frozenset({"relu", "tanh"})
# Kinds whose output channel c (or unit i) depends on input channel c (unit i) alone. Softmax is not one of them:
# probability i is exp(z_i) / Σ_j exp(z_j), so it depends on every logit.
ELEMENTWISE: frozenset[LayerKind] = ACTIVATIONS


def _square(value: object, what: str, layer: str) -> int:
    """Geometry here is per axis identical; reject non-square hyper-parameters clearly."""
    if isinstance(value, int):
        return value
    if not isinstance(value, tuple) or len(set(value)) != 1:
        raise ValueError(f"layer {layer}: non-square {what} {value} is not supported")
    return int(value[0])


@dataclass(frozen=True)
class LayerSpec:
    """One addressable layer: the pseudo-layer `input` or a named module of the network."""

    name: str
    kind: LayerKind
    shape: tuple[int, ...]
    module: nn.Module | None = None
    kernel: int | None = None
    stride: int | None = None
    padding: int | None = None
    pool: str | None = None

    @property
    def spatial(self) -> bool:
        """True for (C, H, W) maps, False for vectors."""
        return len(self.shape) == 3

    @property
    def windowed(self) -> bool:
        """True for layers that look at a kernel-sized window of the previous map."""
        return self.kernel is not None

    @property
    def channelwise(self) -> bool:
        """True when output channel c reads only input channel c."""
        return self.kind in ELEMENTWISE or self.kind == "pool"

    @property
    def size(self) -> int:
        """Number of units."""
        return math.prod(self.shape)

    def hyper(self) -> dict[str, int | str]:
        """Hyper-parameters as the API publishes them."""
        out: dict[str, int | str] = {}
        m = self.module
        if isinstance(m, nn.Conv2d):
            out = {"in_channels": m.in_channels, "out_channels": m.out_channels}
        elif isinstance(m, nn.Linear):
            out = {"in_features": m.in_features, "out_features": m.out_features}
        if self.kernel is not None:
            out.update(kernel_size=self.kernel, stride=self.stride or 1, padding=self.padding or 0)
        if self.pool is not None:
            out["pool_type"] = self.pool
        return out

    def parameters(self) -> int:
        """Trainable parameter count."""
        return count_parameters(self.module) if self.module is not None else 0


def layer_specs(model: nn.Sequential) -> list[LayerSpec]:
    """The input pseudo-layer followed by every named module, with output shapes from a dry run."""
    specs = [LayerSpec("input", "input", INPUT_SHAPE)]
    x = torch.zeros(1, *INPUT_SHAPE)
    with torch.inference_mode():
        for name, module in model.named_children():
            kind = KINDS.get(type(module))
            if kind is None:
                raise ValueError(f"layer {name}: module type {type(module).__name__} is not supported")
            x = module(x)
            kernel = stride = padding = None
            pool = None
            if isinstance(module, nn.Conv2d | nn.MaxPool2d | nn.AvgPool2d):
                kernel = _square(module.kernel_size, "kernel", name)
                stride = _square(module.stride, "stride", name)
                padding = _square(module.padding, "padding", name)
                if isinstance(module, nn.Conv2d) and _square(module.dilation, "dilation", name) != 1:
                    raise ValueError(f"layer {name}: dilated convolutions are not supported")
                if isinstance(module, nn.MaxPool2d | nn.AvgPool2d):
                    pool = "max" if isinstance(module, nn.MaxPool2d) else "avg"
            specs.append(LayerSpec(name, kind, tuple(x.shape[1:]), module, kernel, stride, padding, pool))
    return specs


def roles(specs: list[LayerSpec]) -> list[Role]:
    """Each layer's role (input, hidden, logits, probabilities), so a front end need not know layer names."""
    out: list[Role] = [
        "input" if s.kind == "input" else "probabilities" if s.kind == "softmax" else "hidden" for s in specs
    ]
    last = len(specs) - 1
    logits = last - 1 if specs[last].kind == "softmax" else last
    if logits > 0 and specs[logits].kind == "linear":
        out[logits] = "logits"
    return out
