"""API v2: look inside any served CNN (thin routes over app.core.answers)."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response
from PIL import Image

from app.core import answers
from app.core.captures import CaptureCache
from app.core.encoding import BINARY_MEDIA_TYPE, Encoding, dumps, png_bytes, render
from app.core.indexing import UnitError
from app.core.models import InspectableModel
from app.core.preprocess import Limits, PreprocessError
from app.web.dependencies import CacheDep, CapturesDep, CatalogDep, ExecutorDep, GraphModelDep, SettingsDep
from app.web.errors import ApiError
from app.web.inputs import Fields, graph_input, parse, receive
from app.web.responses import ERRORS, input_body, json_response
from app.web.schemas.v2 import (
    GalleryV2,
    LayerWeights,
    ModelInfoV2,
    ModelListV2,
    PredictRequestV2,
    PredictResponseV2,
    TraceRequestV2,
    TraceResponseV2,
)

router = APIRouter(prefix="/api/v2", tags=["v2"])
ERRORS_V2 = {**ERRORS, 409: ERRORS[422]}
LayersQuery = Annotated[
    list[str] | None,
    Query(
        description="layer names (repeat the parameter, or separate with commas); * for all; empty for none; "
        "omitted: all for models under 100,000 values, none above"
    ),
]
ChannelsQuery = Annotated[
    str | None, Query(pattern=r"^\d{1,6}:\d{1,6}$", description="channel range start:stop of every map returned")
]


@router.get("/models", response_model=ModelListV2)
def list_models(catalog: CatalogDep) -> Response:
    """Every model this server looks inside: the user's, then the shipped ones."""
    return json_response(
        {
            "default": catalog.default,
            "models": [answers.summary(catalog.get(n), n == catalog.default) for n in catalog.names()],
        }
    )


@router.get("/model", response_model=ModelInfoV2, responses=ERRORS)
def get_model(m: GraphModelDep, catalog: CatalogDep, cache: CacheDep) -> Response:
    """A model's layers in graph order (op, module, inputs, shape, parameters) and the graph's edges."""
    key = f"v2/model/{m.name}"
    if key not in cache:
        cache[key] = dumps(answers.model_description(m, m.name == catalog.default))
    return Response(cache[key], media_type="application/json")


@router.get("/weights", response_model=LayerWeights, responses=ERRORS)
def get_weights(m: GraphModelDep, layer: Annotated[str, Query(min_length=1, max_length=300)]) -> Response:
    """The tensors one layer reads (a convolution's kernels and bias, a batch norm's statistics)."""
    found = graph_layer(m, layer)
    weights = [
        {
            "name": w.rsplit(".", 1)[-1],
            "shape": list(m.graph.state[w].shape),
            "values": m.graph.state[w].detach().float().numpy().reshape(-1),
        }
        for w in found.weights
    ]
    return json_response({"model": m.name, "layer": layer, "weights": weights})


def graph_layer(m: InspectableModel, name: str) -> Any:
    try:
        return m.graph.layer(name)
    except KeyError:
        raise ApiError(
            422, "unknown_layer", f"Model {m.name} has no layer {name!r}; GET /api/v2/model lists them."
        ) from None


def _layer_names(m: InspectableModel, body_layers: list[str] | None, query: list[str] | None) -> list[str]:
    """The layers to return: the body's list, else the query's, else the default for the model's size."""
    wanted = body_layers
    if wanted is None and query is not None:
        wanted = [n.strip() for q in query for n in q.split(",") if n.strip()]
    names = answers.select_layers(m, wanted)
    for name in names:
        graph_layer(m, name)
    return names


def capture_input(m: InspectableModel, fields: Fields, body: Any, limits: Limits, cache: CaptureCache) -> Any:
    """(input id, capture, preprocessing) for a request's input, or 409 for an input id no longer held."""
    if body.input_id is not None:
        found = cache.get(body.input_id)
        if found is None or found.model != m.name:
            raise ApiError(
                409,
                "capture_expired",
                "This server no longer holds that input_id (evicted, or another "
                "worker or host answered before); send the input again.",
            )
        return body.input_id, found, None
    x, pre = graph_input(m, fields, body, limits)
    key, capture = answers.run(m, x, cache)
    return key, capture, pre


