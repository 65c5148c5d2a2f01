"""Receptive fields on a graph: which cells of every earlier layer a unit depends on, exactly.

A unit's field is propagated backwards op by op as a boolean mask over each layer. Windowed ops (convolutions,
pools, adaptive pools) are separable, so each is applied per axis with an incidence matrix A[out, in] that holds
stride, padding (also asymmetric 'same'), dilation, ceil-mode and adaptive bins; elementwise ops pass masks through,
binary ops take the union of their inputs' parts, cat routes each channel to the input it came from, reshapes keep
row-major order, and linear layers, reductions and softmax reach everything along their axis. An op without a rule
makes the fields behind it unknown rather than wrong.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from app.core.graph import CapturedGraph, Layer

Mask = torch.Tensor  # bool, the layer's per-sample shape


@dataclass(frozen=True)
class Field:
    """What of one layer a unit depends on; `mask` is None where an op without a rule hides it."""

    layer: str
    mask: Mask | None
    known: bool

    def box(self) -> tuple[tuple[int, int], tuple[int, int]] | None:
        """Half-open (rows, cols) bounding box of a map's field, None for vectors or unknown fields."""
        if self.mask is None or self.mask.dim() != 3:
            return None
        rows = torch.nonzero(self.mask.any(dim=(0, 2))).flatten()
        cols = torch.nonzero(self.mask.any(dim=(0, 1))).flatten()
        if rows.numel() == 0:
            return None
        return (int(rows[0]), int(rows[-1]) + 1), (int(cols[0]), int(cols[-1]) + 1)

    def spatial(self) -> Mask | None:
        """The (H, W) mask of cells reached in any channel."""
        return None if self.mask is None or self.mask.dim() != 3 else self.mask.any(dim=0)

    def dense(self) -> bool:
        """True when the field fills its bounding box (dilated or strided 1×1 convolutions leave holes)."""
        box = self.box()
        spatial = self.spatial()
        if box is None or spatial is None:
            return self.mask is not None
        (r0, r1), (c0, c1) = box
        return bool(spatial[r0:r1, c0:c1].all())

    def channels(self) -> list[int] | None:
        """Channels (maps) or units (vectors) reached; None when all are."""
        if self.mask is None:
            return None
        reached = self.mask.reshape(self.mask.shape[0], -1).any(dim=1) if self.mask.dim() == 3 else self.mask
        if bool(reached.all()):
            return None
        return [int(i) for i in torch.nonzero(reached).flatten()]


def window_matrix(out_size: int, in_size: int, kernel: int, stride: int, pad_before: int, dilation: int) -> Mask:
    """A[o, i]: input cell i lies in output cell o's window (cells in the padding are dropped)."""
    a = torch.zeros(out_size, in_size, dtype=torch.bool)
    for o in range(out_size):
        for j in range(kernel):
            i = o * stride - pad_before + j * dilation
            if 0 <= i < in_size:
                a[o, i] = True
    return a


