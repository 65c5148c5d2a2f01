"""Structured access log: one JSON line per request on the `convscope.access` logger (written by app.web.guard)."""

from __future__ import annotations

import json
import logging
import time

from starlette.types import Scope

log = logging.getLogger("convscope.access")


def request(scope: Scope, request_id: str, status: int, size: int, seconds: float, event: str | None = None) -> None:
    """The request's line: at INFO normally; at WARNING, with `event`, for disconnects, timeouts and cancellations."""
    level = logging.WARNING if event else logging.INFO
    if not log.isEnabledFor(level):
        return
    client = scope.get("client")
    line = {
        "ts": round(time.time(), 3),
        "id": request_id,
        "method": scope["method"],
        "path": scope["path"],
        "query": scope.get("query_string", b"").decode("latin-1")[:200],
        "status": status,
        "bytes": size,
        "ms": round(seconds * 1000, 2),
        "client": client[0] if client else None,
    }
    if event:
        line["event"] = event
    log.log(level, json.dumps(line))


def connection_event(event: str, request_id: str, client: tuple[str, int] | None) -> None:
    """One WARNING line for what happens before a request exists (header timeout, oversized headers, bad syntax)."""
    if log.isEnabledFor(logging.WARNING):
        line = {"ts": round(time.time(), 3), "id": request_id, "client": client[0] if client else None, "event": event}
        log.warning(json.dumps(line))


def configure(level: str = "info") -> None:
    """Send access lines to stderr as bare JSON (the serve command calls this)."""
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(message)s"))
    log.handlers[:] = [handler]
    log.setLevel(logging.INFO if level in ("debug", "info") else logging.WARNING)
    log.propagate = False
