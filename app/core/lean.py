"""A lean private copy of a captured graph for methods that run it many times (IG, occlusion, SmoothGrad, ...).

The captured graph returns every layer, which a method that only needs one target's value pays for in memory and
time. The lean copy returns one layer (dead code after it is dropped), folds inference batch norms into the convolutions
before them, and sends large convolutions through oneDNN in channels-last memory, with private channels-last copies
of their weights. The serving process keeps oneDNN switched
off globally (it costs more than it saves on the small maps of a live digit), and that switch is process-wide, so
the lean graph calls oneDNN's convolution by name instead of flipping it. Values agree with the captured graph to
float rounding; the shared graph and its weights are never modified.
"""

from __future__ import annotations

import operator
import threading
import weakref
from collections.abc import Callable
from typing import Any, cast

import torch
from torch import fx

from app.core.graph import CapturedGraph

# Per-sample elements of a convolution's input from which oneDNN wins on this CPU (ResNet-18's stem has 150,528,
# LeNet's conv2 864: oneDNN makes LeNet's forward 0.4 → 0.7 ms, ResNet-18's at 224 ×1.6 faster).
ONEDNN_MIN_ELEMENTS = 16_384

_CONV = torch.ops.aten.conv2d.default
_ONEDNN = torch.ops.aten.mkldnn_convolution.default
_BATCH_NORM = torch.ops.aten._native_batch_norm_legit_no_training.default
_VIEWS = (torch.ops.aten.view.default, torch.ops.aten._unsafe_view.default)
_LOCK = threading.Lock()
_CACHE: weakref.WeakKeyDictionary[fx.GraphModule, dict[str, fx.GraphModule]] = weakref.WeakKeyDictionary()


def _pair(v: Any) -> list[int]:
    return [int(v)] * 2 if isinstance(v, int) else [int(a) for a in v]


def _onednn_conv2d(
    x: torch.Tensor,
    weight: torch.Tensor,
    bias: torch.Tensor | None = None,
    stride: Any = 1,
    padding: Any = 0,
    dilation: Any = 1,
    groups: int = 1,
) -> torch.Tensor:
    """aten.conv2d through oneDNN (same arguments), for float32 CPU tensors; the plain path otherwise."""
    if isinstance(padding, str) or x.dtype != torch.float32 or x.device.type != "cpu":
        return torch.ops.aten.conv2d.default(x, weight, bias, stride, padding, dilation, groups)
    x = x.contiguous(memory_format=torch.channels_last)
    return _ONEDNN(x, weight, bias, _pair(padding), _pair(stride), _pair(dilation), groups)


def _big_conv(node: fx.Node) -> bool:
    """Whether a node is a 2-D convolution whose per-sample input is large enough for oneDNN to pay."""
    if node.op != "call_function" or node.target is not _CONV or not isinstance(node.args[0], fx.Node):
        return False
    val = node.args[0].meta.get("val")
    return val is not None and val.dim() == 4 and val[0].numel() >= ONEDNN_MIN_ELEMENTS


def _attr(gm: torch.nn.Module, target: str) -> Any:
    """gm's attribute at a dotted path."""
    value: Any = gm
    for part in target.split("."):
        value = getattr(value, part)
    return value


def _build(gm: fx.GraphModule, index: int) -> fx.GraphModule:
    """A copy of gm that returns only its index-th output, batch norms folded, big convolutions through oneDNN."""
    graph = fx.Graph()
    remap: dict[fx.Node, fx.Node] = {}
    outputs = graph.graph_copy(gm.graph, remap)
    graph.output(outputs[index])  # type: ignore[index]
    graph.eliminate_dead_code()
    attrs = {str(n.target): _attr(gm, str(n.target)) for n in graph.nodes if n.op == "get_attr"}
    for node in list(graph.nodes):
        if node.op == "call_function" and node.target is _BATCH_NORM:
            _fold_batch_norm(graph, node, attrs)
    for node in list(graph.nodes):
        if _big_conv(node):
            weight = node.args[1]
            if isinstance(weight, fx.Node) and weight.op == "get_attr":
                # a private channels-last copy: oneDNN would reorder a contiguous weight on every call
                name = f"lean_cl_{len(attrs)}"
                attrs[name] = attrs[str(weight.target)].detach().contiguous(memory_format=torch.channels_last)
                with graph.inserting_before(node):
                    node.replace_input_with(weight, graph.get_attr(name))
            node.target = _onednn_conv2d
        elif node.op == "call_function" and node.target in _VIEWS:
            node.target = torch.ops.aten.reshape.default  # a view of a channels-last map needs a copy
    graph.eliminate_dead_code()
    module = fx.GraphModule({k: v for k, v in attrs.items() if _used(graph, k)}, graph)
    module.recompile()
    return module


