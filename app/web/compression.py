"""Gzip for what is large and fetched once (model weights, OpenAPI, scripts); not for per-stroke predictions.

A full predict in the binary encoding is ~65 KB of float32, already under the page's 80 KB budget; compressing it
costs more CPU per request (about a third of the throughput on this machine) than it saves on a LAN.
"""

from __future__ import annotations

from starlette.middleware.gzip import GZipMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

COMPRESSED_PREFIXES = ("/api/v1/model", "/api/v1/samples", "/openapi.json", "/static/", "/docs")


class SelectiveGZip:
    """GZip (level 6, ≥ 1 KB) for GETs of the paths above; everything else passes through untouched."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.gzip = GZipMiddleware(app, minimum_size=1024, compresslevel=6)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET" and scope["path"].startswith(COMPRESSED_PREFIXES):
            await self.gzip(scope, receive, send)
        else:
            await self.app(scope, receive, send)
