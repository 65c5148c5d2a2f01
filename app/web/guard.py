"""The outermost ASGI middleware: what every request passes before the app sees it, and how every request ends.

One layer (each costs per request) does: the request id (X-Request-ID in, echoed out), the trusted-host check,
HEAD as GET without a body, repeated query parameters refused, the body's size limit however it is framed and its
read deadline, redirects that never echo the Host header, and one log line per request — a client that went away,
a timeout or the drain deadline is one line, an unexpected exception one traceback, and every refusal the JSON
error body. Control flow that must cross the app's own `except Exception` blocks (multipart parsing, FastAPI's body
reading) uses BaseException subclasses, so an over-limit chunked upload is a 413, not a parse error.
"""

from __future__ import annotations

import asyncio
import re
import secrets
import time
from urllib.parse import unquote_plus, urlsplit, urlunsplit

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.web import access_log
from app.web.budget import REQUEST_CLOCK, RequestClock
from app.web.errors import error_body, log
from app.web.security import headers
from app.web.settings import Settings

REQUEST_ID = re.compile(rb"^[A-Za-z0-9._:-]{1,64}$")
WILDCARD_ADDRESSES = ("0.0.0.0", "::", "")


class _TooLarge(BaseException):
    pass


class _BodyTimeout(BaseException):
    pass


class _ClientGone(BaseException):
    pass


def host_name(value: str) -> str:
    """'Example.org:8000' → 'example.org', '[::1]:8000' → '::1'."""
    value = value.strip().lower()
    if value.startswith("["):
        return value[1 : value.find("]")] if "]" in value else value
    name, colon, port = value.rpartition(":")
    return name.rstrip(".") if colon and port.isdigit() and ":" not in name else value.rstrip(".")


# Query parameters that are lists by design in API v2 (`layers` may repeat); every other repeat is a 422.
MULTI_VALUED = frozenset({"layers"})

# Refusals are never framed: they carry the default (strictest) security headers.
ERROR_HEADERS = headers()


def refusal(status: int, code: str, message: str, request_id: bytes, close: bool = True) -> tuple[Message, Message]:
    """The two ASGI messages of a JSON error response (with the security headers, closing the connection)."""
    body = error_body(code, message)
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"x-request-id", request_id),
        *ERROR_HEADERS,
    ]
    if close:
        headers.append((b"connection", b"close"))
    return {"type": "http.response.start", "status": status, "headers": headers}, {
        "type": "http.response.body",
        "body": body,
    }