def _used(graph: fx.Graph, target: str) -> bool:
    return any(n.op == "get_attr" and n.target == target for n in graph.nodes)


def _tensor(arg: Any, attrs: dict[str, Any]) -> torch.Tensor | None:
    """The constant tensor an argument names (a get_attr), else None."""
    if isinstance(arg, fx.Node) and arg.op == "get_attr":
        value = attrs.get(str(arg.target))
        return value.detach() if isinstance(value, torch.Tensor) else None
    return None


def _fold_batch_norm(graph: fx.Graph, bn: fx.Node, attrs: dict[str, Any]) -> None:
    """Fold an inference batch norm into the convolution before it, when nothing else reads the convolution."""
    conv = bn.args[0]
    if not isinstance(conv, fx.Node) or conv.target is not _CONV or len(conv.users) != 1:
        return
    if any(u.target is not operator.getitem or u.args[1] != 0 for u in bn.users):
        return  # the batch statistics outputs are read: leave it
    defaults: list[Any] = [None, [1, 1], [0, 0], [1, 1], 1]  # bias, stride, padding, dilation, groups
    args: list[Any] = [*conv.args, *defaults[len(conv.args) - 2 :]]
    weight, bias = _tensor(args[1], attrs), _tensor(args[2], attrs)
    gamma, beta, mean, var = (_tensor(a, attrs) for a in bn.args[1:5])
    if weight is None or mean is None or var is None or (args[2] is not None and bias is None):
        return
    eps = float(cast(float, bn.args[6]))
    scale = torch.rsqrt(var + eps) * (gamma if gamma is not None else 1.0)  # (C_out,)
    w = weight * scale.reshape(-1, 1, 1, 1)  # (C_out, C_in/groups, kh, kw)
    b = ((bias if bias is not None else 0.0) - mean) * scale + (beta if beta is not None else 0.0)  # (C_out,)
    names = [f"lean_fold_{len(attrs)}", f"lean_fold_{len(attrs) + 1}"]
    attrs[names[0]], attrs[names[1]] = w, b
    with graph.inserting_before(conv):
        conv.args = (args[0], graph.get_attr(names[0]), graph.get_attr(names[1]), *args[3:])
    for user in list(bn.users):
        user.replace_all_uses_with(conv)
        graph.erase_node(user)
    graph.erase_node(bn)


def layer_function(graph: CapturedGraph, layer: str) -> Callable[[torch.Tensor], torch.Tensor]:
    """f(x): a batch (N, C, H, W) → that layer's value (N, *shape), through the lean copy (autograd follows x)."""
    index = graph.index(layer)
    if index == 0:
        return lambda x: x.to(graph.device)
    with _LOCK:
        per_graph = _CACHE.setdefault(graph.module, {})
        module = per_graph.get(layer)
    if module is None:
        module = _build(graph.module, index - 1)
        with _LOCK:
            module = per_graph.setdefault(layer, module)
    lean = module

    def f(x: torch.Tensor) -> torch.Tensor:
        x = x.to(graph.device)
        if graph.batch or x.shape[0] == 1:
            out: torch.Tensor = lean(x)
            return out
        return torch.cat([lean(x[i : i + 1]) for i in range(x.shape[0])])

    return f
