"""The lab's chain in API v2's convention: convolution (any number of input channels) → activation → pooling →
flattening → dropout, every intermediate value returned.

Coordinates: a cell is [y, x] (a unit [c, y, x] with c = 0 on the lab's one-channel maps); a window is
{"rows": [start, stop], "cols": [start, stop]}, half-open, on the map it reads, clipped to that map (padding is not a
cell of the map). Numbers are PyTorch's (float64), so the lab computes exactly what a network layer computes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import torch
import torch.nn.functional as F

from app.core.lab import Activation, LabError, PoolType, activate
from app.core.lab_sizes import PoolMode, SizeError, conv_size, pool_size

# What an average pool divides by: the input cells the window covers, those plus the zero padding it covers
# (PyTorch's default, count_include_pad=True), or always the full F × F window.
Divisor = Literal["covered", "padded", "window"]
SIDE_BY_SIDE: tuple[Activation, ...] = ("relu", "leaky_relu", "tanh", "sigmoid")


@dataclass(frozen=True)
class PoolSpec:
    """A square pool: type, window F, stride S, padding P, floor or ceil mode, and an average's divisor."""

    type: PoolType = "max"
    size: int = 2
    stride: int = 2
    padding: int = 0
    mode: PoolMode = "floor"
    divisor: Divisor = "covered"
    dilation: int = 1


def box(rows: tuple[int, int], cols: tuple[int, int]) -> dict[str, list[int]]:
    """A half-open box {"rows": [start, stop], "cols": [start, stop]}."""
    return {"rows": [rows[0], rows[1]], "cols": [cols[0], cols[1]]}


def clipped(start: int, reach: int, limit: int) -> tuple[int, int]:
    """[start, start + reach) clipped to [0, limit)."""
    return max(start, 0), min(start + reach, limit)


def padding_for(padding: int | str, kernel: int, dilation: int = 1) -> int:
    """'valid' → 0; 'same' → D·(F − 1) / 2, which keeps the size at stride 1; or a number of cells."""
    if padding == "valid":
        return 0
    if padding == "same":
        total = dilation * (kernel - 1)
        if total % 2:
            raise LabError(f"'same' padding needs an odd kernel; a {kernel}×{kernel} kernel cannot be centred")
        return total // 2
    if isinstance(padding, int) and padding >= 0:
        return padding
    raise LabError(f"padding must be 'valid', 'same' or a number ≥ 0, not {padding!r}")


def grid(t: torch.Tensor) -> np.ndarray:
    """A tensor as float64 numpy (the JSON writer takes arrays as they are)."""
    return t.detach().to(torch.float64).numpy()


def conv_channels(
    x: torch.Tensor,
    kernel: torch.Tensor,
    stride: int | tuple[int, int],
    padding: int | tuple[int, int, int, int],
    dilation: int | tuple[int, int],
) -> torch.Tensor:
    """Each input channel's own contribution map: channel c of x (C, H, W) under kernel[c] (C, F, F) → (C, h, w).

    Their sum plus the bias is the convolution's output channel; padding is (left, right, top, bottom) or one number.
    """
    pads = (padding,) * 4 if isinstance(padding, int) else padding
    xp = F.pad(x[None], pads)
    return F.conv2d(xp, kernel[:, None], stride=stride, dilation=dilation, groups=x.shape[0])[0]


