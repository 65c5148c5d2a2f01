"""Typed dependencies: what a route needs (settings, the model registry, one model, the executor) reaches it here."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query, Request

from app.core.captures import CaptureCache
from app.core.models import Catalog, InspectableModel
from app.core.registry import LoadedModel, Registry
from app.web.errors import ApiError
from app.web.executor import Executor
from app.web.jobs import Jobs
from app.web.settings import Settings


def get_settings(request: Request) -> Settings:
    """The settings the app was built with."""
    settings: Settings = request.app.state.settings
    return settings


def get_registry(request: Request) -> Registry:
    """The models loaded at start-up."""
    registry: Registry = request.app.state.registry
    return registry


def get_cache(request: Request) -> dict[str, bytes]:
    """Per-app cache of encoded answers that never change while the app runs (model descriptions)."""
    cache: dict[str, bytes] = request.app.state.response_cache
    return cache


def get_executor(request: Request) -> Executor:
    """The worker's bounded executor: every CPU-bound step of a request runs there, never on the event loop."""
    executor: Executor = request.app.state.executor
    return executor


SettingsDep = Annotated[Settings, Depends(get_settings)]
ExecutorDep = Annotated[Executor, Depends(get_executor)]
RegistryDep = Annotated[Registry, Depends(get_registry)]
CacheDep = Annotated[dict[str, bytes], Depends(get_cache)]
ModelName = Annotated[str | None, Query(max_length=64, description="model name; the default model if omitted")]


def get_model(registry: RegistryDep, model: ModelName = None) -> LoadedModel:
    """The model a request names (?model=), or the default; 404 for a name not served."""
    try:
        return registry.get(model)
    except KeyError:
        raise ApiError(404, "unknown_model", f"No model {model!r}; served: {', '.join(registry.names())}.") from None


ModelDep = Annotated[LoadedModel, Depends(get_model)]


def get_catalog(request: Request) -> Catalog:
    """The models API v2 serves."""
    catalog: Catalog = request.app.state.catalog
    return catalog


def get_captures(request: Request) -> CaptureCache:
    """Recent captures by input id (this worker's)."""
    captures: CaptureCache = request.app.state.captures
    return captures


CatalogDep = Annotated[Catalog, Depends(get_catalog)]
CapturesDep = Annotated[CaptureCache, Depends(get_captures)]


def get_graph_model(catalog: CatalogDep, model: ModelName = None) -> InspectableModel:
    """The v2 model a request names (?model=), or the default; 404 for a name not served."""
    try:
        return catalog.get(model)
    except KeyError:
        raise ApiError(404, "unknown_model", f"No model {model!r}; served: {', '.join(catalog.names())}.") from None


GraphModelDep = Annotated[InspectableModel, Depends(get_graph_model)]


def get_jobs(request: Request) -> Jobs:
    """This worker's long jobs (attribution, data-set passes)."""
    jobs: Jobs = request.app.state.jobs
    return jobs


JobsDep = Annotated[Jobs, Depends(get_jobs)]
