"""Hostile clients against a real server (short timeouts): header limits, slow drips, idle and reused connections,
one owner per port, the drain on SIGTERM and the costly-image flood (fast variants; tests/stress has the full ones)."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator

import httpx2 as httpx
import pytest

from app.core.samples import pixels
from bench import reliability
from tests.support.hostile import connect, drip, read_response, request_head
from tests.support.live_server import rss_kib, server_process

SHORT = {
    "CONVSCOPE_HEADER_TIMEOUT": "1",
    "CONVSCOPE_BODY_TIMEOUT": "1",
    "CONVSCOPE_KEEP_ALIVE_TIMEOUT": "1",
    "CONVSCOPE_MAX_REQUESTS_PER_CONNECTION": "5",
}
PIXELS = {"pixels": pixels(0).tolist()}


@pytest.fixture(scope="module")
def short() -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """A server with 1-second deadlines and 5 requests per connection."""
    with server_process(env=SHORT) as (url, proc):
        yield url, proc


def is_json_error(response: tuple[int, dict[str, str], bytes] | None, status: int) -> bool:
    if response is None:
        return False
    got, headers, body = response
    return got == status and headers["content-type"] == "application/json" and bool(json.loads(body)["error"]["code"])


def test_oversized_header_is_431_and_memory_stays_flat(short: tuple[str, subprocess.Popen[bytes]]) -> None:
    url, proc = short
    before = rss_kib(proc.pid)
    with connect(url) as s:  # a whole 70 KB head in one write, complete
        s.sendall(request_head(extra="X-Big: ") + b"a" * 70_000 + b"\r\n\r\n")
        assert is_json_error(read_response(s), 431)
    for size in (64 * 1024, 4 * 1024 * 1024):
        with connect(url) as s:
            s.sendall(request_head(extra="X-Big: "))
            sent = 0
            try:
                while sent < size:
                    s.sendall(b"a" * 65536)
                    sent += 65536
            except OSError:
                pass  # the server closed the connection: the rest of the header is refused unread
            response = read_response(s, timeout=5)
        assert response is None or is_json_error(response, 431), response
        assert sent < size or size == 64 * 1024, "a 4 MiB header was read to the end"
    assert rss_kib(proc.pid) - before < 20_000
    assert httpx.get(url + "/healthz").status_code == 200


def test_header_drip_gets_408(short: tuple[str, subprocess.Popen[bytes]]) -> None:
    url, _ = short
    with connect(url) as s:
        started = time.monotonic()
        drip(s, request_head() + b"X-Slow: " + b"a" * 100, 0.05, started + 5)
        response = read_response(s, timeout=5)
    assert is_json_error(response, 408), response
    assert time.monotonic() - started < 4


def test_body_drip_gets_408(short: tuple[str, subprocess.Popen[bytes]]) -> None:
    url, _ = short
    body = json.dumps(PIXELS).encode()
    with connect(url) as s:
        head = request_head(
            "/api/v1/predict", "POST", f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        )
        s.sendall(head)
        started = time.monotonic()
        drip(s, body, 0.05, started + 3)
        response = read_response(s, timeout=5)
    assert is_json_error(response, 408), response
    assert response is not None and response[1]["x-request-id"]


def test_silent_connection_is_closed(short: tuple[str, subprocess.Popen[bytes]]) -> None:
    url, _ = short
    with connect(url) as s:
        started = time.monotonic()
        assert read_response(s, timeout=5) is None
        assert time.monotonic() - started < 3


def test_invalid_http_is_a_json_400(short: tuple[str, subprocess.Popen[bytes]]) -> None:
    url, _ = short
    with connect(url) as s:
        s.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nBad Header\r\n\r\n")
        assert is_json_error(read_response(s), 400)


def test_connection_closed_after_max_requests(short: tuple[str, subprocess.Popen[bytes]]) -> None:
    url, _ = short
    with connect(url) as s:
        for i in range(1, 6):
            s.sendall(request_head() + b"\r\n")
            response = read_response(s)
            assert response is not None and response[0] == 200
            assert (response[1].get("connection") == "close") == (i == 5), (i, response[1])
        assert read_response(s, timeout=2) is None


def test_pipelined_requests_are_answered_in_order(short: tuple[str, subprocess.Popen[bytes]]) -> None:
    url, _ = short
    data = b""
    with connect(url) as s:
        s.sendall((request_head() + b"X-Request-ID: one\r\n\r\n") + (request_head() + b"X-Request-ID: two\r\n\r\n"))
        while data.count(b"x-request-id") < 2 and (chunk := s.recv(65536)):
            data += chunk
    assert data.count(b"HTTP/1.1 200") == 2
    assert data.index(b"x-request-id: one") < data.index(b"x-request-id: two")


def serve_on(port: int, workers: int) -> subprocess.Popen[str]:
    cmd = [
        sys.executable,
        "-m",
        "app",
        "serve",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--log-level",
        "warning",
    ]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.mark.parametrize("workers", [1, 2])
def test_port_already_bound_by_anyone(workers: int) -> None:
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = other.getsockname()[1]
        proc = serve_on(port, workers)
        _, err = proc.communicate(timeout=60)
    assert proc.returncode != 0
    lines = err.strip().splitlines()
    assert len(lines) == 1 and f"port {port}" in lines[0], err


def test_port_already_served_by_convscope(short: tuple[str, subprocess.Popen[bytes]]) -> None:
    url, _ = short
    port = int(url.rsplit(":", 1)[1])
    for workers in (1, 2):
        proc = serve_on(port, workers)
        _, err = proc.communicate(timeout=60)
        assert proc.returncode != 0 and f"port {port}" in err and len(err.strip().splitlines()) == 1, err


def test_sigterm_drains_32_clients_without_dropping_any() -> None:
    outcomes: Counter[str] = Counter()
    stop = threading.Event()
    with server_process(workers=2) as (url, proc):

        def client() -> None:
            with httpx.Client(base_url=url, timeout=30) as c:
                while not stop.is_set():
                    try:
                        r = c.post("/api/v1/predict?steps=false&encoding=binary", json=PIXELS)
                        outcomes[str(r.status_code)] += 1
                    except httpx.ConnectError:
                        outcomes["refused"] += 1  # after the drain began: never sent, so not dropped
                        return
                    except httpx.HTTPError as exc:
                        outcomes[type(exc).__name__] += 1

        threads = [threading.Thread(target=client) for _ in range(32)]
        for t in threads:
            t.start()
        time.sleep(2)
        proc.send_signal(signal.SIGTERM)
        started = time.monotonic()
        assert proc.wait(timeout=30) == 0
        drained = time.monotonic() - started
        stop.set()
        for t in threads:
            t.join(timeout=30)
    dropped = {k: v for k, v in outcomes.items() if k not in ("200", "refused")}
    assert not dropped and outcomes["200"] > 20, outcomes
    assert drained < 10


def test_costly_flood_leaves_healthz_responsive() -> None:
    """8 clients (in a child process) post the costliest images for 5 s; /healthz stays responsive, all answered."""
    with server_process(workers=1) as (url, _):
        result = reliability.flood(url, clients=8, seconds=5)
    assert set(result["costly_statuses"]) <= {200, 413, 422, 503} and not result["costly_errors"], result
    assert result["costly_slowest_s"] < 10, result
    # Before decoding moved off the event loop /healthz took seconds here. The 50 ms target is held by tests/stress
    # with 32 clients; on a shared 2-core machine running the whole suite this bound is deliberately loose.
    assert result["healthz_p99_ms"] < 1000, result
