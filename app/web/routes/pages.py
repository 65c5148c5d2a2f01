"""The visualiser page and its static assets (all served locally: the page works offline)."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from app import __version__
from app.paths import STATIC_DIR, TEMPLATES_DIR
from app.web.dependencies import CatalogDep, ModelName, RegistryDep

templates = Jinja2Templates(directory=str(TEMPLATES_DIR))
router = APIRouter(include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
def index(request: Request, registry: RegistryDep, catalog: CatalogDep, model: ModelName = None) -> Response:
    """The visualiser: draw a digit, watch every layer, trace any unit (any other model: its graph page)."""
    if model is not None and model not in registry.names() and model in catalog.names():
        return RedirectResponse(f"/graph?{request.url.query}", status_code=307)
    return templates.TemplateResponse(request, "index.html", {"version": __version__})


@router.get("/graph", response_class=HTMLResponse)
def graph(request: Request) -> Response:
    """Any served model as a live graph: branches, merges, modules to expand, every node's maps and fields."""
    return templates.TemplateResponse(request, "graph.html", {"version": __version__})


@router.get("/lab", response_class=HTMLResponse)
def lab(request: Request) -> Response:
    """The convolution lab: every concept of a CNN, hands-on."""
    return templates.TemplateResponse(request, "lab.html", {"version": __version__})


@router.get("/explain", response_class=HTMLResponse)
def explain(request: Request) -> Response:
    """Explain: attribution, unit cards and knock-outs for a served model."""
    return templates.TemplateResponse(request, "explain.html", {"version": __version__})


def mount(app: FastAPI) -> None:
    """Add the page routes and /static."""
    app.include_router(router)
    app.mount("/static", StaticFiles(directory=str(STATIC_DIR), follow_symlink=False), name="static")
