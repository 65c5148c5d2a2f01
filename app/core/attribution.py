"""Why the network said it: one target (a class's logit or probability, any unit of any layer) attributed to the input.

Input-attribution methods run through Captum, which calls the captured graph as a plain function: no hooks on any
module. Guided backprop runs on a private copy of the graph whose ReLU nodes call a guided ReLU. Layer methods
(Grad-CAM, Grad-CAM++) take the captured activation and `torch.autograd.grad` on a graph built for this call only.
Every function returns numpy arrays; `progress(done, total)` is called as forwards finish and may raise `Cancelled`.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import torch
import torch.nn.functional as F
from captum.attr import InputXGradient, IntegratedGradients, Occlusion, Saliency
from torch import fx

from app.core.distort import gaussian_blur
from app.core.graph import CapturedGraph, layer_roles
from app.core.indexing import UnitError, check_unit
from app.core.lean import layer_function
from app.core.progress import Cancelled as Cancelled  # re-exported: callers stop long attributions with it
from app.core.progress import Progress

BaselineKind = Literal["black", "blurred"]
DEFAULT_IG_STEPS = 32
PRECISE_IG_STEPS = 512
# Activations one forward of a many-pass method may hold: ResNet-18 at 224×224 keeps ~32 MiB per sample, so 8 at once
# (oneDNN's speed is flat from 8 up); LeNet's 62 KiB would allow thousands, capped at MAX_BATCH.
BATCH_BYTES = 256 * 2**20
MAX_BATCH = 512
DEFAULT_CAM_REASON = (
    "The last convolution is the deepest layer that still keeps a map of where things are: its channels hold the "
    "most class-specific features, and everything after it (pooling, the classifier) throws the positions away."
)


class AttributionError(ValueError):
    """A request that cannot be attributed as asked (unknown layer or unit, unsupported activation, bad option)."""


@dataclass(frozen=True)
class Target:
    """The number to explain: a unit of a layer, or (softmax=True) of the softmax of a vector layer."""

    layer: str
    unit: tuple[int, ...]
    softmax: bool = False


@dataclass
class Attribution:
    """An attribution in the input's space: per channel (C, H, W) and combined over channels (H, W)."""

    method: str
    values: np.ndarray  # (C, H, W); Grad-CAM: (1, H, W), upsampled from the layer
    target_value: float
    layer: str | None = None  # the layer of a layer method
    layer_map: np.ndarray | None = None  # (h, w): a layer method's map at the layer's resolution
    completeness: dict[str, float] | None = None  # integrated gradients: sum, difference, relative error
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def combined(self) -> np.ndarray:
        """Summed over channels (H, W): the signed total each pixel position gets."""
        return self.values.sum(axis=0)


def class_target(graph: CapturedGraph, index: int, kind: Literal["logit", "probability"] = "logit") -> Target:
    """A class's logit or probability as a target; a model that ends in logits gets its probability by softmax."""
    roles = layer_roles(graph)
    logits = [name for name, role in roles.items() if role == "logits"]
    probabilities = [name for name, role in roles.items() if role == "probabilities"]
    if kind == "probability" and probabilities:
        target = Target(probabilities[0], (index,))
    elif logits:
        target = Target(logits[0], (index,), softmax=kind == "probability")
    else:
        raise AttributionError("this model's output is not a vector of class scores: choose a layer and unit")
    return check_target(graph, target)


def check_target(graph: CapturedGraph, target: Target) -> Target:
    """The target with its layer and unit checked (AttributionError otherwise)."""
    try:
        layer = graph.layer(target.layer)
    except KeyError:
        raise AttributionError(f"no layer {target.layer!r}; GET /api/v2/model lists them") from None
    if target.layer == "input":
        raise AttributionError("the input cannot be a target: choose a later layer")
    if target.softmax and len(layer.shape) != 1:
        raise AttributionError(f"a probability needs a vector layer; {target.layer} has shape {list(layer.shape)}")
    try:
        return dataclasses.replace(target, unit=check_unit(layer, target.unit))
    except UnitError as exc:
        raise AttributionError(str(exc)) from exc


