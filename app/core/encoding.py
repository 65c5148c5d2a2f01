"""Serialise predictions: plain JSON lists, base64 float32 inside JSON, or a binary frame of raw float32."""

from __future__ import annotations

import base64
import io
from typing import Any, Literal

import numpy as np
import orjson
from PIL import Image

Encoding = Literal["json", "f32", "binary"]
BINARY_MEDIA_TYPE = "application/vnd.convscope.frame"
_OPTS = orjson.OPT_SERIALIZE_NUMPY


def render(payload: dict[str, Any], encoding: Encoding) -> tuple[bytes, str]:
    """Body and media type for a predict payload whose layers carry flat float32 `values` arrays.

    json: values as number lists. f32: values as {"dtype", "shape", "data": base64}. binary: a frame of
    uint32 LE header length, the JSON header (values as {"dtype", "shape", "offset", "length"}), zero padding
    to a multiple of 4, then every layer's raw little-endian float32 — zero-copy typed arrays for the browser.
    """
    if encoding == "json":
        return dumps(payload), "application/json"
    layers = payload["layers"]
    if encoding == "f32":
        for layer in layers:
            layer["values"] = {
                "dtype": "float32",
                "shape": layer["shape"],
                "data": base64.b64encode(_le32(layer["values"]).tobytes()).decode(),
            }
        return dumps(payload), "application/json"
    offset = 0
    blobs = []
    for layer in layers:
        values = _le32(layer["values"])
        layer["values"] = {"dtype": "float32", "shape": layer["shape"], "offset": offset, "length": values.size}
        offset += values.nbytes
        blobs.append(values)
    header = dumps(payload)
    pad = -(4 + len(header)) % 4
    # Offsets count from the start of the float data, which begins 4-byte aligned.
    head = len(header).to_bytes(4, "little") + header + b" " * pad
    data = np.concatenate(blobs).tobytes() if blobs else b""
    return head + data, BINARY_MEDIA_TYPE


def _le32(values: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(values, dtype="<f4").reshape(-1)


def dumps(payload: Any) -> bytes:
    """JSON bytes; numpy arrays are written natively (no tolist), float32 in their shortest exact form."""
    return orjson.dumps(payload, option=_OPTS)


def png_data_url(image: np.ndarray, max_side: int = 140) -> str:
    """A grey (H, W) or colour (H, W, C) image in 0..1 as a PNG data URL, shrunk to at most max_side for display."""
    pil = Image.fromarray(np.clip(image * 255.0 + 0.5, 0, 255).astype(np.uint8))
    if max(pil.size) > max_side:
        pil.thumbnail((max_side, max_side), Image.Resampling.BOX)
    return "data:image/png;base64," + base64.b64encode(png_bytes(pil)).decode()


def png_bytes(image: Image.Image) -> bytes:
    """PNG-encode a PIL image."""
    buf = io.BytesIO()
    image.save(buf, format="PNG", optimize=False, compress_level=6)
    return buf.getvalue()
