"""Hostile and malformed input: always a clear JSON 4xx, and the server stays healthy."""

from __future__ import annotations

import base64
import io
import struct
import zlib

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from app.core.samples import pixels
from tests.support.drawings import draw_digit, png

PIXELS = pixels(0).tolist()


def bomb_png(width: int = 30_000, height: int = 30_000) -> bytes:
    """A tiny PNG that declares a huge image (its IDAT is a few compressed zero rows)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    idat = zlib.compress(b"\x00" * (width + 1) * 4, 9)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def jpeg(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.convert("RGB").save(buf, format="JPEG")
    return buf.getvalue()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def upload(data: bytes, name: str = "x.png", mime: str = "image/png") -> dict:
    return {"files": {"image": (name, data, mime)}}


def raw_json(text: str) -> dict:
    return typed(text.encode(), "application/json")


def raw_pixels(token: str) -> dict:
    """28×28 pixels all written as one literal JSON token (NaN and Infinity are not valid JSON)."""
    row = "[" + ",".join([token] * 28) + "]"
    return raw_json('{"pixels": [' + ",".join([row] * 28) + "]}")


def typed(content: bytes, content_type: str) -> dict:
    return {"content": content, "headers": {"content-type": content_type}}


MULTIPART = "multipart/form-data; boundary=x"


CASES = [
    ("non-image bytes", "/api/v1/predict", upload(b"GIF89a? no, just text pretending"), 422),
    ("truncated PNG", "/api/v1/predict", upload(png(draw_digit("7"))[:300]), 422),
    ("truncated JPEG", "/api/v1/predict", upload(jpeg(draw_digit("7"))[:400], "x.jpg", "image/jpeg"), 422),
    ("decompression bomb", "/api/v1/predict", upload(bomb_png()), 413),
    ("decompression bomb in base64", "/api/v1/predict", {"json": {"image": b64(bomb_png())}}, 413),
    ("1x1 image", "/api/v1/predict", upload(png(Image.new("L", (1, 1), 255))), 422),
    ("20000x1 image", "/api/v1/predict", upload(png(Image.new("L", (20_000, 1), 255))), 413),
    ("TIFF is not accepted", "/api/v1/predict", upload(png(draw_digit("1"), "TIFF"), "x.tif", "image/tiff"), 415),
    ("base64 that is not", "/api/v1/predict", {"json": {"image": "this is *not* base64!"}}, 422),
    ("base64 of text", "/api/v1/predict", {"json": {"image": b64(b"hello world")}}, 422),
    ("data URL of the wrong type", "/api/v1/predict", {"json": {"image": "data:application/pdf;base64,JVBERi0="}}, 415),
    ("data URL without base64", "/api/v1/predict", {"json": {"image": "data:image/png,abc"}}, 422),
    ("pixels 27 rows", "/api/v1/predict", {"json": {"pixels": PIXELS[:27]}}, 422),
    ("pixels 29 columns", "/api/v1/predict", {"json": {"pixels": [[*r, 0.0] for r in PIXELS]}}, 422),
    ("ragged rows", "/api/v1/predict", {"json": {"pixels": [*PIXELS[:-1], [0.0] * 3]}}, 422),
    ("flat pixels", "/api/v1/predict", {"json": {"pixels": [0.0] * 784}}, 422),
    ("string pixels", "/api/v1/predict", {"json": {"pixels": [["0"] * 28] * 28}}, 422),
    ("boolean pixels", "/api/v1/predict", {"json": {"pixels": [[True] * 28] * 28}}, 422),
    ("null pixels inside", "/api/v1/predict", {"json": {"pixels": [[None] * 28] * 28}}, 422),
    ("NaN", "/api/v1/predict", raw_pixels("NaN"), 422),
    ("Infinity", "/api/v1/predict", raw_pixels("Infinity"), 422),
    ("-Infinity", "/api/v1/predict", raw_pixels("-Infinity"), 422),
    ("huge number", "/api/v1/predict", raw_pixels("1e999"), 422),
    ("above 1", "/api/v1/predict", {"json": {"pixels": [[1.0001] * 28] * 28}}, 422),
    ("below 0", "/api/v1/predict", {"json": {"pixels": [[-1e-9] * 28] * 28}}, 422),
    ("unknown model", "/api/v1/predict?model=resnet", {"json": {"pixels": PIXELS}}, 404),
    ("unknown layer in subset", "/api/v1/predict?layers=conv1,nope", {"json": {"pixels": PIXELS}}, 422),
    ("unknown encoding", "/api/v1/predict?encoding=f64", {"json": {"pixels": PIXELS}}, 422),
    ("unknown trace layer", "/api/v1/trace", {"json": {"pixels": PIXELS, "layer": "conv3", "index": [0, 0, 0]}}, 422),
    ("unit out of range", "/api/v1/trace", {"json": {"pixels": PIXELS, "layer": "conv2", "index": [16, 0, 0]}}, 422),
    ("unit y out of range", "/api/v1/trace", {"json": {"pixels": PIXELS, "layer": "pool2", "index": [0, 5, 0]}}, 422),
    ("negative unit", "/api/v1/trace", {"json": {"pixels": PIXELS, "layer": "fc2", "index": [-1]}}, 422),
    ("unit of wrong rank", "/api/v1/trace", {"json": {"pixels": PIXELS, "layer": "softmax", "index": [0, 1]}}, 422),
    ("float unit index", "/api/v1/trace", {"json": {"pixels": PIXELS, "layer": "fc2", "index": [1.5]}}, 422),
    ("huge top", "/api/v1/trace", {"json": {"pixels": PIXELS, "layer": "fc1", "index": [0], "top": 10**9}}, 422),
    (
        "multipart trace bad index",
        "/api/v1/trace",
        {**upload(png(draw_digit("7"))), "data": {"layer": "conv1", "index": "a,b"}},
        422,
    ),
    ("wrong content type", "/api/v1/predict", typed(b"pixels=1", "application/x-www-form-urlencoded"), 415),
    ("XML", "/api/v1/predict", typed(b"<pixels/>", "application/xml"), 415),
    ("empty JSON body", "/api/v1/predict", raw_json(""), 422),
    ("empty multipart", "/api/v1/predict", typed(b"", MULTIPART), 422),
    ("broken multipart", "/api/v1/predict", typed(b"--x\r\nnonsense", MULTIPART), 422),
    (
        "raw image body over the image limit",
        "/api/v1/predict",
        typed(b"\x89PNG" + bytes(6 * 1024 * 1024), "image/png"),
        413,
    ),
    ("raw body that is not an image", "/api/v1/predict", typed(b"GIF89a nonsense", "image/gif"), 422),
    ("raw image body to trace (needs a unit)", "/api/v1/trace", typed(png(draw_digit("7")), "image/png"), 422),
    ("deeply nested JSON", "/api/v1/predict", raw_json("[" * 5000 + "]" * 5000), 422),
]


@pytest.mark.parametrize(("name", "path", "kwargs", "status"), CASES, ids=[c[0] for c in CASES])
def test_hostile_input_is_a_clear_json_4xx(client: TestClient, name: str, path: str, kwargs: dict, status: int) -> None:
    response = client.post(path, **kwargs)
    assert response.status_code == status, response.text[:300]
    assert response.headers["content-type"].startswith("application/json")
    error = response.json()["error"]
    assert error["code"] and len(error["message"]) > 10
    assert client.get("/healthz").json()["status"] == "ok"
    assert client.post("/api/v1/predict?layers=", json={"pixels": PIXELS}).json()["prediction"] == 7


def test_body_over_the_limit_streamed_without_length(client: TestClient) -> None:
    def chunks():
        for _ in range(10):
            yield b"x" * (1024 * 1024)

    response = client.post("/api/v1/predict", content=chunks(), headers={"content-type": "application/json"})
    assert response.status_code == 413 and response.json()["error"]["code"] == "too_large"


def test_body_over_the_limit_declared(client: TestClient) -> None:
    response = client.post(
        "/api/v1/predict", content=b"{}" * (5 * 1024 * 1024), headers={"content-type": "application/json"}
    )
    assert response.status_code == 413


def test_image_limits_come_from_settings(registry) -> None:
    from app.web.app import create_app
    from app.web.settings import Settings

    app = create_app(Settings(max_image_bytes=2000), registry)
    with TestClient(app, base_url="http://localhost") as c:
        r = c.post("/api/v1/predict", **upload(png(draw_digit("7", size=600))))
        assert r.status_code == 413 and "2000" in r.json()["error"]["message"]