@router.post(
    "/predict",
    response_model=PredictResponseV2,
    responses={**ERRORS_V2, 200: {"content": {BINARY_MEDIA_TYPE: {"schema": {"type": "string", "format": "binary"}}}}},
    openapi_extra=input_body(PredictRequestV2, {"layers": {"type": "string"}}, raw=True),
)
async def predict(
    request: Request,
    m: GraphModelDep,
    settings: SettingsDep,
    captures: CapturesDep,
    executor: ExecutorDep,
    layers: LayersQuery = None,
    channels: ChannelsQuery = None,
    encoding: Annotated[Encoding, Query(description="json, f32 (base64 float32) or binary (one frame)")] = "json",
    steps: Annotated[bool, Query(description="include the preprocessing steps as images")] = True,
) -> Response:
    """Run any served model on an input; return the prediction, the input id and the layers asked for."""
    span = tuple(int(v) for v in channels.split(":")) if channels else None
    if span is not None and span[1] <= span[0]:
        raise ApiError(422, "invalid_channels", f"channels {channels}: stop must be greater than start")
    received = await receive(request, settings.limits)

    def work() -> tuple[bytes, str]:
        fields, body = parse(received, PredictRequestV2, settings.limits)
        names = _layer_names(m, body.layers, layers)
        key, capture, pre = capture_input(m, fields, body, settings.limits, captures)
        return render(answers.predict(m, pre, key, capture, names, span, steps), encoding)  # type: ignore[arg-type]

    content, media_type = await executor.run(work)
    return Response(content, media_type=media_type)


@router.post(
    "/trace",
    response_model=TraceResponseV2,
    responses=ERRORS_V2,
    openapi_extra=input_body(
        TraceRequestV2, {"layer": {"type": "string"}, "index": {"type": "string", "example": "3,4,5"}}
    ),
)
async def trace(
    request: Request, m: GraphModelDep, settings: SettingsDep, captures: CapturesDep, executor: ExecutorDep
) -> Response:
    """One unit of any layer: value, receptive field in every earlier layer, arithmetic, d unit / d input."""
    received = await receive(request, settings.limits)

    def work() -> bytes:
        fields, body = parse(received, TraceRequestV2, settings.limits)
        graph_layer(m, body.layer)
        key, capture, _ = capture_input(m, fields, body, settings.limits, captures)
        try:
            return dumps(answers.trace(m, key, capture, body.layer, body.index, body.top, body.mask))
        except UnitError as exc:
            raise ApiError(422, "invalid_unit", str(exc)) from exc

    return Response(await executor.run(work), media_type="application/json")


@router.get("/gallery", response_model=GalleryV2, responses=ERRORS)
def gallery(m: GraphModelDep) -> Response:
    """A model's demo images: the colour demo's held-out shapes, MNIST test digits, or its --dataset folder."""
    dataset = m.dataset
    items = dataset.items if dataset is not None else []
    png = f"/api/v2/gallery/{{}}.png?model={quote(m.name, safe='')}"
    return json_response(
        {
            "model": m.name,
            "source": dataset.kind if dataset is not None else None,
            "images": [
                {
                    "id": i,
                    "label": item.label,
                    "label_index": dataset.label_index(item.label) if dataset is not None else None,
                    "name": item.name,
                    "png": png.format(i),
                }
                for i, item in enumerate(items)
            ],
        }
    )


@router.get(
    "/gallery/{image_id}.png",
    responses={200: {"content": {"image/png": {}}}, **ERRORS},
    response_class=Response,
)
async def gallery_png(
    m: GraphModelDep,
    settings: SettingsDep,
    executor: ExecutorDep,
    image_id: Annotated[str, Path(pattern=r"^(0|[1-9][0-9]{0,5})$", description="an id from GET /api/v2/gallery")],
) -> Response:
    """One gallery image as the model receives it (resized and cropped, before mean/std), as a PNG."""
    dataset = m.dataset
    index = int(image_id)
    if dataset is None or index >= len(dataset):
        count = len(dataset) if dataset is not None else 0
        raise ApiError(404, "unknown_image", f"Model {m.name} has no gallery image {index}; it has {count}.")

    def work() -> bytes:
        try:
            image = dataset.sample(index, settings.limits).image  # (H, W) or (H, W, C) uint8
        except PreprocessError as exc:
            raise ApiError(exc.status, exc.code, f"Gallery image {index}: {exc.message}") from exc
        return png_bytes(Image.fromarray(image[..., 0] if image.ndim == 3 and image.shape[2] == 1 else image))

    body = await executor.run(work)
    return Response(body, media_type="image/png", headers={"Cache-Control": "no-cache"})
