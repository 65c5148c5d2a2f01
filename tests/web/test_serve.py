"""`convscope serve --workers N`: connections spread over every worker; SIGTERM stops them all gracefully."""

from __future__ import annotations

import os
import signal
import time

import httpx2 as httpx

from tests.support.live_server import server_process


def test_workers_share_connections_and_stop_gracefully() -> None:
    with server_process(workers=2) as (url, proc):
        pids = set()
        clients = [httpx.Client(base_url=url, timeout=10) for _ in range(24)]
        try:
            for c in clients:  # each keep-alive client is one connection, as a browser tab would be
                pids.add(c.get("/healthz").json()["pid"])
        finally:
            for c in clients:
                c.close()
        assert len(pids) == 2, f"connections all went to {pids}"
        assert proc.pid not in pids, "the supervisor only supervises"
        proc.send_signal(signal.SIGTERM)
        started = time.monotonic()
        assert proc.wait(timeout=30) == 0
        assert time.monotonic() - started < 15
    for pid in pids:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            continue
        raise AssertionError(f"worker {pid} outlived the supervisor")