def adaptive_matrix(out_size: int, in_size: int) -> Mask:
    """A[o, i] for adaptive pooling's bins: floor(o·I/O) to ceil((o + 1)·I/O), which may overlap."""
    a = torch.zeros(out_size, in_size, dtype=torch.bool)
    for o in range(out_size):
        a[o, (o * in_size) // out_size : math.ceil((o + 1) * in_size / out_size)] = True
    return a


def _through(a_rows: Mask, maps: Mask, a_cols: Mask) -> Mask:
    """Per map g: the input cells under any reached output cell, Aᵣᵀ · M_g · A_c > 0."""
    out = torch.einsum("oi,gop,pj->gij", a_rows.float(), maps.float(), a_cols.float())  # (G, H_in, W_in)
    return out > 0


def _axes(layer: Layer, out_shape: tuple[int, ...], in_shape: tuple[int, ...]) -> tuple[Mask, Mask]:
    """Per-axis incidence matrices of a windowed or adaptive layer."""
    p = layer.params
    if layer.kind == "adaptive_pool":
        return adaptive_matrix(out_shape[1], in_shape[1]), adaptive_matrix(out_shape[2], in_shape[2])
    kernel, stride, dilation, padding = p["kernel_size"], p["stride"], p["dilation"], p["padding"]
    return tuple(  # type: ignore[return-value]
        window_matrix(out_shape[1 + ax], in_shape[1 + ax], kernel[ax], stride[ax], padding[ax][0], dilation[ax])
        for ax in (0, 1)
    )


def _conv(layer: Layer, out: Mask, in_shape: tuple[int, ...]) -> Mask:
    groups = int(layer.params["groups"])
    a_rows, a_cols = _axes(layer, tuple(out.shape), in_shape)
    per_group = out.reshape(groups, -1, *out.shape[1:]).any(dim=1)  # (G, H_out, W_out)
    reached = _through(a_rows, per_group, a_cols)  # (G, H_in, W_in)
    return reached.repeat_interleave(in_shape[0] // groups, dim=0)  # (C_in, H_in, W_in)


def _broadcast_back(out: Mask, in_shape: tuple[int, ...]) -> Mask:
    """The part of a broadcast result that an input of in_shape contributes to."""
    mask = out
    while mask.dim() > len(in_shape):
        mask = mask.any(dim=0)
    for d, size in enumerate(in_shape):
        if size == 1 and mask.shape[d] != 1:
            mask = mask.any(dim=d, keepdim=True)
    return mask


def _dim(dim: int, rank: int) -> int:
    """An op's dim (counting the batch) as a dim of the per-sample shape."""
    return (dim if dim >= 0 else dim + rank + 1) - 1


def backward(layer: Layer, out: Mask, in_shapes: list[tuple[int, ...]]) -> list[Mask | None]:
    """Masks over each of the layer's inputs reached from `out`; None where the op has no rule."""
    kind, p = layer.kind, layer.params
    rank = out.dim()
    if kind in ("activation", "batchnorm", "identity", "scale"):
        return [out]
    if kind == "elementwise":
        return [_broadcast_back(out, s) for s in in_shapes]
    if kind == "conv":
        return [_conv(layer, out, in_shapes[0])]
    if kind in ("pool", "adaptive_pool"):
        a_rows, a_cols = _axes(layer, tuple(out.shape), in_shapes[0])
        return [_through(a_rows, out, a_cols)]
    if kind == "reshape":
        return [out.reshape(in_shapes[0])]
    if kind == "permute":
        dims = [_dim(d, len(in_shapes[0])) for d in p["dims"]]
        order = dims[1:] if len(dims) == len(in_shapes[0]) + 1 else dims
        if layer.op == "transpose":
            return [out.transpose(dims[0], dims[1])]
        inverse = [order.index(i) for i in range(len(order))]
        return [out.permute(inverse)]
    if kind == "cat":
        d = _dim(p["dim"], rank)
        sizes = [s[d] for s in in_shapes]
        return list(torch.split(out, sizes, dim=d))
    if kind == "linear":
        return [out.any(dim=-1, keepdim=True).expand(in_shapes[0])]
    if kind == "softmax":
        return [out.any(dim=_dim(p["dim"], rank), keepdim=True).expand(in_shapes[0])]
    if kind == "reduce":
        in_rank = len(in_shapes[0])
        dims = sorted(_dim(d, in_rank) for d in p["dims"])
        mask = out
        if not p["keepdim"]:
            for d in dims:
                mask = mask.unsqueeze(d)
        return [mask.expand(in_shapes[0])]
    return [None for _ in in_shapes]


def fields(graph: CapturedGraph, layer: str, index: tuple[int, ...]) -> list[Field]:
    """The unit's field in its own layer and every earlier layer it depends on, in layer order."""
    target = graph.index(layer)
    masks: dict[str, Mask] = {}
    unknown: set[str] = set()
    start = torch.zeros(graph.layers[target].shape, dtype=torch.bool)
    start[index] = True
    masks[layer] = start
    for i in range(target, 0, -1):
        current = graph.layers[i]
        if current.name not in masks and current.name not in unknown:
            continue
        in_shapes = [graph.layer(name).shape for name in current.inputs]
        if current.name in unknown and current.name not in masks:
            parts: list[Mask | None] = [None for _ in current.inputs]
        else:
            parts = backward(current, masks[current.name], in_shapes)
            if current.name in unknown:
                parts = [None for _ in parts]
        for name, part in zip(current.inputs, parts, strict=True):
            if part is None:
                unknown.add(name)
            else:
                masks[name] = masks[name] | part if name in masks else part.clone()
    out = []
    for candidate in graph.layers[: target + 1]:
        name = candidate.name
        if name in unknown:
            out.append(Field(name, None, False))
        elif name in masks and bool(masks[name].any()):
            out.append(Field(name, masks[name], True))
    return out
