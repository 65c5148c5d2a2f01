"""Static files cannot escape their folder; every response carries the security headers; CORS is opt-in."""

from __future__ import annotations

import socket

import pytest
from fastapi.testclient import TestClient

from app.web.app import create_app
from app.web.security import CSP
from app.web.settings import Settings

TRAVERSALS = [
    "/static/../app/main.py",
    "/static/%2e%2e/app/main.py",
    "/static/%2E%2E/%2E%2E/etc/passwd",
    "/static/..%2fapp%2fmain.py",
    "/static/..%5capp%5cmain.py",
    "/static/%252e%252e/app/main.py",
    "/static/js/../../app/main.py",
    "/static/....//app/main.py",
    "/static//etc/passwd",
    "/docs-assets/../../app/main.py",
]


def raw_get(url: str, path: str) -> tuple[int, bytes]:
    """Send the path byte for byte (HTTP clients normalise '..' away before sending)."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as s:
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), body


@pytest.mark.parametrize("path", TRAVERSALS)
def test_path_traversal_is_404(server: str, path: str) -> None:
    status, body = raw_get(server, path)
    assert status == 404, (path, status)
    assert b"import" not in body and b"root:" not in body


@pytest.mark.parametrize("path", ["/static/", "/static/js/", "/static", "/docs-assets/"])
def test_no_directory_listing(server: str, path: str) -> None:
    status, body = raw_get(server, path)
    # "/static" may redirect to "/static/", which is itself a 404.
    assert status in ((404, 307) if not path.endswith("/") else (404,)) and b"main.js" not in body


def test_static_files_are_served(client: TestClient) -> None:
    r = client.get("/static/js/visualiser/main.js")
    assert r.status_code == 200 and "javascript" in r.headers["content-type"]


@pytest.mark.parametrize("path", ["/", "/healthz", "/api/v1/model", "/static/css/app.css", "/docs", "/nope"])
def test_security_headers_everywhere(client: TestClient, path: str) -> None:
    h = client.get(path).headers
    assert h["content-security-policy"] == CSP
    assert "'unsafe-inline'" not in CSP.split("script-src")[1].split(";")[0]
    assert "frame-ancestors 'none'" in CSP
    assert h["x-content-type-options"] == "nosniff"
    assert h["referrer-policy"] == "no-referrer"
    assert h["x-frame-options"] == "DENY"


def test_pages_have_no_inline_script(client: TestClient) -> None:
    for path in ("/", "/docs"):
        html = client.get(path).text
        for tag in html.split("<script")[1:]:
            assert "src=" in tag.split(">")[0], f"inline script on {path}"


def test_cors_is_off_by_default(client: TestClient) -> None:
    r = client.get("/api/v1/models", headers={"origin": "https://elsewhere.example"})
    assert "access-control-allow-origin" not in r.headers


def test_cors_allow_list(registry) -> None:
    app = create_app(Settings(cors_origins=("https://tool.example",)), registry)
    with TestClient(app, base_url="http://localhost") as c:
        ok = c.get("/api/v1/models", headers={"origin": "https://tool.example"})
        assert ok.headers["access-control-allow-origin"] == "https://tool.example"
        other = c.get("/api/v1/models", headers={"origin": "https://evil.example"})
        assert "access-control-allow-origin" not in other.headers


def test_access_log_is_structured(registry, caplog: pytest.LogCaptureFixture) -> None:
    import json
    import logging

    app = create_app(Settings(log_level="info"), registry)
    logger = logging.getLogger("convscope.access")
    logger.addHandler(caplog.handler)
    try:
        with TestClient(app, base_url="http://localhost") as c:
            c.get("/healthz")
    finally:
        logger.removeHandler(caplog.handler)
    lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == "convscope.access"]
    assert lines and lines[-1]["path"] == "/healthz" and lines[-1]["status"] == 200 and lines[-1]["ms"] >= 0
