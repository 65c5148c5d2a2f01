"""Knock-outs and comparisons: switch a channel or unit off and see every later layer change; two models side by side.

A knock-out runs a private copy of the captured graph with one edit node after the chosen layer, which replaces the
chosen cells (a mask) by a fill value; every later layer is recomputed from the edited value. The shared graph is
never modified and no state is kept between calls.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import torch
from torch import fx

from app.core.graph import CapturedGraph
from app.core.indexing import UnitError, check_unit

Mode = Literal["zero", "mean", "value"]
FillSource = Literal["zero", "value", "data set", "this input"]


class KnockoutError(ValueError):
    """A knock-out that cannot be made as asked (unknown layer, channel or unit)."""


@dataclass
class Knockout:
    """Every layer's value with and without the knock-out, by name (batch item 0), and the cells replaced."""

    layer: str
    mask: np.ndarray  # bool, the layer's shape: the cells replaced
    fill: float  # the value the cells got (their average when each got its own data-set mean)
    before: dict[str, np.ndarray]
    after: dict[str, np.ndarray]
    fill_source: FillSource = "zero"

    def changed(self) -> list[str]:
        """Layers whose values differ after the knock-out."""
        return [name for name in self.after if not np.array_equal(self.before[name], self.after[name])]

    def difference(self, name: str) -> np.ndarray:
        """after − before for one layer."""
        return self.after[name] - self.before[name]


def _replace(value: torch.Tensor, mask: torch.Tensor, fill: torch.Tensor) -> torch.Tensor:
    """value with the masked cells (per sample) set to fill."""
    return torch.where(mask, fill, value)


def edited_module(graph: CapturedGraph, layer: str) -> fx.GraphModule:
    """A private copy of the graph taking (x, mask, fill) that replaces the masked cells of `layer` before use."""
    index = graph.index(layer)
    if index == 0:
        raise KnockoutError("knock out a layer after the input (to change the input, send another input)")
    new = fx.Graph()
    remap: dict[fx.Node, fx.Node] = {}
    out = new.graph_copy(graph.module.graph, remap)
    assert isinstance(out, tuple | list)
    values = list(out)  # one node per layer after the input, in layer order
    target = values[index - 1]
    last_placeholder = [n for n in new.nodes if n.op == "placeholder"][-1]
    with new.inserting_after(last_placeholder):
        mask = new.placeholder("knockout_mask")
    with new.inserting_after(mask):
        fill = new.placeholder("knockout_fill")
    with new.inserting_after(target):
        edit = new.call_function(_replace, (target, mask, fill))
    target.replace_all_uses_with(edit, delete_user_cb=lambda user: user is not edit)
    new.output(tuple(edit if v is target else v for v in values))
    return fx.GraphModule(graph.module, new)


def cells(
    graph: CapturedGraph, layer: str, channel: int | None = None, unit: tuple[int, ...] | None = None
) -> torch.Tensor:
    """The mask of one channel of a map layer, or of one unit of any layer."""
    try:
        found = graph.layer(layer)
    except KeyError:
        raise KnockoutError(f"no layer {layer!r}; GET /api/v2/model lists them") from None
    mask = torch.zeros(found.shape, dtype=torch.bool)
    if (channel is None) == (unit is None):
        raise KnockoutError("give exactly one of a channel or a unit")
    if channel is not None:
        if not found.spatial:
            raise KnockoutError(f"{layer} is a vector {list(found.shape)}: knock out a unit [i], not a channel")
        if not 0 <= channel < found.shape[0]:
            raise KnockoutError(f"{layer}: channel {channel} is outside 0..{found.shape[0] - 1}")
        mask[channel] = True
    else:
        try:
            mask[check_unit(found, tuple(unit or ()))] = True
        except UnitError as exc:
            raise KnockoutError(str(exc)) from exc
    return mask


