"""Shared fixtures: the shipped models, an API client, and synthetic digit drawings."""

from __future__ import annotations

import base64
import io
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from PIL import Image, ImageDraw

from app.main import create_app
from app.registry import LoadedModel, Registry
from app.settings import Settings
from tests.browser import chromium
from tests.live_server import live_server


@pytest.fixture(scope="session")
def registry() -> Registry:
    return Registry.load()


@pytest.fixture(scope="session")
def lenet(registry: Registry) -> LoadedModel:
    return registry.get("lenet")


@pytest.fixture(scope="session")
def server() -> Iterator[str]:
    """One real `convscope serve` on 127.0.0.1 shared by the browser, concurrency and HTTP tests."""
    with live_server() as url:
        yield url


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """Debian's headless Chromium (skipped where absent, unless the run requires it)."""
    with chromium() as b:
        yield b


@pytest.fixture(scope="session")
def client(registry: Registry) -> Iterator[TestClient]:
    app = create_app(Settings(), registry)
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def draw_digit(kind: str = "1", size: int = 280, width: int = 18, offset: tuple[int, int] = (0, 0),
               scale: float = 1.0, ink: int = 0, paper: int = 255, mode: str = "L") -> Image.Image:
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
        d.line([(c - s * 0.6 + ox, c - s + oy), (c + s * 0.6 + ox, c - s + oy), (c - s * 0.1 + ox, c + s + oy)],
               fill=fill, width=width, joint="curve")
    elif kind == "0":
        d.ellipse([c - s * 0.6 + ox, c - s + oy, c + s * 0.6 + ox, c + s + oy], outline=fill, width=width)
    return img


def png(img: Image.Image, fmt: str = "PNG") -> bytes:
    buf = io.BytesIO()
    img.save(buf, format=fmt)
    return buf.getvalue()


def data_url(img: Image.Image) -> str:
    return "data:image/png;base64," + base64.b64encode(png(img)).decode()

