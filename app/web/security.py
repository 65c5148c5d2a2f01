"""Security headers on every response, and CORS only for origins the operator allows."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Scripts only from this origin (no inline script anywhere); styles may be set inline by the page's own code.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
    "frame-ancestors 'none'"
)


def headers(frame_ancestors: str = "'none'") -> list[tuple[bytes, bytes]]:
    """The headers every response carries; who may frame the page is the one thing an operator may widen."""
    csp = CSP.replace("frame-ancestors 'none'", f"frame-ancestors {frame_ancestors}")
    framing = [(b"x-frame-options", b"DENY")] if frame_ancestors == "'none'" else []
    return [
        (b"content-security-policy", csp.encode()),
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"no-referrer"),
        *framing,
        (b"cross-origin-opener-policy", b"same-origin"),
        (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
    ]


class SecurityHeaders:
    """Adds the security headers to every HTTP response (errors included)."""

    def __init__(self, app: ASGIApp, frame_ancestors: str = "'none'") -> None:
        self.app = app
        self.headers = headers(frame_ancestors)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {k.lower() for k, _ in message.get("headers", [])}
                message["headers"] = [*message.get("headers", []), *(h for h in self.headers if h[0] not in present)]
            await send(message)

        await self.app(scope, receive, with_headers)


def install(app: FastAPI, cors_origins: tuple[str, ...], frame_ancestors: str = "'none'") -> None:
    """Security headers always; CORS only when an allow-list is configured (off by default)."""
    if cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(cors_origins),
            allow_methods=["GET", "POST"],
            allow_headers=["content-type"],
            max_age=600,
        )
    app.add_middleware(SecurityHeaders, frame_ancestors=frame_ancestors)