def knockout(
    graph: CapturedGraph,
    x: torch.Tensor,
    layer: str,
    *,
    channel: int | None = None,
    unit: tuple[int, ...] | None = None,
    mode: Mode = "zero",
    value: float | None = None,
    dataset_mean: np.ndarray | None = None,
) -> Knockout:
    """Replace a channel or unit of `layer` by 0 (zero), by its mean (mean), or by `value`.

    "mean" is mean ablation: each cell gets its own mean over a data set when `dataset_mean` (the layer's shape) is
    given; otherwise the mean over this input — of a channel over its positions, of a unit over its channel (maps)
    or over the layer (vectors).
    """
    mask = cells(graph, layer, channel, unit)  # (*shape)
    x = x[:1].to(graph.device)
    with torch.inference_mode():
        before = graph.forward(x)
        current = before[graph.index(layer)][0]  # (*shape)
        if mode == "zero":
            fill = 0.0
        elif mode == "value":
            if value is None:
                raise KnockoutError("mode 'value' needs a value")
            fill = float(value)
        elif mode == "mean" and dataset_mean is not None:
            if tuple(dataset_mean.shape) != tuple(current.shape):
                shapes = f"{list(dataset_mean.shape)} for {layer} {list(current.shape)}"
                raise KnockoutError(f"data-set means of shape {shapes}")
            means = torch.as_tensor(dataset_mean, dtype=current.dtype)  # (*shape)
            fill = float(means[mask].mean())
        elif mode == "mean":
            c = channel if channel is not None else (unit[0] if unit is not None and len(unit) == 3 else None)
            fill = float(current[c].mean()) if c is not None else float(current.mean())
        else:
            raise KnockoutError(f"unknown mode {mode!r}: zero, mean or value")
        module = edited_module(graph, layer)
        if mode == "mean" and dataset_mean is not None:
            fill_t = means.to(graph.device)[None]  # (1, *shape): each cell its own mean
            source: FillSource = "data set"
        else:
            fill_t = torch.tensor(fill, dtype=current.dtype, device=graph.device)
            source = "zero" if mode == "zero" else "value" if mode == "value" else "this input"
        after = [x, *module(x, mask.to(graph.device)[None], fill_t)]
    names = [lay.name for lay in graph.layers]
    return Knockout(
        layer,
        mask.numpy(),
        fill,
        {n: v[0].float().cpu().numpy() for n, v in zip(names, before, strict=True)},
        {n: v[0].float().cpu().numpy() for n, v in zip(names, after, strict=True)},
        source,
    )


def matching_layers(a: CapturedGraph, b: CapturedGraph) -> list[str]:
    """Layers two graphs share by name and shape, in a's order."""
    shapes = {lay.name: lay.shape for lay in b.layers}
    return [lay.name for lay in a.layers if shapes.get(lay.name) == lay.shape]


def compare(a: CapturedGraph, b: CapturedGraph, x: torch.Tensor) -> dict[str, Any]:
    """Two models on the same input: each shared layer's values in both and their difference statistics."""
    if a.input_shape != b.input_shape:
        raise KnockoutError(f"the models take different inputs: {list(a.input_shape)} and {list(b.input_shape)}")
    names = matching_layers(a, b)
    va, vb = a.capture(x[:1]), b.capture(x[:1])
    layers = []
    for name in names:
        ta, tb = va[name][0].float().numpy(), vb[name][0].float().numpy()
        d = tb - ta
        norm = float(np.linalg.norm(ta) * np.linalg.norm(tb))
        layers.append(
            {
                "name": name,
                "shape": list(ta.shape),
                "a": ta,
                "b": tb,
                "max_abs_difference": float(np.abs(d).max()),
                "mean_abs_difference": float(np.abs(d).mean()),
                "cosine": float((ta * tb).sum() / norm) if norm > 0 else None,
            }
        )
    return {
        "layers": layers,
        "only_a": [lay.name for lay in a.layers if lay.name not in names],
        "only_b": [lay.name for lay in b.layers if lay.name not in names],
        "output_a": va[a.output][0].float().numpy(),
        "output_b": vb[b.output][0].float().numpy(),
    }
