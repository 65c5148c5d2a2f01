"""The arithmetic behind one unit, its receptive field and its input gradient, as plain data."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

from app.core.indexing import unravel
from app.core.layers import ACTIVATIONS, LayerSpec
from app.core.receptive_field import regions

Unit = tuple[int, ...]


def _window(a: np.ndarray, spec: LayerSpec, y: int, x: int, fill: float) -> tuple[np.ndarray, list[int]]:
    """The kernel-sized window of map a (C, H, W) under output cell (y, x), padded with `fill`."""
    assert spec.kernel is not None and spec.stride is not None and spec.padding is not None
    k, s, p = spec.kernel, spec.stride, spec.padding
    padded = np.pad(a, ((0, 0), (p, p), (p, p)), constant_values=fill)
    y0, x0 = y * s - p, x * s - p
    return padded[:, y * s : y * s + k, x * s : x * s + k], [x0, y0, x0 + k - 1, y0 + k - 1]


def _conv(spec: LayerSpec, prev: np.ndarray, unit: Unit) -> dict[str, Any]:
    """kernel × patch, summed, plus bias = the pre-activation."""
    assert isinstance(spec.module, nn.Conv2d)
    c, y, x = unit
    patch, box = _window(prev, spec, y, x, 0.0)  # (Cin, k, k)
    _, h, w = prev.shape
    kernel = spec.module.weight.detach().numpy()[c]  # (Cin, k, k)
    bias = float(spec.module.bias.detach()[c]) if spec.module.bias is not None else 0.0
    products = patch * kernel
    per_channel = products.sum(axis=(1, 2), dtype=np.float64)
    return {
        "window": box,
        **_half_open(box, h, w),
        "patch": patch.tolist(),
        "kernel": kernel.tolist(),
        "products": products.tolist(),
        "channel_sums": per_channel.tolist(),
        "bias": bias,
        "sum": float(per_channel.sum() + bias),
    }


def _pool(spec: LayerSpec, prev: np.ndarray, unit: Unit) -> dict[str, Any]:
    """The pooling window and its winner (max) or mean (avg)."""
    c, y, x = unit
    fill = -np.inf if spec.pool == "max" else 0.0
    window, box = _window(prev[c : c + 1], spec, y, x, fill)
    cells = window[0]  # (k, k)
    _, h, w = prev.shape
    out: dict[str, Any] = {
        "pool_type": spec.pool,
        "window": box,
        **_half_open(box, h, w),
        "channel": c,
        "values": [[None if not np.isfinite(v) else float(v) for v in row] for row in cells],
    }
    if spec.pool == "max":
        wy, wx = np.unravel_index(int(np.argmax(cells)), cells.shape)
        out["winner"] = [int(wy), int(wx)]
        out["winner_unit"] = [c, box[1] + int(wy), box[0] + int(wx)]  # [c, y, x] in the layer pooled
        out["result"] = float(cells[wy, wx])
    else:
        out["result"] = float(cells.mean(dtype=np.float64))
    return out


def _half_open(box: list[int], h: int, w: int) -> dict[str, list[int]]:
    """API v2's convention beside v1's inclusive [x0, y0, x1, y1]: half-open rows and cols, clipped to the map."""
    x0, y0, x1, y1 = box
    return {"rows": [max(y0, 0), min(y1 + 1, h)], "cols": [max(x0, 0), min(x1 + 1, w)]}


def _linear(spec: LayerSpec, prev: np.ndarray, unit: Unit, top: int) -> dict[str, Any]:
    """Bias plus the largest weight × input contributions; `rest` sums the others so the total adds up."""
    assert isinstance(spec.module, nn.Linear)
    (i,) = unit
    weights = spec.module.weight.detach().numpy()[i]  # (in_features,)
    bias = float(spec.module.bias.detach()[i]) if spec.module.bias is not None else 0.0
    products = prev.astype(np.float64) * weights
    order = np.argsort(-np.abs(products), kind="stable")
    shown = order[:top]
    return {
        "bias": bias,
        "inputs": int(prev.size),
        "top": [
            {"index": int(j), "input": float(prev[j]), "weight": float(weights[j]), "product": float(products[j])}
            for j in shown
        ],
        "rest": float(products[order[top:]].sum()),
        "positive_total": float(products[products > 0].sum()),
        "negative_total": float(products[products < 0].sum()),
        "sum": float(products.sum() + bias),
    }


def _softmax(prev: np.ndarray, unit: Unit) -> dict[str, Any]:
    """p_i = exp(z_i − max) / Σ_j exp(z_j − max): every logit is an input (shifting by the max keeps exp finite).

    `derivatives` are ∂p_i/∂z_j = p_i·(δ_ij − p_j) for every logit j: how much each logit moves this probability
    (positive for its own logit, negative for every other), the weights of the rays to all the logits.
    """
    (i,) = unit
    logits = prev.astype(np.float64)
    shift = float(logits.max())
    exps = np.exp(logits - shift)
    total = float(exps.sum())
    probs = exps / total
    derivatives = probs[i] * ((np.arange(len(logits)) == i) - probs)
    terms = " + ".join(f"{e:.4g}" for e in exps)
    return {
        "inputs": list(range(len(logits))),
        "logits": logits.tolist(),
        "shift": shift,
        "exponentials": exps.tolist(),
        "sum": total,
        "probabilities": probs.tolist(),
        "derivatives": derivatives.tolist(),
        "probability": float(probs[i]),
        "expression": f"p({i}) = exp(z{i} − {shift:.4g}) / Σⱼ exp(zⱼ − {shift:.4g}) = {exps[i]:.4g} / "
        f"({terms}) = {exps[i]:.4g} / {total:.4g} = {probs[i]:.4g}",
    }


def computation(
    specs: list[LayerSpec], index: int, outputs: dict[str, torch.Tensor], unit: Unit, top: int = 10
) -> dict[str, Any]:
    """The direct computation of a unit from the previous layer's values."""
    spec = specs[index]
    result: dict[str, Any] = {"kind": spec.kind}
    if spec.kind == "input":
        return result
    prev_spec = specs[index - 1]
    prev = outputs[prev_spec.name][0].numpy()
    result["source"] = prev_spec.name
    if spec.kind == "conv":
        result.update(_conv(spec, prev, unit))
    elif spec.kind == "pool":
        result.update(_pool(spec, prev, unit))
    elif spec.kind in ACTIVATIONS:
        result.update(before=float(prev[unit]), after=float(outputs[spec.name][0][unit]))
    elif spec.kind == "flatten":
        source = unravel(unit[0], tuple(prev.shape))
        result.update(source_unit=list(source), value=float(prev[source]))
    elif spec.kind == "linear":
        result.update(_linear(spec, prev, unit, top))
    elif spec.kind == "softmax":
        result.update(_softmax(prev, unit))
    return result


