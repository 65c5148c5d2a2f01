"""The lab on the live network: one convolution or pooling layer of any captured model, its real kernels applied to
the real input it received, and what it would produce with another stride, padding or dilation.

Everything is read from a capture (app.core.answers.run) and recomputed with PyTorch in float64; with the layer's own
settings the recomputed map equals the network's own output channel (`network`), which the tests check.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from app.core.graph import CapturedGraph, Layer
from app.core.lab import LabError
from app.core.lab_chain import Divisor, PoolSpec, conv_channels, grid, pool
from app.core.lab_sizes import PoolMode, SizeError, conv_size

SHOWN_CHANNELS = 16  # input channels returned with their maps unless the request asks for others


class LiveError(ValueError):
    """A layer, channel or setting the live lab cannot show."""


@dataclass(frozen=True)
class WhatIf:
    """Settings to try instead of the layer's own (None: keep the layer's)."""

    stride: int | None = None
    padding: int | None = None
    dilation: int | None = None
    mode: PoolMode | None = None
    divisor: Divisor | None = None


def live(
    graph: CapturedGraph,
    layer: Layer,
    values: dict[str, torch.Tensor],
    channel: int,
    what_if: WhatIf = WhatIf(),
    shown: tuple[int, int] | None = None,
) -> dict[str, Any]:
    """Layer `layer`'s output channel `channel` (conv) or channel `channel` (pool), recomputed from the input it got."""
    if layer.kind not in ("conv", "pool"):
        raise LiveError(f"layer {layer.name} is a {layer.kind} layer; the lab shows convolution and pooling layers")
    if not 0 <= channel < layer.shape[0]:
        raise LiveError(f"layer {layer.name} has channels 0…{layer.shape[0] - 1}; {channel} is not one of them")
    x = values[layer.inputs[0]][0].detach().to(torch.float64)  # (C, H, W) the layer read
    try:
        body = (
            _conv(graph, layer, x, channel, what_if, shown)
            if layer.kind == "conv"
            else _pool(layer, x, channel, what_if)
        )
    except (LabError, SizeError) as exc:
        raise LiveError(str(exc)) from exc
    network = values[layer.name][0][channel].detach().to(torch.float64)
    same = body["settings"] == body["layer_settings"]
    return {
        "layer": layer.name,
        "kind": layer.kind,
        "op": layer.op,
        "source": layer.inputs[0],
        "channel": channel,
        **body,
        "as_network": same,
        "network": grid(network) if same else None,
    }


def _square(pair: list[int], what: str, layer: Layer) -> int:
    if pair[0] != pair[1]:
        raise LiveError(f"layer {layer.name} has a non-square {what} {pair}; the lab shows square ones")
    return int(pair[0])


def _conv(
    graph: CapturedGraph, layer: Layer, x: torch.Tensor, co: int, what_if: WhatIf, shown: tuple[int, int] | None
) -> dict[str, Any]:
    p = layer.params
    groups = int(p["groups"])
    cin = x.shape[0] // groups
    g = co // (layer.shape[0] // groups)
    xg = x[g * cin : (g + 1) * cin]
    weight = graph.state[layer.weights[0]][co].detach().to(torch.float64)  # (cin, kh, kw)
    bias = float(graph.state[layer.weights[1]][co]) if p["bias"] else 0.0
    (top, bottom), (left, right) = p["padding"]
    own: dict[str, Any] = {
        "stride": [int(v) for v in p["stride"]],
        "padding": [[int(top), int(bottom)], [int(left), int(right)]],
        "dilation": [int(v) for v in p["dilation"]],
    }
    used: dict[str, Any] = {
        "stride": [what_if.stride] * 2 if what_if.stride else own["stride"],
        "padding": own["padding"] if what_if.padding is None else [[what_if.padding] * 2] * 2,
        "dilation": [what_if.dilation] * 2 if what_if.dilation else own["dilation"],
    }
    (pt, pb), (pl, pr) = used["padding"]
    (sh, sw), (dh, dw) = used["stride"], used["dilation"]
    kh, kw = (int(v) for v in p["kernel_size"])
    _, h, w = xg.shape
    sizes = {"rows": conv_size(h, kh, pt, sh, dh, pb), "cols": conv_size(w, kw, pl, sw, dw, pr)}
    per_channel = conv_channels(xg, weight, (sh, sw), (pl, pr, pt, pb), (dh, dw))  # (cin, oh, ow)
    start, stop = shown if shown is not None else (0, min(cin, SHOWN_CHANNELS))
    start, stop = min(start, cin), min(stop, cin)
    return {
        "input_channels": [g * cin, (g + 1) * cin],
        "shown": [g * cin + start, g * cin + stop],
        "input": grid(xg[start:stop]),
        "kernel": grid(weight[start:stop]),
        "per_channel": grid(per_channel[start:stop]),
        "channel_totals": grid(per_channel.sum(dim=(1, 2))),
        "bias": bias,
        "feature_map": grid(per_channel.sum(0) + bias),
        "kernel_size": [kh, kw],
        "layer_settings": own,
        "settings": used,
        "output_size": sizes,
    }


def _pool(layer: Layer, x: torch.Tensor, c: int, what_if: WhatIf) -> dict[str, Any]:
    p = layer.params
    f = _square(p["kernel_size"], "window", layer)
    pad = _square([p["padding"][0][0], p["padding"][1][0]], "padding", layer)
    if p["pool_type"] == "max":
        divisor: Divisor = "covered"
    elif p.get("divisor_override"):
        if int(p["divisor_override"]) != f * f:
            raise LiveError(f"layer {layer.name} divides by {p['divisor_override']}; the lab shows F² or counts")
        divisor = "window"
    else:
        divisor = "padded" if p.get("count_include_pad", True) else "covered"
    own: dict[str, Any] = {
        "stride": _square(p["stride"], "stride", layer),
        "padding": pad,
        "dilation": _square(p["dilation"], "dilation", layer),
        "mode": "ceil" if p.get("ceil_mode") else "floor",
        "divisor": divisor if p["pool_type"] == "avg" else None,
    }
    used: dict[str, Any] = {
        "stride": what_if.stride or own["stride"],
        "padding": own["padding"] if what_if.padding is None else what_if.padding,
        "dilation": what_if.dilation or own["dilation"],
        "mode": what_if.mode or own["mode"],
        "divisor": (what_if.divisor or own["divisor"]) if p["pool_type"] == "avg" else None,
    }
    spec = PoolSpec(
        p["pool_type"],
        f,
        int(used["stride"] or 1),
        int(used["padding"] or 0),
        "ceil" if used["mode"] == "ceil" else "floor",
        divisor if used["divisor"] is None else used["divisor"],
        int(used["dilation"] or 1),
    )
    pooled = pool(x[c], spec)
    return {
        "input_channels": [c, c + 1],
        "shown": [c, c + 1],
        "input": grid(x[c : c + 1]),
        "pooled": pooled,
        "feature_map": pooled["values"],
        "kernel_size": [f, f],
        "layer_settings": own,
        "settings": used,
        "output_size": pooled["output_size"],
    }
