"""The drain's edges, made deterministic: a response whose head went out before shutdown is not followed by a close;
a draining listener starts no new handshake but keeps those already queued."""

from __future__ import annotations

import asyncio
import socket
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import uvicorn

from app.web.protocol import ConnectionLimits, protocol_class
from app.web.server import _drop_new_handshakes, _Server, _socket
from tests.support.hostile import read_response

LIMITS = ConnectionLimits(
    max_header_bytes=8192, header_timeout=5, keep_alive_timeout=5, max_requests=100, max_age=60, drain_timeout=5
)


async def slow_body(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Send the head at once and the body after 0.6 s (so shutdown can start in between); `/fast` answers at once."""
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"4")]})
    if scope["path"] == "/slow":
        await asyncio.sleep(0.6)
    await send({"type": "http.response.body", "body": b"done"})


@pytest.fixture
def server() -> Iterator[tuple[_Server, int]]:
    sock = _socket("127.0.0.1", 0, reuse_port=False)
    config = uvicorn.Config(slow_body, http=protocol_class(LIMITS), ws="none", lifespan="off", log_level="warning")
    srv = _Server(config, [sock])
    thread = threading.Thread(target=srv.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not srv.started:
        time.sleep(0.01)
    yield srv, sock.getsockname()[1]
    srv.should_exit = True
    thread.join(timeout=10)


def get(path: str) -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n".encode()


def test_request_right_after_a_keep_alive_response_is_answered_during_drain(server: tuple[_Server, int]) -> None:
    srv, port = server
    with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
        conn.sendall(get("/slow"))
        time.sleep(0.2)  # the head (no Connection: close) is on the wire; the body is 0.4 s away
        srv.should_exit = True  # the drain starts on uvicorn's next tick (≤ 0.1 s)
        first = read_response(conn)
        assert first is not None and first[0] == 200 and first[2] == b"done"
        assert first[1].get("connection") != "close"  # the head was written before the drain: it promised keep-alive
        conn.sendall(get("/fast"))  # what a keep-alive client does next, at once
        second = read_response(conn)
    # Before the fix the server closed the connection right after the first body and this request met a closed socket.
    assert second is not None and second[0] == 200 and second[2] == b"done", second
    assert second[1].get("connection") == "close"


def test_idle_connection_lingers_then_closes(server: tuple[_Server, int]) -> None:
    srv, port = server
    with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
        conn.sendall(get("/fast"))
        assert (read_response(conn) or (0,))[0] == 200
        srv.should_exit = True
        time.sleep(0.3)  # draining: an idle connection is still open for a request already on its way
        conn.sendall(get("/fast"))
        answer = read_response(conn)
        assert answer is not None and answer[0] == 200 and answer[1].get("connection") == "close"
        assert conn.recv(1) == b""  # and then it is closed


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the SYN filter is Linux-only")
def test_draining_listener_refuses_new_handshakes_but_keeps_the_queued_ones() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        address = listener.getsockname()
        queued = socket.create_connection(address, timeout=2)  # handshake done, not yet accepted
        assert _drop_new_handshakes(listener)
        queued.sendall(b"GET / HTTP/1.1\r\n")
        with pytest.raises(TimeoutError):  # a new SYN is dropped: the client waits, then meets the closed port
            socket.create_connection(address, timeout=0.3)
        accepted, _ = listener.accept()
        with accepted:
            assert accepted.recv(64) == b"GET / HTTP/1.1\r\n"
        queued.close()
