"""Large images are decoded in a helper process: the same answers, and its crash or hang is a JSON 422 or 503."""

from __future__ import annotations

import time

import pytest
from fastapi.testclient import TestClient

from app.core.registry import Registry
from app.web import inputs
from app.web.app import create_app
from app.web.settings import Settings
from tests.support import isolation_targets
from tests.support.hostile import costly_images

COSTLY = {name: (data, mime) for name, data, mime in costly_images()}
ANSWERED = ["interlaced RGBA PNG at the budget", "lossless WebP at the budget", "grainy 12 MP JPEG (a phone photo)"]
REFUSED = ["16-bit interlaced PNG at the budget", "PNG over the budget (refused)"]


def post(client: TestClient, name: str, path: str = "/api/v1/predict") -> object:
    data, mime = COSTLY[name]
    return client.post(path, content=data, headers={"content-type": mime})


@pytest.mark.parametrize("name", ANSWERED + REFUSED)
def test_helper_answers_what_the_worker_answers(registry: Registry, name: str) -> None:
    answers = []
    for isolate in (0, 1000):  # never / every image over 1,000 pixels
        with TestClient(create_app(Settings(isolate_pixels=isolate), registry), base_url="http://localhost") as c:
            r = post(c, name)
            answers.append((r.status_code, r.headers["content-type"], r.content))
    assert answers[0] == answers[1]
    assert answers[0][0] == (200 if name in ANSWERED else 413 if "over" in name else 422)


def test_helper_answers_v2_as_the_worker_does(registry: Registry) -> None:
    answers = []
    for isolate in (0, 1000):
        with TestClient(create_app(Settings(isolate_pixels=isolate), registry), base_url="http://localhost") as c:
            r = post(c, ANSWERED[0], "/api/v2/predict?steps=true&encoding=json")
            assert r.status_code == 200, r.text
            body = r.json()
            answers.append({k: v for k, v in body.items() if k != "input_id"})
    assert answers[0] == answers[1]


def test_a_crashing_helper_is_a_json_422(registry: Registry, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(inputs, "preprocess_image", isolation_targets.crash_in_helper)
    with TestClient(create_app(Settings(isolate_pixels=1000), registry), base_url="http://localhost") as c:
        r = post(c, ANSWERED[0])
        assert r.status_code == 422 and r.json()["error"]["code"] == "corrupt_image", r.text
        assert c.get("/healthz").status_code == 200


def test_a_helper_past_its_deadline_is_a_json_503_with_retry_after(registry: Registry) -> None:
    settings = Settings(isolate_pixels=1000, isolate_timeout=0.001)
    with TestClient(create_app(settings, registry), base_url="http://localhost") as c:
        r = post(c, ANSWERED[0])
    assert r.status_code == 503 and r.json()["error"]["code"] == "decode_timeout", r.text
    assert int(r.headers["retry-after"]) >= 1


def test_a_helper_gets_only_what_is_left_of_the_request_budget(
    registry: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A decode that would hang for an hour, a helper timeout of 60 s, and a request budget of 1 s: the budget wins.
    monkeypatch.setattr(inputs, "preprocess_image", isolation_targets.hang_in_helper)
    settings = Settings(isolate_pixels=1000, isolate_timeout=60, request_budget=1.0)
    with TestClient(create_app(settings, registry), base_url="http://localhost") as c:
        started = time.monotonic()
        r = post(c, ANSWERED[0])
        took = time.monotonic() - started
        assert c.get("/healthz").status_code == 200
    assert r.status_code == 503 and r.json()["error"]["code"] == "decode_timeout", r.text
    assert "time budget" in r.json()["error"]["message"] and int(r.headers["retry-after"]) >= 1
    assert took < 30, f"answered after {took:.1f} s: the helper ran to its own 60 s timeout, not the 1 s budget"


def test_small_images_stay_in_the_worker(registry: Registry, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.support.drawings import draw_digit, png

    def no_helper(*_: object, **__: object) -> object:
        raise AssertionError("a small image went to a helper process")

    monkeypatch.setattr(inputs.isolation, "call", no_helper)
    with TestClient(create_app(Settings(), registry), base_url="http://localhost") as c:
        r = c.post("/api/v1/predict", content=png(draw_digit("7", width=18)), headers={"content-type": "image/png"})
    assert r.status_code == 200, r.text


def test_a_full_executor_refuses_a_large_image_at_once(registry: Registry, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_helper(*_: object, **__: object) -> object:
        raise AssertionError("a refused request started a helper process")

    monkeypatch.setattr(inputs.isolation, "call", no_helper)
    app = create_app(Settings(executor_threads=1, executor_queue=0, isolate_pixels=1000), registry)
    app.state.executor.pending = 1  # as if a job were running
    with TestClient(app, base_url="http://localhost") as c:
        r = post(c, ANSWERED[0])
    assert r.status_code == 503 and r.json()["error"]["code"] == "busy" and r.headers["retry-after"] == "1"
