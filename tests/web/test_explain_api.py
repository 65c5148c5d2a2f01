"""API v2 explain over HTTP: attribution, knock-outs, comparisons and jobs, checked against plain forwards."""

from __future__ import annotations

import asyncio
import concurrent.futures
import copy
import threading
import time
from collections.abc import Iterator
from typing import get_args

import numpy as np
import pytest
import torch
from fastapi.testclient import TestClient
from torch import nn

from app.core.architectures import logits_part
from app.core.attribution import Method
from app.core.models import Catalog, from_module
from app.core.progress import Cancelled
from app.core.registry import Registry
from app.core.samples import pixels
from app.core.weights import load_model
from app.paths import MODELS_DIR
from app.web.app import create_app
from app.web.jobs import Job, Jobs
from app.web.schemas.explain import AttributeResponse, CompareResponse, JobV2, KnockoutResponse
from app.web.settings import Settings
from tests.support import nets
from tests.web.test_response_models import error, valid

DIGIT = pixels(0)  # a 7
METHODS = list(get_args(Method))  # every method the API accepts


@pytest.fixture(scope="module")
def api(registry: Registry) -> Iterator[TestClient]:
    net, x = nets.build("colour_lenet")
    colour = from_module(
        "colour_lenet", net, x, labels=[f"class {i}" for i in range(10)], mean=(0.5,) * 3, std=(0.25,) * 3
    )
    catalog = Catalog.load([], MODELS_DIR, extra=[colour])
    app = create_app(Settings(log_level="warning", capture_cache_bytes=4 * 1024 * 1024), registry, catalog)
    with TestClient(app, base_url="http://localhost", raise_server_exceptions=False) as client:
        yield client


def test_gradient_over_http_equals_autograd_on_the_eager_model(api: TestClient) -> None:
    module, _ = load_model(MODELS_DIR / "lenet.json")
    body = {"pixels": DIGIT.tolist(), "method": "gradient", "target": {"class_index": 3}}
    got = valid(AttributeResponse, api.post("/api/v2/attribute?model=lenet", json=body))
    x = torch.from_numpy(DIGIT)[None, None].requires_grad_(True)
    (expected,) = torch.autograd.grad(logits_part(module)(x)[0, 3], x)
    np.testing.assert_allclose(got["channels"], expected[0].numpy(), atol=1e-5 * float(expected.abs().max()))
    assert got["target"] == {
        "layer": "fc3",
        "index": [3],
        "softmax": False,
        "quantity": "logit",
        "label": "3",
        "value": pytest.approx(float(logits_part(module)(x)[0, 3].detach())),
    }
    default = valid(
        AttributeResponse,
        api.post("/api/v2/attribute?model=lenet", json={"pixels": DIGIT.tolist(), "method": "gradient"}),
    )
    assert default["target"]["index"] == [7]  # the predicted class


@pytest.mark.parametrize("model", ["lenet", "resnet_mnist", "colour_lenet"])
@pytest.mark.parametrize("method", METHODS)
def test_every_method_answers_on_every_kind_of_model(api: TestClient, model: str, method: str) -> None:
    shape = (3, 24, 40) if model == "colour_lenet" else (1, 28, 28)
    x = np.random.default_rng(0).random(shape).astype(np.float32) if model == "colour_lenet" else DIGIT[None]
    body = {"pixels": x.tolist(), "method": method, "steps": 16, "samples": 4, "window": 6, "stride": 6}
    got = valid(AttributeResponse, api.post(f"/api/v2/attribute?model={model}", json=body))
    c = 1 if method.startswith("gradcam") else shape[0]
    assert got["shape"] == [c, *shape[1:]] and np.asarray(got["channels"]).shape == (c, *shape[1:])
    np.testing.assert_allclose(np.asarray(got["combined"]), np.asarray(got["channels"]).sum(0), rtol=1e-5, atol=1e-6)
    if method.startswith("gradcam"):
        assert got["layer"] and got["layer_reason"] and got["layer_map"]
    if method == "integrated_gradients":
        c = got["completeness"]
        assert c["error"] == pytest.approx(abs(c["sum"] - c["difference"]) / abs(c["difference"]), rel=1e-4)


def test_attribution_errors_are_4xx(api: TestClient) -> None:
    post = lambda model, body: api.post(f"/api/v2/attribute?model={model}", json={"pixels": DIGIT.tolist(), **body})  # noqa: E731
    error(post("lenet", {"method": "lime"}), 422, "invalid_request")
    error(post("lenet", {"method": "gradient", "target": {"layer": "nope", "index": [0]}}), 422, "invalid_target")
    error(post("lenet", {"method": "gradient", "target": {"layer": "fc3", "index": [10]}}), 422, "invalid_target")
    error(
        post("lenet", {"method": "gradient", "target": {"class_index": 3, "layer": "fc3", "index": [1]}}),
        422,
        "invalid_request",
    )
    assert "tanh" in error(post("lenet5", {"method": "guided_backprop"}), 422, "invalid_attribution")
    error(post("lenet", {"method": "gradcam", "layer": "fc1"}), 422, "invalid_attribution")
    error(post("lenet", {"method": "occlusion", "window": 4, "stride": 5}), 422, "invalid_attribution")
    error(post("lenet", {"method": "integrated_gradients", "baseline": "given"}), 422, "invalid_request")
    bad = {"method": "integrated_gradients", "baseline": "given", "baseline_pixels": [[0.0] * 5] * 5}
    error(post("lenet", bad), 422, "invalid_attribution")
    error(api.get("/api/v2/jobs/" + "0" * 32), 404, "unknown_job")
    error(api.get("/api/v2/jobs/nope"), 422, "invalid_request")


