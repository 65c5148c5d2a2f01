"""Read a request's input (multipart file, base64 or data URL, or raw pixels) into a 28×28 array."""

from __future__ import annotations

import base64
import binascii
import dataclasses
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np
import orjson
import torch
from fastapi import Request
from pydantic import BaseModel, ValidationError
from starlette.datastructures import UploadFile

from app.core import isolation
from app.core.models import InspectableModel
from app.core.preprocess import (
    Limits,
    Preprocessed,
    PreprocessError,
    TooCostly,
    preprocess_colour,
    preprocess_image,
)
from app.web.budget import time_left
from app.web.errors import ApiError, describe_validation

DATA_URL = re.compile(
    r"^data:(?P<mime>[\w.+-]+/[\w.+-]+)?(?P<params>(;[\w.+-]+=[\w.+-]+)*)(?P<b64>;base64)?,", re.IGNORECASE
)
Body = TypeVar("Body", bound=BaseModel)
IMAGE_TYPES = ("image/png", "image/jpeg", "image/webp", "image/bmp", "image/gif")


@dataclass
class Fields:
    """What a request carried: image bytes or pixels, plus any other fields."""

    image: bytes | None
    pixels: Any  # nested lists of numbers, or None
    extra: dict[str, Any]


def decode_image_string(text: str, limits: Limits) -> bytes:
    """Bytes from base64 or a data URL; the data URL must announce an image type."""
    payload = text.strip()
    match = DATA_URL.match(payload)
    if match:
        mime = (match.group("mime") or "").lower()
        if not mime.startswith("image/"):
            raise ApiError(
                415, "unsupported_media_type", f"The data URL is of type {mime or 'text/plain'}, not an image."
            )
        if not match.group("b64"):
            raise ApiError(422, "invalid_base64", "The data URL must be base64-encoded (;base64,).")
        payload = payload[match.end() :]
    if len(payload) > (limits.max_bytes * 4) // 3 + 4:
        raise ApiError(413, "too_large", f"The encoded image exceeds the {limits.max_bytes}-byte limit.")
    try:
        return base64.b64decode(re.sub(r"\s+", "", payload), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ApiError(422, "invalid_base64", "The image string is not valid base64 or a data URL.") from exc


def preprocess(fn: Callable[..., Preprocessed], data: bytes, *args: Any, limits: Limits) -> Preprocessed:
    """fn(data, *args, limits), in a helper process if the image decodes to more than limits.isolate_pixels.

    A large decode then never touches the worker's heap or holds its GIL; the helper's crash is a 422, its
    timeout a 503 with Retry-After, and every refusal the same 4xx as in-process. decode() tells from the header
    alone (TooCostly, before decoding anything), so small images cost nothing extra. The helper may take
    `isolate_timeout` seconds, or what is left of the request's budget (app.web.budget) if that is less.
    """
    timeout = limits.isolate_timeout
    try:
        try:
            return fn(data, *args, limits)
        except TooCostly:
            left = time_left()
            if left is not None and left < timeout:
                timeout = max(0.0, left)
            if timeout <= 0:
                raise isolation.HelperTimeout("no time left") from None
            whole = dataclasses.replace(limits, isolate_pixels=0)  # the helper decodes it, whatever its size
            return isolation.call(fn, data, *args, whole, timeout=timeout)
    except PreprocessError as exc:
        raise ApiError(exc.status, exc.code, exc.message) from exc
    except isolation.Refused as exc:
        if isinstance(exc.error, PreprocessError):
            raise ApiError(exc.error.status, exc.error.code, exc.error.message) from None
        raise ApiError(422, "corrupt_image", f"The image could not be decoded ({exc.error}).") from None
    except isolation.HelperFailed as exc:
        raise ApiError(422, "corrupt_image", f"Decoding this image failed: {exc}.") from None
    except isolation.HelperTimeout:
        within = (
            f"in the {timeout:.1f} s left of this request's time budget"
            if timeout < limits.isolate_timeout
            else f"within {limits.isolate_timeout:g} s"
        )
        raise ApiError(
            503,
            "decode_timeout",
            f"The image could not be decoded {within}; retry later, or send a smaller one.",
            headers={"Retry-After": "2"},
        ) from None


def to_input(fields: Fields, limits: Limits) -> Preprocessed:
    """Preprocess image bytes, or take pixels as the input directly (no steps)."""
    if fields.pixels is not None:
        return Preprocessed(input=np.asarray(fields.pixels, dtype=np.float32))
    assert fields.image is not None
    return preprocess(preprocess_image, fields.image, limits=limits)


def _validate(model: type[Body], data: Any) -> Body:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ApiError(422, "invalid_request", describe_validation(exc.errors())) from exc


@dataclass
class Received:
    """A request body as it arrived, before any CPU-bound parsing: JSON text, an image, or a multipart form's parts."""

    content_type: str
    data: bytes
    form: dict[str, str] | None = None  # multipart only: the fields other than the image


async def receive(request: Request, limits: Limits) -> Received:
    """Read the body (I/O only, on the event loop); `parse` does the rest on the executor."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "application/json" or content_type in IMAGE_TYPES:
        return Received(content_type, await request.body())
    if content_type == "multipart/form-data":
        try:
            form = await request.form(max_files=1, max_fields=16)
        except Exception as exc:  # starlette raises several types for malformed multipart bodies
            raise ApiError(422, "invalid_multipart", f"The multipart body could not be parsed ({exc}).") from exc
        try:
            upload = form.get("image")
            if not isinstance(upload, UploadFile):
                raise ApiError(422, "missing_image", "The multipart body needs a file field named 'image'.")
            data = await upload.read(limits.max_bytes + 1)
            extra = {k: v for k, v in form.items() if k != "image" and isinstance(v, str)}
        finally:
            await form.close()
        return Received(content_type, data, extra)
    raise ApiError(
        415,
        "unsupported_media_type",
        "Send application/json ({'image': …} or {'pixels': …}), multipart/form-data with 'image', "
        "or the image itself as image/png, image/jpeg, image/webp, image/bmp or image/gif.",
    )


def parse(received: Received, model: type[Body], limits: Limits) -> tuple[Fields, Body]:
    """Validate a received body against `model` (CPU-bound: run it on the executor)."""
    if received.content_type == "application/json":
        if not received.data:
            raise ApiError(422, "empty_body", "The request body is empty; send JSON with 'image' or 'pixels'.")
        try:
            data = orjson.loads(received.data)
        except orjson.JSONDecodeError as exc:
            raise ApiError(422, "invalid_json", f"The body is not valid JSON ({exc}).") from exc
        body = _validate(model, data)
        text = getattr(body, "image", None)
        image = decode_image_string(text, limits) if text else None
        return Fields(image, getattr(body, "pixels", None), {}), body
    if received.form is None:
        # The body is the image itself (curl --data-binary @digit.png -H 'content-type: image/png').
        if not received.data:
            raise ApiError(422, "empty_body", "The request body is empty; send the image's bytes.")
        # Its size is checked where every image's is: preprocess.decode (413 too_large).
        return Fields(received.data, None, {}), _validate(model, {"image": received.content_type})
    if len(received.data) > limits.max_bytes:
        raise ApiError(413, "too_large", f"The image exceeds the {limits.max_bytes}-byte limit.")
    extra: dict[str, Any] = dict(received.form)
    if "layers" in extra:
        extra["layers"] = [n.strip() for n in extra["layers"].split(",") if n.strip()]
    if "index" in extra:
        extra["index"] = _parse_ints(extra["index"])
    if "top" in extra:
        top = _parse_ints(extra["top"])
        extra["top"] = top[0] if isinstance(top, list) and len(top) == 1 else top
    body = _validate(model, {**extra, "image": "multipart"})
    return Fields(received.data, None, extra), body


def _parse_ints(text: str) -> list[int] | str:
    """'3,4,5' or '[3, 4, 5]' → [3, 4, 5]; anything else is left for validation to reject."""
    parts = text.strip().strip("[]").split(",")
    try:
        return [int(p) for p in parts]
    except ValueError:
        return text


def graph_input(
    m: InspectableModel, fields: Fields, body: Any, limits: Limits
) -> tuple[torch.Tensor, Preprocessed | None]:
    """The tensor (1, C, H, W) a v2 request feeds the model: preprocessed image, base64 tensor or nested pixels."""
    shape = m.graph.input_shape
    if fields.image is not None:
        if m.recipe == "mnist":
            pre = preprocess(preprocess_image, fields.image, limits=limits)
            pre = Preprocessed(input=pre.input.reshape(shape), steps=pre.steps, inverted=pre.inverted)
        else:
            pre = preprocess(preprocess_colour, fields.image, shape, m.mean, m.std, limits=limits)
        return torch.from_numpy(pre.input).unsqueeze(0), pre
    tensor = getattr(body, "tensor", None)
    if tensor is not None:
        if tuple(tensor.shape) != shape:
            raise ApiError(422, "invalid_input", f"tensor shape {tensor.shape}; model {m.name} takes {list(shape)}")
        try:
            raw = base64.b64decode(tensor.data, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise ApiError(422, "invalid_base64", "tensor.data is not valid base64.") from exc
        expected = 4 * shape[0] * shape[1] * shape[2]
        if len(raw) != expected:
            raise ApiError(
                422, "invalid_input", f"tensor.data holds {len(raw)} bytes; {list(shape)} float32 take {expected}."
            )
        values = np.frombuffer(raw, dtype="<f4").reshape(shape)
        if not (np.isfinite(values).all() and np.abs(values).max() <= 1e6):
            raise ApiError(422, "invalid_input", "tensor.data holds NaN, infinite or out-of-range (|x| > 1e6) values.")
        return torch.from_numpy(values.astype(np.float32)).unsqueeze(0), None
    try:
        values = np.asarray(fields.pixels, dtype=np.float32)
    except ValueError as exc:
        raise ApiError(
            422, "invalid_input", "pixels must be a regular [C][H][W] (or [H][W]) array of numbers."
        ) from exc
    if values.ndim == 2 and shape[0] == 1:
        values = values[None]
    if values.shape != shape:
        raise ApiError(
            422, "invalid_input", f"pixels have shape {list(values.shape)}; model {m.name} takes {list(shape)}."
        )
    return torch.from_numpy(np.ascontiguousarray(values)).unsqueeze(0), None
