"""API v2 over HTTP: any model's graph, predictions with layer selection and input ids, traces, errors."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator

import numpy as np
import pytest
import torch
from fastapi.testclient import TestClient

from app.core.models import Catalog, from_module
from app.core.registry import Registry
from app.core.samples import pixels
from app.paths import MODELS_DIR
from app.web.app import create_app
from app.web.schemas.v2 import ModelInfoV2, ModelListV2, PredictResponseV2, TraceResponseV2
from app.web.settings import Settings
from tests.support import nets
from tests.support.drawings import draw_digit, png
from tests.web.test_response_models import valid

DIGIT = pixels(0)


@pytest.fixture(scope="module")
def api(registry: Registry) -> Iterator[TestClient]:
    models = []
    for name in ("inception", "colour_lenet"):
        net, x = nets.build(name)
        labels = [f"class {i}" for i in range(10)]
        models.append(from_module(name, net, x, labels=labels, mean=(0.5, 0.5, 0.5), std=(0.25, 0.25, 0.25)))
    catalog = Catalog.load([], MODELS_DIR, extra=models)
    app = create_app(Settings(log_level="warning", capture_cache_bytes=4 * 1024 * 1024), registry, catalog)
    with TestClient(app, base_url="http://localhost", raise_server_exceptions=False) as client:
        yield client


def tensor_body(x: np.ndarray) -> dict:
    data = base64.b64encode(x.astype("<f4").tobytes()).decode()
    return {"tensor": {"dtype": "float32", "shape": list(x.shape), "data": data}}


def test_models_and_graph(api: TestClient) -> None:
    listing = valid(ModelListV2, api.get("/api/v2/models"))
    assert listing["default"] == "inception"
    assert [m["name"] for m in listing["models"]][:4] == ["inception", "colour_lenet", "lenet", "lenet5"]
    info = valid(ModelInfoV2, api.get("/api/v2/model?model=inception"))
    names = [layer["name"] for layer in info["layers"]]
    assert [n for n in names if n in ("b1", "cat")] == ["b1", "cat"]
    cat = next(layer for layer in info["layers"] if layer["name"] == "cat")
    assert cat["inputs"] == ["b1", "b3.2", "b5.2", "bp.1"] and ["b1", "cat"] in info["edges"]
    assert info["input"]["shape"] == [3, 9, 7] and info["labels"][0] == "class 0"
    lenet = valid(ModelInfoV2, api.get("/api/v2/model?model=lenet"))
    assert lenet["layers"][-1]["role"] == "probabilities" and lenet["layers"][-2]["role"] == "logits"


def test_predict_equals_a_plain_forward_and_returns_an_input_id(api: TestClient) -> None:
    net, _ = nets.build("inception")
    x = np.random.default_rng(0).standard_normal((3, 9, 7)).astype(np.float32)
    body = valid(PredictResponseV2, api.post("/api/v2/predict?model=inception", json=tensor_body(x)))
    with torch.no_grad():
        expected = net(torch.from_numpy(x)[None])[0].numpy()
    np.testing.assert_allclose(body["probabilities"], expected, rtol=1e-5, atol=1e-7)
    assert body["prediction"]["label"] == f"class {int(expected.argmax())}"
    assert [layer["name"] for layer in body["layers"]][:2] == ["input", "stem"]  # a small model: all layers
    again = api.post("/api/v2/predict?model=inception&layers=cat", json={"pixels": x.tolist()}).json()
    assert again["input_id"] == body["input_id"]  # same model, same tensor, same id


def test_layers_channels_and_input_id(api: TestClient) -> None:
    lenet = api.post("/api/v2/predict?model=lenet&layers=", json={"pixels": DIGIT.tolist()}).json()
    assert lenet["layers"] == [] and lenet["prediction"]["label"] == "7"
    more = api.post(
        "/api/v2/predict?model=lenet&layers=conv2&layers=pool2,fc1&channels=3:6",
        json={"input_id": lenet["input_id"]},
    ).json()
    assert [(la["name"], la["shape"], la["channels"]) for la in more["layers"]] == [
        ("conv2", [3, 10, 10], [3, 6]), ("pool2", [3, 5, 5], [3, 6]), ("fc1", [120], [0, 120]),
    ]  # fmt: skip
    body_list = api.post("/api/v2/predict?model=lenet", json={"input_id": lenet["input_id"], "layers": ["*"]}).json()
    assert len(body_list["layers"]) == 14


def test_binary_frame_and_f32(api: TestClient) -> None:
    r = api.post("/api/v2/predict?model=lenet&layers=conv1&encoding=binary", json={"pixels": DIGIT.tolist()})
    n = int.from_bytes(r.content[:4], "little")
    header = json.loads(r.content[4 : 4 + n])
    start = (4 + n + 3) // 4 * 4
    conv1 = np.frombuffer(r.content, "<f4", header["layers"][0]["values"]["length"], start)
    f32 = api.post("/api/v2/predict?model=lenet&layers=conv1&encoding=f32", json={"pixels": DIGIT.tolist()}).json()
    other = np.frombuffer(base64.b64decode(f32["layers"][0]["values"]["data"]), "<f4")
    assert conv1.size == 6 * 28 * 28 and np.array_equal(conv1, other)


def test_image_upload_to_a_colour_model(api: TestClient) -> None:
    image = png(draw_digit("7", mode="RGB"))
    body = valid(
        PredictResponseV2,
        api.post("/api/v2/predict?model=colour_lenet&layers=input", files={"image": ("seven.png", image, "image/png")}),
    )
    assert [s["name"] for s in body["steps"]] == ["decoded", "resized", "cropped"]
    fed = np.asarray(body["layers"][0]["values"]).reshape(3, 24, 40)
    assert fed.min() >= -2.0 - 1e-6 and fed.max() <= 2.0 + 1e-6  # (x − 0.5) / 0.25 for x in 0..1


def test_trace_every_kind(api: TestClient) -> None:
    x = np.random.default_rng(1).standard_normal((3, 9, 7)).astype(np.float32)
    input_id = api.post("/api/v2/predict?model=inception&layers=", json=tensor_body(x)).json()["input_id"]
    for layer, index in [
        ("stem", [2, 0, 0]),
        ("cat", [9, 4, 3]),
        ("bp.0", [1, 8, 6]),
        ("pool", [3, 4, 3]),
        ("flatten", [50]),
        ("head", [4]),
        ("softmax", [4]),
    ]:
        t = valid(
            TraceResponseV2,
            api.post(
                "/api/v2/trace?model=inception",
                json={"input_id": input_id, "layer": layer, "index": index, "mask": True},
            ),
        )
        assert t["fields"][0]["layer"] == "input" and t["gradient"]["shape"] == [3, 9, 7]
        assert t["computation"]["value"] == pytest.approx(t["value"], rel=1e-5, abs=1e-6)
    soft = api.post("/api/v2/trace?model=inception", json={"input_id": input_id, "layer": "softmax", "index": [4]})
    assert len(soft.json()["computation"]["logits"]) == 10  # a probability depends on every logit
    conv = api.post("/api/v2/trace?model=inception", json={"input_id": input_id, "layer": "stem", "index": [2, 0, 0]})
    c = conv.json()["computation"]
    assert c["rows"] == [-1, 0, 1] and c["padding_cells"][0] == [1, 1, 1]
    assert c["result"] == pytest.approx(c["value"], rel=1e-5, abs=1e-6)
    box = conv.json()["fields"][0]["box"]
    assert box == {"rows": [0, 2], "cols": [0, 2]}


def test_errors(api: TestClient) -> None:
    def error(r, status: int, code: str) -> None:  # type: ignore[no-untyped-def]
        assert r.status_code == status, r.text
        assert r.json()["error"]["code"] == code

    error(api.get("/api/v2/model?model=nope"), 404, "unknown_model")
    error(api.post("/api/v2/predict?layers=nope", json={"pixels": DIGIT.tolist()}), 422, "unknown_layer")
    error(api.post("/api/v2/predict?model=lenet", json={"input_id": "0" * 32}), 409, "capture_expired")
    error(api.post("/api/v2/predict", json={"pixels": [[0.1]]}), 422, "invalid_input")
    error(
        api.post("/api/v2/predict?model=lenet", json={"pixels": DIGIT.tolist(), "image": "x"}), 422, "invalid_request"
    )
    bad = tensor_body(np.zeros((3, 9, 7), np.float32))
    bad["tensor"]["data"] = bad["tensor"]["data"][:-8]
    error(api.post("/api/v2/predict", json=bad), 422, "invalid_input")
    nan = tensor_body(np.full((3, 9, 7), np.nan, np.float32))
    error(api.post("/api/v2/predict", json=nan), 422, "invalid_input")
    error(api.post("/api/v2/predict?channels=5:2", json={"pixels": [[0.1]]}), 422, "invalid_channels")
    error(
        api.post("/api/v2/trace?model=lenet", json={"pixels": DIGIT.tolist(), "layer": "conv1", "index": [6, 0, 0]}),
        422,
        "invalid_unit",
    )
    error(
        api.post("/api/v2/trace?model=lenet", json={"pixels": DIGIT.tolist(), "layer": "x", "index": [0]}),
        422,
        "unknown_layer",
    )
    assert api.get("/healthz").status_code == 200


def test_the_capture_cache_is_bounded(api: TestClient) -> None:
    captures = api.app.state.captures  # type: ignore[attr-defined]
    for seed in range(40):
        x = np.random.default_rng(seed).standard_normal((3, 9, 7)).astype(np.float32)
        api.post("/api/v2/predict?model=inception&layers=", json=tensor_body(x))
    assert 0 < captures.held_bytes <= captures.max_bytes


def test_openapi_documents_v2(api: TestClient) -> None:
    spec = api.get("/openapi.json").json()
    assert {"/api/v2/models", "/api/v2/model", "/api/v2/predict", "/api/v2/trace", "/api/v2/weights"} <= set(
        spec["paths"]
    )
    body = spec["paths"]["/api/v2/predict"]["post"]["requestBody"]["content"]
    assert {"application/json", "multipart/form-data", "image/png"} <= set(body)
    box = spec["components"]["schemas"]["Box"]["properties"]
    assert set(box) == {"rows", "cols"}
