"""Synthetic inputs the tests (and bench/) draw: digits as images, encoded as files and data URLs."""

from __future__ import annotations

import base64
import io

from PIL import Image, ImageDraw


def draw_digit(
    kind: str = "1",
    size: int = 280,
    width: int = 18,
    offset: tuple[int, int] = (0, 0),
    scale: float = 1.0,
    ink: int = 0,
    paper: int = 255,
    mode: str = "L",
) -> Image.Image:
    """A synthetic drawing of a 1, 7 or 0, dark ink on light paper by default."""
    img = Image.new(mode, (size, size), paper if mode == "L" else (paper, paper, paper, 0 if mode == "RGBA" else 255))
    d = ImageDraw.Draw(img)
    c = size / 2
    s = size * 0.35 * scale
    ox, oy = offset
    fill = ink if mode == "L" else (ink, ink, ink, 255)
    if kind == "1":
        d.line([(c + ox, c - s + oy), (c + ox, c + s + oy)], fill=fill, width=width)
    elif kind == "7":
        d.line(
            [(c - s * 0.6 + ox, c - s + oy), (c + s * 0.6 + ox, c - s + oy), (c - s * 0.1 + ox, c + s + oy)],
            fill=fill,
            width=width,
            joint="curve",
        )
    elif kind == "0":
        d.ellipse([c - s * 0.6 + ox, c - s + oy, c + s * 0.6 + ox, c + s + oy], outline=fill, width=width)
    return img


def png(img: Image.Image, fmt: str = "PNG") -> bytes:
    buf = io.BytesIO()
    img.save(buf, format=fmt)
    return buf.getvalue()


def data_url(img: Image.Image) -> str:
    return "data:image/png;base64," + base64.b64encode(png(img)).decode()
