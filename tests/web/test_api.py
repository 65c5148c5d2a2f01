"""Every endpoint, every input form, and the error cases of the JSON API."""

from __future__ import annotations

import base64

import numpy as np
import pytest
from fastapi.testclient import TestClient

from app.core.samples import pixels
from tests.support.drawings import data_url, draw_digit, png

LAYERS = [
    "input",
    "conv1",
    "relu1",
    "pool1",
    "conv2",
    "relu2",
    "pool2",
    "flatten",
    "fc1",
    "relu3",
    "fc2",
    "relu4",
    "fc3",
    "softmax",
]


def assert_error(response, status: int, code: str | None = None) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"} and body["error"]["message"]
    if code:
        assert body["error"]["code"] == code


def test_healthz(client: TestClient) -> None:
    body = client.get("/healthz").json()
    assert body["status"] == "ok" and "lenet" in body["models"]


def test_models_list(client: TestClient) -> None:
    body = client.get("/api/v1/models").json()
    assert body["default"] == "lenet"
    names = {m["name"]: m for m in body["models"]}
    assert names["lenet"]["test_accuracy"] >= 0.993 and names["lenet"]["default"]


def test_model_describes_every_layer(client: TestClient) -> None:
    body = client.get("/api/v1/model").json()
    assert [layer["name"] for layer in body["layers"]] == LAYERS
    layers = {layer["name"]: layer for layer in body["layers"]}
    assert layers["conv1"]["hyper"] == {
        "in_channels": 1,
        "out_channels": 6,
        "kernel_size": 5,
        "stride": 1,
        "padding": 2,
    }
    assert layers["pool1"]["hyper"]["pool_type"] == "max"
    assert layers["conv2"]["receptive_field"] == {"size": 14, "jump": 2, "start": -2, "unflatten": None}
    assert layers["conv1"]["weight_shape"] == [6, 1, 5, 5] and len(layers["conv1"]["weights"]) == 150
    assert len(layers["fc1"]["bias"]) == 120 and layers["fc1"]["parameters"] == 400 * 120 + 120
    assert layers["flatten"]["receptive_field"]["unflatten"] == [16, 5, 5]
    assert sum(layer["parameters"] for layer in body["layers"]) == body["parameters"]
    assert layers["fc1"]["kind"] == "linear" and layers["relu1"]["kind"] == "relu"


def test_unknown_model(client: TestClient) -> None:
    assert_error(client.get("/api/v1/model", params={"model": "nope"}), 404, "unknown_model")
    assert_error(
        client.post("/api/v1/predict", params={"model": "nope"}, json={"pixels": pixels(0).tolist()}),
        404,
        "unknown_model",
    )


def check_predict(body: dict, expected: int | None = None) -> None:
    assert body["model"] == "lenet"
    assert [layer["name"] for layer in body["layers"]] == LAYERS
    probs = np.array(body["probabilities"])
    assert probs.shape == (10,) and probs.sum() == pytest.approx(1.0, abs=1e-5)
    assert body["prediction"] == int(probs.argmax())
    if expected is not None:
        assert body["prediction"] == expected
    for layer in body["layers"]:
        assert len(layer["values"]) == int(np.prod(layer["shape"]))
    values = {layer["name"]: np.array(layer["values"]) for layer in body["layers"]}
    np.testing.assert_allclose(values["input"].reshape(28, 28), body["input"])
    np.testing.assert_allclose(values["softmax"], probs)
    np.testing.assert_allclose(values["relu1"], np.maximum(values["conv1"], 0))
    np.testing.assert_array_equal(values["flatten"], values["pool2"])


def test_predict_multipart(client: TestClient) -> None:
    r = client.post("/api/v1/predict", files={"image": ("seven.png", png(draw_digit("7")), "image/png")})
    assert r.status_code == 200
    body = r.json()
    check_predict(body, 7)
    assert body["inverted"] and [s["name"] for s in body["steps"]][-1] == "centre"
    assert all(s["png"].startswith("data:image/png;base64,") for s in body["steps"])


@pytest.mark.parametrize("form", ["data_url", "base64"])
def test_predict_json_image(client: TestClient, form: str) -> None:
    image = data_url(draw_digit("1")) if form == "data_url" else base64.b64encode(png(draw_digit("1"))).decode()
    r = client.post("/api/v1/predict", json={"image": image})
    check_predict(r.json(), 1)


def test_predict_pixels_skips_preprocessing(client: TestClient) -> None:
    r = client.post("/api/v1/predict", json={"pixels": pixels(0).tolist()})
    body = r.json()
    check_predict(body, 7)
    assert body["steps"] == [] and not body["inverted"]
    np.testing.assert_allclose(body["input"], pixels(0))


