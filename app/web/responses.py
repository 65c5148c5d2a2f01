"""Response helpers shared by the routers: the fast JSON response and the error responses OpenAPI lists."""

from __future__ import annotations

from typing import Any

from fastapi.responses import Response
from pydantic import BaseModel

from app.core.encoding import dumps
from app.web.inputs import IMAGE_TYPES
from app.web.schemas.visualiser import ErrorResponse

ERRORS: dict[int | str, dict[str, Any]] = {status: {"model": ErrorResponse} for status in (400, 404, 413, 415, 422)}


def json_response(payload: Any) -> Response:
    """A JSON response from orjson (numpy arrays written natively)."""
    return Response(dumps(payload), media_type="application/json")


def input_body(schema: type[BaseModel], multipart_fields: dict[str, Any], raw: bool = False) -> dict[str, Any]:
    """OpenAPI request body for routes that take JSON, multipart or (raw) an image body, parsed by one reader."""
    raw_types = {t: {"schema": {"type": "string", "format": "binary"}} for t in IMAGE_TYPES} if raw else {}
    return {
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": schema.model_json_schema()},
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": ["image", *multipart_fields],
                        "properties": {"image": {"type": "string", "format": "binary"}, **multipart_fields},
                    }
                },
                **raw_types,
            },
        }
    }
