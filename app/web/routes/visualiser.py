"""The JSON API, version 1: thin routes over app.inspection."""

from __future__ import annotations

import os
from typing import Annotated

import numpy as np
from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response
from PIL import Image

from app import __version__
from app.core import inspection, samples
from app.core.encoding import BINARY_MEDIA_TYPE, Encoding, dumps, png_bytes, render
from app.core.indexing import UnitError
from app.core.registry import LoadedModel
from app.web.dependencies import CacheDep, ExecutorDep, ModelDep, RegistryDep, SettingsDep
from app.web.errors import ApiError
from app.web.inputs import parse, receive, to_input
from app.web.responses import ERRORS, input_body, json_response
from app.web.schemas.visualiser import (
    Health,
    ModelInfo,
    ModelList,
    PredictRequest,
    PredictResponse,
    SampleList,
    TraceRequest,
    TraceResponse,
)

router = APIRouter()


@router.get("/healthz", response_model=Health, tags=["service"])
async def healthz(registry: RegistryDep) -> Response:
    """Liveness: the server is up and its models are loaded."""
    return json_response({"status": "ok", "models": registry.names(), "version": __version__, "pid": os.getpid()})


@router.get("/api/v1/models", response_model=ModelList, tags=["models"])
def list_models(registry: RegistryDep) -> Response:
    """Every model this server serves."""
    return json_response(
        {
            "default": registry.default,
            "models": [inspection.summary(registry.get(n), n == registry.default) for n in registry.names()],
        }
    )


@router.get("/api/v1/model", response_model=ModelInfo, responses=ERRORS, tags=["models"])
def get_model(lm: ModelDep, registry: RegistryDep, cache: CacheDep) -> Response:
    """A model's layers in forward order: shapes, hyper-parameters, weights and receptive-field geometry."""
    key = f"v1/model/{lm.name}"
    if key not in cache:
        cache[key] = dumps(inspection.model_info(lm, lm.name == registry.default))
    return Response(cache[key], media_type="application/json")


def _layer_list(lm: LoadedModel, layers: str | None) -> list[str] | None:
    if layers is None:
        return None
    names = [n.strip() for n in layers.split(",") if n.strip()]
    known = {s.name for s in lm.specs}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ApiError(422, "unknown_layer", f"Unknown layer(s) {', '.join(unknown)}; layers: {', '.join(known)}.")
    return names


@router.post(
    "/api/v1/predict",
    response_model=PredictResponse,
    tags=["inference"],
    responses={**ERRORS, 200: {"content": {BINARY_MEDIA_TYPE: {"schema": {"type": "string", "format": "binary"}}}}},
    openapi_extra=input_body(PredictRequest, {}, raw=True),
)
async def predict(
    request: Request,
    lm: ModelDep,
    settings: SettingsDep,
    executor: ExecutorDep,
    layers: Annotated[
        str | None, Query(max_length=1000, description="comma-separated layer names; empty for none; omit for all")
    ] = None,
    encoding: Annotated[
        Encoding,
        Query(
            description="json: lists of numbers; f32: base64 little-endian float32 "
            "with shape; binary: one frame of raw float32; u8: the same frame with 8 bits per value for display, "
            "each map quantised over its own min…max (see the README)"
        ),
    ] = "json",
    steps: Annotated[bool, Query(description="include the preprocessing steps as images")] = True,
) -> Response:
    """Run the network on an image or 28×28 pixels; return the prediction and every intermediate value."""
    wanted = _layer_list(lm, layers)
    received = await receive(request, settings.limits)

    def work() -> tuple[bytes, str]:
        fields, _ = parse(received, PredictRequest, settings.limits)
        pre = to_input(fields, settings.limits)
        return render(inspection.predict(lm, pre, wanted, steps), encoding)

    body, media_type = await executor.run(work)
    return Response(body, media_type=media_type)


@router.post(
    "/api/v1/trace",
    response_model=TraceResponse,
    responses=ERRORS,
    tags=["inference"],
    openapi_extra=input_body(
        TraceRequest, {"layer": {"type": "string"}, "index": {"type": "string", "example": "3,4,5"}}
    ),
)
async def trace(request: Request, lm: ModelDep, settings: SettingsDep, executor: ExecutorDep) -> Response:
    """Explain one unit: its value, receptive field in every earlier layer, arithmetic and input gradient."""
    received = await receive(request, settings.limits)

    def work() -> bytes:
        fields, body = parse(received, TraceRequest, settings.limits)
        try:
            lm.index(body.layer)
        except KeyError:
            raise ApiError(
                422, "unknown_layer", f"Unknown layer {body.layer!r}; layers: {', '.join(s.name for s in lm.specs)}."
            ) from None
        pre = to_input(fields, settings.limits)
        try:
            return dumps(inspection.explain(lm, pre, body.layer, body.index, body.top))
        except UnitError as exc:
            raise ApiError(422, "invalid_unit", str(exc)) from exc

    return Response(await executor.run(work), media_type="application/json")


@router.get("/api/v1/samples", response_model=SampleList, responses=ERRORS, tags=["samples"])
async def list_samples(
    lm: ModelDep,
    executor: ExecutorDep,
    include_pixels: Annotated[bool, Query(description="include 28×28 pixels")] = False,
) -> Response:
    """Gallery of MNIST test digits: every class, and some the model gets wrong."""
    g = await executor.run(samples.gallery, lm)  # the first call classifies all 10,000 test digits
    return json_response(
        {
            "samples": [
                {
                    "id": i,
                    "label": label,
                    "predicted": p,
                    "correct": label == p,
                    "png": f"/api/v1/samples/{i}.png",
                    **({"pixels": samples.pixels(i)} if include_pixels else {}),
                }
                for i, label, p in zip(g.ids, g.labels, g.predicted, strict=True)
            ]
        }
    )


@router.get(
    "/api/v1/samples/{sample_id}.png",
    responses={200: {"content": {"image/png": {}}}, **ERRORS},
    response_class=Response,
    tags=["samples"],
)
async def sample_png(
    executor: ExecutorDep,
    sample_id: Annotated[str, Path(pattern=r"^(0|[1-9][0-9]{0,8})$", description="0..9999, written canonically")],
) -> Response:
    """One MNIST test digit (any of the 10,000 by index) as a 28×28 PNG, light ink on dark."""
    try:
        pixels = samples.pixels(int(sample_id))
    except IndexError:
        raise ApiError(404, "unknown_sample", f"No test digit {sample_id}; ids are 0..9999.") from None
    image = Image.fromarray(np.round(pixels * 255).astype(np.uint8), mode="L")
    body = await executor.run(png_bytes, image)
    return Response(body, media_type="image/png", headers={"Cache-Control": "public, max-age=86400"})
