"""The convolution lab's JSON API: thin routes over app.core.lab (v1, kept answering as before) and, under
/api/v2/lab, the lab in API v2's coordinate convention plus the live network's convolution and pooling layers."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from app.core import lab, lab_chain, lab_live
from app.core.encoding import dumps
from app.web.dependencies import CapturesDep, ExecutorDep, GraphModelDep, SettingsDep
from app.web.errors import ApiError
from app.web.inputs import parse, receive
from app.web.responses import ERRORS, input_body, json_response
from app.web.routes.v2 import ERRORS_V2, capture_input, graph_layer
from app.web.schemas.lab import (
    ConvolveRequest,
    ConvolveRequestV2,
    ConvolveResponse,
    ConvolveResponseV2,
    LayerRequest,
    LayerResponse,
    Presets,
    PresetsV2,
    SoftmaxRequest,
    SoftmaxResponse,
    SoftmaxResponseV2,
)

v1 = APIRouter(prefix="/api/v1/lab", tags=["lab"])
v2 = APIRouter(prefix="/api/v2/lab", tags=["lab", "v2"])


@v1.get("/presets", response_model=Presets)
def presets() -> Response:
    """Classic kernels (identity, sharpen, blur, edges, Sobel, emboss) and the worked examples."""
    return json_response({"kernels": lab.KERNELS, "examples": lab.EXAMPLES})


@v1.post("/convolve", response_model=ConvolveResponse, responses=ERRORS)
async def convolve(body: ConvolveRequest, executor: ExecutorDep) -> Response:
    """Convolve one channel with a kernel (stride, padding), activate, pool and flatten: every map returned."""
    return Response(await executor.run(_convolve, body), media_type="application/json")


def _convolve(body: ConvolveRequest) -> bytes:
    try:
        result = lab.convolve(
            body.input,
            body.kernel,
            body.bias,
            body.stride,
            body.padding,
            body.activation,
            body.slope,
            lab.Pool(body.pool.type, body.pool.size, body.pool.stride),
        )
    except lab.LabError as exc:
        raise ApiError(422, "invalid_settings", str(exc)) from exc
    return dumps(result)


@v1.post("/softmax", response_model=SoftmaxResponse, responses=ERRORS)
async def softmax(body: SoftmaxRequest, executor: ExecutorDep) -> Response:
    """Softmax of the scores, cross-entropy and mean squared error against the label."""
    return Response(await executor.run(_softmax, body), media_type="application/json")


def _softmax(body: SoftmaxRequest) -> bytes:
    try:
        return dumps(lab.softmax_losses(body.scores, body.label))
    except lab.LabError as exc:
        raise ApiError(422, "invalid_settings", str(exc)) from exc


@v2.get("/presets", response_model=PresetsV2)
def presets_v2() -> Response:
    """Classic kernels and the worked examples (smiley, X, an inexact stride, colour), inputs as [C][H][W]."""
    return json_response({"kernels": lab.KERNELS, "examples": lab.EXAMPLES_V2})


@v2.post("/convolve", response_model=ConvolveResponseV2, responses=ERRORS)
async def convolve_v2(body: ConvolveRequestV2, executor: ExecutorDep) -> Response:
    """Input channels × one kernel → per-channel products, their sum + bias → activation → pooling (floor or ceil,
    average divisor stated) → flattening → dropout; windows as {"rows", "cols"}, winners as [y, x]."""
    return Response(await executor.run(_convolve_v2, body), media_type="application/json")


def _convolve_v2(body: ConvolveRequestV2) -> bytes:
    p = body.pool
    spec = lab_chain.PoolSpec(p.type, p.size, p.stride, p.padding, p.mode, p.divisor)
    try:
        result = lab_chain.chain(
            body.input,  # type: ignore[arg-type]
            body.kernel,  # type: ignore[arg-type]
            body.bias,
            body.stride,
            body.padding,
            body.dilation,
            body.activation,
            body.slope,
            spec,
            body.dropout,
            body.seed,
        )
    except lab.LabError as exc:
        raise ApiError(422, "invalid_settings", str(exc)) from exc
    return dumps(result)


@v2.post("/softmax", response_model=SoftmaxResponseV2, responses=ERRORS)
async def softmax_v2(body: SoftmaxRequest, executor: ExecutorDep) -> Response:
    """Softmax, cross-entropy and MSE against the label, and each loss's gradient with respect to each score."""
    return Response(await executor.run(_softmax, body), media_type="application/json")


@v2.post(
    "/layer",
    response_model=LayerResponse,
    responses=ERRORS_V2,
    openapi_extra=input_body(LayerRequest, {"layer": {"type": "string"}, "channel": {"type": "integer"}}),
)
async def live_layer(
    request: Request, m: GraphModelDep, settings: SettingsDep, captures: CapturesDep, executor: ExecutorDep
) -> Response:
    """A convolution or pooling layer of any served model on the input it receives: its real kernels, every input
    channel's products and their sum, recomputed with another stride, padding or dilation if asked."""
    received = await receive(request, settings.limits)

    def work() -> bytes:
        fields, body = parse(received, LayerRequest, settings.limits)
        layer = graph_layer(m, body.layer)
        what_if = lab_live.WhatIf(body.stride, body.padding, body.dilation, body.mode, body.divisor)
        shown = (body.shown[0], body.shown[1]) if body.shown else None
        key, capture, _ = capture_input(m, fields, body, settings.limits, captures)
        try:
            result = lab_live.live(m.graph, layer, capture.values, body.channel, what_if, shown)
        except lab_live.LiveError as exc:
            raise ApiError(422, "invalid_settings", str(exc)) from exc
        return dumps({"model": m.name, "input_id": key, **result})

    return Response(await executor.run(work), media_type="application/json")


router = APIRouter()
router.include_router(v1)
router.include_router(v2)