def input_gradient(model: nn.Sequential, specs: list[LayerSpec], index: int, x: torch.Tensor, unit: Unit) -> np.ndarray:
    """d unit / d input pixel (28×28), by autograd through the real network."""
    with torch.enable_grad():
        inp = x.detach().clone().requires_grad_(True)  # (1, 1, 28, 28)
        out = inp
        for spec in specs[1 : index + 1]:
            assert spec.module is not None
            out = spec.module(out)
        # autograd.grad touches no parameter .grad: concurrent traces share no mutable state.
        (grad,) = torch.autograd.grad(out[(0, *unit)], inp)
    return grad[0, 0].numpy()


def trace(
    model: nn.Sequential,
    specs: list[LayerSpec],
    index: int,
    outputs: dict[str, torch.Tensor],
    unit: Unit,
    top: int = 10,
) -> dict[str, Any]:
    """Everything the API reports about one unit."""
    spec = specs[index]
    return {
        "layer": spec.name,
        "kind": spec.kind,
        "index": list(unit),
        "value": float(outputs[spec.name][(0, *unit)]),
        "receptive_field": [
            {
                "layer": r.layer,
                "box": list(r.box) if r.box else None,
                "rows": [r.box[1], r.box[3] + 1] if r.box else None,
                "cols": [r.box[0], r.box[2] + 1] if r.box else None,
                "channels": r.channels,
            }
            for r in regions(specs, index, unit)
        ],
        "computation": computation(specs, index, outputs, unit, top),
        "gradient": input_gradient(model, specs, index, outputs["input"], unit).tolist(),
    }
