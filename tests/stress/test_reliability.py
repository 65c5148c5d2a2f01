"""Full-size reliability scenarios (minutes, not seconds): `python -m pytest -m stress`; not in the default run.

Each one starts its own server on 127.0.0.1 and bounds its clients and its duration; the figures are those of
`python -m bench.reliability` (README, "Reliability"). CONVSCOPE_SOAK_SECONDS shortens the soak (default 600).
"""

from __future__ import annotations

import os
import threading

import httpx2 as httpx
import pytest

from bench import reliability
from tests.support.hostile import connect, read_response, request_head
from tests.support.live_server import rss_kib, server_process

pytestmark = pytest.mark.stress


def test_costly_image_flood_keeps_healthz_under_50ms() -> None:
    with server_process(workers=2) as (url, _):
        result = reliability.flood(url, clients=32, seconds=20)
    assert result["healthz_p99_ms"] <= 50, result
    assert result["costly_slowest_s"] <= 10 and not result["costly_errors"], result
    assert set(result["costly_statuses"]) <= {"200", "413", "422", "503"} | {200, 413, 422, 503}, result


def test_worker_kill_throughput_back_within_10s() -> None:
    result = reliability.restart_recovery()
    assert result["seconds_to_90_percent"] is not None and result["seconds_to_90_percent"] <= 10, result
    assert result["non_200"] == 0, result


def test_sigterm_under_load_drops_nothing() -> None:
    result = reliability.drain(clients=32, workers=2)
    assert result["dropped"] == 0 and result["exit_code"] == 0, result
    assert result["drain_s"] < 12, result


def test_40_clients_with_32_mib_headers_leave_memory_flat() -> None:
    with server_process(workers=1) as (url, proc):
        before = rss_kib(proc.pid)
        outcomes: list[int | None] = []

        def big_header() -> None:
            with connect(url, timeout=30) as s:
                s.sendall(request_head(extra="X-Big: "))
                try:
                    for _ in range(32 * 16):  # 32 MiB in 64 KiB writes
                        s.sendall(b"a" * 65536)
                except OSError:
                    pass  # closed by the server after the limit
                response = read_response(s, timeout=10)
                outcomes.append(response[0] if response else None)

        threads = [threading.Thread(target=big_header) for _ in range(40)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        growth = rss_kib(proc.pid) - before
        assert httpx.get(url + "/healthz").status_code == 200
    assert set(outcomes) <= {431, None} and len(outcomes) == 40, outcomes
    assert growth < 50 * 1024, f"RSS grew {growth} KiB"


def test_soak_good_and_hostile_traffic() -> None:
    result = reliability.soak(float(os.environ.get("CONVSCOPE_SOAK_SECONDS", "600")))
    assert result["good_errors"] == 0 and result["good_ok"] > 0, result
    assert result["rss_growth"] < 0.10 and result["healthy_after"], result
    hostile = result["hostile"]
    assert not [k for k in hostile if k.endswith((":500", ":502", ":503"))], hostile
