"""Serialise predictions: plain JSON lists, base64 float32 inside JSON, or a binary frame of raw float32 or of 8-bit
display values (each map quantised over its own range)."""

from __future__ import annotations

import base64
import io
from collections.abc import Callable
from typing import Any, Literal

import numpy as np
import orjson
from PIL import Image

Encoding = Literal["json", "f32", "binary", "u8"]
BINARY_MEDIA_TYPE = "application/vnd.convscope.frame"
_OPTS = orjson.OPT_SERIALIZE_NUMPY


def render(payload: dict[str, Any], encoding: Encoding) -> tuple[bytes, str]:
    """Body and media type for a predict payload whose layers carry flat float32 `values` arrays.

    json: values as number lists. f32: values as {"dtype", "shape", "data": base64}. binary: a frame of
    uint32 LE header length, the JSON header (values as {"dtype", "shape", "offset", "length"}), space padding
    to a multiple of 4, then every layer's raw little-endian float32 — zero-copy typed arrays for the browser.
    u8: the same frame with one byte per value for display, each map (channel) quantised over its own range
    (values as {"dtype": "uint8", "shape", "offset", "length", "min": [...], "max": [...]}, one min and max per
    channel of a (C, H, W) layer, one for a vector); about a quarter of binary's bytes.
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
    return _frame(payload, _pack_u8 if encoding == "u8" else _pack_f32), BINARY_MEDIA_TYPE


def _pack_f32(layer: dict[str, Any]) -> tuple[np.ndarray, dict[str, Any]]:
    values = _le32(layer["values"])
    return values, {"dtype": "float32", "shape": layer["shape"], "length": values.size}


def _pack_u8(layer: dict[str, Any]) -> tuple[np.ndarray, dict[str, Any]]:
    shape = layer["shape"]
    channels = shape[0] if len(shape) == 3 else 1
    q, lo, hi = quantise_u8(layer["values"], channels)
    return q, {"dtype": "uint8", "shape": shape, "length": q.size, "min": lo, "max": hi}


Packer = Callable[[dict[str, Any]], tuple[np.ndarray, dict[str, Any]]]


def _frame(payload: dict[str, Any], pack: Packer) -> bytes:
    """uint32 LE header length, JSON header, spaces to a multiple of 4, then each layer's packed values.

    Every layer's data starts 4-byte aligned (offsets count from the start of the data), so float32 views need
    no copy; uint8 layers are padded with zeros up to the next multiple of 4.
    """
    offset = 0
    blobs = []
    for layer in payload["layers"]:
        values, meta = pack(layer)
        layer["values"] = {**meta, "offset": offset}
        raw = values.tobytes()
        raw += bytes(-len(raw) % 4)
        offset += len(raw)
        blobs.append(raw)
    header = dumps(payload)
    pad = -(4 + len(header)) % 4
    head = len(header).to_bytes(4, "little") + header + b" " * pad
    return head + b"".join(blobs)


def quantise_u8(values: np.ndarray, channels: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """8-bit display values: each of `channels` equal slices of the flat values mapped linearly from its own
    [min, max] onto 0…255 and rounded, so dequantise_u8 is off by at most (max − min) / 255 / 2 per value.

    Returns (codes as uint8, per-slice min, per-slice max); the ranges are float32, exactly values of the input.
    """
    v = np.asarray(values, dtype=np.float32).reshape(channels, -1)
    if v.size == 0:
        empty = np.zeros(channels, dtype=np.float32)
        return np.zeros(0, dtype=np.uint8), empty, empty
    lo = v.min(axis=1)
    hi = v.max(axis=1)
    span = hi.astype(np.float64) - lo
    scale = np.divide(255.0, span, out=np.zeros_like(span), where=span > 0)
    codes = np.rint((v - lo[:, None].astype(np.float64)) * scale[:, None])
    return np.clip(codes, 0, 255).astype(np.uint8).reshape(-1), lo, hi


def dequantise_u8(codes: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """The display values back as float64: min + code · (max − min) / 255, per slice (as the page decodes them)."""
    channels = len(lo)
    q = np.asarray(codes, dtype=np.float64).reshape(channels, -1)
    lo64 = np.asarray(lo, dtype=np.float64)[:, None]
    span = np.asarray(hi, dtype=np.float64)[:, None] - lo64
    return (lo64 + q * span / 255.0).reshape(-1)


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
