"""The answers of API v2, built from a captured graph: model descriptions, predictions with layers, unit traces.

Coordinates follow one convention: a unit is [c, y, x] (or [i] on vectors); a box is
{"rows": [start, stop], "cols": [start, stop]}, half-open and clipped to the layer, so a[rows[0]:rows[1]] slices it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from app.core import calibration
from app.core.captures import Capture, CaptureCache, input_id
from app.core.encoding import png_data_url
from app.core.explain import computation, input_gradient
from app.core.fields import Field, fields
from app.core.graph import Layer
from app.core.indexing import check_unit
from app.core.models import InspectableModel
from app.core.preprocess import Preprocessed

# Above this many values per input, a prediction returns no layers unless asked (the page fetches what it shows).
DEFAULT_ALL_LAYERS_BELOW = 100_000


def summary(m: InspectableModel, default: bool) -> dict[str, Any]:
    """A model's line in the model list."""
    return {
        "name": m.name,
        "title": m.title,
        "source": m.source,
        "default": default,
        "input": input_description(m),
        "labels": m.labels,
        "layers": len(m.graph.layers),
        "values": m.values,
        "parameters": sum(layer.parameters for layer in m.graph.layers),
        "accuracy": m.accuracy,
        "sha256": m.sha256,
        "gallery": len(m.dataset) if m.dataset is not None else 0,
    }


def input_description(m: InspectableModel) -> dict[str, Any]:
    """What the model takes and how an image becomes it."""
    return {
        "shape": list(m.graph.input_shape),
        "preprocess": m.recipe,
        "mean": list(m.mean) or None,
        "std": list(m.std) or None,
    }


def layer_description(m: InspectableModel, layer: Layer) -> dict[str, Any]:
    """A layer as API v2 describes it."""
    weights = [
        {"name": w.rsplit(".", 1)[-1], "key": w, "shape": list(m.graph.state[w].shape)}
        for w in layer.weights
        if w in m.graph.state
    ]
    return {
        "name": layer.name,
        "op": layer.op,
        "kind": layer.kind,
        "role": m.roles[layer.name],
        "module": layer.module,
        "module_type": layer.module_type,
        "inputs": list(dict.fromkeys(layer.inputs)),
        "shape": list(layer.shape),
        "params": layer.params,
        "parameters": layer.parameters,
        "weights": weights,
    }


def model_description(m: InspectableModel, default: bool) -> dict[str, Any]:
    """Every layer in graph order with its inputs, and the graph's edges."""
    layers = [layer_description(m, layer) for layer in m.graph.layers]
    edges = [[src, layer["name"]] for layer in layers for src in layer["inputs"]]
    return {**summary(m, default), "output": m.graph.output, "layers": layers, "edges": edges}


def run(m: InspectableModel, x: torch.Tensor, cache: CaptureCache) -> tuple[str, Capture]:
    """Capture every layer for one input (1, C, H, W) and keep it under its input id."""
    key = input_id(m.name, m.sha256, x)
    found = cache.get(key)
    if found is not None and found.model == m.name:
        return key, found
    capture = Capture(m.name, x, m.graph.capture(x))
    cache.put(key, capture)
    return key, capture


def _probabilities(m: InspectableModel, capture: Capture) -> np.ndarray | None:
    """Class probabilities: the model's softmax output, or the softmax of logits it ends with."""
    out = capture.values[m.graph.output][0]
    role = m.roles[m.graph.output]
    if out.dim() != 1:
        return None
    if role == "probabilities":
        layer = m.graph.layer(m.graph.output)
        return (out.exp() if layer.op == "log_softmax" else out).numpy()
    return torch.softmax(out.double(), dim=0).float().numpy()


def prediction(m: InspectableModel, capture: Capture, top: int = 5) -> dict[str, Any]:
    """The top classes with labels and probabilities (none for a model without a vector output)."""
    probabilities = _probabilities(m, capture)
    if probabilities is None:
        return {"prediction": None, "top": [], "probabilities": None}
    order = np.argsort(-probabilities)[:top]

    def entry(i: int) -> dict[str, Any]:
        return {"index": int(i), "label": m.labels[i] if m.labels else str(i), "probability": float(probabilities[i])}

    return {"prediction": entry(int(order[0])), "top": [entry(int(i)) for i in order], "probabilities": probabilities}


