"""The FastAPI application: API, page and static files."""

from __future__ import annotations

import gc
from typing import Any

import torch
from fastapi import FastAPI, Request
from fastapi.openapi.utils import get_openapi
from fastapi.responses import Response

from app import __version__, access_log, api, docs, errors, lab_api, pages, security
from app.access_log import AccessLog
from app.compression import SelectiveGZip
from app.limits import BodyLimit
from app.registry import Registry
from app.schemas import PredictRequest, TraceRequest
from app.settings import Settings

DESCRIPTION = """Every intermediate value of a trained MNIST CNN, for any digit image.

* `POST /api/v1/predict` — prediction, probabilities and every layer's values.
* `POST /api/v1/trace` — one unit's receptive field, arithmetic and input gradient.
* `GET /api/v1/model` — layers, shapes, weights and receptive-field geometry.

Errors are always `{"error": {"code": …, "message": …}}` with a 4xx status."""


def configure_torch(threads: int = 1) -> None:
    """Batch-1 inference: one intra-op thread per worker, and the plain convolution path (oneDNN costs more here)."""
    torch.set_num_threads(threads)
    torch.backends.mkldnn.enabled = False  # type: ignore[assignment]


def create_app(settings: Settings | None = None, registry: Registry | None = None) -> FastAPI:
    """Build the application; models load here, so a bad weights file stops start-up with a clear error."""
    settings = settings or Settings.from_env()
    configure_torch()
    app = FastAPI(title="convscope", version=__version__, description=DESCRIPTION, docs_url=None, redoc_url=None)
    app.state.settings = settings
    app.state.registry = registry or Registry.load(settings.models_dir)
    app.state.model_info_cache = {}
    errors.install(app)

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> Response:
        errors.log.exception("unhandled error", exc_info=exc)
        return errors.error_response(500, "internal_error", "An unexpected error occurred; it has been logged.")

    app.include_router(api.router)
    app.include_router(lab_api.router)
    pages.mount(app)
    docs.mount(app)
    app.add_middleware(SelectiveGZip)
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    security.install(app, settings.cors_origins)
    access_log.configure(settings.log_level)
    app.add_middleware(AccessLog)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    # Start-up objects (modules, schemas, weights) live for the whole process: keep them out of every future
    # full collection, whose pauses otherwise show up as latency spikes under load.
    if settings.freeze_gc:
        gc.collect()
        gc.freeze()
    return app


def _openapi(app: FastAPI) -> dict[str, Any]:
    """OpenAPI with the hand-parsed request bodies' schemas added to the components."""
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    for model in (PredictRequest, TraceRequest):
        model_schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        components.update(model_schema.pop("$defs", {}))
        components[model.__name__] = model_schema
    app.openapi_schema = schema
    return schema
