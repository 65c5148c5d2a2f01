"""Real responses validate against the response models the OpenAPI document publishes."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from httpx2 import Response
from pydantic import BaseModel

from app.core.samples import pixels
from app.web.schemas.lab import ConvolveResponse, Presets, SoftmaxResponse
from app.web.schemas.visualiser import (
    ErrorResponse,
    Health,
    ModelInfo,
    ModelList,
    PredictResponse,
    SampleList,
    TraceResponse,
)
from tests.support.drawings import draw_digit, png

DIGIT = pixels(0).tolist()


def undeclared(value: object, raw: object, where: str = "") -> list[str]:
    """Paths of fields present in the raw JSON that the validated model does not declare, at any depth."""
    if isinstance(value, BaseModel) and isinstance(raw, dict):
        fields = type(value).model_fields
        out = [f"{where}.{k}" for k in raw if k not in fields]
        for k in fields:
            if k in raw:
                out += undeclared(getattr(value, k), raw[k], f"{where}.{k}")
        return out
    if isinstance(value, list) and isinstance(raw, list):
        return [p for i, (v, r) in enumerate(zip(value, raw, strict=True)) for p in undeclared(v, r, f"{where}[{i}]")]
    if isinstance(value, dict) and isinstance(raw, dict):
        return [p for k in value for p in undeclared(value[k], raw[k], f"{where}.{k}")]
    return []


def valid(model: type, response, status: int = 200) -> dict:  # type: ignore[no-untyped-def]
    """The answer's JSON, after checking its status and that the response model declares every field it carries."""
    assert response.status_code == status, response.text
    body = response.json()
    assert undeclared(model.model_validate(body), body) == []
    return body


def error(response, status: int, code: str) -> str:  # type: ignore[no-untyped-def]
    """The error's message, after checking its status and code."""
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code
    return str(response.json()["error"]["message"])


def check(model: type[BaseModel], response: Response) -> BaseModel:
    """A 200 whose body validates as the model, with no field the model does not declare."""
    assert response.status_code == 200, response.text
    validated = model.model_validate_json(response.content)
    assert undeclared(validated, response.json()) == []
    return validated


def test_service_and_model_responses(client: TestClient) -> None:
    check(Health, client.get("/healthz"))
    models = check(ModelList, client.get("/api/v1/models"))
    for name in [m.name for m in models.models]:  # type: ignore[attr-defined]
        info = check(ModelInfo, client.get(f"/api/v1/model?model={name}"))
        assert [layer.role for layer in info.layers].count("probabilities") == 1  # type: ignore[attr-defined]
    check(SampleList, client.get("/api/v1/samples?include_pixels=true"))


@pytest.mark.parametrize("encoding", ["json", "f32"])
def test_predict_responses(client: TestClient, encoding: str) -> None:
    check(PredictResponse, client.post(f"/api/v1/predict?encoding={encoding}", json={"pixels": DIGIT}))
    check(PredictResponse, client.post(f"/api/v1/predict?encoding={encoding}", files={"image": png(draw_digit())}))


@pytest.mark.parametrize(
    ("layer", "index"), [("conv1", [0, 3, 4]), ("pool2", [5, 2, 2]), ("flatten", [17]), ("fc1", [3]), ("softmax", [7])]
)
def test_trace_responses(client: TestClient, layer: str, index: list[int]) -> None:
    check(TraceResponse, client.post("/api/v1/trace", json={"pixels": DIGIT, "layer": layer, "index": index}))


def test_lab_responses(client: TestClient) -> None:
    presets = client.get("/api/v1/lab/presets")
    check(Presets, presets)
    smiley = presets.json()["examples"]["smiley"]
    body = {"input": smiley["input"], "kernel": smiley["kernel"]}
    check(ConvolveResponse, client.post("/api/v1/lab/convolve", json=body))
    check(SoftmaxResponse, client.post("/api/v1/lab/softmax", json={"scores": [1, 2, 3], "label": 0}))


def test_error_responses(client: TestClient) -> None:
    for r in (client.get("/api/v1/model?model=nope"), client.post("/api/v1/predict", json={"pixels": [[2]]})):
        assert r.status_code in (404, 422)
        ErrorResponse.model_validate_json(r.content)


def test_an_undeclared_field_is_caught() -> None:
    raw = {"status": "ok", "models": ["lenet"], "version": "1", "pid": 1, "surprise": True}
    assert undeclared(Health.model_validate(raw), raw) == [".surprise"]
