"""Strict HTTP: HEAD wherever GET, repeated parameters, canonical ids, trusted hosts, relative redirects, request ids,
413 however a body is framed, the executor's 503, and logs: one line per disconnect, one traceback per bug."""

from __future__ import annotations

import asyncio
import json
import logging
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Coroutine, Iterator
from typing import Any, TypeVar

import pytest
from fastapi.testclient import TestClient

from app.core import inspection
from app.core.registry import Registry
from app.core.samples import pixels
from app.web.app import create_app
from app.web.budget import REQUEST_CLOCK, RequestClock
from app.web.errors import ApiError
from app.web.executor import Executor
from app.web.settings import Settings
from tests.support.drawings import draw_digit, png

PIXELS = {"pixels": pixels(0).tolist()}
T = TypeVar("T")


def asgi_scope(method: str, target: str, headers: list[tuple[bytes, bytes]]) -> dict[str, Any]:
    """An HTTP request's ASGI scope, for calling the app directly with a receive() of the test's own."""
    path, _, query = target.partition("?")
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
    }


def run_alone(make: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """asyncio.run in a thread of its own (another test's event loop may be running in this one)."""
    out: list[T] = []
    thread = threading.Thread(target=lambda: out.append(asyncio.run(make())))
    thread.start()
    thread.join(timeout=60)
    return out[0]


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/lab",
        "/docs",
        "/healthz",
        "/api/v1/model",
        "/api/v1/models",
        "/api/v1/samples/3.png",
        "/static/js/visualiser/main.js",
        "/openapi.json",
    ],
)
def test_head_works_wherever_get_does(client: TestClient, path: str) -> None:
    get, head = client.get(path), client.head(path)
    assert get.status_code == head.status_code == 200
    assert head.content == b"" and head.headers["content-type"] == get.headers["content-type"]


@pytest.mark.parametrize(
    "query",
    ["model=lenet&model=lenet5", "encoding=json&encoding=f32", "steps=true&steps=false", "layers=&layers=conv1"],
)
def test_repeated_query_parameters_are_422(client: TestClient, query: str) -> None:
    r = client.post(f"/api/v1/predict?{query}", json=PIXELS)
    assert r.status_code == 422 and r.json()["error"]["code"] == "repeated_parameter"


@pytest.mark.parametrize("sample", ["1.0", "+1", "01", "-1", "1e0", "%201", "0x1", "1_0", "١"])
def test_sample_ids_are_canonical_integers(client: TestClient, sample: str) -> None:
    r = client.get(f"/api/v1/samples/{sample}.png")
    assert r.status_code in (404, 422) and r.json()["error"]["code"]


def test_canonical_sample_ids_work(client: TestClient) -> None:
    assert client.get("/api/v1/samples/0.png").status_code == 200
    assert client.get("/api/v1/samples/9999.png").status_code == 200
    assert client.get("/api/v1/samples/10000.png").status_code == 404


@pytest.mark.parametrize("host", ["evil.example", "localhost.evil.example", "127.0.0.2", "[::2]:8000", ""])
def test_untrusted_host_is_400(client: TestClient, host: str) -> None:
    r = client.get("/api/v1/models", headers={"host": host})
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_host"


@pytest.mark.parametrize("host", ["localhost", "LOCALHOST:8000", "127.0.0.1:1", "[::1]:8000", "localhost."])
def test_trusted_hosts(client: TestClient, host: str) -> None:
    assert client.get("/healthz", headers={"host": host}).status_code == 200


def test_allowed_hosts_setting(registry: Registry) -> None:
    app = create_app(Settings(allowed_hosts=("convscope.example",)), registry)
    with TestClient(app, base_url="http://convscope.example") as c:
        assert c.get("/healthz").status_code == 200
        assert c.get("/healthz", headers={"host": "localhost"}).status_code == 400
    assert Settings(allowed_hosts="a.example, b.example").allowed_hosts == ("a.example", "b.example")  # type: ignore[arg-type]
    with TestClient(create_app(Settings(allowed_hosts=("*",)), registry), base_url="http://any.example") as c:
        assert c.get("/healthz").status_code == 200


def test_redirects_never_echo_the_host(client: TestClient) -> None:
    r = client.get("/static", headers={"host": "127.0.0.1:9"}, follow_redirects=False)
    assert r.status_code == 307 and r.headers["location"] == "/static/"


def test_request_id_is_echoed_or_made(client: TestClient) -> None:
    assert client.get("/healthz", headers={"x-request-id": "abc-123"}).headers["x-request-id"] == "abc-123"
    made = client.get("/healthz", headers={"x-request-id": "bad id\twith spaces"}).headers["x-request-id"]
    assert made != "bad id\twith spaces" and len(made) == 16
    assert client.get("/healthz").headers["x-request-id"] != client.get("/healthz").headers["x-request-id"]


