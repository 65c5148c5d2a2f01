"""The calibrated answer and the non-digit cue in API v1 and v2, recomputed from the returned layers."""

from __future__ import annotations

import json
from collections.abc import Iterator

import numpy as np
import pytest
import torch
from fastapi.testclient import TestClient

from app.core import nondigits
from app.core.models import Catalog
from app.core.registry import Registry
from app.core.samples import pixels
from app.paths import MODELS_DIR
from app.web.app import create_app
from app.web.schemas.v2 import PredictResponseV2
from app.web.schemas.visualiser import PredictResponse
from app.web.settings import Settings

MANIFEST = json.loads((MODELS_DIR / "lenet.json").read_text())
RESNET = json.loads((MODELS_DIR / "resnet_mnist.json").read_text())


@pytest.fixture(scope="module")
def api(registry: Registry) -> Iterator[TestClient]:
    catalog = Catalog.load([], MODELS_DIR)
    app = create_app(Settings(log_level="warning"), registry, catalog)
    with TestClient(app, base_url="http://localhost", raise_server_exceptions=False) as client:
        yield client


def a_dot() -> np.ndarray:
    """A 4×4 dot framed as the preprocessing frames any ink: scaled to fit 20×20 and centred (a soft blob)."""
    dot = np.zeros((28, 28), dtype=np.float32)
    dot[12:16, 12:16] = 1.0
    return nondigits.mnist_frame(dot)


def expected_cue(logits: np.ndarray, features: np.ndarray, manifest: dict) -> tuple[np.ndarray, float]:
    """Calibrated probabilities and the cue's score, written out in torch from the manifest and density file."""
    cue = manifest["cue"]
    z = torch.tensor(logits, dtype=torch.float64)
    probabilities = torch.softmax(z / manifest["temperature"], 0).numpy()
    state = torch.load(MODELS_DIR / cue["density_file"], weights_only=True)
    f = torch.tensor(features, dtype=torch.float64)
    distances = [float((f - mu) @ state["precision"] @ (f - mu)) for mu in state["means"]]
    e_mean, e_std, d_mean, d_std = cue["spread"]
    score = (float(torch.logsumexp(z, 0)) - e_mean) / e_std + (-min(distances) - d_mean) / d_std
    return probabilities, score


def check(confidence: dict, logits: np.ndarray, features: np.ndarray, manifest: dict = MANIFEST) -> None:
    probabilities, score = expected_cue(logits, features, manifest)
    assert confidence["temperature"] == manifest["temperature"]
    assert confidence["threshold"] == manifest["cue"]["threshold"]
    np.testing.assert_allclose(confidence["probabilities"], probabilities, rtol=1e-5, atol=1e-7)
    assert confidence["score"] == pytest.approx(score, rel=1e-4, abs=1e-4)
    assert confidence["looks_like_digit"] == (confidence["score"] >= confidence["threshold"])
    assert confidence["confidence"] == pytest.approx(probabilities.max(), abs=1e-7)
    unsure = probabilities.max() < 0.9 or not confidence["looks_like_digit"]
    assert confidence["unsure"] == unsure
    if unsure:
        second = int(np.argsort(-probabilities)[1])
        assert confidence["runner_up"] == {"index": second, "probability": pytest.approx(probabilities[second])}
    else:
        assert confidence["runner_up"] is None


@pytest.mark.parametrize("image", ["digit", "dot"])
def test_v1_predict_carries_the_cue(client: TestClient, image: str) -> None:
    x = pixels(3) if image == "digit" else a_dot()
    r = client.post("/api/v1/predict", json={"pixels": x.tolist()})
    assert r.status_code == 200
    body = PredictResponse.model_validate(r.json()).model_dump()
    layers = {layer["name"]: np.array(layer["values"]) for layer in r.json()["layers"]}
    check(body["confidence"], layers["fc3"], layers[MANIFEST["cue"]["layer"]])
    np.testing.assert_allclose(body["probabilities"], layers["softmax"])  # the network's own softmax, T = 1
    if image == "dot":
        assert not body["confidence"]["looks_like_digit"] and body["confidence"]["runner_up"] is not None
    else:
        assert body["confidence"]["looks_like_digit"]


def test_v2_predict_carries_the_same_cue(api: TestClient, client: TestClient) -> None:
    x = a_dot()
    r = api.post("/api/v2/predict?model=lenet&layers=*", json={"pixels": x.tolist()})
    assert r.status_code == 200, r.text
    body = r.json()
    PredictResponseV2.model_validate(body)
    layers = {layer["name"]: np.array(layer["values"]) for layer in body["layers"]}
    check(body["confidence"], layers["fc3"], layers[MANIFEST["cue"]["layer"]])
    v1 = client.post("/api/v1/predict", json={"pixels": x.tolist()}).json()["confidence"]
    assert body["confidence"]["looks_like_digit"] == v1["looks_like_digit"]
    assert body["confidence"]["score"] == pytest.approx(v1["score"], rel=1e-5, abs=1e-5)


@pytest.mark.parametrize("image", ["digit", "dot"])
def test_v2_predict_gives_the_residual_model_its_own_cue(api: TestClient, image: str) -> None:
    """resnet_mnist's cue models its pooled 64-vector (`flatten`) with its own temperature, spread and density."""
    x = pixels(3) if image == "digit" else a_dot()
    r = api.post("/api/v2/predict?model=resnet_mnist&layers=fc,flatten", json={"pixels": x.tolist()})
    assert r.status_code == 200, r.text
    body = r.json()
    layers = {layer["name"]: np.array(layer["values"]) for layer in body["layers"]}
    assert RESNET["cue"]["layer"] == "flatten" and layers["flatten"].shape == (64,)
    check(body["confidence"], layers["fc"], layers["flatten"], RESNET)
    assert body["confidence"]["looks_like_digit"] == (image == "digit")


def test_models_without_calibration_answer_null(api: TestClient) -> None:
    shapes = json.loads((MODELS_DIR / "shapes.json").read_text())
    assert "cue" not in shapes or shapes["cue"] is None
    image = np.zeros((3, 32, 32), dtype=np.float32).tolist()
    body = api.post("/api/v2/predict?model=shapes&layers=", json={"pixels": image}).json()
    assert body["confidence"] is None