def test_background_job_reports_progress_and_equals_the_direct_answer(api: TestClient) -> None:
    body = {"pixels": DIGIT.tolist(), "method": "occlusion", "window": 4, "stride": 2}
    direct = api.post("/api/v2/attribute?model=lenet", json=body).json()
    started = api.post("/api/v2/attribute?model=lenet", json={**body, "background": True})
    assert started.status_code == 202, started.text
    url = started.json()["url"]
    deadline = time.monotonic() + 60
    while (job := api.get(url).json())["status"] == "running" and time.monotonic() < deadline:
        time.sleep(0.05)
    JobV2.model_validate(job)
    assert job["status"] == "done" and job["done"] == job["total"] == 13 * 13 + 1
    assert job["result"] == direct


def test_a_cancelled_job_stops_at_its_next_step() -> None:
    steps: list[int] = []
    release = threading.Event()

    def work(job: Job) -> None:
        for i in range(1000):
            job.progress(i, 1000)
            steps.append(i)
            release.set()
            time.sleep(0.002)

    async def scenario() -> dict:
        jobs = Jobs()
        job = jobs.start("test", work)
        while not release.is_set():
            await asyncio.sleep(0.001)
        jobs.cancel(job.id)
        while job.status == "running":
            await asyncio.sleep(0.001)
        jobs.shutdown()
        return job.describe()

    # In a thread of its own: a browser test's Playwright (sync API) may hold a running loop in this one.
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        described = pool.submit(lambda: asyncio.run(scenario())).result(timeout=60)
    assert described["status"] == "cancelled" and described["result"] is None
    assert 0 < len(steps) < 1000
    stopped = Job("x", "test")
    stopped.stop.set()
    with pytest.raises(Cancelled):
        stopped.progress(1, 2)


def test_knockout_over_http_equals_edited_weights(api: TestClient) -> None:
    module, _ = load_model(MODELS_DIR / "lenet.json")
    body = {"pixels": DIGIT.tolist(), "layer": "conv2", "channel": 5, "layers": ["softmax"]}
    got = valid(KnockoutResponse, api.post("/api/v2/knockout?model=lenet", json=body))
    edited = copy.deepcopy(module)
    conv = dict(edited.named_modules())["conv2"]
    assert isinstance(conv, nn.Conv2d) and conv.bias is not None
    with torch.no_grad():
        conv.weight[5] = 0.0
        conv.bias[5] = 0.0
        after = edited(torch.from_numpy(DIGIT)[None, None])[0].numpy()
        before = module(torch.from_numpy(DIGIT)[None, None])[0].numpy()
    np.testing.assert_allclose(got["after"]["probabilities"], after, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(got["before"]["probabilities"], before, rtol=1e-5, atol=1e-7)
    rows = {row["name"]: row for row in got["layers"]}
    assert got["layers"][0]["name"] == "conv2" and rows["conv2"]["changed"] > 0 and rows["conv2"]["difference"] is None
    np.testing.assert_allclose(rows["softmax"]["difference"], after - before, atol=1e-6)
    assert got["cells"] == 100 and got["fill"] == 0.0
    post = lambda body: api.post("/api/v2/knockout?model=lenet", json={"pixels": DIGIT.tolist(), **body})  # noqa: E731
    error(post({"layer": "conv2", "channel": 16}), 422, "invalid_knockout")
    error(post({"layer": "fc1", "channel": 0}), 422, "invalid_knockout")
    error(post({"layer": "conv2", "channel": 1, "index": [1, 1, 1]}), 422, "invalid_request")
    error(post({"layer": "nope", "channel": 1}), 422, "unknown_layer")
    unit = valid(KnockoutResponse, post({"layer": "fc1", "index": [3], "mode": "value", "value": 2.5}))
    assert unit["fill"] == 2.5 and unit["cells"] == 1


def test_compare_two_models_over_http(api: TestClient) -> None:
    got = valid(
        CompareResponse,
        api.post("/api/v2/compare?model=lenet&other=lenet5", json={"pixels": DIGIT.tolist(), "values": True}),
    )
    names = [layer["name"] for layer in got["layers"]]
    assert names[:2] == ["input", "conv1"] and "relu1" in got["only_a"] and "tanh1" in got["only_b"]
    a, _ = load_model(MODELS_DIR / "lenet.json")
    b, _ = load_model(MODELS_DIR / "lenet5.json")
    x = torch.from_numpy(DIGIT)[None, None]
    with torch.no_grad():
        conv_a, conv_b = a[0](x)[0].numpy(), b[0](x)[0].numpy()  # type: ignore[index]
    conv1 = got["layers"][1]
    np.testing.assert_allclose(conv1["a"], conv_a.reshape(-1), atol=1e-5)
    assert conv1["max_abs_difference"] == pytest.approx(float(np.abs(conv_b - conv_a).max()), rel=1e-5)
    error(api.post("/api/v2/compare?model=lenet&other=nope", json={"pixels": DIGIT.tolist()}), 404, "unknown_model")
    error(
        api.post("/api/v2/compare?model=lenet&other=colour_lenet", json={"pixels": DIGIT.tolist()}), 422, "incomparable"
    )
