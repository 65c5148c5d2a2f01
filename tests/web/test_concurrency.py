"""Concurrent requests with different inputs never see each other's values."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx2 as httpx
import numpy as np
import pytest

from app.core.capture import as_input, capture
from app.core.registry import LoadedModel
from app.core.samples import pixels
from app.core.trace import trace
from tests.support.live_server import server_process

N_REQUESTS = 200


def request_for(i: int) -> tuple[str, dict]:
    """Distinct inputs: a different test digit per request, alternating predict and trace."""
    body: dict = {"pixels": pixels(i).tolist()}
    if i % 2:
        return "/api/v1/trace", {**body, "layer": "conv2", "index": [i % 16, i % 10, (3 * i) % 10]}
    return "/api/v1/predict?steps=false&encoding=f32", body


@pytest.fixture(scope="module")
def roomy() -> Iterator[str]:
    """A server whose executor queue holds every request at once: this test is about isolation, not overload (with
    the default queue of 64, a burst of 200 may rightly be answered 503 busy; tests/web/test_strictness covers that)."""
    with server_process(env={"CONVSCOPE_EXECUTOR_QUEUE": str(N_REQUESTS)}) as (url, _):
        yield url


def test_200_concurrent_requests_equal_the_same_requests_alone(roomy: str) -> None:
    server = roomy
    with httpx.Client(base_url=server, timeout=60) as c:
        alone = [c.post(path, json=body).json() for path, body in map(request_for, range(N_REQUESTS))]

    def send(i: int) -> dict:
        path, body = request_for(i)
        with httpx.Client(base_url=server, timeout=60) as c:
            r = c.post(path, json=body)
            assert r.status_code == 200, r.text
            return r.json()

    with ThreadPoolExecutor(max_workers=N_REQUESTS) as pool:
        together = list(pool.map(send, range(N_REQUESTS)))
    assert together == alone
    predictions = {r["prediction"] for r in alone}
    assert len(predictions) == 10, "the inputs really differ"


def test_capture_and_trace_from_many_threads(lenet: LoadedModel) -> None:
    ids = list(range(64))
    index = lenet.index("conv1")
    reference = {i: capture(lenet.model, as_input(pixels(i))) for i in ids}

    def work(i: int) -> bool:
        out = capture(lenet.model, as_input(pixels(i)))
        same = all(np.array_equal(out[k].numpy(), reference[i][k].numpy()) for k in out)
        t = trace(lenet.model, lenet.specs, index, out, (i % 6, 14, 14))
        expected = trace(lenet.model, lenet.specs, index, reference[i], (i % 6, 14, 14))
        return same and t == expected

    with ThreadPoolExecutor(max_workers=8) as pool:
        assert all(pool.map(work, ids * 4))
