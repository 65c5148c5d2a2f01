"""Explain a model from Python or a notebook: one function per method, numpy arrays out, no server.

    from app import explain
    sal = explain.gradient(model, x, 7)                       # (C, H, W): d logit_7 / d input
    ig = explain.integrated_gradients(model, x, 7, steps=32)  # .values, .completeness["error"]
    cam = explain.gradcam(model, x, 7)                        # .layer_map at the last conv, .values upsampled
    ko = explain.knockout(model, x, "conv2", channel=3)       # .before / .after / .difference(name)

`model` is an nn.Module (captured once per module, on the input's shape) or an InspectableModel; `x` is one input
(C, H, W) or (1, C, H, W) in the model's input space; `target` is a class index (its logit, or its probability with
kind="probability") or an `attribution.Target` for any unit of any layer.
"""

from __future__ import annotations

import weakref
from typing import Any, Literal

import numpy as np
import torch
from torch import nn

from app.core import attribution as A
from app.core import knockout as K
from app.core import units as U
from app.core.graph import CapturedGraph
from app.core.models import InspectableModel, from_module

Model = nn.Module | InspectableModel | CapturedGraph
Target = int | A.Target
_CAPTURED: weakref.WeakKeyDictionary[nn.Module, dict[tuple[int, ...], CapturedGraph]] = weakref.WeakKeyDictionary()


def _tensor(x: torch.Tensor | np.ndarray) -> torch.Tensor:
    t = torch.as_tensor(np.asarray(x, dtype=np.float32)) if isinstance(x, np.ndarray) else x.detach().float()
    return t.unsqueeze(0) if t.dim() == 3 else t


def graph_of(model: Model, x: torch.Tensor | np.ndarray) -> CapturedGraph:
    """The captured graph of a model (an nn.Module is captured once per input shape, in eval mode)."""
    if isinstance(model, CapturedGraph):
        return model
    if isinstance(model, InspectableModel):
        return model.graph
    shapes = _CAPTURED.setdefault(model, {})
    shape = tuple(_tensor(x).shape[1:])
    if shape not in shapes:
        shapes[shape] = from_module("python", model, _tensor(x)[:1]).graph
    return shapes[shape]


def target_of(graph: CapturedGraph, target: Target, kind: Literal["logit", "probability"] = "logit") -> A.Target:
    """A class index as its logit or probability, or a Target as it is."""
    return target if isinstance(target, A.Target) else A.class_target(graph, int(target), kind)


def _run(method: str, model: Model, x: Any, target: Target, kind: Any, **options: Any) -> A.Attribution:
    graph = graph_of(model, x)
    return A.attribute(graph, _tensor(x), target_of(graph, target, kind), method, **options)


def gradient(model: Model, x: Any, target: Target, kind: Literal["logit", "probability"] = "logit") -> np.ndarray:
    """d target / d input, (C, H, W)."""
    return _run("gradient", model, x, target, kind).values


def gradient_x_input(
    model: Model, x: Any, target: Target, kind: Literal["logit", "probability"] = "logit"
) -> np.ndarray:
    """Gradient × input, (C, H, W)."""
    return _run("gradient_x_input", model, x, target, kind).values


def integrated_gradients(
    model: Model, x: Any, target: Target, kind: Literal["logit", "probability"] = "logit", **options: Any
) -> A.Attribution:
    """Integrated gradients (options: baseline_kind, steps, precise, batch, mean, std); see .completeness."""
    return _run("integrated_gradients", model, x, target, kind, **options)


def smoothgrad(
    model: Model, x: Any, target: Target, kind: Literal["logit", "probability"] = "logit", **options: Any
) -> np.ndarray:
    """SmoothGrad (options: samples, noise, seed), (C, H, W)."""
    return _run("smoothgrad", model, x, target, kind, **options).values


def occlusion(
    model: Model, x: Any, target: Target, kind: Literal["logit", "probability"] = "logit", **options: Any
) -> np.ndarray:
    """Occlusion (options: window, stride, fill, batch), (C, H, W)."""
    return _run("occlusion", model, x, target, kind, **options).values


def guided_backprop(
    model: Model, x: Any, target: Target, kind: Literal["logit", "probability"] = "logit"
) -> np.ndarray:
    """Guided backprop (ReLU networks), (C, H, W)."""
    return _run("guided_backprop", model, x, target, kind).values


def gradcam(
    model: Model,
    x: Any,
    target: Target,
    layer: str | None = None,
    *,
    plus: bool = False,
    kind: Literal["logit", "probability"] = "logit",
) -> A.Attribution:
    """Grad-CAM (plus=True: Grad-CAM++) at a map layer (default: the last convolution): .layer_map and .values."""
    graph = graph_of(model, x)
    return A.gradcam(graph, _tensor(x), target_of(graph, target, kind), layer, plus=plus)


def knockout(model: Model, x: Any, layer: str, **options: Any) -> K.Knockout:
    """Switch off a channel or unit (options: channel, unit, mode, value): every layer before and after."""
    return K.knockout(graph_of(model, x), _tensor(x), layer, **options)


def compare(a: Model, b: Model, x: Any) -> dict[str, Any]:
    """Two models on one input: their shared layers (name and shape) with differences."""
    return K.compare(graph_of(a, x), graph_of(b, x), _tensor(x))


def unit_statistics(model: Model, images: Any, example: Any, **options: Any) -> U.Statistics:
    """One pass over a data set (an iterable of tensors): per-channel peaks and per-unit moments."""
    return U.dataset_pass(graph_of(model, example), images, **options)


def feature_visualisation(model: Model, example: Any, layer: str, channel: int, **options: Any) -> dict[str, Any]:
    """An image optimised to excite a channel (or options unit=(c, y, x)); 'pixels' is (C, H, W) in 0..1."""
    return U.feature_visualisation(graph_of(model, example), layer, channel, **options)