def chunks(total: int, size: int = 1024 * 1024) -> Iterator[bytes]:
    boundary = (
        b'--x\r\nContent-Disposition: form-data; name="image"; filename="a.png"\r\nContent-Type: image/png\r\n\r\n'
    )
    yield boundary
    for _ in range(total // size):
        yield b"\x00" * size


@pytest.mark.parametrize("content_type", ["multipart/form-data; boundary=x", "image/png", "application/json"])
def test_chunked_body_over_the_limit_is_413(client: TestClient, content_type: str) -> None:
    r = client.post("/api/v1/predict", content=chunks(10 * 1024 * 1024), headers={"content-type": content_type})
    assert r.status_code == 413 and r.json()["error"]["code"] == "too_large"


def test_lab_body_over_the_limit_is_413(client: TestClient) -> None:
    r = client.post(
        "/api/v1/lab/convolve", content=chunks(10 * 1024 * 1024), headers={"content-type": "application/json"}
    )
    assert r.status_code == 413


def test_a_twelve_megapixel_photo_works(client: TestClient) -> None:
    from tests.support.hostile import costly_images

    _, data, mime = next(c for c in costly_images() if "12 MP" in c[0])
    r = client.post("/api/v1/predict?layers=&steps=false", content=data, headers={"content-type": mime})
    assert r.status_code == 200, r.text


def test_full_executor_is_503_busy_at_once() -> None:
    executor = Executor(threads=1, queue=1)
    release = threading.Event()

    async def scenario() -> list[object]:
        jobs = [asyncio.ensure_future(executor.run(release.wait, 10)) for _ in range(2)]
        await asyncio.sleep(0.05)
        with pytest.raises(ApiError) as refused:
            await executor.run(lambda: None)
        release.set()
        results = await asyncio.gather(*jobs)
        assert executor.pending == 0
        return [refused.value, *results]

    refused, *results = run_alone(scenario)
    executor.shutdown()
    assert isinstance(refused, ApiError) and refused.status == 503 and refused.code == "busy"
    assert refused.headers["Retry-After"] == "1" and results == [True, True]


def test_a_job_queued_past_its_request_budget_is_not_started() -> None:
    executor = Executor(threads=1, queue=1, budget=0.2)
    release = threading.Event()
    started: list[str] = []

    async def scenario() -> tuple[object, object]:
        first = asyncio.ensure_future(executor.run(release.wait, 10))  # no request clock here: no deadline
        await asyncio.sleep(0.05)
        REQUEST_CLOCK.set(RequestClock())
        second = asyncio.ensure_future(executor.run(started.append, "second"))
        await asyncio.sleep(0.4)  # its budget passes while the first job holds the only thread
        release.set()
        outcomes = await asyncio.gather(first, second, return_exceptions=True)
        assert executor.pending == 0
        return outcomes[0], outcomes[1]

    first, second = run_alone(scenario)
    executor.shutdown()
    assert first is True and started == [], "the queued job ran although its request's budget was gone"
    assert isinstance(second, ApiError) and second.status == 503 and second.code == "busy"
    assert second.headers["Retry-After"] == "1" and "0.2 s" in second.message


def test_a_job_expected_to_wait_past_its_budget_is_refused_at_once() -> None:
    executor = Executor(threads=1, queue=8, max_wait=6.0, budget=1.0)
    executor.pending, executor.mean_seconds = 1, 2.0  # one job ahead, of 2 s: within max_wait, beyond the budget

    async def scenario() -> tuple[object, object]:
        without_request = await executor.run(lambda: "ran")  # no request: max_wait alone decides
        REQUEST_CLOCK.set(RequestClock())
        try:
            return without_request, await executor.run(lambda: "ran")
        except ApiError as exc:
            return without_request, exc

    without_request, with_request = run_alone(scenario)
    executor.shutdown()
    assert without_request == "ran"
    assert isinstance(with_request, ApiError) and with_request.status == 503 and with_request.code == "busy"


def test_a_spent_budget_is_a_json_503_busy(registry: Registry) -> None:
    app = create_app(Settings(request_budget=1e-9), registry)
    with TestClient(app, base_url="http://localhost") as c:
        r = c.post("/api/v1/predict", json=PIXELS)
        assert c.get("/healthz").status_code == 200
    assert r.status_code == 503 and r.json()["error"]["code"] == "busy" and r.headers["retry-after"] == "1"


def test_the_budget_counts_from_the_last_body_byte(registry: Registry) -> None:
    # A client that takes 1 s to send its body still gets its answer under a 0.5 s budget: its own upload is not
    # the server's queue (the body's own deadline is body_timeout).
    app = create_app(Settings(request_budget=0.5), registry)
    body = json.dumps(PIXELS).encode()
    parts = [body[:100], body[100:]]
    sent: list[dict] = []

    async def receive() -> dict:
        if not parts:
            await asyncio.sleep(60)  # nothing more from this client
        if len(parts) == 1:
            await asyncio.sleep(1.0)
        chunk = parts.pop(0)
        return {"type": "http.request", "body": chunk, "more_body": bool(parts)}

    async def send(message: dict) -> None:
        sent.append(message)

    headers = [(b"host", b"localhost"), (b"content-type", b"application/json")]
    run_alone(lambda: app(asgi_scope("POST", "/api/v1/predict?layers=&steps=false", headers), receive, send))
    assert sent[0]["status"] == 200, sent
    with TestClient(create_app(Settings(), registry), base_url="http://localhost") as c:
        at_once = c.post("/api/v1/predict?layers=&steps=false", content=body, headers=dict(headers[1:]))
    assert at_once.status_code == 200 and b"".join(m.get("body", b"") for m in sent[1:]) == at_once.content


def test_busy_is_a_json_503_with_retry_after(registry: Registry, monkeypatch: pytest.MonkeyPatch) -> None:
    app = create_app(Settings(executor_threads=1, executor_queue=0), registry)
    app.state.executor.pending = 1  # as if a job were running
    with TestClient(app, base_url="http://localhost") as c:
        r = c.post("/api/v1/predict", json=PIXELS)
    assert r.status_code == 503 and r.json()["error"]["code"] == "busy" and r.headers["retry-after"] == "1"


def test_unexpected_error_is_one_traceback_and_a_json_500(
    registry: Registry, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(*_: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(inspection, "predict", broken)
    app = create_app(Settings(log_level="warning"), registry)
    with (
        caplog.at_level(logging.ERROR),
        TestClient(app, base_url="http://localhost", raise_server_exceptions=False) as c,
    ):
        r = c.post("/api/v1/predict", json=PIXELS, headers={"x-request-id": "bug-1"})
    assert r.status_code == 500 and r.json()["error"]["code"] == "internal_error" and "bug-1" in r.text
    tracebacks = [rec for rec in caplog.records if rec.exc_info]
    assert len(tracebacks) == 1 and "bug-1" in tracebacks[0].getMessage()


def test_client_disconnect_mid_body_is_one_line(registry: Registry, caplog: pytest.LogCaptureFixture) -> None:
    app = create_app(Settings(log_level="warning"), registry)
    messages = [{"type": "http.request", "body": b'{"pixels": [[0.0', "more_body": True}, {"type": "http.disconnect"}]
    sent: list[dict] = []

    async def receive() -> dict:
        return messages.pop(0)

    async def send(message: dict) -> None:
        sent.append(message)

    headers = [(b"host", b"localhost"), (b"content-type", b"application/json"), (b"x-request-id", b"gone-1")]
    scope = asgi_scope("POST", "/api/v1/predict", headers)
    logger = logging.getLogger("convscope.access")
    logger.addHandler(caplog.handler)
    try:
        with caplog.at_level(logging.INFO):
            run_alone(lambda: app(scope, receive, send))
    finally:
        logger.removeHandler(caplog.handler)
    assert sent == []
    lines = [r for r in caplog.records if "gone-1" in r.getMessage()]
    assert len(lines) == 1 and "disconnected" in lines[0].getMessage() and not lines[0].exc_info
    assert not [r for r in caplog.records if r.exc_info]


def test_decoding_budget_comes_from_settings(registry: Registry) -> None:
    app = create_app(Settings(decode_pixels=100_000), registry)
    with TestClient(app, base_url="http://localhost") as c:
        r = c.post("/api/v1/predict", files={"image": ("a.png", png(draw_digit("7", size=400)), "image/png")})
    assert r.status_code == 413 and "100000" in r.json()["error"]["message"]


def test_a_long_job_hands_freed_memory_back(monkeypatch: pytest.MonkeyPatch) -> None:
    from app.web import executor as module

    trims: list[int] = []
    monkeypatch.setattr(module, "release_free_memory", lambda: trims.append(1))
    executor = Executor(threads=1, queue=1)

    async def scenario() -> list[object]:
        return [await executor.run(time.sleep, 0.001), await executor.run(time.sleep, module.TRIM_AFTER_SECONDS * 2)]

    run_alone(scenario)
    executor.shutdown()
    assert trims == [1], "a short job leaves the heap alone; a long one trims it once"


MAPPED_BLOCK = """
import ctypes, sys
import numpy as np
from app.web.executor import _LIBC, tune_allocator

class Mallinfo2(ctypes.Structure):
    _fields_ = [(n, ctypes.c_size_t) for n in "arena ordblks smblks hblks hblkhd usmblks fsmblks uordblks".split()]

_LIBC.mallinfo2.restype = Mallinfo2
tune_allocator(int(sys.argv[1]), 0)  # at start, as a worker does
big = np.ones(20 * 2**20 // 8)
del big  # glibc's sliding threshold would now rise to 20 MiB: later 5 MiB blocks would come from the heap
block = np.ones(5 * 2**20 // 8)  # a 5 MiB block, as a decoded image or a helper's answer
print(_LIBC.mallinfo2().hblkhd)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")
def test_a_fixed_mmap_threshold_keeps_large_blocks_out_of_the_heap() -> None:
    # In processes of their own (mallopt is process-wide); glibc's own count of mapped bytes is the reference.
    def mapped(threshold: int) -> int:
        args = [sys.executable, "-c", MAPPED_BLOCK, str(threshold)]
        return int(subprocess.run(args, capture_output=True, text=True, check=True).stdout)

    sliding, fixed = mapped(0), mapped(4 * 2**20)
    assert fixed - sliding >= 5 * 2**20, (sliding, fixed)
