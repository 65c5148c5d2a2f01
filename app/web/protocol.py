"""Uvicorn's httptools protocol with the bounds it lacks: header size, header deadline, requests per connection, drain.

Uvicorn's httptools protocol (the fast one) has no limit on the request head — a 64 MiB header is read and
answered — and no deadline for it: its idle timer is armed only after a response and disarmed by any byte, so a
client that never sends, or drips a header byte at a time, holds its connection forever. The h11 protocol bounds the
head but costs throughput on the happy path (see the README's reliability section), so this subclass adds:

* a head limit: more than `max_header_bytes` before the headers end → 431 (JSON) and the connection closed; what is
  buffered is bounded by the limit plus one read;
* a head deadline: the request line and headers must arrive within `header_timeout` of their first byte → 408;
* an idle deadline from the moment a connection opens, not only after a response;
* `max_requests` and `max_age` per connection: the response that reaches either says `Connection: close`, so
  keep-alive clients reconnect from time to time and the kernel spreads them again over the workers (a restarted
  worker gets its share back within seconds, whether clients send many requests or few);
* a connection whose response is complete while its client is still sending a body nobody will read is closed;
* a drain that drops nothing: on shutdown an idle connection stays open briefly, so a request already on its way is
  answered (with `Connection: close`) instead of meeting a closed socket, and a head still arriving is let in; a
  response whose head already promised keep-alive is followed by the same short linger, not by a close.

The body's deadline and size are enforced in app.web.guard, where the request id is known.
"""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass
from typing import Any, ClassVar

import httptools
from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.server import ServerState

from app.web import access_log
from app.web.guard import refusal

DRAIN_LINGER = 1.0  # seconds an idle connection stays open on shutdown, for a request that is already on its way


class _Refused(Exception):
    pass


@dataclass(frozen=True)
class ConnectionLimits:
    """The per-connection bounds (from Settings)."""

    max_header_bytes: int
    header_timeout: float
    keep_alive_timeout: float
    max_requests: int
    max_age: float
    drain_timeout: float


