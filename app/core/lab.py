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

# The classic tutorial's 7×7 binary smiley, rows top to bottom: 0000000 / 0100010 / 0000000 / 0001000 / 0100010 /
# 0011100 / 0000000 (two eyes, a nose, the corners of the mouth and the mouth).
SMILEY_ROWS = ["0000000", "0100010", "0000000", "0001000", "0100010", "0011100", "0000000"]
SMILEY = [[int(c) for c in row] for row in SMILEY_ROWS]
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


X_SEVEN = [[1 if y in (x, 6 - x) else 0 for x in range(7)] for y in range(7)]
DIAGONAL = [[1, 0, 0], [0, 1, 0], [0, 0, 1]]
# A 5×5 colour picture (red, green, blue channels, each 0 or 1) and one 3×3×3 kernel: one 3×3 slice per channel.
COLOUR_INPUT = [
    [[1, 1, 0, 0, 0], [1, 1, 1, 0, 0], [0, 1, 1, 1, 0], [0, 0, 1, 1, 1], [0, 0, 0, 1, 1]],
    [[0, 0, 1, 0, 0], [0, 1, 1, 1, 0], [1, 1, 1, 1, 1], [0, 1, 1, 1, 0], [0, 0, 1, 0, 0]],
    [[1, 0, 0, 0, 1], [0, 0, 1, 0, 0], [0, 1, 0, 1, 0], [0, 0, 1, 0, 0], [1, 0, 0, 0, 1]],
]
COLOUR_KERNEL = [
    [[1, 0, -1], [0, 1, 0], [-1, 0, 1]],
    [[0, 1, 0], [1, -1, 1], [0, 1, 0]],
    [[-1, 0, 0], [0, 0, 0], [0, 0, 1]],
]


def _example(title: str, image: Any, kernel: Any, teaches: str, **settings: Any) -> dict[str, Any]:
    pool = {"type": "none", "size": 2, "stride": 2, "padding": 0, "mode": "floor", "divisor": "covered"}
    pool.update(settings.pop("pool", {}))
    base = {"bias": 0.0, "stride": 1, "padding": 0, "dilation": 1, "activation": "none"}
    return {"title": title, "input": image, "kernel": kernel, "teaches": teaches, **base, **settings, "pool": pool}


