"""API v2 units over HTTP: statistics as a job cached on disk, unit cards against brute force, feature visualisation."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import torch
from fastapi.testclient import TestClient
from PIL import Image
from torch import nn

from app.core import datasets
from app.core import units as U
from app.core.models import Catalog, from_module
from app.core.registry import Registry
from app.core.samples import pixels
from app.core.samples import test_split as mnist_test
from app.core.weights import Manifest, load_model
from app.paths import MODELS_DIR
from app.web.app import create_app
from app.web.schemas.explain import StatisticsState, UnitCard, Visualisation
from app.web.settings import Settings
from tests.support import nets
from tests.web.test_response_models import valid

DIGIT = pixels(0)
N = 300


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("explain-cache")


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Twelve random 40×24 colour PNGs in two class folders: a --dataset DIR at the colour net's own size."""
    root = tmp_path_factory.mktemp("dataset")
    rng = np.random.default_rng(5)
    for i in range(12):
        (root / f"c{i % 2}").mkdir(exist_ok=True)
        Image.fromarray(rng.integers(0, 256, (24, 40, 3), dtype=np.uint8)).save(root / f"c{i % 2}" / f"{i:02}.png")
    return root


@pytest.fixture(scope="module")
def api(registry: Registry, cache_dir: Path, folder: Path) -> Iterator[TestClient]:
    net, x = nets.build("colour_lenet")
    with_folder = from_module("colour_folder", net, x)
    with_folder.dataset = datasets.folder(folder, with_folder.input_spec, None)
    catalog = Catalog.load([], MODELS_DIR, extra=[from_module("colour_lenet", net, x), with_folder])
    settings = Settings(log_level="warning", explain_cache_dir=cache_dir)
    app = create_app(settings, registry, catalog)
    app.state.datasets["lenet"] = U.mnist_images(mnist_test().images[:N], "mnist-test-300")  # a slice: quick
    with TestClient(app, base_url="http://localhost", raise_server_exceptions=False) as client:
        yield client


def test_statistics_job_then_unit_cards(api: TestClient, cache_dir: Path) -> None:
    state = valid(StatisticsState, api.get("/api/v2/statistics?model=lenet"))
    assert state == {"model": "lenet", "dataset": "mnist-test-300", "ready": False, "count": None, "job": None}
    card_body = {"pixels": DIGIT.tolist(), "layer": "conv2", "index": [3, 4, 4], "k": 5}
    ko_body = {"pixels": DIGIT.tolist(), "layer": "conv2", "channel": 3, "mode": "mean", "layers": ["conv2"]}
    assert api.post("/api/v2/knockout?model=lenet", json=ko_body).json()["fill_source"] == "this input"
    refused = api.post("/api/v2/unit?model=lenet", json=card_body)
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "statistics_not_ready"
    started = valid(StatisticsState, api.post("/api/v2/statistics/compute?model=lenet"), 202)
    deadline = time.monotonic() + 120
    while (job := api.get(started["job"]["url"]).json())["status"] == "running" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert job["status"] == "done" and job["done"] == job["total"] == N
    ready = valid(StatisticsState, api.post("/api/v2/statistics/compute?model=lenet"))
    assert ready["ready"] and ready["count"] == N
    sha = Manifest.read(MODELS_DIR / "lenet.json").sha256
    assert list((cache_dir / sha).glob("*.npz"))  # cached under the model's SHA-256

    module, _ = load_model(MODELS_DIR / "lenet.json")
    assert isinstance(module, nn.Sequential)
    with torch.no_grad():
        maps = module[:4](U.mnist_images(mnist_test().images[:N]).tensor).numpy()  # conv2, (N, 16, 10, 10)
        now = float(module[:4](torch.from_numpy(DIGIT)[None, None])[0, 3, 4, 4])
    card = valid(UnitCard, api.post("/api/v2/unit?model=lenet", json=card_body))
    assert card["value"] == pytest.approx(now, rel=1e-5) and card["count"] == N and card["ranking"] == "channel"
    expected = np.argsort(-maps[:, 3].reshape(N, -1).max(axis=1), kind="stable")[:5]
    assert [t["index"] for t in card["top"]] == expected.tolist()
    per_unit = valid(UnitCard, api.post("/api/v2/unit?model=lenet", json={**card_body, "per_unit": True}))
    assert [t["index"] for t in per_unit["top"]] == np.argsort(-maps[:, 3, 4, 4], kind="stable")[:5].tolist()
    # mean ablation now uses each unit's mean over the data set (a brute-force mean of the maps)
    ko = api.post("/api/v2/knockout?model=lenet", json=ko_body).json()
    after = np.asarray(ko["layers"][0]["after"], dtype=np.float32).reshape(16, 10, 10)
    assert ko["fill_source"] == "data set"
    np.testing.assert_allclose(after[3], maps[:, 3].mean(axis=0), rtol=1e-4, atol=1e-5)
    bad = api.post("/api/v2/unit?model=lenet", json={**card_body, "index": [16, 0, 0]})
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_unit"


def test_a_model_without_a_data_set_says_how_to_give_one(api: TestClient) -> None:
    r = api.get("/api/v2/statistics?model=colour_lenet")
    assert r.status_code == 409 and "--dataset" in r.json()["error"]["message"]


def test_a_dataset_folder_ranks_the_units_of_its_model(api: TestClient, folder: Path) -> None:
    started = valid(StatisticsState, api.post("/api/v2/statistics/compute?model=colour_folder"), 202)
    deadline = time.monotonic() + 120
    while (job := api.get(started["job"]["url"]).json())["status"] == "running" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert job["status"] == "done" and job["total"] == 12
    files = sorted(folder.glob("*/*.png"))
    x = np.stack([np.asarray(Image.open(f), np.float32).transpose(2, 0, 1) / 255 for f in files])  # (12, 3, 24, 40)
    net, _ = nets.build("colour_lenet")
    with torch.no_grad():
        maps = net[:2](torch.from_numpy(x)).numpy()  # relu1, (12, 6, 24, 40)
    card = valid(
        UnitCard,
        api.post(
            "/api/v2/unit?model=colour_folder",
            json={"pixels": x[0].tolist(), "layer": "1", "index": [2, 5, 9], "k": 4},
        ),
    )
    assert card["count"] == 12
    assert [t["index"] for t in card["top"]] == np.argsort(-maps[:, 2].reshape(12, -1).max(1), kind="stable")[
        :4
    ].tolist()


def test_feature_visualisation_over_http_is_reproducible(api: TestClient) -> None:
    body = {"layer": "conv2", "index": [3], "steps": 24, "seed": 2}
    a = valid(Visualisation, api.post("/api/v2/visualise?model=lenet", json=body))
    b = valid(Visualisation, api.post("/api/v2/visualise?model=lenet", json=body))
    assert a["pixels"] == b["pixels"] and np.asarray(a["pixels"]).shape == (1, 28, 28)
    assert a["value"] > a["history"][0]
    colour = valid(
        Visualisation,
        api.post("/api/v2/visualise?model=colour_lenet", json={"layer": "3", "index": [1, 2, 3], "steps": 4}),
    )
    assert np.asarray(colour["pixels"]).shape == (3, 24, 40)
    for wrong in (
        {"layer": "conv2", "index": [16]},
        {"layer": "input", "index": [0]},
        {"layer": "fc1", "index": [120]},
    ):
        r = api.post("/api/v2/visualise?model=lenet", json=wrong)
        assert r.status_code == 422, r.text
