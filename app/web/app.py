"""The FastAPI application: API, pages, static files and the middleware around them."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import Response

from app import __version__
from app.core.captures import CaptureCache
from app.core.models import Catalog
from app.core.registry import Registry
from app.core.runtime import configure_torch
from app.web import access_log, errors, openapi, security
from app.web.access_log import AccessLog
from app.web.compression import SelectiveGZip
from app.web.limits import BodyLimit
from app.web.routes import docs, lab, pages, v2, visualiser
from app.web.settings import Settings

DESCRIPTION = """Every intermediate value of a trained MNIST CNN, for any digit image.

* `POST /api/v1/predict` — prediction, probabilities and every layer's values.
* `POST /api/v1/trace` — one unit's receptive field, arithmetic and input gradient.
* `GET /api/v1/model` — layers, shapes, weights and receptive-field geometry.

Errors are always `{"error": {"code": …, "message": …}}` with a 4xx status."""


def create_app(
    settings: Settings | None = None, registry: Registry | None = None, catalog: Catalog | None = None
) -> FastAPI:
    """Build the application; models load here, so a bad weights file stops start-up with a clear error."""
    settings = settings or Settings()
    configure_torch()
    app = FastAPI(title="convscope", version=__version__, description=DESCRIPTION, docs_url=None, redoc_url=None)
    app.state.settings = settings
    app.state.registry = registry or Registry.load(settings.models_dir)
    app.state.catalog = catalog or Catalog.load(list(settings.models), settings.models_dir, device=settings.device)
    app.state.captures = CaptureCache(settings.capture_cache_bytes)
    app.state.response_cache = {}
    errors.install(app)

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> Response:
        errors.log.exception("unhandled error", exc_info=exc)
        return errors.error_response(500, "internal_error", "An unexpected error occurred; it has been logged.")

    app.include_router(visualiser.router)
    app.include_router(lab.router)
    app.include_router(v2.router)
    openapi.install(app)
    pages.mount(app)
    docs.mount(app)
    app.add_middleware(SelectiveGZip)
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    security.install(app, settings.cors_origins, settings.frame_ancestors)
    access_log.configure(settings.log_level)
    app.add_middleware(AccessLog)
    return app
