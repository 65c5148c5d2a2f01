"""One unit of any graph layer explained: its direct inputs, the arithmetic that made it, and d unit / d input."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

from app.core.graph import CapturedGraph, Layer


def _window(out: int, stride: int, pad: int, kernel: int, dilation: int) -> list[int]:
    """Input positions of one output cell's window along an axis, unclipped (negative or ≥ size: padding)."""
    return [out * stride - pad + j * dilation for j in range(kernel)]


def _patch(x: torch.Tensor, rows: list[int], cols: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """x (C, H, W) read at rows × cols with zeros in the padding, and the padding mask."""
    c, h, w = x.shape
    values = np.zeros((c, len(rows), len(cols)), dtype=np.float32)  # (C, kh, kw)
    inside = np.zeros((len(rows), len(cols)), dtype=bool)
    for i, r in enumerate(rows):
        for j, q in enumerate(cols):
            if 0 <= r < h and 0 <= q < w:
                values[:, i, j] = x[:, r, q].numpy()
                inside[i, j] = True
    return values, ~inside


def _conv(graph: CapturedGraph, layer: Layer, x: torch.Tensor, unit: tuple[int, ...]) -> dict[str, Any]:
    p = layer.params
    co, y, xx = unit
    groups = p["groups"]
    cin = x.shape[0] // groups
    g = co // (layer.shape[0] // groups)
    rows = _window(y, p["stride"][0], p["padding"][0][0], p["kernel_size"][0], p["dilation"][0])
    cols = _window(xx, p["stride"][1], p["padding"][1][0], p["kernel_size"][1], p["dilation"][1])
    patch, padding = _patch(x[g * cin : (g + 1) * cin], rows, cols)  # (cin, kh, kw)
    weight = graph.state[layer.weights[0]][co].detach().numpy()  # (cin, kh, kw)
    bias = float(graph.state[layer.weights[1]][co]) if p["bias"] else 0.0
    products = patch * weight
    per_channel = products.reshape(cin, -1).sum(axis=1)
    return {
        "input_channels": [g * cin, (g + 1) * cin],
        "rows": rows,
        "cols": cols,
        "padding_cells": padding.astype(np.uint8),
        "patch": patch,
        "kernel": weight,
        "per_channel": per_channel,
        "sum": float(per_channel.sum()),
        "bias": bias,
        "result": float(per_channel.sum()) + bias,
    }


def _pool(layer: Layer, x: torch.Tensor, unit: tuple[int, ...]) -> dict[str, Any]:
    p = layer.params
    c, y, xx = unit
    h, w = x.shape[1:]
    if layer.kind == "adaptive_pool":
        oh, ow = layer.shape[1:]
        rows = list(range((y * h) // oh, math.ceil((y + 1) * h / oh)))
        cols = list(range((xx * w) // ow, math.ceil((xx + 1) * w / ow)))
        divisor = len(rows) * len(cols)
    else:
        rows = _window(y, p["stride"][0], p["padding"][0][0], p["kernel_size"][0], p["dilation"][0])
        cols = _window(xx, p["stride"][1], p["padding"][1][0], p["kernel_size"][1], p["dilation"][1])
        inside = sum(1 for r in rows if 0 <= r < h) * sum(1 for q in cols if 0 <= q < w)
        if p.get("divisor_override"):
            divisor = int(p["divisor_override"])
        elif p.get("count_include_pad", True):
            # PyTorch counts padding cells but not the cells past the edge that ceil mode adds.
            r_in = [r for r in rows if r < h + p["padding"][0][1]]
            c_in = [q for q in cols if q < w + p["padding"][1][1]]
            divisor = len(r_in) * len(c_in)
        else:
            divisor = inside
    patch, padding = _patch(x[c : c + 1], rows, cols)
    cells = np.where(padding, np.nan, patch[0])
    out: dict[str, Any] = {"pool_type": p["pool_type"], "rows": rows, "cols": cols, "cells": cells}
    if p["pool_type"] == "max":
        wy, wx = np.unravel_index(int(np.nanargmax(cells)), cells.shape)
        out.update(winner=[int(rows[wy]), int(cols[wx])], result=float(cells[wy, wx]))
    else:
        total = float(np.nansum(cells))
        out.update(sum=total, divisor=divisor, result=total / divisor)
    return out


def _batchnorm(graph: CapturedGraph, layer: Layer, x: torch.Tensor, unit: tuple[int, ...]) -> dict[str, Any]:
    w = {k.rsplit(".", 1)[-1]: graph.state[k] for k in layer.weights}
    c = unit[0]
    mean, var = float(w["running_mean"][c]), float(w["running_var"][c])
    gamma = float(w["weight"][c]) if "weight" in w else 1.0
    beta = float(w["bias"][c]) if "bias" in w else 0.0
    value = float(x[unit])
    eps = float(layer.params["eps"])
    normalised = (value - mean) / math.sqrt(var + eps)
    return {
        "x": value,
        "mean": mean,
        "var": var,
        "eps": eps,
        "gamma": gamma,
        "beta": beta,
        "normalised": normalised,
        "result": normalised * gamma + beta,
    }


def _linear(graph: CapturedGraph, layer: Layer, x: torch.Tensor, unit: tuple[int, ...], top: int) -> dict[str, Any]:
    i = unit[-1]
    row = x[unit[:-1]] if x.dim() > 1 else x  # (in_features,)
    weights = graph.state[layer.weights[0]][i].detach()
    products = (row * weights).numpy()
    order = np.argsort(-np.abs(products))[:top]
    bias = float(graph.state[layer.weights[1]][i]) if layer.params["bias"] else 0.0
    return {
        "terms": len(products),
        "top": [
            {"index": int(j), "input": float(row[j]), "weight": float(weights[j]), "product": float(products[j])}
            for j in order
        ],
        "sum": float(products.sum()),
        "bias": bias,
        "result": float(products.sum()) + bias,
    }


def _softmax(layer: Layer, x: torch.Tensor, unit: tuple[int, ...]) -> dict[str, Any]:
    logits = x.reshape(-1).numpy().astype(np.float64)  # every probability depends on every logit
    shifted = np.exp(logits - logits.max())
    i = unit[-1]
    result = shifted[i] / shifted.sum()
    return {
        "op": layer.op,
        "logits": logits,
        "index": i,
        "exp_shifted": shifted,
        "max": float(logits.max()),
        "sum_exp_shifted": float(shifted.sum()),
        "result": float(np.log(result)) if layer.op == "log_softmax" else float(result),
    }


def computation(
    graph: CapturedGraph, layer: Layer, values: dict[str, torch.Tensor], unit: tuple[int, ...], top: int = 10
) -> dict[str, Any]:
    """The arithmetic behind one unit, from the values captured for this input (batch item 0)."""
    ins = [values[name][0] for name in layer.inputs]
    out: dict[str, Any] = {"kind": layer.kind, "op": layer.op, "sources": list(layer.inputs)}
    if layer.kind == "conv":
        out.update(_conv(graph, layer, ins[0], unit))
    elif layer.kind in ("pool", "adaptive_pool"):
        out.update(_pool(layer, ins[0], unit))
    elif layer.kind == "batchnorm":
        out.update(_batchnorm(graph, layer, ins[0], unit))
    elif layer.kind in ("activation", "identity", "scale"):
        out.update(before=float(ins[0][unit]), after=float(values[layer.name][0][unit]), params=layer.params)
    elif layer.kind == "elementwise":
        terms = [float(t.expand(layer.shape)[unit]) for t in ins]
        out.update(terms=terms, result=float(values[layer.name][0][unit]))
    elif layer.kind == "cat":
        d = layer.params["dim"] - 1 if layer.params["dim"] > 0 else layer.params["dim"] + len(layer.shape)
        offset = 0
        for name, t in zip(layer.inputs, ins, strict=True):
            if unit[d] < offset + t.shape[d]:
                source = list(unit)
                source[d] -= offset
                out.update(source=name, source_unit=source, value=float(t[tuple(source)]))
                break
            offset += t.shape[d]
    elif layer.kind == "reshape":
        flat = int(np.ravel_multi_index(unit, layer.shape))
        cell = tuple(int(v) for v in np.unravel_index(flat, ins[0].shape))
        out.update(source=layer.inputs[0], source_unit=list(cell), value=float(ins[0][cell]))
    elif layer.kind == "linear":
        out.update(_linear(graph, layer, ins[0], unit, top))
    elif layer.kind == "softmax":
        out.update(_softmax(layer, ins[0], unit))
    elif layer.kind == "reduce":
        out.update(dims=layer.params["dims"], result=float(values[layer.name][0][unit]))
    out.setdefault("value", float(values[layer.name][0][unit]))
    return out


def input_gradient(graph: CapturedGraph, x: torch.Tensor, layer: str, unit: tuple[int, ...]) -> np.ndarray:
    """d unit / d input, (C, H, W), on a graph private to this call (no .grad is ever written)."""
    x = x[:1].detach().to(graph.device).requires_grad_(True)
    with torch.enable_grad():
        values = graph.forward(x)
        target = values[graph.index(layer)][(0, *unit)]
        (grad,) = torch.autograd.grad(target, x)
    return grad[0].cpu().numpy()