def _select(v: torch.Tensor, target: Target) -> torch.Tensor:
    """The target's value for each sample, (N,), from its layer's value v (N, *shape)."""
    if target.softmax:
        v = torch.softmax(v, dim=1)
    index: tuple[Any, ...] = (slice(None), *target.unit)
    return v[index]


def _pick(graph: CapturedGraph, values: list[torch.Tensor], target: Target) -> torch.Tensor:
    """The target's value for each sample, (N,), from every layer's values."""
    return _select(values[graph.index(target.layer)], target)


def scalar_function(
    graph: CapturedGraph, target: Target, progress: Progress | None = None, total: int = 0, *, lean: bool = True
) -> Callable[[torch.Tensor], torch.Tensor]:
    """f(x): (N, C, H, W) → the target's value (N,), counting the samples it has seen for `progress`.

    `lean` runs the graph's lean copy (only the target's layer, large convolutions through oneDNN); a graph built
    for one call (guided backprop's) runs as it is, since its lean copy would cost more to build than it saves.
    """
    layer = layer_function(graph, target.layer) if lean else lambda x: graph.forward(x)[graph.index(target.layer)]
    seen = [0]

    def f(x: torch.Tensor) -> torch.Tensor:
        out = _select(layer(x), target)
        seen[0] += x.shape[0]
        if progress is not None:
            progress(min(seen[0], total), total)
        return out

    return f


