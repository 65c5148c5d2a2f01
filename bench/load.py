"""Bounded HTTP load against a convscope server on 127.0.0.1: N connections for D seconds, then a JSON summary.

python -m bench.load --url http://127.0.0.1:8000 --kind full --connections 32 --duration 60
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import httpx2 as httpx

from app.core.samples import pixels
from tests.support.drawings import draw_digit, png

KINDS = {
    "predict-only": "/api/v1/predict?layers=&steps=false",
    "full": "/api/v1/predict?steps=false",
    "full-f32": "/api/v1/predict?steps=false&encoding=f32",
    "full-binary": "/api/v1/predict?steps=false&encoding=binary",
    "png-full-binary": "/api/v1/predict?encoding=binary",
    "png-predict-only": "/api/v1/predict?layers=&steps=false",
    "trace": "/api/v1/trace",
}
MIXED = ["full", "full-binary", "png-full-binary", "predict-only", "trace"]


def request_args(kind: str, i: int) -> tuple[str, dict]:
    """Path and body; inputs differ per request (cycling through test digits), so no cache could fake numbers."""
    if kind == "mixed":
        kind = MIXED[i % len(MIXED)]
    if kind.startswith("png"):
        return KINDS[kind], {"files": {"image": ("d.png", PNGS[i % len(PNGS)], "image/png")}}
    body: dict = {"pixels": PIXELS[i % len(PIXELS)]}
    if kind == "trace":
        body.update(layer="conv2", index=[i % 16, i % 10, (3 * i) % 10])
    return KINDS[kind], {"json": body}


PIXELS = [pixels(i).tolist() for i in range(64)]
PNGS = [png(draw_digit(k, width=w)) for k in "170" for w in (10, 18, 30)]


def error_code(body: bytes) -> str:
    """The `code` of a JSON error body, or "-" when the body is not one."""
    try:
        return str(json.loads(body)["error"]["code"])
    except (ValueError, KeyError, TypeError):
        return "-"


def retry_delay(attempt: int, retry_after: float) -> float:
    """As the page waits (static/js/shared/retry.js): what the server asked, at least a doubling backoff, jittered."""
    return min(8.0, max(retry_after, 0.5 * 2 ** (attempt - 1)) * (1 + 0.2 * random.random()))


async def run(
    url: str, kind: str, connections: int, duration: float, total: int | None = None, retries: int = 0
) -> dict:
    """`retries`: a 503 carrying Retry-After is retried up to this many times, as the page does (0: never)."""
    if urlparse(url).hostname not in ("127.0.0.1", "localhost", "::1"):
        raise SystemExit("load is only ever sent to this machine (127.0.0.1)")
    latencies: list[float] = []
    finished: list[float] = []  # completion times of the 200s, for the per-second timeline
    statuses: Counter[int] = Counter()
    codes: Counter[str] = Counter()  # non-200 answers by "status code", e.g. "503 busy" (each attempt counted)
    retried: Counter[str] = Counter()  # retries by what was retried, and how requests that were retried ended
    errors: Counter[str] = Counter()
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    deadline = time.perf_counter() + duration
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=30) as client:
        sent = 0

        async def worker(w: int) -> None:
            nonlocal sent
            i = w
            while time.perf_counter() < deadline and (total is None or sent < total):
                sent += 1
                t0 = time.perf_counter()
                try:
                    path, kwargs = request_args(kind, i)
                    for attempt in range(1, retries + 2):
                        r = await client.post(path, **kwargs)
                        await r.aread()
                        if r.status_code != 200:
                            codes[f"{r.status_code} {error_code(r.content)}"] += 1
                        after = r.headers.get("retry-after", "")
                        if r.status_code != 503 or not after.isdigit() or attempt > retries:
                            break
                        retried[f"retry after {r.status_code} {error_code(r.content)}"] += 1
                        await asyncio.sleep(retry_delay(attempt, float(after)))
                    if attempt > 1:
                        retried[f"retried, then {r.status_code}"] += 1
                    statuses[r.status_code] += 1
                    if r.status_code == 200:
                        finished.append(time.perf_counter())
                except httpx.HTTPError as exc:
                    errors[type(exc).__name__] += 1
                latencies.append(time.perf_counter() - t0)
                i += connections

        started = time.perf_counter()
        await asyncio.gather(*(worker(w) for w in range(connections)))
        elapsed = time.perf_counter() - started
    ok = statuses.get(200, 0)
    per_second = Counter(int(t - started) for t in finished)
    q = statistics.quantiles(latencies, n=100) if len(latencies) > 2 else [0.0] * 99
    return {
        "kind": kind,
        "connections": connections,
        "seconds": round(elapsed, 2),
        "requests": len(latencies),
        "ok": ok,
        "non_200": sum(v for k, v in statuses.items() if k != 200),
        "errors": sum(errors.values()),
        "statuses": dict(statuses),
        "non_200_by_code": dict(sorted(codes.items())),
        "retries": dict(sorted(retried.items())),
        "error_types": dict(errors),
        "rps": round(ok / elapsed, 1),
        "p50_ms": round(q[49] * 1000, 2),
        "p99_ms": round(q[98] * 1000, 2),
        "timeline": [per_second.get(s, 0) for s in range(int(elapsed) + 1)],  # 200s completed in each second
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--url", required=True)
    p.add_argument("--kind", choices=[*sorted(KINDS), "mixed"], default="full")
    p.add_argument("--connections", type=int, default=32)
    p.add_argument("--duration", type=float, default=10.0, help="seconds (an upper bound with --requests)")
    p.add_argument("--requests", type=int, default=None, help="stop after this many requests")
    p.add_argument("--retries", type=int, default=0, help="retry a 503 with Retry-After up to this many times")
    args = p.parse_args()
    summary = asyncio.run(run(args.url, args.kind, args.connections, args.duration, args.requests, args.retries))
    print(json.dumps(summary))


if __name__ == "__main__":
    main()


def in_subprocess(
    url: str, kind: str, duration: float, connections: int = 32, requests: int | None = None
) -> dict[str, Any]:
    """Run this load generator in a second process (so it does not share the server's interpreter); its summary."""
    cmd = [sys.executable, "-m", "bench.load", "--url", url, "--kind", kind, "--connections", str(connections),
           "--duration", str(duration), *(["--requests", str(requests)] if requests else [])]  # fmt: skip
    root = Path(__file__).resolve().parents[1]
    done = subprocess.run(cmd, cwd=root, capture_output=True, text=True, timeout=duration + 120, check=True)
    return dict(json.loads(done.stdout))
