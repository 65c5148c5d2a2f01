"""The v2 lab over HTTP: worked examples against plain Python, loss gradients, the live network's layers, and one
coordinate convention across every v2 response (a walk over the OpenAPI document's /api/v2/ paths)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from app.core.models import Catalog, from_module
from app.core.registry import Registry
from app.core.samples import pixels
from app.paths import MODELS_DIR
from app.web.app import create_app
from app.web.schemas.lab import ConvolveResponseV2, LayerResponse, PresetsV2, SoftmaxResponseV2
from app.web.settings import Settings
from tests.support import nets
from tests.web.test_response_models import valid

DIGIT = pixels(0).tolist()


@pytest.fixture(scope="module")
def api(registry: Registry) -> Iterator[TestClient]:
    net, x = nets.build("colour_lenet")
    catalog = Catalog.load([], MODELS_DIR, extra=[from_module("colour_lenet", net, x)])
    app = create_app(Settings(log_level="warning", capture_cache_bytes=4 * 1024 * 1024), registry, catalog)
    with TestClient(app, base_url="http://localhost", raise_server_exceptions=False) as client:
        yield client


def loops(image: list[list[int]], kernel: list[list[int]], bias: float = 0.0) -> list[list[float]]:
    """Stride 1, no padding, one channel: the sum of image × kernel under each position, plus the bias."""
    f = len(kernel)
    n = len(image) - f + 1
    out = []
    for y in range(n):
        row = []
        for x in range(len(image[0]) - f + 1):
            total = 0.0
            for i in range(f):
                for j in range(f):
                    total += image[y + i][x + j] * kernel[i][j]
            row.append(total + bias)
        out.append(row)
    return out


def test_smiley_through_the_api_equals_plain_python(api: TestClient) -> None:
    presets = valid(PresetsV2, api.get("/api/v2/lab/presets"))
    ex = presets["examples"]["smiley"]
    rows = ["0000000", "0100010", "0000000", "0001000", "0100010", "0011100", "0000000"]
    image = [[int(c) for c in r] for r in rows]
    detector = [[0, 0, 1], [1, 0, 0], [0, 1, 1]]
    assert ex["input"] == [image] and ex["kernel"] == [detector]
    body = {"input": image, "kernel": detector, "activation": "none", "pool": {"type": "max", "mode": "ceil"}}
    r = valid(ConvolveResponseV2, api.post("/api/v2/lab/convolve", json=body))
    feature = loops(image, detector)
    assert r["feature_map"] == feature
    pooled = [
        [
            max(feature[y][x] for y in range(2 * i, min(2 * i + 2, 5)) for x in range(2 * j, min(2 * j + 2, 5)))
            for j in range(3)
        ]
        for i in range(3)
    ]
    assert r["pooled"]["values"] == pooled and r["pooled"]["shape"] == [3, 3]
    assert r["pooled"]["windows"][2] == {"rows": [0, 2], "cols": [4, 5]}
    # In floor mode (what nn.MaxPool2d does) the partial windows are dropped: 2×2.
    floor = api.post("/api/v2/lab/convolve", json={**body, "pool": {"type": "max", "mode": "floor"}}).json()
    assert floor["pooled"]["shape"] == [2, 2]


def test_x_example_through_the_api_equals_plain_python(api: TestClient) -> None:
    ex = api.get("/api/v2/lab/presets").json()["examples"]["x"]
    image = [[1 if y in (x, 6 - x) else 0 for x in range(7)] for y in range(7)]
    diagonal = [[1, 0, 0], [0, 1, 0], [0, 0, 1]]
    assert ex["input"] == [image] and ex["kernel"] == [diagonal] and ex["bias"] == -2
    for kind, pool in (("max", max), ("avg", lambda c: sum(c) / len(c)), ("sum", sum)):
        body = {"input": image, "kernel": diagonal, "bias": -2.0, "activation": "relu", "pool": {"type": kind}}
        r = valid(ConvolveResponseV2, api.post("/api/v2/lab/convolve", json=body))
        relu = [[max(v, 0.0) for v in row] for row in loops(image, diagonal, -2.0)]
        assert r["activated"] == relu
        expected = [
            [pool([relu[y][x] for y in (2 * i, 2 * i + 1) for x in (2 * j, 2 * j + 1)]) for j in range(2)]
            for i in range(2)
        ]
        assert r["pooled"]["values"] == pytest.approx(np.array(expected))


def test_colour_example_and_stride_through_the_api(api: TestClient) -> None:
    ex = api.get("/api/v2/lab/presets").json()["examples"]["colour"]
    body = {k: ex[k] for k in ("input", "kernel", "bias", "stride", "padding", "activation")}
    r = valid(ConvolveResponseV2, api.post("/api/v2/lab/convolve", json={**body, "pool": {"type": "none"}}))
    x = np.pad(np.array(ex["input"], dtype=float), ((0, 0), (1, 1), (1, 1)))
    k = np.array(ex["kernel"], dtype=float)
    per = [
        [[float((x[c, 2 * i : 2 * i + 3, 2 * j : 2 * j + 3] * k[c]).sum()) for j in range(3)] for i in range(3)]
        for c in range(3)
    ]
    assert r["per_channel"] == per
    assert r["feature_map"] == (np.array(per).sum(0) + ex["bias"]).tolist()
    assert r["pooled"] is None and r["output_size"]["rows"]["value"] == 3


def test_softmax_v2_gradients(api: TestClient) -> None:
    scores = [1.2, -0.4, 0.3, 2.5, -1.0, 0.0, 0.8, 4.1, -0.2, 0.6]
    r = valid(SoftmaxResponseV2, api.post("/api/v2/lab/softmax", json={"scores": scores, "label": 4}))
    p = np.exp(scores) / np.exp(scores).sum()
    np.testing.assert_allclose(r["gradients"]["cross_entropy"], p - np.eye(10)[4])
    assert max(r["sweep"]["cross_entropy"]) >= r["cross_entropy"] > 5.4


@pytest.mark.parametrize(
    "body",
    [
        {"input": [[[1.0] * 5] * 5] * 2, "kernel": [[1.0]]},
        {"input": [[1.0] * 5] * 5, "kernel": [[1.0] * 2] * 2, "pool": {"type": "max", "size": 2, "padding": 2}},
        {"input": [[1.0] * 5] * 5, "kernel": [[1.0] * 3] * 3, "pool": {"type": "max", "mode": "round"}},
        {"input": [[1.0] * 3] * 3, "kernel": [[1.0] * 3] * 3, "dilation": 2},
    ],
)
def test_convolve_v2_bad_settings_are_422(api: TestClient, body: dict) -> None:
    r = api.post("/api/v2/lab/convolve", json=body)
    assert r.status_code == 422 and r.json()["error"]["message"]


def test_live_layer_of_a_shipped_model(api: TestClient) -> None:
    r = valid(
        LayerResponse, api.post("/api/v2/lab/layer?model=lenet", json={"pixels": DIGIT, "layer": "conv2", "channel": 3})
    )
    assert r["as_network"] and r["input_channels"] == [0, 6] and r["shown"] == [0, 6]
    assert np.array(r["per_channel"]).shape == (6, 10, 10) and np.array(r["kernel"]).shape == (6, 5, 5)
    np.testing.assert_allclose(np.array(r["per_channel"]).sum(0) + r["bias"], r["feature_map"], atol=1e-9)
    np.testing.assert_allclose(r["feature_map"], r["network"], atol=1e-5)
    # The same input by id, now with stride 2 and padding 2: ⌊(14 − 5 + 4) / 2⌋ + 1 = 7.
    again = {"input_id": r["input_id"], "layer": "conv2", "channel": 3, "stride": 2, "padding": 2}
    changed = valid(LayerResponse, api.post("/api/v2/lab/layer?model=lenet", json=again))
    assert not changed["as_network"] and changed["network"] is None
    assert np.array(changed["feature_map"]).shape == (7, 7) and changed["output_size"]["rows"]["value"] == 7
    pool = valid(
        LayerResponse,
        api.post("/api/v2/lab/layer?model=lenet5", json={"pixels": DIGIT, "layer": "pool1", "channel": 2}),
    )
    assert (
        pool["pooled"]["type"] == "avg" and pool["pooled"]["mode"] == "floor" and pool["pooled"]["divisor"] == "padded"
    )
    np.testing.assert_allclose(pool["feature_map"], pool["network"], atol=1e-6)


def test_live_layer_of_a_users_colour_model(api: TestClient) -> None:
    info = api.get("/api/v2/model?model=colour_lenet").json()
    conv = next(layer for layer in info["layers"] if layer["kind"] == "conv")
    image = np.random.default_rng(0).normal(size=info["input"]["shape"]).tolist()
    r = valid(
        LayerResponse,
        api.post("/api/v2/lab/layer?model=colour_lenet", json={"pixels": image, "layer": conv["name"], "channel": 0}),
    )
    assert r["input_channels"] == [0, 3] and np.array(r["input"]).shape[0] == 3
    np.testing.assert_allclose(r["feature_map"], r["network"], atol=1e-5)


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"pixels": DIGIT, "layer": "relu1"}, 422, "invalid_settings"),
        ({"pixels": DIGIT, "layer": "conv1", "channel": 6}, 422, "invalid_settings"),
        ({"pixels": DIGIT, "layer": "nope"}, 422, "unknown_layer"),
        ({"pixels": DIGIT, "layer": "pool1", "padding": 2}, 422, "invalid_settings"),
        ({"input_id": "0" * 32, "layer": "conv1"}, 409, "capture_expired"),
    ],
)
def test_live_layer_errors(api: TestClient, body: dict, status: int, code: str) -> None:
    r = api.post("/api/v2/lab/layer?model=lenet", json=body)
    assert r.status_code == status and r.json()["error"]["code"] == code


def test_v1_lab_keeps_answering(api: TestClient) -> None:
    ex = api.get("/api/v1/lab/presets").json()["examples"]["smiley"]
    r = api.post("/api/v1/lab/convolve", json={"input": ex["input"], "kernel": ex["kernel"]}).json()
    assert r["pooled"]["windows"][2] == [0, 4, 1, 4]  # v1: inclusive [y0, x0, y1, x1], as before
    assert isinstance(r["pooled"]["winners"][0], int)


# ---- one coordinate convention in every v2 response ----------------------------------------------------------

OLD_NAMES = {"box", "boxes", "window", "windows", "winner", "winners"}


def _resolve(schema: dict[str, Any], spec: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def _variants(schema: dict[str, Any], spec: dict[str, Any]) -> list[dict[str, Any]]:
    schema = _resolve(schema, spec)
    options = schema.get("anyOf") or schema.get("oneOf")
    if options:
        return [v for o in options for v in _variants(o, spec)]
    return [schema]


def _coordinate_ok(schema: dict[str, Any], spec: dict[str, Any]) -> bool:
    """A box/window is {"rows", "cols"}; a winner is a [y, x] pair; lists of either; or null."""
    for v in _variants(schema, spec):
        if v.get("type") == "null":
            continue
        if v.get("type") == "array":
            items = _resolve(v.get("items", {}), spec)
            if items.get("type") == "integer":
                if not (v.get("minItems") == v.get("maxItems") == 2):
                    return False  # [x0, y0, x1, y1] or an unconstrained list of coordinates
                continue
            if not _coordinate_ok(items, spec):
                return False
            continue
        props = v.get("properties", {})
        if set(props) != {"rows", "cols"}:
            return False
    return True


def _walk(schema: dict[str, Any], spec: dict[str, Any], where: str, seen: set[str], bad: list[str]) -> None:
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        if name in seen:
            return
        seen.add(name)
    for v in _variants(schema, spec):
        for key, sub in v.get("properties", {}).items():
            if key in OLD_NAMES and not _coordinate_ok(sub, spec):
                bad.append(f"{where}.{key}")
            _walk(sub, spec, f"{where}.{key}", seen, bad)
        if "items" in v:
            _walk(v["items"], spec, f"{where}[]", seen, bad)
        extra = v.get("additionalProperties")
        if isinstance(extra, dict):
            _walk(extra, spec, f"{where}{{}}", seen, bad)


def test_no_old_style_box_in_any_v2_response(api: TestClient) -> None:
    spec = api.get("/openapi.json").json()
    bad: list[str] = []
    checked = 0
    for path, item in spec["paths"].items():
        if not path.startswith("/api/v2/"):
            continue
        for method, op in item.items():
            for status, response in op.get("responses", {}).items():
                for media in response.get("content", {}).values():
                    if "schema" in media:
                        checked += 1
                        _walk(media["schema"], spec, f"{method.upper()} {path} {status}", set(), bad)
    assert checked >= 8 and bad == []
    assert any(p.startswith("/api/v2/lab/") for p in spec["paths"])


def test_the_walk_catches_an_old_style_box() -> None:
    spec = {"components": {"schemas": {}}}
    old = {"properties": {"box": {"type": "array", "items": {"type": "integer"}, "minItems": 4, "maxItems": 4}}}
    bad: list[str] = []
    _walk(old, spec, "x", set(), bad)
    assert bad == ["x.box"]
    good = {
        "properties": {
            "winners": {
                "type": "array",
                "items": {"type": "array", "items": {"type": "integer"}, "minItems": 2, "maxItems": 2},
            }
        }
    }
    bad = []
    _walk(good, spec, "x", set(), bad)
    assert bad == []
