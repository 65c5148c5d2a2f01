"""Any PyTorch CNN as a graph of layers: torch.export, functionalised, compiled to return every layer in one forward.

The exported program is run through `run_decompositions({})`, which functionalises it: `nn.ReLU(inplace=True)` and
`out += identity` become out-of-place `aten.relu` / `aten.add`, so a captured pre-activation value is really the
value before the activation. One `GraphModule` then returns every layer's tensor from a single forward: no hooks,
no state shared between calls.
"""

from __future__ import annotations

import math
import operator
import threading
import warnings
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import fx, nn
from torch.export import Dim, ExportedProgram

aten = torch.ops.aten

# aten op → (kind, short op name). Kinds are what a reader needs: how the op's values relate to its input.
_OPS: dict[Any, tuple[str, str]] = {
    aten.conv2d.default: ("conv", "conv2d"),
    aten.conv2d.padding: ("conv", "conv2d"),
    aten.convolution.default: ("conv", "conv2d"),
    aten._native_batch_norm_legit_no_training.default: ("batchnorm", "batch_norm"),
    aten.batch_norm.default: ("batchnorm", "batch_norm"),
    aten.relu.default: ("activation", "relu"),
    aten.leaky_relu.default: ("activation", "leaky_relu"),
    aten.gelu.default: ("activation", "gelu"),
    aten.silu.default: ("activation", "silu"),
    aten.sigmoid.default: ("activation", "sigmoid"),
    aten.tanh.default: ("activation", "tanh"),
    aten.hardswish.default: ("activation", "hardswish"),
    aten.hardsigmoid.default: ("activation", "hardsigmoid"),
    aten.hardtanh.default: ("activation", "hardtanh"),
    aten.elu.default: ("activation", "elu"),
    aten.max_pool2d.default: ("pool", "max_pool2d"),
    aten.max_pool2d_with_indices.default: ("pool", "max_pool2d"),
    aten.avg_pool2d.default: ("pool", "avg_pool2d"),
    aten.adaptive_avg_pool2d.default: ("adaptive_pool", "adaptive_avg_pool2d"),
    aten._adaptive_avg_pool2d.default: ("adaptive_pool", "adaptive_avg_pool2d"),
    aten.adaptive_max_pool2d.default: ("adaptive_pool", "adaptive_max_pool2d"),
    aten.mean.dim: ("reduce", "mean"),
    aten.sum.dim_IntList: ("reduce", "sum"),
    aten.amax.default: ("reduce", "amax"),
    aten.add.Tensor: ("elementwise", "add"),
    aten.sub.Tensor: ("elementwise", "sub"),
    aten.mul.Tensor: ("elementwise", "mul"),
    aten.div.Tensor: ("elementwise", "div"),
    aten.cat.default: ("cat", "cat"),
    aten.view.default: ("reshape", "view"),
    aten.reshape.default: ("reshape", "reshape"),
    aten._unsafe_view.default: ("reshape", "view"),
    aten.flatten.using_ints: ("reshape", "flatten"),
    aten.squeeze.dims: ("reshape", "squeeze"),
    aten.squeeze.dim: ("reshape", "squeeze"),
    aten.unsqueeze.default: ("reshape", "unsqueeze"),
    aten.permute.default: ("permute", "permute"),
    aten.transpose.int: ("permute", "transpose"),
    aten.linear.default: ("linear", "linear"),
    aten.softmax.int: ("softmax", "softmax"),
    aten._softmax.default: ("softmax", "softmax"),
    aten.log_softmax.int: ("softmax", "log_softmax"),
    aten._log_softmax.default: ("softmax", "log_softmax"),
    aten.clone.default: ("identity", "clone"),
    aten.dropout.default: ("identity", "dropout"),
    aten.alias.default: ("identity", "alias"),
    aten.contiguous.default: ("identity", "contiguous"),
}
# Ops that compute one value per element of one tensor input (a scalar argument is a constant).
_UNARY_KINDS = {"activation", "batchnorm", "identity"}
_ONE_TENSOR_BINARY = {aten.add.Tensor, aten.sub.Tensor, aten.mul.Tensor, aten.div.Tensor}
_TUPLE_OPS = {
    aten._native_batch_norm_legit_no_training.default,
    aten.max_pool2d_with_indices.default,
    aten.adaptive_max_pool2d.default,
}


