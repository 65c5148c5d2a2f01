"""The visualiser page and its static assets (all served locally: the page works offline)."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from app import __version__
from app.paths import STATIC_DIR, TEMPLATES_DIR

templates = Jinja2Templates(directory=str(TEMPLATES_DIR))
router = APIRouter(include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
def index(request: Request) -> Response:
    """The visualiser: draw a digit, watch every layer, trace any unit."""
    return templates.TemplateResponse(request, "index.html", {"version": __version__})


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
