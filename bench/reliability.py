"""Reliability figures (README, "Reliability"): the costly-image flood, worker restart, drain, and a long soak.

    .venv/bin/python -m bench.reliability                 # flood, restart, drain (~2 min)
    .venv/bin/python -m bench.reliability --soak 600      # and the 10-minute soak with good and hostile traffic
    .venv/bin/python -m pytest -m stress                  # the same, as assertions (tests/stress)

Everything runs against servers on 127.0.0.1 started here, with bounded clients and durations.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx2 as httpx

from app.core.samples import pixels
from tests.support.hostile import connect, costly_images, drip, read_response, request_head
from tests.support.live_server import rss_kib, server_process

ROOT = Path(__file__).resolve().parent.parent
PIXELS = {"pixels": pixels(0).tolist()}


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))] if ordered else float("nan")


def load(url: str, kind: str, seconds: float, connections: int = 32, retries: int = 0) -> dict[str, Any]:
    """bench.load in a second process (it stops by itself); `retries`: 503s with Retry-After retried, as pages do."""
    args = ["--url", url, "--kind", kind, "--connections", str(connections), "--duration", str(seconds)]
    args += ["--retries", str(retries)]
    out = subprocess.run(
        [sys.executable, "-m", "bench.load", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=seconds + 120,
        check=True,
    )
    result: dict[str, Any] = json.loads(out.stdout)
    return result


def _costly_clients(url: str, clients: int, stop: Any, results: Any, ready: Any) -> None:
    """In a child process (so the /healthz prober does not share a GIL with 32 client threads): post costly images."""
    images = costly_images()
    ready.set()  # building the images takes seconds on a busy machine: the probing starts once the flood does
    statuses: Counter[int] = Counter()
    errors: Counter[str] = Counter()
    slowest = 0.0
    lock = threading.Lock()

    def client(i: int) -> None:
        nonlocal slowest
        with httpx.Client(base_url=url, timeout=30) as c:
            while not stop.is_set():
                _, data, mime = images[i % len(images)]
                started = time.monotonic()
                try:
                    r = c.post("/api/v1/predict?steps=false", content=data, headers={"content-type": mime})
                    with lock:
                        statuses[r.status_code] += 1
                except httpx.HTTPError as exc:
                    r = None
                    with lock:
                        errors[type(exc).__name__] += 1
                with lock:
                    slowest = max(slowest, time.monotonic() - started)
                if r is not None and r.status_code == 503:
                    stop.wait(float(r.headers.get("retry-after", "1")))  # as a polite client does
                i += 1

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    results.put({"statuses": dict(statuses), "errors": dict(errors), "slowest": slowest})


def flood(url: str, clients: int = 32, seconds: float = 20.0) -> dict[str, Any]:
    """`clients` connections post the costliest images while /healthz is probed every 20 ms from another process."""
    context = multiprocessing.get_context("spawn")
    stop, results, ready = context.Event(), context.Queue(), context.Event()
    child = context.Process(target=_costly_clients, args=(url, clients, stop, results, ready))
    child.start()
    health: list[float] = []
    try:
        ready.wait(timeout=180)
        time.sleep(3)  # the flood builds up
        with httpx.Client(base_url=url, timeout=30) as c:
            deadline = time.monotonic() + seconds
            while time.monotonic() < deadline:
                started = time.monotonic()
                c.get("/healthz").raise_for_status()
                health.append(time.monotonic() - started)
                time.sleep(0.02)
    finally:
        stop.set()
    costly = results.get(timeout=180)
    child.join(timeout=30)
    return {
        "clients": clients,
        "seconds": seconds,
        "healthz_probes": len(health),
        "healthz_p50_ms": round(_quantile(health, 0.5) * 1000, 1),
        "healthz_p99_ms": round(_quantile(health, 0.99) * 1000, 1),
        "healthz_max_ms": round(max(health) * 1000, 1),
        "costly_statuses": costly["statuses"],
        "costly_errors": costly["errors"],
        "costly_slowest_s": round(costly["slowest"], 2),
    }


def restart_recovery(seconds_after: float = 15.0) -> dict[str, Any]:
    """2 workers under 32 keep-alive connections; one is killed; throughput per second until it is back."""
    with server_process(workers=2) as (url, _):
        pids = {httpx.get(url + "/healthz").json()["pid"] for _ in range(8)}
        result: dict[str, Any] = {}

        def kill_later() -> None:
            time.sleep(8)
            os.kill(min(pids), signal.SIGKILL)

        killer = threading.Thread(target=kill_later)
        killer.start()
        run = load(url, "png-full-binary", 8 + seconds_after)  # server-bound: decoding + every layer
        killer.join()
    timeline = run["timeline"]
    before = sum(timeline[3:8]) / 5  # steady state before the kill (after warm-up)
    after = timeline[8:]
    recovered = next((i for i in range(len(after) - 1) if min(after[i], after[i + 1]) >= 0.9 * before), None)
    result.update(
        {
            "rps_before_kill": round(before, 1),
            "timeline_after_kill": after,
            "seconds_to_90_percent": recovered,
            "errors": run["errors"],
            "non_200": run["non_200"],
        }
    )
    return result


def drain(clients: int = 32, workers: int = 2) -> dict[str, Any]:
    """SIGTERM while `clients` connections post predictions back to back; count what was dropped."""
    outcomes: Counter[str] = Counter()
    lock = threading.Lock()
    stop = threading.Event()
    with server_process(workers=workers) as (url, proc):

        def client() -> None:
            with httpx.Client(base_url=url, timeout=30) as c:
                while not stop.is_set():
                    try:
                        r = c.post("/api/v1/predict?steps=false&encoding=binary", json=PIXELS)
                        outcome = str(r.status_code)
                    except httpx.ConnectError:
                        outcome = "refused"  # the drain had begun: never sent, so nothing was dropped
                    except httpx.HTTPError as exc:
                        outcome = type(exc).__name__
                    with lock:
                        outcomes[outcome] += 1
                    if outcome == "refused":
                        return

        threads = [threading.Thread(target=client) for _ in range(clients)]
        for t in threads:
            t.start()
        time.sleep(3)
        proc.send_signal(signal.SIGTERM)
        started = time.monotonic()
        code = proc.wait(timeout=60)
        seconds = time.monotonic() - started
        stop.set()
        for t in threads:
            t.join(timeout=60)
    dropped = sum(v for k, v in outcomes.items() if k not in ("200", "refused"))
    return {"clients": clients, "outcomes": dict(outcomes), "dropped": dropped, "exit_code": code, "drain_s": seconds}


ACTS = ("header", "head-drip", "body-drip", "costly", "garbage", "hangup", "host", "repeat")


def _hostile(url: str, stop: threading.Event, counts: Counter[str], acts: tuple[str, ...] = ACTS) -> None:
    """Hostile traffic, one act at a time: big headers, drips, costly images, garbage, disconnects, bad hosts."""
    images = costly_images()
    body = json.dumps(PIXELS).encode()
    i = 0
    while not stop.is_set():
        act = acts[i % len(acts)]
        i += 1
        try:
            with connect(url, timeout=15) as s:
                if act == "header":
                    s.sendall(request_head(extra="X-Big: ") + b"a" * 200_000 + b"\r\n\r\n")
                elif act == "head-drip":
                    drip(s, request_head() + b"X-Slow: " + b"a" * 400, 0.05, time.monotonic() + 3)
                elif act == "body-drip":
                    head = f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
                    s.sendall(request_head("/api/v1/predict", "POST", head))
                    drip(s, body, 0.05, time.monotonic() + 3)
                elif act == "costly":
                    _, data, mime = images[i % len(images)]
                    head = f"Content-Type: {mime}\r\nContent-Length: {len(data)}\r\n\r\n"
                    s.sendall(request_head("/api/v1/predict", "POST", head) + data)
                elif act == "garbage":
                    s.sendall(os.urandom(4096))
                elif act == "hangup":
                    head = f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
                    s.sendall(request_head("/api/v1/predict", "POST", head) + body[:1000])
                    counts[act] += 1
                    continue  # closed mid-body
                elif act == "host":
                    s.sendall(b"GET /api/v1/models HTTP/1.1\r\nHost: rebind.evil.example\r\n\r\n")
                else:
                    s.sendall(request_head("/api/v1/predict?encoding=json&encoding=f32", "POST", "\r\n"))
                response = read_response(s, timeout=15)
                counts[f"{act}:{response[0] if response else 'closed'}"] += 1
        except OSError as exc:
            counts[f"{act}:{type(exc).__name__}"] += 1


def memory_map(pid: int) -> dict[str, int]:
    """Resident MiB by kind of mapping: [heap] (glibc's main arena), anonymous (other arenas, large blocks, Python's
    small-object arenas, torch), and files (code, weights)."""
    kib = {"heap": 0, "anon": 0, "file": 0}
    kind = ""
    for line in Path(f"/proc/{pid}/smaps").read_text().splitlines():
        fields = line.split()
        if fields and "-" in fields[0] and not fields[0].endswith(":"):
            name = fields[5] if len(fields) > 5 else ""
            kind = "heap" if name == "[heap]" else "anon" if not name else "file" if name.startswith("/") else ""
        elif fields and fields[0] == "Rss:" and kind:
            kib[kind] += int(fields[1])
    return {k: round(v / 1024) for k, v in kib.items()}


def _children_rss_mib(pid: int) -> dict[str, int]:
    """RSS of a process's children (name: MiB), e.g. the forkserver that starts decoding helpers."""
    out: dict[str, int] = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            try:
                cmdline = Path(f"/proc/{child}/cmdline").read_bytes().replace(b"\0", b" ").decode()[:60]
                out[f"{child} {cmdline}"] = round(rss_kib(int(child)) / 1024)
            except (OSError, RuntimeError):
                continue  # exited meanwhile
    return out


