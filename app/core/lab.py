"""The convolution lab's numerics: one conv → activation → pool → flatten chain, and softmax vs losses (PyTorch)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import torch
import torch.nn.functional as F

Activation = Literal["none", "relu", "leaky_relu", "tanh", "sigmoid"]
PoolType = Literal["none", "max", "avg", "sum"]

KERNELS: dict[str, list[list[float]]] = {
    "identity": [[0, 0, 0], [0, 1, 0], [0, 0, 0]],
    "sharpen": [[0, -1, 0], [-1, 5, -1], [0, -1, 0]],
    "box blur": [[1 / 9] * 3 for _ in range(3)],
    "edge detect": [[0, 1, 0], [1, -4, 1], [0, 1, 0]],
    "horizontal edges (Sobel)": [[-1, -2, -1], [0, 0, 0], [1, 2, 1]],
    "vertical edges (Sobel)": [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]],
    "emboss": [[-2, -1, 0], [-1, 1, 1], [0, 1, 2]],
}

SMILEY = [
    [0, 0, 0, 0, 0, 0, 0],
    [0, 1, 0, 0, 0, 1, 0],
    [0, 0, 0, 0, 0, 0, 0],
    [0, 0, 0, 1, 0, 0, 0],
    [1, 0, 0, 0, 0, 0, 1],
    [0, 1, 0, 0, 0, 1, 0],
    [0, 0, 1, 1, 1, 0, 0],
]
X_SHAPE = [
    [1, 0, 0, 0, 1],
    [0, 1, 0, 1, 0],
    [0, 0, 1, 0, 0],
    [0, 1, 0, 1, 0],
    [1, 0, 0, 0, 1],
]
EXAMPLES: dict[str, dict[str, Any]] = {
    "smiley": {
        "title": "7×7 smiley face, 3×3 feature detector",
        "input": SMILEY,
        "kernel": [[0, 0, 1], [1, 0, 0], [0, 1, 1]],
        "stride": 1,
        "padding": 0,
        "activation": "none",
        "pool": {"type": "max", "size": 2, "stride": 2},
        "expect": "stride 1, no padding → 5×5 feature map; 2×2 max pooling, stride 2 → 3×3 pooled map",
    },
    "x": {
        "title": "5×5 “X”, 3×3 diagonal filter",
        "input": X_SHAPE,
        "kernel": [[1, 0, 0], [0, 1, 0], [0, 0, 1]],
        "stride": 1,
        "padding": 0,
        "activation": "none",
        "pool": {"type": "none", "size": 2, "stride": 2},
        "expect": "stride 1, no padding → 3×3 feature map; the diagonal scores highest where the X's diagonal runs",
    },
}


class LabError(ValueError):
    """A lab setting that cannot produce a map (e.g. a kernel larger than the padded input)."""


@dataclass(frozen=True)
class Pool:
    """Pooling settings: type, square window size, stride."""

    type: PoolType = "max"
    size: int = 2
    stride: int = 2


def resolve_padding(padding: int | str, kernel: int) -> int:
    """'valid' → 0; 'same' → (F − 1) / 2, which keeps the size at stride 1 (odd kernels only); or a number."""
    if padding == "valid":
        return 0
    if padding == "same":
        if kernel % 2 == 0:
            raise LabError(f"'same' padding needs an odd kernel; a {kernel}×{kernel} kernel cannot be centred")
        return (kernel - 1) // 2
    if isinstance(padding, int) and padding >= 0:
        return padding
    raise LabError(f"padding must be 'valid', 'same' or a number ≥ 0, not {padding!r}")


def output_size(n: int, f: int, p: int, s: int) -> dict[str, Any]:
    """((N − F + 2P) / S) + 1, with the floor PyTorch applies when it is not a whole number."""
    span = n - f + 2 * p
    if span < 0:
        raise LabError(f"the {f}×{f} kernel does not fit in the {n + 2 * p}-wide padded input")
    return {
        "n": n,
        "f": f,
        "p": p,
        "s": s,
        "exact": span % s == 0,
        "value": span // s + 1,
        "formula": f"(({n} − {f} + 2·{p}) / {s}) + 1 = {span / s + 1:g}"
        + ("" if span % s == 0 else f" → {span // s + 1} (the floor: a partial stride is dropped)"),
    }


def activate(x: torch.Tensor, activation: Activation, slope: float) -> torch.Tensor:
    """Apply the chosen activation function."""
    if activation == "relu":
        return F.relu(x)
    if activation == "leaky_relu":
        return F.leaky_relu(x, slope)
    if activation == "tanh":
        return torch.tanh(x)
    if activation == "sigmoid":
        return torch.sigmoid(x)
    return x


def pool_map(x: torch.Tensor, pool: Pool) -> tuple[torch.Tensor, list[list[int]], list[int] | None]:
    """Pool with windows allowed to run past the edge (ceil mode): partial windows pool the cells they have.

    Returns the pooled map (1, 1, h, w), each window's inclusive [y0, x0, y1, x1] and, for max, the flat index of
    each window's winner in the pooled input.
    """
    _, _, h, w = x.shape
    if pool.size > h or pool.size > w:
        raise LabError(f"a {pool.size}×{pool.size} pooling window does not fit in the {h}×{w} map")
    if pool.type == "max":
        out, idx = F.max_pool2d(x, pool.size, pool.stride, ceil_mode=True, return_indices=True)
        winners: list[int] | None = idx.reshape(-1).tolist()
    else:
        # avg divides by the cells a window actually covers; sum is avg without the division.
        divisor = 1 if pool.type == "sum" else None
        out = F.avg_pool2d(x, pool.size, pool.stride, ceil_mode=True, divisor_override=divisor)
        winners = None
    windows = []
    for oy in range(out.shape[2]):
        for ox in range(out.shape[3]):
            y0, x0 = oy * pool.stride, ox * pool.stride
            windows.append([y0, x0, min(y0 + pool.size, h) - 1, min(x0 + pool.size, w) - 1])
    return out, windows, winners


def _map(t: torch.Tensor) -> dict[str, Any]:
    arr = t.detach().reshape(t.shape[-2], t.shape[-1]).numpy()
    return {"shape": list(arr.shape), "values": arr.astype(np.float64).tolist()}


def convolve(
    image: list[list[float]],
    kernel: list[list[float]],
    bias: float = 0.0,
    stride: int = 1,
    padding: int | str = "valid",
    activation: Activation = "none",
    slope: float = 0.01,
    pool: Pool | None = None,
) -> dict[str, Any]:
    """Convolution → activation → pooling → flattening on one channel, with every intermediate map."""
    x = torch.tensor(image, dtype=torch.float64)[None, None]  # (1, 1, H, W)
    k = torch.tensor(kernel, dtype=torch.float64)[None, None]  # (1, 1, F, F)
    f = k.shape[-1]
    p = resolve_padding(padding, f)
    sizes = [output_size(x.shape[2], f, p, stride), output_size(x.shape[3], f, p, stride)]
    padded = F.pad(x, (p, p, p, p))  # zero padding, shown to the learner
    feature = F.conv2d(x, k, torch.tensor([bias], dtype=torch.float64), stride=stride, padding=p)
    activated = activate(feature, activation, slope)
    result: dict[str, Any] = {
        "input": _map(x),
        "padded": _map(padded),
        "padding": p,
        "stride": stride,
        "kernel": _map(k),
        "bias": bias,
        "output_size": {"rows": sizes[0], "cols": sizes[1]},
        "feature_map": _map(feature),
        "activation": activation,
        "activated": _map(activated),
    }
    pooled = activated
    if pool is not None and pool.type != "none":
        pooled, windows, winners = pool_map(activated, pool)
        result["pooled"] = {
            **_map(pooled),
            "type": pool.type,
            "size": pool.size,
            "stride": pool.stride,
            "windows": windows,
            "winners": winners,
        }
    flat = pooled.reshape(-1)
    result["flattened"] = {
        "values": flat.tolist(),
        "source": "pooled" if "pooled" in result else "activated",
        "order": "row by row: index = y · width + x",
    }
    return result


def softmax_losses(scores: list[float], label: int) -> dict[str, Any]:
    """Softmax, cross-entropy and mean squared error against the one-hot label, plus a sweep over p(true)."""
    z = torch.tensor(scores, dtype=torch.float64)
    if not 0 <= label < len(scores):
        raise LabError(f"label {label} is not one of the {len(scores)} classes")
    probs = torch.softmax(z, 0)
    one_hot = F.one_hot(torch.tensor(label), len(scores)).to(torch.float64)
    ce = F.cross_entropy(z[None], torch.tensor([label]))
    mse = F.mse_loss(probs, one_hot)
    # How each loss grows as the probability given to the true class falls (the rest shared equally).
    p_true = torch.linspace(0.01, 0.99, 50, dtype=torch.float64)
    rest = (1 - p_true) / (len(scores) - 1)
    sweep_ce = -torch.log(p_true)
    sweep_mse = ((1 - p_true) ** 2 + (len(scores) - 1) * rest**2) / len(scores)
    return {
        "scores": scores,
        "label": label,
        "exponentials": torch.exp(z - z.max()).tolist(),
        "shift": float(z.max()),
        "probabilities": probs.tolist(),
        "one_hot": one_hot.tolist(),
        "cross_entropy": float(ce),
        "mse": float(mse),
        "sweep": {"p_true": p_true.tolist(), "cross_entropy": sweep_ce.tolist(), "mse": sweep_mse.tolist()},
        "note": f"at p(true) = 0.01 cross-entropy is {-math.log(0.01):.2f}, MSE at most "
        f"{float(sweep_mse[0]):.2f}: cross-entropy keeps pushing hard on confident mistakes",
    }