# The worked examples of API v2: inputs are [C][H][W], kernels [C][F][F] (one output channel).
EXAMPLES_V2: dict[str, dict[str, Any]] = {
    "smiley": _example(
        "7×7 smiley face, 3×3 feature detector",
        [SMILEY],
        [EXAMPLES["smiley"]["kernel"]],
        "Each feature-map number counts where the detector's 1s meet the image's 1s: stride 1 and no padding give "
        "((7 − 3 + 0) / 1) + 1 = 5, a 5×5 map. 2×2 max pooling with stride 2 in ceil mode keeps the partial windows "
        "at the edge, so the 5×5 map pools to 3×3 (floor mode, what the network's pools do, would give 2×2).",
        pool={"type": "max", "mode": "ceil"},
    ),
    "x": _example(
        "7×7 “X”, diagonal filter, bias −2, ReLU, 2×2 pooling",
        [X_SEVEN],
        [DIAGONAL],
        "The diagonal filter scores 3 wherever it lies along the X's falling stroke; the bias −2 and the ReLU keep "
        "only those places (3 − 2 = 1) and silence partial matches. Switch the pooling between max, mean and sum.",
        bias=-2.0,
        activation="relu",
        pool={"type": "max"},
    ),
    "x_stride": _example(
        "7×7 “X”, stride 3: an output size that is not whole",
        [X_SEVEN],
        [DIAGONAL],
        "((7 − 3 + 2·0) / 3) + 1 = 2.33: the kernel cannot take a third step. Frameworks round down (PyTorch, and "
        "TensorFlow's 'valid'), so the map is 2×2 and the last column and row are never read; 'same' padding in "
        "TensorFlow instead pads unevenly so that ⌈7 / 3⌉ = 3 steps fit.",
        stride=3,
    ),
    "colour": _example(
        "5×5 colour input (3 channels), one 3×3×3 kernel, padding 1, stride 2",
        COLOUR_INPUT,
        COLOUR_KERNEL,
        "A kernel has one 3×3 slice per input channel. Each slice slides over its own channel; the three product "
        "maps are added, plus the bias, into one feature map: ((5 − 3 + 2·1) / 2) + 1 = 3, so 3×3.",
        bias=1.0,
        padding=1,
        stride=2,
    ),
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


def _mse_gradient(p: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """∂MSE/∂z for MSE = mean((p − y)²) with p = softmax(z): (2/K)·p_j·((p_j − y_j) − Σ_i (p_i − y_i)·p_i)."""
    d = p - y
    return 2.0 / len(p) * p * (d - (d * p).sum())


def softmax_losses(scores: list[float], label: int) -> dict[str, Any]:
    """Softmax, cross-entropy and mean squared error against the one-hot label, both losses' gradients with respect
    to the scores, and a sweep over the probability of the true class (reaching the student's own)."""
    z = torch.tensor(scores, dtype=torch.float64)
    k = len(scores)
    if not 0 <= label < k:
        raise LabError(f"label {label} is not one of the {k} classes")
    probs = torch.softmax(z, 0)
    one_hot = F.one_hot(torch.tensor(label), k).to(torch.float64)
    ce = F.cross_entropy(z[None], torch.tensor([label]))
    mse = F.mse_loss(probs, one_hot)
    ce_grad = probs - one_hot  # ∂CE/∂z_i = p_i − y_i
    mse_grad = _mse_gradient(probs, one_hot)
    p_now = float(probs[label])
    # The sweep: the true class gets p, the rest share 1 − p equally; it starts below the student's own p(true) so
    # the chart always reaches the current cross-entropy.
    low = min(0.01, max(p_now * 0.8, 1e-6))
    p_true = torch.cat(
        [
            torch.logspace(math.log10(low), math.log10(0.05), 30, dtype=torch.float64),
            torch.linspace(0.06, 0.99, 40, dtype=torch.float64),
        ]
    )
    rest = (1 - p_true) / (k - 1)
    sweep_mse = ((1 - p_true) ** 2 + (k - 1) * rest**2) / k
    # The gradient on the true class's score along the sweep: CE's is p − 1, MSE's the formula above.
    sweep_mse_grad = 2.0 / k * p_true * ((p_true - 1) - ((p_true - 1) * p_true + (k - 1) * rest**2))
    return {
        "scores": scores,
        "label": label,
        "exponentials": torch.exp(z - z.max()).tolist(),
        "shift": float(z.max()),
        "probabilities": probs.tolist(),
        "one_hot": one_hot.tolist(),
        "cross_entropy": float(ce),
        "mse": float(mse),
        "gradients": {"cross_entropy": ce_grad.tolist(), "mse": mse_grad.tolist()},
        "sweep": {
            "p_true": p_true.tolist(),
            "cross_entropy": (-torch.log(p_true)).tolist(),
            "mse": sweep_mse.tolist(),
            "cross_entropy_gradient": (p_true - 1).tolist(),
            "mse_gradient": sweep_mse_grad.tolist(),
        },
        "note": _loss_note(p_now, label, float(ce_grad[label]), float(mse_grad[label])),
    }


def _loss_note(p: float, label: int, ce_grad: float, mse_grad: float) -> str:
    """Why cross-entropy trains better, with the student's numbers: the gradient on the true class's score."""
    ratio = abs(ce_grad) / abs(mse_grad) if mse_grad else math.inf
    times = "infinitely" if math.isinf(ratio) else f"{ratio:.3g} times"
    return (
        f"Training moves each score against its gradient. Here p({label}) = {p:.4g}: cross-entropy's gradient on the "
        f"true score is p − 1 = {ce_grad:.4g}, mean squared error's (through the softmax) is {mse_grad:.4g}, "
        f"{times} smaller. Cross-entropy's stays near −1 however confidently wrong the network is; MSE's shrinks "
        f"towards 0 as p({label}) → 0, so a confidently wrong network trained with MSE barely moves"
    )
