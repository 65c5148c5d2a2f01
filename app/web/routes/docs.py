"""The API manual at /docs: Swagger UI served from the installed package, no CDN, no inline script."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles
from swagger_ui_bundle import swagger_ui_path

from app.web.routes.pages import templates


def mount(app: FastAPI) -> None:
    """GET /docs and its assets under /docs-assets."""
    app.mount("/docs-assets", StaticFiles(directory=str(Path(swagger_ui_path))), name="docs-assets")

    @app.get("/docs", response_class=HTMLResponse, include_in_schema=False)
    def docs(request: Request) -> Response:
        return templates.TemplateResponse(request, "docs.html", {"title": app.title})
