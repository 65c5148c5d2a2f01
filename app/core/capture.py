"""One forward pass that keeps every layer's output, with no hooks and no shared state."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn


def capture(model: nn.Sequential, x: torch.Tensor) -> dict[str, torch.Tensor]:
    """Outputs of `input` and every named layer, in forward order, for a batch x (N, 1, 28, 28)."""
    outputs: dict[str, torch.Tensor] = {"input": x}
    with torch.inference_mode():
        for name, module in model.named_children():
            x = module(x)
            outputs[name] = x
    return outputs


def as_input(pixels: np.ndarray) -> torch.Tensor:
    """A 28×28 array in 0..1 → a batch of one (1, 1, 28, 28) float32 tensor."""
    return torch.from_numpy(np.ascontiguousarray(pixels, dtype=np.float32)).view(1, 1, *pixels.shape)