class Guard:
    """See the module docstring; `settings` gives the limits and the allowed hosts."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.max_body = settings.max_body_bytes
        self.body_timeout = settings.body_timeout
        self.any_host = "*" in settings.allowed_hosts
        self.hosts = frozenset(host_name(h) for h in settings.allowed_hosts)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        clock = RequestClock()  # the request's time budget counts from here, then from its last body byte
        REQUEST_CLOCK.set(clock)
        request_id: bytes | None = None
        hosts: list[bytes] = []
        declared: bytes | None = None
        for name, value in scope["headers"]:
            if name == b"x-request-id":
                request_id = value
            elif name == b"host":
                hosts.append(value)
            elif name == b"content-length":
                declared = value
        if request_id is None or not REQUEST_ID.match(request_id):
            request_id = secrets.token_hex(8).encode()
        rid = request_id.decode()
        status = 0
        size = 0
        event: str | None = None
        head = scope["method"] == "HEAD"
        host = hosts[0].decode("latin-1") if len(hosts) == 1 else ""

        async def guarded_send(message: Message) -> None:
            nonlocal status, size
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [*message.get("headers", ()), (b"x-request-id", request_id)]
                if 300 <= status < 400:
                    headers = [(k, _relative(v, host) if k == b"location" else v) for k, v in headers]
                message = {**message, "headers": headers}
            elif message["type"] == "http.response.body":
                size += len(message.get("body", b""))
                if head:
                    message = {**message, "body": b""}
            await send(message)

        async def refuse(code_status: int, code: str, message: str) -> None:
            start, body = refusal(code_status, code, message, request_id)
            await guarded_send(start)
            await guarded_send(body)

        try:
            problem = self._check(scope, hosts, declared)
            if problem is not None:
                await refuse(*problem)
                return
            if head:
                # Routes answer GET; the server sends HEAD's headers only (the body is dropped in guarded_send).
                scope = {**scope, "method": "GET"}
            body_done = False
            seen = 0
            deadline = asyncio.get_running_loop().time() + self.body_timeout

            async def guarded_receive() -> Message:
                nonlocal body_done, seen
                if body_done:
                    return await receive()  # after the body: disconnect notices, passed through
                try:
                    async with asyncio.timeout_at(deadline):
                        message = await receive()
                except TimeoutError:
                    raise _BodyTimeout from None
                if message["type"] == "http.disconnect":
                    raise _ClientGone
                seen += len(message.get("body", b""))
                if seen > self.max_body:
                    raise _TooLarge
                body_done = not message.get("more_body", False)
                if body_done:
                    clock.arrived = time.monotonic()
                return message

            await self.app(scope, guarded_receive, guarded_send)
        except _TooLarge:
            if not status:
                await refuse(413, "too_large", f"The request body exceeds the {self.max_body}-byte limit.")
        except _BodyTimeout:
            event = f"timeout: the body did not arrive within {self.body_timeout:g} s"
            if not status:
                await refuse(408, "request_timeout", f"The request body did not arrive within {self.body_timeout:g} s.")
        except _ClientGone:
            event = "client disconnected while sending the body"
        except asyncio.CancelledError:
            # Only the server cancels a request: the drain deadline on shutdown passed. Answer it (JSON, like every
            # answer) and end the task normally, so the server logs no traceback for it.
            event = "cancelled: the shutdown drain deadline passed"
            if not status:
                await refuse(503, "shutting_down", "The server is shutting down; retry shortly.")
        except Exception:
            log.exception("unexpected error in request %s %s %s", rid, scope["method"], scope["path"])
            if not status:
                await refuse(500, "internal_error", f"An unexpected error occurred; it has been logged as {rid}.")
        finally:
            access_log.request(scope, rid, status, size, time.perf_counter() - started, event)

    def _check(self, scope: Scope, hosts: list[bytes], declared: bytes | None) -> tuple[int, str, str] | None:
        """A refusal (status, code, message) for what can be judged before the app runs, else None."""
        if len(hosts) != 1 and not (not hosts and scope.get("http_version") == "1.0"):
            return 400, "invalid_host", "The request needs exactly one Host header."
        if hosts and not self.any_host and host_name(hosts[0].decode("latin-1")) not in self.hosts:
            return 400, "invalid_host", "This server does not answer to that Host name (see CONVSCOPE_ALLOWED_HOSTS)."
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_body):
            return 413, "too_large", f"The request body exceeds the {self.max_body}-byte limit."
        query: bytes = scope.get("query_string", b"")
        if b"&" in query:
            names = [unquote_plus(p.split(b"=", 1)[0].decode("latin-1")) for p in query.split(b"&") if p]
            lists = MULTI_VALUED if scope.get("path", "").startswith("/api/v2/") else frozenset()
            repeated = sorted({n for n in names if names.count(n) > 1 and n not in lists})
            if repeated:
                return 422, "repeated_parameter", f"Query parameter(s) given more than once: {', '.join(repeated)}."
        return None


def _relative(location: bytes, host: str) -> bytes:
    """An absolute redirect to this server's own Host becomes a path, so a Location never echoes the Host header."""
    parts = urlsplit(location.decode("latin-1"))
    if parts.scheme in ("http", "https") and (parts.netloc.lower() == host.lower() or not host):
        return urlunsplit(("", "", parts.path or "/", parts.query, parts.fragment)).encode("latin-1")
    return location