def batch_for(graph: CapturedGraph) -> int:
    """Samples per forward for a many-pass method: every layer's values of the batch within BATCH_BYTES."""
    per_sample = 4 * sum(layer.size for layer in graph.layers)
    return max(1, min(MAX_BATCH, BATCH_BYTES // max(per_sample, 1)))


def _input(graph: CapturedGraph, x: torch.Tensor | np.ndarray) -> torch.Tensor:
    """One sample as a float (1, C, H, W) tensor on the graph's device, checked against the model's input shape."""
    t = torch.as_tensor(np.asarray(x, dtype=np.float32)) if isinstance(x, np.ndarray) else x.detach().float()
    if t.dim() == 3:
        t = t.unsqueeze(0)
    if tuple(t.shape[1:]) != graph.input_shape or t.shape[0] != 1:
        raise AttributionError(
            f"input has shape {list(t.shape)}; the model takes [1, {', '.join(map(str, graph.input_shape))}]"
        )
    return t.to(graph.device)


def _grad_input(x: torch.Tensor) -> torch.Tensor:
    """A leaf copy of x that needs its gradient (Captum warns when it has to switch that on itself)."""
    return x.detach().clone().requires_grad_(True)


def _value(graph: CapturedGraph, x: torch.Tensor, target: Target) -> float:
    with torch.inference_mode():
        return float(scalar_function(graph, target)(x)[0])


def _out(t: torch.Tensor) -> np.ndarray:
    return t.detach()[0].float().cpu().numpy()


def gradient(graph: CapturedGraph, x: torch.Tensor | np.ndarray, target: Target) -> Attribution:
    """Vanilla gradient d target / d input (signed), via Captum's Saliency."""
    xt = _input(graph, x)
    target = check_target(graph, target)
    attr = Saliency(scalar_function(graph, target)).attribute(_grad_input(xt), abs=False)  # (1, C, H, W)
    return Attribution("gradient", _out(attr), _value(graph, xt, target))


def gradient_x_input(graph: CapturedGraph, x: torch.Tensor | np.ndarray, target: Target) -> Attribution:
    """Gradient × input, via Captum's InputXGradient."""
    xt = _input(graph, x)
    target = check_target(graph, target)
    attr = InputXGradient(scalar_function(graph, target)).attribute(_grad_input(xt))  # (1, C, H, W)
    return Attribution("gradient_x_input", _out(attr), _value(graph, xt, target))


def blurred(x: torch.Tensor, sigma: float | None = None) -> torch.Tensor:
    """x (N, C, H, W) blurred by a Gaussian (σ a tenth of the longer side by default), edges reflected."""
    return gaussian_blur(x, sigma if sigma is not None else max(x.shape[2:]) / 10, edges="reflect")


def baseline(
    graph: CapturedGraph,
    x: torch.Tensor,
    kind: BaselineKind | np.ndarray | torch.Tensor,
    mean: tuple[float, ...] = (),
    std: tuple[float, ...] = (),
) -> torch.Tensor:
    """The reference input: black (0 in pixels, then normalised as the model's inputs are), blurred x, or given."""
    if isinstance(kind, str):
        if kind == "blurred":
            return blurred(x)
        if kind != "black":
            raise AttributionError(f"unknown baseline {kind!r}: black, blurred or a tensor")
        c = x.shape[1]
        m = torch.tensor(mean or (0.0,) * c, dtype=x.dtype).reshape(1, -1, 1, 1)
        s = torch.tensor(std or (1.0,) * c, dtype=x.dtype).reshape(1, -1, 1, 1)
        return ((torch.zeros_like(x) - m.to(x.device)) / s.to(x.device)).expand_as(x).contiguous()
    return _input(graph, torch.as_tensor(np.asarray(kind, dtype=np.float32)))


def integrated_gradients(
    graph: CapturedGraph,
    x: torch.Tensor | np.ndarray,
    target: Target,
    *,
    baseline_kind: BaselineKind | np.ndarray | torch.Tensor = "black",
    steps: int = DEFAULT_IG_STEPS,
    precise: bool = False,
    batch: int | None = None,
    mean: tuple[float, ...] = (),
    std: tuple[float, ...] = (),
    progress: Progress | None = None,
) -> Attribution:
    """Integrated gradients from a baseline, with the completeness error |Σ attr − (f(x) − f(b))| / |f(x) − f(b)|.

    Precise mode uses PRECISE_IG_STEPS Gauss–Legendre points; `batch` bounds how many points one forward holds
    (default: `batch_for(graph)`).
    """
    xt = _input(graph, x)
    target = check_target(graph, target)
    steps = PRECISE_IG_STEPS if precise else steps
    if not 1 <= steps <= 4096:
        raise AttributionError(f"steps {steps}: choose 1..4096")
    base = baseline(graph, xt, baseline_kind, mean, std)
    f = scalar_function(graph, target, progress, steps)
    attr, delta = IntegratedGradients(f).attribute(
        xt, baselines=base, n_steps=steps, internal_batch_size=batch or batch_for(graph), return_convergence_delta=True
    )  # (1, C, H, W), (1,)
    fx_value = _value(graph, xt, target)
    difference = fx_value - _value(graph, base, target)
    total = float(attr.sum())
    error = abs(total - difference) / abs(difference) if difference != 0 else (0.0 if total == 0 else math.inf)
    return Attribution(
        "integrated_gradients",
        _out(attr),
        fx_value,
        completeness={"sum": total, "difference": difference, "error": error, "delta": float(delta[0])},
        details={"steps": steps, "baseline": _out(base)},
    )


def smoothgrad(
    graph: CapturedGraph,
    x: torch.Tensor | np.ndarray,
    target: Target,
    *,
    samples: int = 16,
    noise: float = 0.15,
    seed: int = 0,
    progress: Progress | None = None,
) -> Attribution:
    """SmoothGrad: the mean gradient over `samples` copies of x with Gaussian noise (σ = noise × (max − min))."""
    xt = _input(graph, x)
    target = check_target(graph, target)
    if not 1 <= samples <= 1024 or not 0 <= noise <= 10:
        raise AttributionError("smoothgrad: samples 1..1024 and noise 0..10")
    sigma = noise * float(xt.max() - xt.min())
    gen = torch.Generator().manual_seed(seed)  # private: no global random state touched
    noisy = xt.cpu() + sigma * torch.randn((samples, *xt.shape[1:]), generator=gen)  # (S, C, H, W)
    saliency = Saliency(scalar_function(graph, target, progress, samples))
    grads = [
        saliency.attribute(_grad_input(chunk.to(graph.device)), abs=False) for chunk in noisy.split(batch_for(graph))
    ]
    attr = torch.cat(grads).mean(dim=0, keepdim=True)  # (1, C, H, W)
    return Attribution(
        "smoothgrad", _out(attr), _value(graph, xt, target), details={"samples": samples, "sigma": sigma}
    )


def occlusion(
    graph: CapturedGraph,
    x: torch.Tensor | np.ndarray,
    target: Target,
    *,
    window: int = 4,
    stride: int = 2,
    fill: float | None = None,
    batch: int | None = None,
    mean: tuple[float, ...] = (),
    std: tuple[float, ...] = (),
    progress: Progress | None = None,
) -> Attribution:
    """Occlusion: f(x) − f(x with a window replaced by the fill), averaged over the windows covering each pixel.

    The fill is black (normalised as inputs are) unless given, in the model's input space. Windows start every
    `stride` cells until one reaches the far edge; the last one may hang over it and is cropped (Captum's rule).
    """
    xt = _input(graph, x)
    target = check_target(graph, target)
    c, h, w = graph.input_shape
    if not 1 <= window <= min(h, w) or not 1 <= stride <= window:
        raise AttributionError(f"occlusion: window 1..{min(h, w)} and stride 1..window (every pixel covered)")
    fill_t = torch.full_like(xt, fill) if fill is not None else baseline(graph, xt, "black", mean, std)
    windows = (math.ceil(max(h - window, 0) / stride) + 1) * (math.ceil(max(w - window, 0) / stride) + 1)
    f = scalar_function(graph, target, progress, windows + 1)
    with torch.no_grad():
        attr = Occlusion(f).attribute(
            xt,
            sliding_window_shapes=(c, window, window),
            strides=(c, stride, stride),
            baselines=fill_t,
            perturbations_per_eval=batch or batch_for(graph),
        )  # (1, C, H, W)
    return Attribution("occlusion", _out(attr), _value(graph, xt, target), details={"window": window, "stride": stride})


class _GuidedReLU(torch.autograd.Function):
    """ReLU whose backward passes only positive gradients where the input was positive (guided backprop)."""

    @staticmethod
    def forward(ctx: Any, x: torch.Tensor) -> torch.Tensor:
        ctx.save_for_backward(x)
        return x.clamp(min=0)

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> torch.Tensor:
        (x,) = ctx.saved_tensors
        return grad.clamp(min=0) * (x > 0).to(grad.dtype)


def _guided_relu(x: torch.Tensor) -> torch.Tensor:
    out: torch.Tensor = _GuidedReLU.apply(x)
    return out


def guided_activations(graph: CapturedGraph) -> list[str]:
    """Activation layers that stop guided backprop (it is defined for ReLU networks only)."""
    return [
        layer.name + f" ({layer.op})" for layer in graph.layers if layer.kind == "activation" and layer.op != "relu"
    ]


def _guided_graph(graph: CapturedGraph) -> CapturedGraph:
    """A private copy of the graph (sharing the weights, read-only) whose ReLU nodes are guided."""
    new = fx.Graph()
    remap: dict[fx.Node, fx.Node] = {}
    out = new.graph_copy(graph.module.graph, remap)
    new.output(out)
    for node in new.nodes:
        if node.op == "call_function" and node.target is torch.ops.aten.relu.default:
            node.target = _guided_relu
    module = fx.GraphModule(graph.module, new)
    return dataclasses.replace(graph, module=module)


def guided_backprop(graph: CapturedGraph, x: torch.Tensor | np.ndarray, target: Target) -> Attribution:
    """Guided backprop (Springenberg et al.): the gradient with negative signals stopped at every ReLU."""
    blockers = guided_activations(graph)
    if blockers:
        raise AttributionError(
            "guided backprop is defined for ReLU networks; this model also has " + ", ".join(blockers[:5])
        )
    xt = _input(graph, x)
    target = check_target(graph, target)
    guided = scalar_function(_guided_graph(graph), target, lean=False)
    attr = Saliency(guided).attribute(_grad_input(xt), abs=False)  # (1, C, H, W)
    return Attribution("guided_backprop", _out(attr), _value(graph, xt, target))


def default_cam_layer(graph: CapturedGraph) -> str:
    """The last convolution (see DEFAULT_CAM_REASON)."""
    convs = [layer.name for layer in graph.layers if layer.kind == "conv"]
    if not convs:
        raise AttributionError("this model has no convolution for Grad-CAM")
    return convs[-1]


def gradcam(
    graph: CapturedGraph,
    x: torch.Tensor | np.ndarray,
    target: Target,
    layer: str | None = None,
    *,
    plus: bool = False,
) -> Attribution:
    """Grad-CAM (or Grad-CAM++) at a map layer: ReLU(Σ_c w_c A_c), upsampled bilinearly to the input.

    Grad-CAM: w_c = mean over positions of d target / d A_c. Grad-CAM++: w_c = Σ_ij α_ij ReLU(g_ij) with
    α = g² / (2g² + Σ_ij A · g³) (Chattopadhyay et al., with the exponential's derivatives taken as powers of g).
    """
    xt = _input(graph, x)
    target = check_target(graph, target)
    name = layer or default_cam_layer(graph)
    try:
        found = graph.layer(name)
    except KeyError:
        raise AttributionError(f"no layer {name!r} for Grad-CAM") from None
    if not found.spatial or name == "input":
        raise AttributionError(f"Grad-CAM needs a map layer [C, H, W]; {name} has shape {list(found.shape)}")
    if graph.index(name) >= graph.index(target.layer):
        raise AttributionError(f"Grad-CAM's layer {name} must come before the target's layer {target.layer}")
    xg = xt.detach().requires_grad_(True)  # a graph private to this call; no .grad is written
    with torch.enable_grad():
        values = graph.forward(xg)
        a = values[graph.index(name)]  # (1, C, h, w)
        y = _pick(graph, values, target)
        (g,) = torch.autograd.grad(y.sum(), a, allow_unused=True)
    if g is None:
        raise AttributionError(f"the target does not depend on layer {name}")
    a, g = a.detach()[0], g[0]  # (C, h, w)
    if plus:
        g2, g3 = g**2, g**3
        denom = 2 * g2 + a.sum(dim=(1, 2), keepdim=True) * g3
        alpha = torch.where(denom != 0, g2 / torch.where(denom != 0, denom, 1.0), 0.0)
        weights = (alpha * g.clamp(min=0)).sum(dim=(1, 2))  # (C,)
    else:
        weights = g.mean(dim=(1, 2))  # (C,)
    cam = (weights[:, None, None] * a).sum(dim=0).clamp(min=0)  # (h, w)
    up = F.interpolate(cam[None, None], size=graph.input_shape[1:], mode="bilinear", align_corners=False)[0]
    return Attribution(
        "gradcam_pp" if plus else "gradcam",
        up.cpu().numpy(),
        float(y.detach()[0]),
        layer=name,
        layer_map=cam.cpu().numpy(),
        details={
            "weights": weights.cpu().numpy(),
            "default_layer_reason": DEFAULT_CAM_REASON if layer is None else None,
        },
    )


Method = Literal[
    "gradient",
    "gradient_x_input",
    "integrated_gradients",
    "smoothgrad",
    "occlusion",
    "guided_backprop",
    "gradcam",
    "gradcam_pp",
]
METHODS: tuple[str, ...] = Method.__args__  # type: ignore[attr-defined]


def attribute(
    graph: CapturedGraph, x: torch.Tensor | np.ndarray, target: Target, method: str, **options: Any
) -> Attribution:
    """Any method by name, with its options (see each function)."""
    if method == "gradient":
        return gradient(graph, x, target)
    if method == "gradient_x_input":
        return gradient_x_input(graph, x, target)
    if method == "integrated_gradients":
        return integrated_gradients(graph, x, target, **options)
    if method == "smoothgrad":
        return smoothgrad(graph, x, target, **options)
    if method == "occlusion":
        return occlusion(graph, x, target, **options)
    if method == "guided_backprop":
        return guided_backprop(graph, x, target)
    if method in ("gradcam", "gradcam_pp"):
        return gradcam(graph, x, target, options.get("layer"), plus=method == "gradcam_pp")
    raise AttributionError(f"unknown method {method!r}: {', '.join(METHODS)}")
