"""Turn captured tensors into response values: plain JSON lists or compact base64 float32."""

from __future__ import annotations

import base64
import io
from typing import Any, Literal

import numpy as np
import orjson
from PIL import Image

Encoding = Literal["json", "f32"]
_OPTS = orjson.OPT_SERIALIZE_NUMPY


def encode_values(values: np.ndarray, encoding: Encoding) -> Any:
    """Flat row-major values: a float32 array that orjson writes as a list, or base64 little-endian bytes."""
    flat = np.ascontiguousarray(values, dtype="<f4").reshape(-1)
    if encoding == "f32":
        return {"dtype": "float32", "shape": list(values.shape), "data": base64.b64encode(flat.tobytes()).decode()}
    return flat


def dumps(payload: Any) -> bytes:
    """JSON bytes; numpy arrays are written natively (no tolist), float32 in their shortest exact form."""
    return orjson.dumps(payload, option=_OPTS)


def png_data_url(image: np.ndarray, max_side: int = 140) -> str:
    """A greyscale image in 0..1 as a PNG data URL, shrunk to at most max_side for display."""
    pil = Image.fromarray(np.clip(image * 255.0 + 0.5, 0, 255).astype(np.uint8), mode="L")
    if max(pil.size) > max_side:
        pil.thumbnail((max_side, max_side), Image.Resampling.BOX)
    return "data:image/png;base64," + base64.b64encode(png_bytes(pil)).decode()


def png_bytes(image: Image.Image) -> bytes:
    """PNG-encode a PIL image."""
    buf = io.BytesIO()
    image.save(buf, format="PNG", optimize=False, compress_level=6)
    return buf.getvalue()