def confidence(m: InspectableModel, capture: Capture) -> dict[str, Any] | None:
    """The calibrated answer and the non-digit cue for a shipped digit model (None for other models)."""
    logits = next((name for name, role in m.roles.items() if role == "logits"), None)
    cal = m.calibration
    if cal is None or logits is None:
        return None
    features = None
    if cal.density is not None:
        if cal.density.layer not in capture.values:
            return None  # the threshold is for the combined score: no cue without the density's layer
        features = capture.values[cal.density.layer][0].numpy()
    return calibration.cue(capture.values[logits][0].numpy(), cal, features)


def select_layers(m: InspectableModel, wanted: list[str] | None) -> list[str]:
    """Layer names to return: the list given ('*' for all), or by default all for small models and none for big."""
    if wanted is None:
        return [layer.name for layer in m.graph.layers] if m.values < DEFAULT_ALL_LAYERS_BELOW else []
    if wanted == ["*"]:
        return [layer.name for layer in m.graph.layers]
    return wanted


def layer_values(
    m: InspectableModel, capture: Capture, names: list[str], channels: tuple[int, int] | None
) -> list[dict[str, Any]]:
    """Each named layer's values, flat row-major; maps sliced to a channel range when one is given."""
    out = []
    for name in names:
        layer = m.graph.layer(name)
        value = capture.values[name][0]
        start, stop = 0, layer.shape[0]
        if channels is not None and layer.spatial:
            start, stop = min(channels[0], layer.shape[0]), min(channels[1], layer.shape[0])
            value = value[start:stop]
        out.append(
            {
                "name": name,
                "kind": layer.kind,
                "shape": list(value.shape),
                "channels": [start, stop],
                "values": value.contiguous().numpy().reshape(-1),
            }
        )
    return out


def predict(
    m: InspectableModel,
    pre: Preprocessed | None,
    key: str,
    capture: Capture,
    names: list[str],
    channels: tuple[int, int] | None,
    steps: bool,
) -> dict[str, Any]:
    """Prediction, the input id, preprocessing steps and the requested layers' values."""
    predicted = prediction(m, capture)
    return {
        "model": m.name,
        "input_id": key,
        "input": input_description(m),
        "output": m.graph.output,
        **predicted,
        "confidence": confidence(m, capture),
        "steps": [
            {
                "name": s.name,
                "description": s.description,
                "shape": list(s.image.shape[:2]),
                "png": png_data_url(s.image),
            }
            for s in (pre.steps if pre is not None and steps else [])
        ],
        "layers": layer_values(m, capture, names, channels),
    }


def box(field: Field) -> dict[str, list[int]] | None:
    """A field's half-open bounding box in the API's convention."""
    found = field.box()
    return None if found is None else {"rows": list(found[0]), "cols": list(found[1])}


def field_description(field: Field, with_mask: bool) -> dict[str, Any]:
    """One layer's part of a unit's receptive field."""
    out: dict[str, Any] = {
        "layer": field.layer,
        "known": field.known,
        "box": box(field),
        "channels": field.channels(),
        "dense": field.dense() if field.known else None,
    }
    spatial = field.spatial()
    if with_mask and spatial is not None:
        out["mask"] = spatial.to(torch.uint8).numpy()
    return out


def trace(
    m: InspectableModel, key: str, capture: Capture, layer: str, index: list[int], top: int, masks: bool
) -> dict[str, Any]:
    """One unit: its value, its field in every earlier layer, its arithmetic and d unit / d input per channel."""
    target = m.graph.layer(layer)
    unit = check_unit(target, index)
    grad = input_gradient(m.graph, capture.input, layer, unit)  # (C, H, W)
    return {
        "model": m.name,
        "input_id": key,
        "layer": layer,
        "kind": target.kind,
        "op": target.op,
        "index": list(unit),
        "value": float(capture.values[layer][0][unit]),
        "inputs": list(dict.fromkeys(target.inputs)),
        "fields": [field_description(f, masks) for f in fields(m.graph, layer, unit)],
        "computation": computation(m.graph, target, capture.values, unit, top),
        "gradient": {"shape": list(grad.shape), "channels": grad, "combined": grad.sum(axis=0)},
    }