def test_predict_layer_subsets_and_none(client: TestClient) -> None:
    p = {"pixels": pixels(1).tolist()}
    some = client.post("/api/v1/predict", params={"layers": "conv2,softmax"}, json=p).json()
    assert [layer["name"] for layer in some["layers"]] == ["conv2", "softmax"]
    none = client.post("/api/v1/predict", params={"layers": "", "steps": "false"}, json=p).json()
    assert none["layers"] == [] and none["prediction"] == 2 and len(none["probabilities"]) == 10
    assert_error(client.post("/api/v1/predict", params={"layers": "conv9"}, json=p), 422, "unknown_layer")


def test_predict_f32_encoding_matches_json(client: TestClient) -> None:
    p = {"pixels": pixels(3).tolist()}
    plain = client.post("/api/v1/predict", json=p).json()
    packed = client.post("/api/v1/predict", params={"encoding": "f32"}, json=p).json()
    for a, b in zip(plain["layers"], packed["layers"], strict=True):
        enc = b["values"]
        assert enc["dtype"] == "float32" and enc["shape"] == a["shape"]
        decoded = np.frombuffer(base64.b64decode(enc["data"]), dtype="<f4")
        np.testing.assert_array_equal(decoded, np.array(a["values"], dtype=np.float32))
    assert_error(client.post("/api/v1/predict", params={"encoding": "xml"}, json=p), 422)


def test_predict_values_are_the_real_ones(client: TestClient, lenet) -> None:
    import torch

    from app.core.capture import capture

    body = client.post("/api/v1/predict", json={"pixels": pixels(5).tolist()}).json()
    outputs = capture(lenet.model, torch.from_numpy(pixels(5))[None, None])
    for layer in body["layers"]:
        np.testing.assert_array_equal(
            np.array(layer["values"], dtype=np.float32), outputs[layer["name"]][0].numpy().reshape(-1)
        )


def test_trace_json_and_multipart(client: TestClient) -> None:
    r = client.post("/api/v1/trace", json={"pixels": pixels(0).tolist(), "layer": "conv2", "index": [3, 4, 5]})
    body = r.json()
    assert r.status_code == 200 and body["layer"] == "conv2" and body["kind"] == "conv"
    assert body["receptive_field"][-1] == {
        "layer": "input",
        "box": [8, 6, 21, 19],
        "rows": [6, 20],
        "cols": [8, 22],
        "channels": None,
    }
    assert body["computation"]["sum"] == pytest.approx(body["value"], abs=1e-5)
    assert np.array(body["gradient"]).shape == (28, 28)
    r2 = client.post(
        "/api/v1/trace",
        files={"image": ("7.png", png(draw_digit("7")), "image/png")},
        data={"layer": "fc1", "index": "5", "top": "3"},
    )
    assert r2.status_code == 200, r2.text
    assert len(r2.json()["computation"]["top"]) == 3


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"layer": "conv7", "index": [0, 0, 0]}, "unknown_layer"),
        ({"layer": "conv1", "index": [6, 0, 0]}, "invalid_unit"),
        ({"layer": "conv1", "index": [0, -1, 0]}, "invalid_unit"),
        ({"layer": "fc1", "index": [0, 0, 0]}, "invalid_unit"),
        ({"layer": "fc1", "index": ["a"]}, "invalid_request"),
        ({"layer": "fc1"}, "invalid_request"),
    ],
)
def test_trace_errors(client: TestClient, body: dict, code: str) -> None:
    assert_error(client.post("/api/v1/trace", json={"pixels": pixels(0).tolist(), **body}), 422, code)


def test_samples(client: TestClient) -> None:
    body = client.get("/api/v1/samples").json()
    samples = body["samples"]
    assert {s["label"] for s in samples if s["correct"]} == set(range(10))
    assert any(not s["correct"] for s in samples)
    assert all(s["predicted"] != s["label"] for s in samples if not s["correct"])
    png_response = client.get(samples[0]["png"])
    assert png_response.status_code == 200 and png_response.headers["content-type"] == "image/png"
    assert png_response.content.startswith(b"\x89PNG")
    with_pixels = client.get("/api/v1/samples", params={"include_pixels": "true"}).json()["samples"]
    np.testing.assert_allclose(with_pixels[0]["pixels"], pixels(with_pixels[0]["id"]), atol=1e-6)
    assert_error(client.get("/api/v1/samples/10000.png"), 404, "unknown_sample")


