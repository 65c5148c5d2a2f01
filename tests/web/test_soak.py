"""Soak: 60 s of mixed load at 32 connections on 127.0.0.1 — zero errors, RSS growth under 10 %."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.support.live_server import rss_kib, server_process

ROOT = Path(__file__).resolve().parents[2]
SOAK_SECONDS = float(os.environ.get("CONVSCOPE_SOAK_SECONDS", "60"))


def load(url: str, seconds: float, connections: int = 32) -> dict:
    """Run the load generator in a second process; it stops by itself after `seconds`."""
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.load",
            "--url",
            url,
            "--kind",
            "mixed",
            "--connections",
            str(connections),
            "--duration",
            str(seconds),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=seconds + 120,
        check=True,
    )
    return json.loads(out.stdout)


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
