"""Soak: 60 s of mixed load at 32 connections on 127.0.0.1 — zero errors, RSS growth under 10 %."""

from __future__ import annotations

import os
from pathlib import Path

from bench.load import in_subprocess
from tests.support.live_server import rss_kib, server_process

ROOT = Path(__file__).resolve().parents[2]
SOAK_SECONDS = float(os.environ.get("CONVSCOPE_SOAK_SECONDS", "60"))


def load(url: str, seconds: float, connections: int = 32) -> dict:
    """Run the load generator in a second process; it stops by itself after `seconds`."""
    return in_subprocess(url, "mixed", seconds, connections)


def test_soak_60s_32_connections() -> None:
    with server_process() as (url, proc):
        warm = load(url, 5)  # let allocator pools and lazy imports settle before the baseline
        assert warm["errors"] == 0 and warm["non_200"] == 0
        before = rss_kib(proc.pid)
        result = load(url, SOAK_SECONDS)
        after = rss_kib(proc.pid)
    assert result["errors"] == 0 and result["non_200"] == 0, result
    assert result["ok"] > 1000, result
    growth = (after - before) / before
    assert growth < 0.10, f"RSS grew {growth:.1%}: {before} → {after} KiB"
