"""The API manual as a person reads it: operation names a person would choose, and request examples that succeed
when tried from /docs ("Try it out" sends a real 28×28 test digit, not a schema placeholder that answers 422)."""

from __future__ import annotations

from typing import Any

import numpy as np
from fastapi import FastAPI

from app.core import samples

# (path, method) → (operationId, summary)
OPERATIONS = {
    ("/healthz", "get"): ("health", "Is the server up?"),
    ("/api/v1/models", "get"): ("listModels", "List the models this server serves"),
    ("/api/v1/model", "get"): ("getModel", "Describe a model: layers, shapes, weights, receptive fields"),
    ("/api/v1/predict", "post"): ("predict", "Classify a digit and return every layer's values"),
    ("/api/v1/trace", "post"): ("traceUnit", "Explain one unit, down to the input pixels it sees"),
    ("/api/v1/samples", "get"): ("listSamples", "List the gallery of test digits"),
    ("/api/v1/samples/{sample_id}.png", "get"): ("getSamplePng", "Get one test digit as a PNG"),
    ("/api/v1/lab/presets", "get"): ("labPresets", "Lab: classic kernels and worked examples"),
    ("/api/v1/lab/convolve", "post"): ("labConvolve", "Lab: convolve, activate, pool and flatten one channel"),
    ("/api/v1/lab/softmax", "post"): ("labSoftmax", "Lab: softmax, cross-entropy and MSE of some scores"),
    ("/api/v2/models", "get"): ("listModelsV2", "List every model this server looks inside (any CNN)"),
    ("/api/v2/model", "get"): ("getModelV2", "Describe a model's graph: layers, ops, modules, inputs, edges"),
    ("/api/v2/gallery", "get"): ("listGalleryV2", "List a model's demo images (or its --dataset folder)"),
    ("/api/v2/gallery/{image_id}.png", "get"): ("getGalleryPng", "Get one gallery image as the model receives it"),
    ("/api/v2/weights", "get"): ("getLayerWeights", "Get the tensors one layer reads (kernels, bias, statistics)"),
    ("/api/v2/predict", "post"): ("predictV2", "Run any model; return the prediction, an input id and layers"),
    ("/api/v2/trace", "post"): ("traceUnitV2", "Explain one unit of any model: field, arithmetic, gradient"),
    ("/api/v2/lab/presets", "get"): ("labPresetsV2", "Lab: kernels and worked examples, inputs as [C][H][W]"),
    ("/api/v2/lab/convolve", "post"): ("labConvolveV2", "Lab: channels × kernel, activate, pool, flatten, dropout"),
    ("/api/v2/lab/softmax", "post"): ("labSoftmaxV2", "Lab: softmax, both losses and both gradients"),
    ("/api/v2/lab/layer", "post"): ("labLiveLayer", "Lab: a served model's conv or pool layer on its real input"),
    ("/api/v2/attribute", "post"): ("attribute", "Attribute a class or unit to the input (gradient … Grad-CAM)"),
    ("/api/v2/knockout", "post"): ("knockOut", "Switch off a channel or unit; every later layer as a difference"),
    ("/api/v2/compare", "post"): ("compareModels", "One input through two models, layer by shared layer"),
    ("/api/v2/jobs/{job_id}", "get"): ("getJob", "A long job's progress, then its result"),
    ("/api/v2/jobs/{job_id}/cancel", "post"): ("cancelJob", "Cancel a long job"),
    ("/api/v2/statistics", "get"): ("getUnitStatistics", "Are a model's data-set statistics ready?"),
    ("/api/v2/statistics/compute", "post"): ("computeUnitStatistics", "Compute a model's data-set statistics (a job)"),
    ("/api/v2/unit", "post"): ("unitCard", "A unit's card: value, distribution, top images"),
    ("/api/v2/visualise", "post"): ("visualiseUnit", "An image optimised to excite a channel or unit"),
}
EXAMPLE_SAMPLE = 0  # the first MNIST test digit, a 7


def example_pixels() -> list[list[float]]:
    """A real test digit as 28 rows of 28 numbers in 0..1 (3 decimals, so the example stays readable)."""
    return np.round(samples.pixels(EXAMPLE_SAMPLE).astype(np.float64), 3).tolist()


def examples() -> dict[tuple[str, str], dict[str, Any]]:
    """JSON request examples by (path, method)."""
    pixels = example_pixels()
    return {
        ("/api/v1/predict", "post"): {"pixels": pixels},
        ("/api/v1/trace", "post"): {"pixels": pixels, "layer": "conv2", "index": [3, 4, 5], "top": 10},
        ("/api/v2/attribute", "post"): {
            "pixels": pixels,
            "method": "integrated_gradients",
            "target": {"class_index": 7, "kind": "logit"},
            "baseline": "black",
            "steps": 32,
        },
        ("/api/v2/knockout", "post"): {"pixels": pixels, "layer": "conv2", "channel": 3, "mode": "zero"},
        ("/api/v2/visualise", "post"): {"layer": "conv2", "index": [3], "steps": 32},
    }


def install(app: FastAPI) -> None:
    """Name every operation and add the examples when the schema is first built (not at import)."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = build()
            for (path, method), (operation_id, summary) in OPERATIONS.items():
                operation = schema["paths"].get(path, {}).get(method)
                if operation is not None:
                    operation["operationId"], operation["summary"] = operation_id, summary
            for (path, method), example in examples().items():
                content = schema["paths"][path][method]["requestBody"]["content"]["application/json"]
                content["example"] = example
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
