"""The answers of the explain part of API v2 (attribution, knock-outs, comparisons), built from core results."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from app.core import attribution as A
from app.core import knockout as K
from app.core.answers import prediction
from app.core.captures import Capture
from app.core.models import InspectableModel


def resolve_target(
    m: InspectableModel,
    capture: Capture,
    class_index: int | None,
    kind: str,
    layer: str | None,
    index: list[int] | None,
) -> A.Target:
    """The target a request names: a class (default: the predicted one) as logit or probability, or a unit."""
    if layer is not None:
        if index is None:
            raise A.AttributionError("a target layer needs its unit index: [c, y, x] or [i]")
        return A.check_target(m.graph, A.Target(layer, tuple(index)))
    if class_index is None:
        predicted = prediction(m, capture)["prediction"]
        if predicted is None:
            raise A.AttributionError("this model has no class output: give the target as a layer and unit")
        class_index = int(predicted["index"])
    return A.class_target(m.graph, class_index, "probability" if kind == "probability" else "logit")


def target_description(m: InspectableModel, target: A.Target, value: float) -> dict[str, Any]:
    """What was explained, with its value for this input."""
    role = m.roles.get(target.layer, "hidden")
    label = None
    if role in ("logits", "probabilities") and m.labels and len(target.unit) == 1:
        label = m.labels[target.unit[0]]
    quantity = "probability" if target.softmax or role == "probabilities" else ("logit" if role == "logits" else "unit")
    return {
        "layer": target.layer,
        "index": list(target.unit),
        "softmax": target.softmax,
        "quantity": quantity,
        "label": label,
        "value": value,
    }


def attribution_answer(m: InspectableModel, key: str, attr: A.Attribution, target: A.Target) -> dict[str, Any]:
    """An attribution per input channel and combined, with the layer map and IG's completeness where they apply."""
    details = {k: v for k, v in attr.details.items() if k not in ("baseline", "weights")}
    peak = float(np.abs(attr.values).max()) if attr.values.size else 0.0
    return {
        "model": m.name,
        "input_id": key,
        "method": attr.method,
        "target": target_description(m, target, attr.target_value),
        "shape": list(attr.values.shape),
        "channels": attr.values,
        "combined": attr.combined,
        "range": {"min": float(attr.values.min()), "max": float(attr.values.max()), "abs_max": peak},
        "layer": attr.layer,
        "layer_map": attr.layer_map,
        "layer_reason": details.pop("default_layer_reason", None),
        "completeness": attr.completeness,
        "details": details,
    }


def knockout_answer(m: InspectableModel, key: str, ko: K.Knockout, layers: list[str] | None) -> dict[str, Any]:
    """Prediction with and without the knock-out, and every later layer's difference (values for those asked)."""
    start = m.graph.index(ko.layer)
    later = [layer.name for layer in m.graph.layers[start:]]
    wanted = set(later if layers is None else layers)

    def ranked(values: dict[str, np.ndarray]) -> dict[str, Any]:
        fake = Capture(m.name, torch.zeros(1), {m.graph.output: torch.from_numpy(values[m.graph.output])[None]})
        return prediction(m, fake)

    rows = []
    for name in later:
        d = ko.difference(name)
        rows.append(
            {
                "name": name,
                "shape": list(d.shape),
                "changed": int(np.count_nonzero(d)),
                "max_abs_difference": float(np.abs(d).max()),
                "difference": d.reshape(-1) if name in wanted else None,
                "after": ko.after[name].reshape(-1) if name in wanted else None,
            }
        )
    return {
        "model": m.name,
        "input_id": key,
        "layer": ko.layer,
        "fill": ko.fill,
        "fill_source": ko.fill_source,
        "cells": int(ko.mask.sum()),
        "before": ranked(ko.before),
        "after": ranked(ko.after),
        "layers": rows,
    }


def compare_answer(a: InspectableModel, b: InspectableModel, x: torch.Tensor, values: bool) -> dict[str, Any]:
    """Two models on one input: shared layers (name and shape) with their differences, and both predictions."""
    found = K.compare(a.graph, b.graph, x)

    def ranked(m: InspectableModel, out: np.ndarray) -> dict[str, Any]:
        return prediction(m, Capture(m.name, x, {m.graph.output: torch.from_numpy(out)[None]}))

    layers = [
        {
            **{k: v for k, v in layer.items() if k not in ("a", "b")},
            "a": layer["a"].reshape(-1) if values else None,
            "b": layer["b"].reshape(-1) if values else None,
        }
        for layer in found["layers"]
    ]
    return {
        "a": {"model": a.name, **ranked(a, found["output_a"])},
        "b": {"model": b.name, **ranked(b, found["output_b"])},
        "layers": layers,
        "only_a": found["only_a"],
        "only_b": found["only_b"],
    }
