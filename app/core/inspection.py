"""Build the API's answers from a loaded model: model descriptions, predictions with every layer, traces."""

from __future__ import annotations

from typing import Any

import numpy as np

from app.core import calibration
from app.core.architectures import DESCRIPTIONS
from app.core.capture import as_input, capture
from app.core.encoding import png_data_url
from app.core.indexing import check_unit
from app.core.layers import roles
from app.core.preprocess import Preprocessed
from app.core.receptive_field import geometry
from app.core.registry import LoadedModel
from app.core.trace import trace


def summary(lm: LoadedModel, default: bool) -> dict[str, Any]:
    """A model's line in the model list."""
    m = lm.manifest
    return {
        "name": m.name,
        "architecture": m.architecture,
        "description": DESCRIPTIONS.get(m.architecture, ""),
        "default": default,
        "input_shape": m.input_shape,
        "test_accuracy": m.test_accuracy,
        "parameters": m.parameters,
    }


def model_info(lm: LoadedModel, default: bool) -> dict[str, Any]:
    """Full description: every layer with shape, hyper-parameters, weights and receptive-field geometry."""
    layers = []
    for i, (spec, role) in enumerate(zip(lm.specs, roles(lm.specs), strict=True)):
        layer: dict[str, Any] = {
            "name": spec.name,
            "kind": spec.kind,
            "role": role,
            "shape": list(spec.shape),
            "channelwise": spec.channelwise,
            "hyper": spec.hyper(),
            "parameters": spec.parameters(),
        }
        weight = getattr(spec.module, "weight", None)
        bias = getattr(spec.module, "bias", None)
        if weight is not None:
            layer["weight_shape"] = list(weight.shape)
            layer["weights"] = weight.detach().numpy().reshape(-1)
        if bias is not None:
            layer["bias"] = bias.detach().numpy()
        layer["receptive_field"] = _published_geometry(lm, i)
        layers.append(layer)
    m = lm.manifest
    return {
        **summary(lm, default),
        "test_errors": m.test_errors,
        "test_total": m.test_total,
        "sha256": m.sha256,
        "layers": layers,
    }


def _published_geometry(lm: LoadedModel, index: int) -> dict[str, Any]:
    """Input-pixel geometry; vector layers see the whole input (jump 0), flatten defers to the map before it."""
    specs = lm.specs
    if specs[index].kind == "flatten" and specs[index - 1].spatial:
        geo = geometry(specs, 0, index - 1)
        assert geo is not None
        return {"size": geo.size, "jump": geo.jump, "start": geo.start, "unflatten": list(specs[index - 1].shape)}
    geo = geometry(specs, 0, index)
    if geo is None:
        return {"size": specs[0].shape[-1], "jump": 0, "start": 0, "unflatten": None}
    return {"size": geo.size, "jump": geo.jump, "start": geo.start, "unflatten": None}


def predict(lm: LoadedModel, pre: Preprocessed, layers: list[str] | None, steps: bool) -> dict[str, Any]:
    """Prediction, probabilities, the input fed, preprocessing steps and the requested layers' flat values."""
    outputs = capture(lm.model, as_input(pre.input))
    probabilities = outputs[lm.specs[-1].name][0].numpy()  # (10,)
    wanted = set(layers) if layers is not None else None
    cal = lm.calibration
    logits = outputs[lm.specs[-2].name][0].numpy() if lm.specs[-1].kind == "softmax" else None  # (10,)
    features = outputs[cal.density.layer][0].numpy() if cal is not None and cal.density is not None else None
    return {
        "model": lm.name,
        "prediction": int(np.argmax(probabilities)),
        "probabilities": probabilities,
        "confidence": calibration.cue(logits, cal, features) if cal is not None and logits is not None else None,
        "input": pre.input,
        "inverted": pre.inverted,
        "steps": [
            {"name": s.name, "description": s.description, "shape": [*s.image.shape[:2]], "png": png_data_url(s.image)}
            for s in pre.steps
        ]
        if steps
        else [],
        "layers": [
            {
                "name": spec.name,
                "kind": spec.kind,
                "shape": list(spec.shape),
                "values": outputs[spec.name][0].numpy().reshape(-1),
            }
            for spec in lm.specs
            if wanted is None or spec.name in wanted
        ],
    }


def explain(lm: LoadedModel, pre: Preprocessed, layer: str, index: list[int], top: int) -> dict[str, Any]:
    """Trace one unit: value, receptive field in every earlier layer, arithmetic and input gradient."""
    i = lm.index(layer)
    unit = check_unit(lm.specs[i], index)
    outputs = capture(lm.model, as_input(pre.input))
    result = trace(lm.model, lm.specs, i, outputs, unit, top)
    return {"model": lm.name, "prediction": int(outputs[lm.specs[-1].name][0].argmax()), **result}