class GraphError(ValueError):
    """A model that cannot be captured, with what failed and what to do about it."""


@dataclass(frozen=True)
class Layer:
    """One inspectable value of the network: the input, or the output of one graph node."""

    name: str
    op: str
    kind: str
    module: str
    module_type: str
    inputs: tuple[str, ...]
    shape: tuple[int, ...]
    params: dict[str, Any] = field(default_factory=dict)
    parameters: int = 0
    weights: tuple[str, ...] = ()  # state-dict keys of the weight tensors the op reads (weight, bias, mean, var)

    @property
    def spatial(self) -> bool:
        """True for (C, H, W) maps."""
        return len(self.shape) == 3

    @property
    def size(self) -> int:
        """Number of units."""
        return math.prod(self.shape)


@dataclass
class CapturedGraph:
    """A compiled graph that returns every layer's tensor, with the layers described."""

    module: fx.GraphModule
    layers: list[Layer]
    batch: bool  # whether the graph accepts any batch size (else one sample at a time)
    state: dict[str, torch.Tensor]
    output: str
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))
    _index: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._index = {layer.name: i for i, layer in enumerate(self.layers)}
        self._names = [layer.name for layer in self.layers]

    def index(self, name: str) -> int:
        """Position of a layer by name (KeyError if unknown)."""
        return self._index[name]

    def layer(self, name: str) -> Layer:
        """A layer by name (KeyError if unknown)."""
        return self.layers[self._index[name]]

    @property
    def input_shape(self) -> tuple[int, ...]:
        """The shape of one input sample, e.g. (3, 224, 224)."""
        return self.layers[0].shape

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Every layer's tensor for a batch x, the input first, in layer order (autograd follows if x needs it)."""
        x = x.to(self.device)
        if self.batch or x.shape[0] == 1:
            return [x, *self.module(x)]
        rows = [self.module(x[i : i + 1]) for i in range(x.shape[0])]
        return [x, *(torch.cat(parts) for parts in zip(*rows, strict=True))]

    def capture(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """Every layer's value for a batch x (N, C, H, W), by name, without autograd, in CPU memory."""
        with torch.inference_mode():
            values = self.forward(x)
            if self.device.type != "cpu":
                values = [v.cpu() for v in values]
            return dict(zip(self._names, values, strict=True))


# torch.export and run_decompositions keep process-global tracing state: two captures at once (a server warming its
# shipped models while a notebook captures another) break each other, so captures take turns.
_EXPORT_LOCK = threading.RLock()


def export(model: nn.Module, example: torch.Tensor) -> tuple[ExportedProgram, bool]:
    """torch.export the model in eval mode, with a dynamic batch dimension where the model allows one."""
    model = model.eval()
    batched = torch.cat([example, example]) if example.shape[0] == 1 else example
    with _EXPORT_LOCK, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # export's internal deprecation notices are not the user's concern
        try:
            return torch.export.export(model, (batched,), dynamic_shapes=({0: Dim.DYNAMIC},)), True
        except Exception:
            pass
        try:
            return torch.export.export(model, (example[:1],)), False
        except Exception as exc:
            raise GraphError(_export_advice(exc)) from exc


def _export_advice(exc: Exception) -> str:
    """The export error's first lines, with the usual fix."""
    lines = [line for line in str(exc).splitlines() if line.strip()][:6]
    return (
        "torch.export could not capture the model: "
        + " ".join(lines)
        + " — usual fixes: avoid Python control flow on tensor values (use torch.where), avoid .item()/.tolist() "
        "in forward, and keep data-dependent shapes out of the model; see the torch.export documentation."
    )


def capture_graph(program: ExportedProgram, batch: bool, device: str = "cpu") -> CapturedGraph:
    """Functionalise an exported program and compile one module that returns every layer."""
    with _EXPORT_LOCK, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        program = program.run_decompositions({})
        gm = program.module()
    trainable = {name for name, _ in gm.named_parameters()}
    gm = gm.to(device)
    state = {k: v.detach().cpu() for k, v in [*gm.named_parameters(), *gm.named_buffers()]}
    graph = gm.graph
    placeholders = [n for n in graph.nodes if n.op == "placeholder"]
    if len(placeholders) != 1:
        raise GraphError(f"the model takes {len(placeholders)} inputs; convscope looks inside one-image models")
    source = placeholders[0]
    input_shape = tuple(int(d) for d in _val(source).shape[1:])
    if len(input_shape) != 3:
        raise GraphError(f"the model's input has shape {input_shape} per sample; expected (C, H, W)")
    attrs = {n: str(n.target) for n in graph.nodes if n.op == "get_attr"}
    dependent = _input_dependent(graph, source)
    visible = [n for n in graph.nodes if n in dependent and _is_layer(n)]
    value_of = {n: _value_node(n) for n in visible}
    names = _names(visible)
    layer_of: dict[fx.Node, str] = {source: "input"}
    for n in visible:
        layer_of[n] = names[n]
        layer_of[value_of[n]] = names[n]
    layers = [Layer("input", "input", "input", "", "", (), input_shape)]
    for n in visible:
        layers.append(_describe(n, names[n], value_of[n], layer_of, attrs, state, trainable))
    outputs = [a for a in fx.node.map_arg(next(n for n in graph.nodes if n.op == "output").args, lambda a: a)]
    final = _first_node(outputs)
    if final is None or final not in layer_of:
        raise GraphError("the model's output does not depend on its input")
    module = _returning_all(gm, [value_of[n] for n in visible])
    return CapturedGraph(module, layers, batch, state, layer_of[final], torch.device(device))


def _val(node: fx.Node) -> Any:
    return node.meta.get("val")


def _input_dependent(graph: fx.Graph, source: fx.Node) -> set[fx.Node]:
    """Nodes whose value depends on the input (weights transformed on their own are not layers)."""
    seen = {source}
    for n in graph.nodes:
        if n.op == "call_function" and any(a in seen for a in n.all_input_nodes):
            seen.add(n)
    return seen


def _is_layer(node: fx.Node) -> bool:
    """A call whose value is a batch of tensors; tuple-valued ops count through their first element."""
    if node.op != "call_function" or node.target is operator.getitem:
        return False
    val = _val(node)
    if node.target in _TUPLE_OPS or isinstance(val, tuple | list):
        return node.target in _TUPLE_OPS or (isinstance(val, tuple | list) and isinstance(val[0], torch.Tensor))
    return isinstance(val, torch.Tensor) and val.dim() >= 2


def _value_node(node: fx.Node) -> fx.Node:
    """The node holding a layer's tensor: the op itself, or getitem 0 of a tuple-valued op."""
    if not isinstance(_val(node), tuple | list):
        return node
    for user in node.users:
        if user.target is operator.getitem and user.args[1] == 0:
            return user
    raise GraphError(f"{node.name}: the first output of {node.target} is unused")


def _module_of(node: fx.Node) -> tuple[str, str, str]:
    """(module path, module type, call key) of the innermost module whose call produced the node."""
    stack = node.meta.get("nn_module_stack") or {}
    if not stack:
        return "", "", ""
    key, (path, typ) = list(stack.items())[-1]
    return str(path), str(typ).rsplit(".", 1)[-1], str(key)


def _op_name(node: fx.Node) -> str:
    entry = _OPS.get(node.target)
    return entry[1] if entry else str(getattr(node.target, "__name__", node.target)).split(".")[0]


def _names(nodes: Sequence[fx.Node]) -> dict[fx.Node, str]:
    """Module path for a leaf module's single op; path/op for functional ops; ':k' for repeated names."""
    per_call: dict[str, list[fx.Node]] = defaultdict(list)
    calls_per_module: dict[str, set[str]] = defaultdict(set)
    for n in nodes:
        path, _, key = _module_of(n)
        per_call[key].append(n)
        calls_per_module[path].add(key)
    leaf_paths = _leaf_modules(nodes)
    base: dict[fx.Node, str] = {}
    for members in per_call.values():
        for n in members:
            path, _, _ = _module_of(n)
            if path and len(members) == 1 and path in leaf_paths:
                base[n] = path
            else:
                op = "flatten" if _op_name(n) in ("view", "reshape") and _val_rank(n) == 2 else _op_name(n)
                base[n] = f"{path}/{op}" if path else op
    counts = Counter(base.values())
    seen: Counter[str] = Counter()
    names = {}
    for n in nodes:
        name = base[n]
        if counts[name] > 1:
            seen[name] += 1
            name = f"{name}:{seen[name]}"
        names[n] = name
    return names


def _val_rank(node: fx.Node) -> int:
    val = _val(node)
    return val.dim() if isinstance(val, torch.Tensor) else 0


def _leaf_modules(nodes: Sequence[fx.Node]) -> set[str]:
    """Module paths that are not the parent of another module seen in the graph."""
    paths = {_module_of(n)[0] for n in nodes}
    stacks = [path for n in nodes for path, _ in (n.meta.get("nn_module_stack") or {}).values()]
    parents = {p for p in stacks for q in stacks if q != p and q.startswith(p + ".")}
    return {p for p in paths if p not in parents and p}


def _tensor_args(node: fx.Node) -> list[fx.Node]:
    """Node arguments in order, flattening lists (cat takes a list)."""
    out: list[fx.Node] = []
    for a in node.args:
        if isinstance(a, fx.Node):
            out.append(a)
        elif isinstance(a, list | tuple):
            out.extend(x for x in a if isinstance(x, fx.Node))
    return out


def _describe(
    node: fx.Node,
    name: str,
    value: fx.Node,
    layer_of: dict[fx.Node, str],
    attrs: dict[fx.Node, str],
    state: dict[str, torch.Tensor],
    trainable: set[str],
) -> Layer:
    """A layer's description from its node: kind, module, input layers, shape and hyper-parameters."""
    kind, op = _OPS.get(node.target, ("opaque", _op_name(node)))
    path, module_type, _ = _module_of(node)
    args = _tensor_args(node)
    inputs = tuple(layer_of[a] for a in args if a in layer_of)
    weights = tuple(attrs[a] for a in args if a in attrs)
    shape = tuple(int(d) for d in _val(value).shape[1:])
    if kind == "elementwise" and len(inputs) == 1:
        kind = "scale"  # one tensor and a constant: still one value per element
    if kind == "identity" and module_type.startswith("Dropout"):
        op = "dropout"
    params = _params(node, kind, op, [_val(a) for a in args])
    parameters = sum(int(state[w].numel()) for w in weights if w in trainable)
    return Layer(name, op, kind, path, module_type, inputs, shape, params, parameters, weights)


def _pair(value: Any) -> list[int]:
    if isinstance(value, int):
        return [value, value]
    return [int(v) for v in value] * (2 if len(value) == 1 else 1)


def _params(node: fx.Node, kind: str, op: str, arg_vals: list[Any]) -> dict[str, Any]:
    """Hyper-parameters from an op's arguments, by kind."""
    a: list[Any] = list(node.args)
    if kind == "conv":
        weight = arg_vals[1]
        if node.target is aten.convolution.default:
            stride, padding, dilation, groups = a[3], a[4], a[5], a[8]
        else:
            stride = a[3] if len(a) > 3 else 1
            padding = a[4] if len(a) > 4 else 0
            dilation = a[5] if len(a) > 5 else 1
            groups = a[6] if len(a) > 6 else 1
        kernel = [int(weight.shape[2]), int(weight.shape[3])]
        dil = _pair(dilation)
        if isinstance(padding, str):
            totals = [d * (k - 1) for d, k in zip(dil, kernel, strict=True)] if padding == "same" else [0, 0]
            pads = [[t // 2, t - t // 2] for t in totals]  # PyTorch puts the odd cell of 'same' on the far side
        else:
            pads = [[p, p] for p in _pair(padding)]
        return {
            "in_channels": int(weight.shape[1]) * int(groups),
            "out_channels": int(weight.shape[0]),
            "kernel_size": kernel,
            "stride": _pair(stride),
            "padding": pads,
            "dilation": dil,
            "groups": int(groups),
            "bias": len(arg_vals) > 2 and arg_vals[2] is not None,
            **({"padding_mode": padding} if isinstance(padding, str) else {}),
        }
    if kind == "pool":
        kernel = _pair(a[1])
        stride = _pair(a[2]) if len(a) > 2 and a[2] else kernel
        padding = _pair(a[3]) if len(a) > 3 else [0, 0]
        out: dict[str, Any] = {"kernel_size": kernel, "stride": stride, "padding": [[p, p] for p in padding]}
        if op == "max_pool2d":
            out["dilation"] = _pair(a[4]) if len(a) > 4 else [1, 1]
            out["ceil_mode"] = bool(a[5]) if len(a) > 5 else False
            out["pool_type"] = "max"
        else:
            out["dilation"] = [1, 1]
            out["ceil_mode"] = bool(a[4]) if len(a) > 4 else False
            out["count_include_pad"] = bool(a[5]) if len(a) > 5 else True
            out["divisor_override"] = a[6] if len(a) > 6 else None
            out["pool_type"] = "avg"
        return out
    if kind == "adaptive_pool":
        return {"output_size": _pair(a[1]), "pool_type": "max" if "max" in op else "avg"}
    if kind == "reduce":
        return {
            "dims": [int(d) for d in a[1]] if isinstance(a[1], list | tuple) else [int(a[1])],
            "keepdim": bool(a[2]) if len(a) > 2 else False,
        }
    if kind == "cat":
        return {"dim": int(a[1]) if len(a) > 1 else 0}
    if kind == "softmax":
        return {"dim": int(a[1])}
    if kind == "permute":
        return {"dims": [int(d) for d in a[1]]} if op == "permute" else {"dims": [int(a[1]), int(a[2])]}
    if kind == "linear":
        weight = arg_vals[1]
        return {
            "in_features": int(weight.shape[1]),
            "out_features": int(weight.shape[0]),
            "bias": len(arg_vals) > 2 and arg_vals[2] is not None,
        }
    if kind == "batchnorm":
        eps = a[-1] if node.target is aten._native_batch_norm_legit_no_training.default else a[7]
        return {"eps": float(eps), "affine": arg_vals[1] is not None}
    if kind == "activation" and op == "leaky_relu":
        return {"negative_slope": float(a[1]) if len(a) > 1 else 0.01}
    if kind == "activation" and op == "hardtanh":
        return {"min_val": float(a[1]) if len(a) > 1 else -1.0, "max_val": float(a[2]) if len(a) > 2 else 1.0}
    if kind == "activation" and op == "gelu":
        return {"approximate": str(node.kwargs.get("approximate", "none"))}
    if kind in ("elementwise", "scale"):
        constants = [x for x in a if not isinstance(x, fx.Node)]
        return {"constant": float(constants[0])} if constants and isinstance(constants[0], int | float) else {}
    return {}


def _first_node(value: Any) -> fx.Node | None:
    if isinstance(value, fx.Node):
        return value
    if isinstance(value, list | tuple):
        for v in value:
            found = _first_node(v)
            if found is not None:
                return found
    return None


def _returning_all(gm: fx.GraphModule, values: list[fx.Node]) -> fx.GraphModule:
    """A copy of the graph whose output is every layer's tensor, in layer order."""
    graph = fx.Graph()
    remap: dict[fx.Node, fx.Node] = {}
    graph.graph_copy(gm.graph, remap)
    graph.output(tuple(remap[v] for v in values))
    for node in list(graph.nodes):
        if node.op == "call_module" and str(node.target).startswith("_guards"):
            graph.erase_node(node)  # export's input-shape guard: inputs are checked before they get here
    module = fx.GraphModule(gm, graph)
    module.graph.eliminate_dead_code()
    module.recompile()
    return module


def layer_roles(graph: CapturedGraph) -> dict[str, str]:
    """What each layer is to a reader: input, hidden, logits or probabilities."""
    roles = {layer.name: "hidden" for layer in graph.layers}
    roles["input"] = "input"
    final = graph.layer(graph.output)
    if final.kind == "softmax":
        roles[final.name] = "probabilities"
        if final.inputs:
            roles[final.inputs[0]] = "logits"
    elif len(final.shape) == 1:
        roles[final.name] = "logits"
    return roles


ModelFactory = Callable[[], nn.Module]
