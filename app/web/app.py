"""The FastAPI application: API, pages, static files and the middleware around them."""

from __future__ import annotations

import asyncio
import functools
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from app import __version__
from app.core import isolation
from app.core.captures import CaptureCache
from app.core.models import Catalog
from app.core.registry import Registry
from app.core.runtime import configure_torch, set_thread_threads
from app.core.units import StatisticsStore
from app.web import access_log, errors, openapi, security
from app.web.compression import SelectiveGZip
from app.web.executor import Executor, tune_allocator
from app.web.guard import Guard
from app.web.jobs import Jobs
from app.web.routes import docs, explain, lab, pages, units, v2, visualiser
from app.web.settings import Settings

DESCRIPTION = """Every intermediate value of a trained MNIST CNN, for any digit image.

* `POST /api/v1/predict` — prediction, probabilities and every layer's values.
* `POST /api/v1/trace` — one unit's receptive field, arithmetic and input gradient.
* `GET /api/v1/model` — layers, shapes, weights and receptive-field geometry.

Errors are always `{"error": {"code": …, "message": …}}` with a 4xx status, or 503 `busy` (with `Retry-After`)
when the server's work queue is full."""


def create_app(
    settings: Settings | None = None, registry: Registry | None = None, catalog: Catalog | None = None
) -> FastAPI:
    """Build the application; models load here, so a bad weights file stops start-up with a clear error."""
    settings = settings or Settings()
    configure_torch()

    # One executor per app, so per worker process: every CPU-bound step of every request runs on it.
    executor = Executor(
        settings.executor_threads,
        settings.executor_queue,
        settings.executor_max_wait,
        initializer=functools.partial(set_thread_threads, 1),
        budget=settings.request_budget,
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Capture the shipped models' graphs now, off the event loop, rather than in the first v2 request.
        # A running job cannot be cancelled, so shutting down tells it to stop after the model it is capturing.
        stop = threading.Event()
        tune_allocator(settings.malloc_mmap_threshold, settings.malloc_arena_max)  # once per worker process
        loop = asyncio.get_running_loop()
        warm = loop.run_in_executor(None, app.state.catalog.warm, stop)
        if settings.isolate_pixels:
            # The helpers' forkserver imports numpy and Pillow once, now, rather than in the first large upload.
            loop.run_in_executor(None, isolation.start)
        try:
            yield
        finally:
            stop.set()
            warm.cancel()
            app.state.jobs.shutdown()
            executor.shutdown()

    app = FastAPI(
        title="convscope",
        version=__version__,
        description=DESCRIPTION,
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.executor = executor
    app.state.registry = registry or Registry.load(settings.models_dir)
    app.state.catalog = catalog or Catalog.load(list(settings.models), settings.models_dir, device=settings.device)
    app.state.captures = CaptureCache(settings.capture_cache_bytes)
    app.state.response_cache = {}
    app.state.jobs = Jobs(settings.jobs_kept, threads=settings.job_threads)
    app.state.unit_statistics = StatisticsStore(settings.explain_cache_dir)
    app.state.statistics_jobs = {}
    app.state.datasets = {}  # model name → data set for its unit cards (digit models use MNIST's test set)
    errors.install(app)
    app.include_router(visualiser.router)
    app.include_router(lab.router)
    app.include_router(v2.router)
    app.include_router(explain.router)
    app.include_router(units.router)
    openapi.install(app)
    pages.mount(app)
    docs.mount(app)
    app.add_middleware(SelectiveGZip)
    security.install(app, settings.cors_origins, settings.frame_ancestors)
    access_log.configure(settings.log_level)
    # Outermost: unexpected exceptions end here (logged once, answered in JSON), before Starlette's own handler.
    app.add_middleware(Guard, settings=settings)
    return app