def soak(
    seconds: float = 600.0,
    hostile_clients: int = 4,
    acts: tuple[str, ...] = ACTS,
    good: str = "mixed",
    retries: int = 3,
) -> dict[str, Any]:
    """Mixed good load (32 connections) and hostile clients for `seconds`: good requests all 200, RSS flat.

    Good clients retry a 503 with Retry-After up to `retries` times, as the page does (static/js/shared/retry.js):
    under load, busy is an honest answer, and "losing nothing" means every good request ends in a 200.

    RSS is sampled every 10 s; growth is measured from the first minute on, once the costly decodes have set the
    allocator's high-water mark (a step, not a leak: the first minute is reported separately).
    """
    counts: Counter[str] = Counter()
    stop = threading.Event()
    samples: list[int] = []
    maps: list[dict[str, int]] = []
    with server_process(env={"CONVSCOPE_LOG_LEVEL": "error"}) as (url, proc):
        load(url, good, 5)  # warm-up
        start_rss = rss_kib(proc.pid)
        threads = [threading.Thread(target=_hostile, args=(url, stop, counts, acts)) for _ in range(hostile_clients)]

        def sample() -> None:
            while not stop.wait(10):
                samples.append(rss_kib(proc.pid))
                if len(samples) % 3 == 0:
                    maps.append(memory_map(proc.pid))

        threads.append(threading.Thread(target=sample))
        for t in threads:
            t.start()
        good_load = load(url, good, seconds, retries=retries)
        stop.set()
        for t in threads:
            t.join(timeout=60)
        after = rss_kib(proc.pid)
        helpers = _children_rss_mib(proc.pid)
        healthy = httpx.get(url + "/healthz").status_code == 200
    minute = samples[5] if len(samples) > 6 else start_rss
    # Single samples catch a costly decode in flight (tens of MiB for a moment): compare the medians of the second
    # minute and of the last minute too, which is what "flat" means for a server that decodes large images.
    second, last = statistics.median(samples[6:12] or [start_rss]), statistics.median(samples[-6:] or [start_rss])
    return {
        "seconds": seconds,
        "good_requests": good_load["requests"],
        "good_ok": good_load["ok"],
        "good_errors": good_load["errors"] + good_load["non_200"],
        "good_non_200_by_code": good_load["non_200_by_code"],  # every attempt's answer, retried or final
        "good_retries": good_load["retries"],
        "good_error_types": good_load["error_types"],
        "good_p99_ms": good_load["p99_ms"],
        "hostile": dict(sorted(counts.items())),
        "rss_start_kib": start_rss,
        "rss_after_first_minute_kib": minute,
        "rss_after_kib": after,
        "rss_timeline_mib": [round(s / 1024) for s in samples],
        "memory_map_every_30s_mib": maps,
        "rss_growth": round((after - minute) / minute, 4),
        "rss_median_second_minute_mib": round(second / 1024),
        "rss_median_last_minute_mib": round(last / 1024),
        "rss_growth_of_medians": round((last - second) / second, 4),
        "healthy_after": healthy,
        "child_processes_rss_mib": helpers,  # the helpers' forkserver and multiprocessing's resource tracker
    }