def pool(x: torch.Tensor, spec: PoolSpec) -> dict[str, Any]:
    """Pool one map (H, W) with PyTorch, plus each window's box, its winner [y, x] (max) and its divisor (avg)."""
    h, w = x.shape
    if 2 * spec.padding > spec.size:
        raise LabError(f"pooling padding {spec.padding} is more than half the {spec.size}×{spec.size} window")
    if spec.dilation != 1 and spec.type != "max":
        raise LabError("only max pooling can be dilated")
    try:
        rows = pool_size(h, spec.size, spec.padding, spec.stride, spec.mode, spec.dilation)
        cols = pool_size(w, spec.size, spec.padding, spec.stride, spec.mode, spec.dilation)
    except SizeError as exc:
        raise LabError(str(exc)) from exc
    ceil = spec.mode == "ceil"
    t = x[None, None]
    winners: list[list[int]] | None = None
    divisors: list[int] | None = None
    if spec.type == "max":
        out, idx = F.max_pool2d(
            t, spec.size, spec.stride, spec.padding, spec.dilation, ceil_mode=ceil, return_indices=True
        )
        winners = [[int(i) // w, int(i) % w] for i in idx.reshape(-1)]
    else:
        override = 1 if spec.type == "sum" else spec.size * spec.size if spec.divisor == "window" else None
        out = F.avg_pool2d(
            t, spec.size, spec.stride, spec.padding, ceil, spec.divisor == "padded", divisor_override=override
        )
    reach = spec.dilation * (spec.size - 1) + 1
    windows = []
    for oy in range(out.shape[2]):
        for ox in range(out.shape[3]):
            y0, x0 = oy * spec.stride - spec.padding, ox * spec.stride - spec.padding
            windows.append(box(clipped(y0, reach, h), clipped(x0, reach, w)))
    if spec.type == "avg":
        divisors = [_divisor(win, spec, h, w) for win in windows_unclipped(out.shape[2:], spec)]
    return {
        "type": spec.type,
        "size": spec.size,
        "stride": spec.stride,
        "padding": spec.padding,
        "dilation": spec.dilation,
        "mode": spec.mode,
        "divisor": spec.divisor if spec.type == "avg" else None,
        "shape": [int(out.shape[2]), int(out.shape[3])],
        "values": grid(out[0, 0]),
        "output_size": {"rows": rows, "cols": cols},
        "windows": windows,
        "winners": winners,
        "divisors": divisors,
    }


def windows_unclipped(shape: tuple[int, ...] | torch.Size, spec: PoolSpec) -> list[tuple[int, int]]:
    """Each pooled cell's window start (y0, x0) in the map's coordinates, before clipping (may be negative)."""
    return [
        (oy * spec.stride - spec.padding, ox * spec.stride - spec.padding)
        for oy in range(shape[0])
        for ox in range(shape[1])
    ]


def _divisor(start: tuple[int, int], spec: PoolSpec, h: int, w: int) -> int:
    """What an average window divides by, counted as PyTorch counts it (ceil mode's overhang past the padding never
    counts; the zero padding counts only for "padded")."""
    if spec.divisor == "window":
        return spec.size * spec.size
    lo, extra = (0, 0) if spec.divisor == "covered" else (-spec.padding, spec.padding)

    def count(first: int, n: int) -> int:
        return sum(1 for r in range(first, first + spec.size) if lo <= r < n + extra)

    return count(start[0], h) * count(start[1], w)


def dropout(values: torch.Tensor, p: float, seed: int) -> dict[str, Any]:
    """Dropout on a vector: in training each value is zeroed with probability p and the rest scaled by 1/(1 − p)
    (so the expected value is unchanged); in evaluation it passes everything through unchanged."""
    generator = torch.Generator().manual_seed(seed)
    keep = torch.rand(values.shape, generator=generator, dtype=torch.float64) >= p
    scale = 1.0 / (1.0 - p) if p < 1 else 0.0
    return {
        "p": p,
        "seed": seed,
        "scale": scale,
        "kept": keep.to(torch.uint8).numpy(),
        "train": grid(torch.where(keep, values * scale, torch.zeros_like(values))),
        "eval": grid(values),
    }


def chain(
    image: list[list[list[float]]],
    kernel: list[list[list[float]]],
    bias: float = 0.0,
    stride: int = 1,
    padding: int | str = "valid",
    dilation: int = 1,
    activation: Activation = "relu",
    slope: float = 0.01,
    pool_spec: PoolSpec | None = None,
    dropout_p: float = 0.5,
    seed: int = 0,
) -> dict[str, Any]:
    """Input (C, H, W) and one kernel (C, F, F) → per-channel products → their sum + bias → activation → pool →
    flatten → dropout, with the output size of every step and the formula behind it."""
    x = torch.tensor(image, dtype=torch.float64)  # (C, H, W)
    k = torch.tensor(kernel, dtype=torch.float64)  # (C, F, F)
    if x.dim() != 3 or k.dim() != 3 or k.shape[0] != x.shape[0]:
        raise LabError(f"the kernel has {k.shape[0]} channels but the input has {x.shape[0]}")
    f = int(k.shape[-1])
    p = padding_for(padding, f, dilation)
    try:
        sizes = {
            "rows": conv_size(x.shape[1], f, p, stride, dilation),
            "cols": conv_size(x.shape[2], f, p, stride, dilation),
        }
    except SizeError as exc:
        raise LabError(str(exc)) from exc
    per_channel = conv_channels(x, k, stride, p, dilation)  # (C, h, w)
    feature = per_channel.sum(0) + bias
    activated = activate(feature, activation, slope)
    result: dict[str, Any] = {
        "input": grid(x),
        "padded": grid(F.pad(x, (p, p, p, p))),
        "padding": p,
        "stride": stride,
        "dilation": dilation,
        "kernel": grid(k),
        "bias": bias,
        "output_size": sizes,
        "per_channel": grid(per_channel),
        "feature_map": grid(feature),
        "activation": activation,
        "activated": grid(activated),
        "activations": {name: grid(activate(feature, name, slope)) for name in SIDE_BY_SIDE},
        "slope": slope,
    }
    pooled = activated
    result["pooled"] = None
    if pool_spec is not None and pool_spec.type != "none":
        result["pooled"] = pool(activated, pool_spec)
        pooled = torch.from_numpy(result["pooled"]["values"])
    h, w = pooled.shape
    result["flattened"] = {
        "values": grid(pooled.reshape(-1)),
        "source": "activated" if result["pooled"] is None else "pooled",
        "shape": [1, h, w],
        "order": f"row by row: index = y · {w} + x (with channels, index = c · {h * w} + y · {w} + x)",
    }
    result["dropout"] = dropout(pooled.reshape(-1), dropout_p, seed)
    return result