BAD_INPUTS = [
    ("non-image bytes", {"files": {"image": ("x.png", b"definitely not an image", "image/png")}}, 422),
    ("truncated png", {"files": {"image": ("x.png", png(draw_digit("1"))[:200], "image/png")}}, 422),
    ("empty drawing", {"files": {"image": ("x.png", png(draw_digit("1", width=0)), "image/png")}}, 422),
    ("base64 that is not", {"json": {"image": "%%%not base64%%%"}}, 422),
    ("data url of wrong type", {"json": {"image": "data:text/plain;base64,aGVsbG8="}}, 415),
    ("pixels wrong shape", {"json": {"pixels": [[0.0] * 28] * 27}}, 422),
    ("ragged rows", {"json": {"pixels": [[0.0] * 28] * 27 + [[0.0] * 5]}}, 422),
    ("strings", {"json": {"pixels": [["0.5"] * 28] * 28}}, 422),
    ("out of range", {"json": {"pixels": [[2.0] * 28] * 28}}, 422),
    ("negative", {"json": {"pixels": [[-0.1] * 28] * 28}}, 422),
    ("both forms", {"json": {"pixels": [[0.0] * 28] * 28, "image": "aGVsbG8="}}, 422),
    ("neither form", {"json": {}}, 422),
    ("unknown field", {"json": {"pixels": [[0.0] * 28] * 28, "extra": 1}}, 422),
    ("json not object", {"json": [1, 2, 3]}, 422),
    ("invalid json", {"content": b"{not json", "headers": {"content-type": "application/json"}}, 422),
    ("NaN", {"content": b'{"pixels": [[NaN]]}', "headers": {"content-type": "application/json"}}, 422),
    ("empty body", {"content": b"", "headers": {"content-type": "application/json"}}, 422),
    ("wrong content type", {"content": b"hello", "headers": {"content-type": "text/plain"}}, 415),
    ("no content type", {"content": b"hello"}, 415),
    ("multipart without image", {"files": {"other": ("x.txt", b"hi", "text/plain")}}, 422),
]


@pytest.mark.parametrize(("name", "kwargs", "status"), BAD_INPUTS, ids=[b[0] for b in BAD_INPUTS])
def test_bad_input_is_a_json_4xx(client: TestClient, name: str, kwargs: dict, status: int) -> None:
    assert_error(client.post("/api/v1/predict", **kwargs), status)
    assert client.get("/healthz").status_code == 200


def test_body_over_limit(client: TestClient) -> None:
    assert_error(
        client.post("/api/v1/predict", content=b"x" * (9 * 1024 * 1024), headers={"content-type": "application/json"}),
        413,
        "too_large",
    )


def test_unknown_route_and_method(client: TestClient) -> None:
    assert_error(client.get("/api/v1/nothing"), 404, "not_found")
    assert_error(client.get("/api/v1/predict"), 405, "method_not_allowed")


def test_openapi_documents_both_body_forms(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    content = spec["paths"]["/api/v1/predict"]["post"]["requestBody"]["content"]
    assert {"application/json", "multipart/form-data", "image/png", "image/bmp"} <= set(content)
    assert set(content["application/json"]["schema"]["properties"]) == {"image", "pixels"}
    trace_json = spec["paths"]["/api/v1/trace"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert {"image", "pixels", "layer", "index", "top"} == set(trace_json["properties"])
    assert client.get("/docs").status_code == 200


def decode_frame(content: bytes) -> tuple[dict, bytes]:
    n = int.from_bytes(content[:4], "little")
    header = __import__("json").loads(content[4 : 4 + n])
    start = 4 + n + (-(4 + n) % 4)
    return header, content[start:]


def test_predict_binary_frame_matches_json(client: TestClient) -> None:
    p = {"pixels": pixels(7).tolist()}
    plain = client.post("/api/v1/predict", json=p).json()
    r = client.post("/api/v1/predict", params={"encoding": "binary"}, json=p)
    assert r.status_code == 200 and r.headers["content-type"] == "application/vnd.convscope.frame"
    header, data = decode_frame(r.content)
    assert header["prediction"] == plain["prediction"]
    assert len(data) == 4 * sum(int(np.prod(layer["shape"])) for layer in plain["layers"])
    for a, b in zip(plain["layers"], header["layers"], strict=True):
        v = b["values"]
        assert v["offset"] % 4 == 0 and v["shape"] == a["shape"]
        decoded = np.frombuffer(data, dtype="<f4", count=v["length"], offset=v["offset"])
        np.testing.assert_array_equal(decoded, np.array(a["values"], dtype=np.float32))
    assert len(r.content) <= 80 * 1024, "the browser's full predict fits in 80 KB"


def test_large_gets_are_gzipped_predictions_are_not(client: TestClient) -> None:
    model = client.get("/api/v1/model", headers={"accept-encoding": "gzip"})
    assert model.headers.get("content-encoding") == "gzip"
    r = client.post("/api/v1/predict", json={"pixels": pixels(0).tolist()}, headers={"accept-encoding": "gzip"})
    assert "content-encoding" not in r.headers


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "BMP"])
def test_predict_raw_image_body(client: TestClient, fmt: str) -> None:
    mime = {"PNG": "image/png", "JPEG": "image/jpeg", "BMP": "image/bmp"}[fmt]
    data = png(draw_digit("7").convert("RGB"), fmt)
    r = client.post("/api/v1/predict", content=data, headers={"content-type": mime}, params={"layers": ""})
    assert r.status_code == 200 and r.json()["prediction"] == 7
    bad = client.post("/api/v1/predict", content=b"not an image", headers={"content-type": mime})
    assert_error(bad, 422, "not_an_image")
    assert_error(client.post("/api/v1/predict", content=b"", headers={"content-type": mime}), 422, "empty_body")