def bench_reliability(quick: bool, soak_seconds: float = 0.0) -> dict[str, Any]:
    """Every figure above, against 2 workers (flood) as in the README."""
    with server_process(workers=2, env={"CONVSCOPE_LOG_LEVEL": "warning"}) as (url, _):
        out: dict[str, Any] = {"flood": flood(url, seconds=8 if quick else 20)}
    out["restart"] = restart_recovery(10 if quick else 15)
    out["drain"] = drain()
    if soak_seconds:
        out["soak"] = soak(soak_seconds)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--soak", type=float, default=0.0, help="also soak for this many seconds (600 in README)")
    parser.add_argument("--only", choices=["flood", "restart", "drain", "soak"], default=None)
    parser.add_argument("--acts", default=",".join(ACTS), help="the soak's hostile acts (comma-separated)")
    parser.add_argument("--hostile", type=int, default=4, help="the soak's hostile clients")
    parser.add_argument("--good", default="mixed", help="the soak's good traffic (a bench.load kind)")
    parser.add_argument("--retries", type=int, default=3, help="the soak's good clients retry 503 this many times")
    args = parser.parse_args()
    if args.only == "flood":
        with server_process(workers=2, env={"CONVSCOPE_LOG_LEVEL": "warning"}) as (url, _):
            result: dict[str, Any] = flood(url, seconds=8 if args.quick else 20)
    elif args.only == "restart":
        result = restart_recovery()
    elif args.only == "drain":
        result = drain()
    elif args.only == "soak":
        result = soak(args.soak or 600, args.hostile, tuple(args.acts.split(",")), args.good, args.retries)
    else:
        result = bench_reliability(args.quick, args.soak)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
