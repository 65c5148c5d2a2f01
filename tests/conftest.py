"""Shared fixtures: the shipped models, an API client, a live server and a browser."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from app.core.registry import LoadedModel, Registry
from app.web.app import create_app
from app.web.settings import Settings
from tests.support.browser import chromium
from tests.support.live_server import live_server

# Data-set statistics (unit cards) are cached on disk: tests write theirs to a temporary directory, not ~/.cache.
os.environ.setdefault("CONVSCOPE_EXPLAIN_CACHE_DIR", tempfile.mkdtemp(prefix="convscope-explain-"))


@pytest.fixture(scope="session")
def registry() -> Registry:
    return Registry.load()


@pytest.fixture(scope="session")
def lenet(registry: Registry) -> LoadedModel:
    return registry.get("lenet")


@pytest.fixture(scope="session")
def server() -> Iterator[str]:
    """One real `convscope serve` on 127.0.0.1 shared by the browser, concurrency and HTTP tests."""
    with live_server() as url:
        yield url


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """Debian's headless Chromium (skipped where absent, unless the run requires it)."""
    with chromium() as b:
        yield b


@pytest.fixture(scope="session")
def client(registry: Registry) -> Iterator[TestClient]:
    app = create_app(Settings(log_level="warning"), registry)
    with TestClient(app, base_url="http://localhost", raise_server_exceptions=False) as c:
        yield c
