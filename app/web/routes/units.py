"""API v2, units: data-set statistics (a job, cached on disk), unit cards and feature visualisation."""

from __future__ import annotations

from typing import Any

import numpy as np
import orjson
from fastapi import APIRouter, Request
from fastapi.responses import Response

from app.core import units as U
from app.core.datasets import unit_images
from app.core.encoding import dumps
from app.core.indexing import UnitError, check_unit
from app.core.models import InspectableModel
from app.web.dependencies import CapturesDep, ExecutorDep, GraphModelDep, JobsDep, SettingsDep
from app.web.errors import ApiError
from app.web.inputs import parse, receive
from app.web.jobs import Job, Jobs
from app.web.responses import input_body
from app.web.routes.v2 import ERRORS_V2, capture_input, graph_layer
from app.web.schemas.explain import JobStarted, StatisticsState, UnitCard, UnitRequest, Visualisation, VisualiseRequest

router = APIRouter(prefix="/api/v2", tags=["v2 explain"])


def images_for(request: Request, m: InspectableModel) -> U.Images:
    """The model's data set: one set in app.state.datasets, MNIST's test set for digit models, else its gallery's."""
    given: dict[str, U.Images] = getattr(request.app.state, "datasets", {})
    if m.name in given:
        return given[m.name]
    if U.digit_model(m.graph, m.recipe):
        return U.mnist_test_images()
    if m.dataset is not None:  # the colour demo's held-out split, or the --dataset folder
        return unit_images(m.dataset)
    raise ApiError(
        409, "no_dataset", f"Model {m.name} has no data set: start the server with --dataset DIR to rank its units."
    )


def dataset_means(request: Request, m: InspectableModel, layer: str) -> np.ndarray | None:
    """Each unit's mean over the model's data set, if its statistics are computed and keep that layer's units."""
    try:
        images = images_for(request, m)
    except ApiError:
        return None  # no data set: mean ablation falls back to this input's mean
    found = _store(request).get(m.name, m.sha256, U.dataset_key(images))
    return found.mean.get(layer) if found is not None else None


def _store(request: Request) -> U.StatisticsStore:
    store: U.StatisticsStore = request.app.state.unit_statistics
    return store


def _state(request: Request, m: InspectableModel, jobs: Jobs) -> dict[str, Any]:
    """Whether the statistics are ready (memory, else the disk cache), and the job computing them if one runs."""
    images = images_for(request, m)
    dataset = U.dataset_key(images)
    found = _store(request).get(m.name, m.sha256, dataset)
    running = request.app.state.statistics_jobs.get((m.name, dataset))
    job = None
    if found is None and running is not None:
        current = jobs.find(running)
        if current is not None and current.status == "running":
            job = {"id": current.id, "kind": current.kind, "url": f"/api/v2/jobs/{current.id}"}
    return {
        "model": m.name,
        "dataset": dataset,
        "ready": found is not None,
        "count": found.count if found is not None else None,
        "job": job,
    }


@router.get("/statistics", response_model=StatisticsState, responses=ERRORS_V2)
async def get_statistics(request: Request, m: GraphModelDep, jobs: JobsDep, executor: ExecutorDep) -> Response:
    """Whether the model's data-set statistics are ready (read from the disk cache if an earlier run made them)."""
    return Response(dumps(await executor.run(_state, request, m, jobs)), media_type="application/json")


@router.post(
    "/statistics/compute", response_model=StatisticsState, responses={**ERRORS_V2, 202: {"model": StatisticsState}}
)
async def start_statistics(request: Request, m: GraphModelDep, jobs: JobsDep, executor: ExecutorDep) -> Response:
    """Compute the statistics once per model and data set (a job with progress); 200 when they are ready already."""
    state = await executor.run(_state, request, m, jobs)
    if state["ready"] or state["job"] is not None:
        return Response(dumps(state), 200 if state["ready"] else 202, media_type="application/json")
    images = images_for(request, m)
    store = _store(request)

    def work(job: Job) -> dict[str, Any]:
        stats = store.compute(m.name, m.sha256, m.graph, images, job.progress)
        return {"model": m.name, "dataset": state["dataset"], "count": stats.count}

    job = jobs.start("statistics", work)
    request.app.state.statistics_jobs[(m.name, state["dataset"])] = job.id
    state["job"] = {"id": job.id, "kind": job.kind, "url": f"/api/v2/jobs/{job.id}"}
    return Response(dumps(state), 202, media_type="application/json")


@router.post(
    "/unit",
    response_model=UnitCard,
    responses=ERRORS_V2,
    openapi_extra=input_body(UnitRequest, {"layer": {"type": "string"}, "index": {"type": "string"}}),
)
async def unit_card(
    request: Request, m: GraphModelDep, settings: SettingsDep, captures: CapturesDep, executor: ExecutorDep
) -> Response:
    """A unit's card: its value, its distribution over the data set and the images that excite it most."""
    received = await receive(request, settings.limits)
    images = images_for(request, m)
    store = _store(request)

    def work() -> bytes:
        fields, body = parse(received, UnitRequest, settings.limits)
        layer = graph_layer(m, body.layer)
        try:
            unit = check_unit(layer, body.index)
        except UnitError as exc:
            raise ApiError(422, "invalid_unit", str(exc)) from exc
        stats = store.get(m.name, m.sha256, U.dataset_key(images))
        if stats is None:
            raise ApiError(
                409,
                "statistics_not_ready",
                "The data-set statistics are not computed yet: POST /api/v2/statistics/compute.",
            )
        key, capture, _ = capture_input(m, fields, body, settings.limits, captures)
        value = float(capture.values[body.layer][(0, *unit)])
        card = U.card(m.graph, stats, images, body.layer, unit, value, body.k)
        if body.per_unit:
            card["top"] = U.top_images_for_unit(m.graph, images, body.layer, unit, body.k)
        return dumps(
            {
                "model": m.name,
                "input_id": key,
                "dataset": U.dataset_key(images),
                "ranking": "unit" if body.per_unit else "channel",
                **card,
            }
        )

    return Response(await executor.run(work), media_type="application/json")


@router.post("/visualise", response_model=Visualisation, responses={**ERRORS_V2, 202: {"model": JobStarted}})
async def visualise(m: GraphModelDep, body: VisualiseRequest, executor: ExecutorDep, jobs: JobsDep) -> Response:
    """An image optimised to excite a channel or a unit (Fourier parameterisation, jitter, fixed seed)."""
    layer = graph_layer(m, body.layer)
    if body.layer == "input":
        raise ApiError(422, "invalid_unit", "choose a layer after the input")
    channel = body.index[0]
    unit = None
    try:
        if len(body.index) == 1 and layer.spatial:
            check_unit(layer, (channel, 0, 0))
        else:
            unit = check_unit(layer, body.index)
    except UnitError as exc:
        raise ApiError(422, "invalid_unit", str(exc)) from exc

    def work(job: Job | None) -> bytes:
        found = U.feature_visualisation(
            m.graph,
            body.layer,
            channel,
            unit,
            steps=body.steps,
            seed=body.seed,
            jitter=body.jitter,
            mean=m.mean,
            std=m.std,
            progress=job.progress if job is not None else None,
        )
        return dumps({"model": m.name, "layer": body.layer, "index": body.index, **found})

    if not body.background:
        return Response(await executor.run(work, None), media_type="application/json")
    job = jobs.start("visualise", lambda j: orjson.Fragment(work(j)))
    return Response(
        dumps({"id": job.id, "kind": job.kind, "url": f"/api/v2/jobs/{job.id}"}), 202, media_type="application/json"
    )
