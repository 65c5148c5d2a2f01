"""Response helpers shared by the routers: the fast JSON response and the error responses OpenAPI lists."""

from __future__ import annotations

from typing import Any

from fastapi.responses import Response

from app.core.encoding import dumps
from app.web.schemas.visualiser import ErrorResponse

ERRORS: dict[int | str, dict[str, Any]] = {status: {"model": ErrorResponse} for status in (400, 404, 413, 415, 422)}


def json_response(payload: Any) -> Response:
    """A JSON response from orjson (numpy arrays written natively)."""
    return Response(dumps(payload), media_type="application/json")
