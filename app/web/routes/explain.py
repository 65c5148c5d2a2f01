"""API v2, explain: attribution, knock-outs, two-model comparisons and long jobs (thin routes over app.core)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

import numpy as np
import orjson
from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response

from app.core import attribution as A
from app.core import knockout as K
from app.core.captures import CaptureCache
from app.core.encoding import dumps
from app.core.explanations import attribution_answer, compare_answer, knockout_answer, resolve_target
from app.core.models import InspectableModel
from app.core.progress import Progress
from app.web.dependencies import CapturesDep, CatalogDep, ExecutorDep, GraphModelDep, JobsDep, SettingsDep
from app.web.errors import ApiError
from app.web.inputs import Received, parse, receive
from app.web.responses import input_body
from app.web.routes.units import dataset_means
from app.web.routes.v2 import ERRORS_V2, capture_input, graph_layer
from app.web.schemas.explain import (
    AttributeRequest,
    AttributeResponse,
    CompareRequest,
    CompareResponse,
    JobStarted,
    JobV2,
    KnockoutRequest,
    KnockoutResponse,
)
from app.web.settings import Settings

router = APIRouter(prefix="/api/v2", tags=["v2 explain"])
JobId = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$", description="from a 202 answer")]


def _options(m: InspectableModel, body: AttributeRequest, progress: Progress | None) -> dict[str, Any]:
    """The chosen method's options from the request."""
    if body.method == "integrated_gradients":
        base: Any = body.baseline
        if body.baseline == "given":
            base = np.asarray(body.baseline_pixels, dtype=np.float32)
            if base.ndim == 2:
                base = base[None]
        return {
            "baseline_kind": base,
            "steps": body.steps,
            "precise": body.precise,
            "mean": m.mean,
            "std": m.std,
            "progress": progress,
        }
    if body.method == "smoothgrad":
        return {"samples": body.samples, "noise": body.noise, "seed": body.seed, "progress": progress}
    if body.method == "occlusion":
        return {"window": body.window, "stride": body.stride, "mean": m.mean, "std": m.std, "progress": progress}
    if body.method in ("gradcam", "gradcam_pp"):
        return {"layer": body.layer}
    return {}


def _prepare(
    m: InspectableModel, settings: Settings, captures: CaptureCache, received: Received
) -> tuple[Callable[[Progress | None], bytes], bool]:
    """Parse the request and capture its input (fast), returning the attribution to run and whether in background."""
    fields, body = parse(received, AttributeRequest, settings.limits)
    key, capture, _ = capture_input(m, fields, body, settings.limits, captures)
    t = body.target
    try:
        target = resolve_target(m, capture, t.class_index, t.kind, t.layer, t.index)
    except A.AttributionError as exc:
        raise ApiError(422, "invalid_target", str(exc)) from exc

    def run(progress: Progress | None) -> bytes:
        try:
            attr = A.attribute(m.graph, capture.input, target, body.method, **_options(m, body, progress))
        except A.AttributionError as exc:
            raise ApiError(422, "invalid_attribution", str(exc)) from exc
        return dumps(attribution_answer(m, key, attr, target))

    return run, body.background


@router.post(
    "/attribute",
    response_model=AttributeResponse,
    responses={**ERRORS_V2, 202: {"model": JobStarted}},
    openapi_extra=input_body(AttributeRequest, {"method": {"type": "string"}}),
)
async def attribute(
    request: Request,
    m: GraphModelDep,
    settings: SettingsDep,
    captures: CapturesDep,
    executor: ExecutorDep,
    jobs: JobsDep,
) -> Response:
    """Attribute a class or a unit to the input pixels by one method; `background` runs it as a job."""
    received = await receive(request, settings.limits)
    run, background = await executor.run(_prepare, m, settings, captures, received)
    if not background:
        return Response(await executor.run(run, None), media_type="application/json")
    job = jobs.start("attribute", lambda j: _json(run(j.progress)))
    return Response(
        dumps({"id": job.id, "kind": job.kind, "url": f"/api/v2/jobs/{job.id}"}), 202, media_type="application/json"
    )


def _json(content: bytes) -> orjson.Fragment:
    """Encoded JSON kept as it is inside the job's answer."""
    return orjson.Fragment(content)


@router.get("/jobs/{job_id}", response_model=JobV2, responses=ERRORS_V2)
def get_job(job_id: JobId, jobs: JobsDep) -> Response:
    """A job's progress (done of total), then its result or error."""
    return Response(dumps(jobs.get(job_id).describe()), media_type="application/json")


@router.post("/jobs/{job_id}/cancel", response_model=JobV2, responses=ERRORS_V2)
def cancel_job(job_id: JobId, jobs: JobsDep) -> Response:
    """Cancel a running job: it stops at its next step and ends as 'cancelled'."""
    return Response(dumps(jobs.cancel(job_id).describe()), media_type="application/json")


@router.post(
    "/knockout",
    response_model=KnockoutResponse,
    responses=ERRORS_V2,
    openapi_extra=input_body(KnockoutRequest, {"layer": {"type": "string"}}),
)
async def knockout(
    request: Request, m: GraphModelDep, settings: SettingsDep, captures: CapturesDep, executor: ExecutorDep
) -> Response:
    """Switch off a channel or unit (zero, mean or a value): the prediction and every later layer, as differences."""
    received = await receive(request, settings.limits)

    def work() -> bytes:
        fields, body = parse(received, KnockoutRequest, settings.limits)
        graph_layer(m, body.layer)
        for name in body.layers or []:
            graph_layer(m, name)
        key, capture, _ = capture_input(m, fields, body, settings.limits, captures)
        unit = tuple(body.index) if body.index is not None else None
        means = dataset_means(request, m, body.layer) if body.mode == "mean" else None
        try:
            ko = K.knockout(
                m.graph,
                capture.input,
                body.layer,
                channel=body.channel,
                unit=unit,
                mode=body.mode,
                value=body.value,
                dataset_mean=means,
            )
        except K.KnockoutError as exc:
            raise ApiError(422, "invalid_knockout", str(exc)) from exc
        return dumps(knockout_answer(m, key, ko, body.layers))

    return Response(await executor.run(work), media_type="application/json")


@router.post(
    "/compare",
    response_model=CompareResponse,
    responses=ERRORS_V2,
    openapi_extra=input_body(CompareRequest, {}),
)
async def compare(
    request: Request,
    m: GraphModelDep,
    catalog: CatalogDep,
    settings: SettingsDep,
    captures: CapturesDep,
    executor: ExecutorDep,
    other: Annotated[str, Query(min_length=1, max_length=64, description="the second model's name")],
) -> Response:
    """One input through two models: every layer they share (by name and shape) with its differences."""
    try:
        b = catalog.get(other)
    except KeyError:
        raise ApiError(404, "unknown_model", f"No model {other!r}; served: {', '.join(catalog.names())}.") from None
    received = await receive(request, settings.limits)

    def work() -> bytes:
        fields, body = parse(received, CompareRequest, settings.limits)
        _, capture, _ = capture_input(m, fields, body, settings.limits, captures)
        try:
            return dumps(compare_answer(m, b, capture.input, body.values))
        except K.KnockoutError as exc:
            raise ApiError(422, "incomparable", str(exc)) from exc

    return Response(await executor.run(work), media_type="application/json")