class BoundedHttpToolsProtocol(HttpToolsProtocol):
    """See the module docstring; `limits` is set on a subclass made by `protocol_class`."""

    limits: ClassVar[ConnectionLimits]

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self.timeout_keep_alive = self.limits.keep_alive_timeout  # type: ignore[assignment]
        self.in_head = False
        self.head_bytes = 0
        self.head_timer: asyncio.TimerHandle | None = None
        self.requests = 0
        self.opened = 0.0
        self.draining = False
        self.refusal: tuple[int, str, str] | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self.opened = self.loop.time()
        self.timeout_keep_alive_task = self.loop.call_later(self.timeout_keep_alive, self.timeout_keep_alive_handler)

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_head_timer()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        # uvicorn's own version, minus its log line for bad requests: each refusal is logged once, by _refuse.
        self._unset_keepalive_if_required()
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            pass  # WebSockets are off (ws="none"): an Upgrade request is answered as plain HTTP
        except httptools.HttpParserError:
            self.send_400_response("")
            return
        if self.in_head and not self.transport.is_closing():
            # Counted per read, after parsing: a read that also completed the head is not counted, so the bound is
            # the limit plus at most one read (a pipelined read may over-count: the client then gets a 431 early).
            self.head_bytes += len(data)
            if self.head_bytes > self.limits.max_header_bytes:
                self._refuse(431, "headers_too_large", self._too_large())

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self.in_head = True
        self.head_bytes = 0
        if self.head_timer is None:
            self.head_timer = self.loop.call_later(self._head_allowance(), self._head_timed_out)

    def on_headers_complete(self) -> None:
        self.in_head = False
        self._cancel_head_timer()
        # A head that arrived in one read was never counted in data_received: measure it exactly here.
        size = len(self.url) + sum(len(name) + len(value) + 4 for name, value in self.headers)
        if size > self.limits.max_header_bytes:
            self.refusal = (431, "headers_too_large", self._too_large())
            raise _Refused  # stops the parser; uvicorn then calls send_400_response, which sends self.refusal
        super().on_headers_complete()
        self.requests += 1
        if self.cycle is not None and (
            self.draining
            or self.requests >= self.limits.max_requests
            or self.loop.time() - self.opened >= self.limits.max_age
        ):
            self.cycle.keep_alive = False

    def on_response_complete(self) -> None:
        super().on_response_complete()
        cycle = self.cycle
        if cycle is not None and cycle.response_complete and cycle.more_body and not self.transport.is_closing():
            self.transport.close()  # the client is still sending a body that nobody will read

    def send_400_response(self, msg: str) -> None:
        """Unparseable HTTP (or a refusal raised from a parser callback): the JSON error body, like every answer."""
        self._refuse(*(self.refusal or (400, "invalid_http", "The request is not valid HTTP/1.1.")))

    def _too_large(self) -> str:
        return f"The request line and headers exceed {self.limits.max_header_bytes} bytes."

    def shutdown(self) -> None:
        self.draining = True
        # From now on every idle spell lasts at most the linger, including the one after a response in flight.
        self.timeout_keep_alive = min(self.timeout_keep_alive, DRAIN_LINGER)  # type: ignore[assignment]
        if self.cycle is not None and not self.cycle.response_complete:
            if not self.cycle.response_started:
                self.cycle.keep_alive = False  # its head, not yet written, will say Connection: close
            # Otherwise the head already went out without `Connection: close`, so the client may reuse the connection
            # the moment the body ends: closing right then would meet its next request. The connection lingers instead
            # (on_response_complete arms the shortened idle timer) and that request is answered with Connection: close.
        elif self.in_head:
            # A request is arriving: let it in (answered with Connection: close), but not past the drain deadline.
            self._cancel_head_timer()
            self.head_timer = self.loop.call_later(self._head_allowance(), self._head_timed_out)
        else:
            self._unset_keepalive_if_required()
            self.timeout_keep_alive_task = self.loop.call_later(DRAIN_LINGER, self.timeout_keep_alive_handler)

    def _head_allowance(self) -> float:
        if self.draining:
            return min(self.limits.header_timeout, max(0.1, self.limits.drain_timeout - 1.0))
        return self.limits.header_timeout

    def _head_timed_out(self) -> None:
        self.head_timer = None
        if self.in_head and not self.transport.is_closing():
            self._refuse(
                408,
                "request_timeout",
                f"The request line and headers did not arrive within {self._head_allowance():g} s.",
            )

    def _cancel_head_timer(self) -> None:
        if self.head_timer is not None:
            self.head_timer.cancel()
            self.head_timer = None

    def _refuse(self, status: int, code: str, message: str) -> None:
        """Answer in JSON and close, unless a response is being written on this connection (then only close)."""
        request_id = secrets.token_hex(8)
        access_log.connection_event(f"{status} {code}: {message}", request_id, self.client)
        self.in_head = False
        self._cancel_head_timer()
        if self.cycle is None or self.cycle.response_complete:
            start, body = refusal(status, code, message, request_id.encode())
            head = [f"HTTP/1.1 {status} {_REASONS.get(status, '')}\r\n".encode()]
            head += [name + b": " + value + b"\r\n" for name, value in start["headers"]]
            self.transport.write(b"".join([*head, b"\r\n", body["body"]]))
        self.transport.close()


_REASONS = {400: "Bad Request", 408: "Request Timeout", 431: "Request Header Fields Too Large"}


def protocol_class(limits: ConnectionLimits) -> type[BoundedHttpToolsProtocol]:
    """The protocol class uvicorn instantiates per connection, carrying these limits."""
    return type("ConvscopeHttpProtocol", (BoundedHttpToolsProtocol,), {"limits": limits})
