"""The benchmark suite: capture, encoding, HTTP, naive reference and TorchLens, browser, memory, graph page.

    .venv/bin/python -m bench.run            # everything (~6 min); writes bench/results/latest.{json,md}
    .venv/bin/python -m bench.run --quick    # shorter runs, same sections
    .venv/bin/python -m bench.run --only reliability   # flood, restart, drain (bench/reliability.py)
    .venv/bin/python -m bench.run --only explain       # attribution and the data-set pass (bench/explain.py)
    .venv/bin/python -m bench.run --only photos        # phone-style photos vs clean renders (bench/photos.py)

HTTP load comes from a second process on 127.0.0.1: wrk if installed (apt-get install wrk), else bench.load.
Only ratios measured within one run mean anything on a shared 2-core machine.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
import timeit
import zlib
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import torch

from app.core import inspection
from app.core.capture import as_input, capture
from app.core.encoding import render
from app.core.preprocess import Preprocessed
from app.core.registry import Registry
from app.core.runtime import configure_torch
from app.core.samples import pixels
from bench.explain import bench_explain
from bench.graph import bench_graph
from bench.load import in_subprocess
from bench.photos import bench_photos
from tests.support.drawings import draw_digit, png
from tests.support.live_server import free_port, rss_kib, server_process

ROOT = Path(__file__).resolve().parent.parent

RESULTS = ROOT / "bench" / "results"


def best_of(fn: Any, number: int, repeat: int = 7) -> float:
    """Seconds per call: the minimum over repeats (least disturbed by the other tenants of the machine)."""
    return min(timeit.repeat(fn, number=number, repeat=repeat)) / number


def bench_capture(quick: bool) -> dict[str, Any]:
    """1. Forward with every intermediate vs a plain forward (batch 1), and TorchLens for the same capture."""
    configure_torch()
    model = Registry.load().get(None).model
    x = as_input(pixels(0))
    n = 500 if quick else 3000

    def plain() -> None:
        with torch.inference_mode():
            model(x)

    out: dict[str, Any] = {
        "plain_forward_ms": best_of(plain, n) * 1e3,
        "capture_all_ms": best_of(lambda: capture(model, x), n) * 1e3,
    }
    out["capture_ratio"] = out["capture_all_ms"] / out["plain_forward_ms"]
    try:
        import warnings

        import torchlens

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torchlens.trace(model, x)  # warm-up
            out["torchlens_ms"] = best_of(lambda: torchlens.trace(model, x), 3 if quick else 10, repeat=3) * 1e3
        out["torchlens_version"] = torchlens.__version__
        out["torchlens_vs_capture"] = out["torchlens_ms"] / out["capture_all_ms"]
    except ImportError:
        out["torchlens_ms"] = None
    return out


def bench_encoding(quick: bool) -> dict[str, Any]:
    """2. Bytes and time per full predict response, for each encoding (and the naive tolist + json.dumps)."""
    configure_torch()
    lm = Registry.load().get(None)
    pre = Preprocessed(input=pixels(0))
    n = 200 if quick else 1000
    out: dict[str, Any] = {}
    for encoding in ("json", "f32", "binary"):
        body, _ = render(inspection.predict(lm, pre, None, False), encoding)  # type: ignore[arg-type]
        seconds = best_of(lambda e=encoding: render(inspection.predict(lm, pre, None, False), e), n)  # type: ignore
        out[encoding] = {"bytes": len(body), "gzip_1_bytes": len(zlib.compress(body, 1)), "ms": seconds * 1e3}
    outputs = capture(lm.model, as_input(pixels(0)))

    def naive() -> bytes:
        return json.dumps({name: t[0].flatten().tolist() for name, t in outputs.items()}).encode()

    out["naive_tolist_json"] = {"bytes": len(naive()), "ms": best_of(naive, max(20, n // 10)) * 1e3}
    out["predict_only_ms"] = best_of(lambda: render(inspection.predict(lm, pre, [], False), "json"), n) * 1e3
    return out


LUA_BODY = """wrk.method = "POST"
wrk.headers["Content-Type"] = "{ctype}"
local f = io.open("{path}", "rb"); wrk.body = f:read("*a"); f:close()
"""


def _bodies(tmp: Path) -> dict[str, tuple[str, Path]]:
    (tmp / "pixels.json").write_text(json.dumps({"pixels": pixels(0).tolist()}))
    boundary = "convscopebench"
    image = png(draw_digit("7"))
    multipart = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="image"; filename="d.png"\r\n'
            f"Content-Type: image/png\r\n\r\n"
        ).encode()
        + image
        + f"\r\n--{boundary}--\r\n".encode()
    )
    (tmp / "image.multipart").write_bytes(multipart)
    return {
        "pixels": ("application/json", tmp / "pixels.json"),
        "png": (f"multipart/form-data; boundary={boundary}", tmp / "image.multipart"),
    }


def _ms(text: str) -> float:
    """wrk's latency figures ('850.00us', '1.20ms', '1.01s', '1.50m') in milliseconds; NaN if absent."""
    match = re.match(r"([\d.]+)(us|ms|s|m)$", text)
    if not match:
        return float("nan")
    value, unit = match.groups()
    return float(value) * {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 6e4}[unit]


def wrk(url: str, body: tuple[str, Path], seconds: float, connections: int, tmp: Path) -> dict[str, Any]:
    """Load from wrk (a second process on 127.0.0.1); p50/p99 latency and requests/s."""
    script = tmp / f"post-{body[1].stem}.lua"
    script.write_text(LUA_BODY.format(ctype=body[0], path=body[1]))
    out = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s", "--latency", "-s", str(script), url],
        capture_output=True,
        text=True,
        timeout=seconds + 60,
        check=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "rps": rps,
        "p50_ms": _ms(re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1)),  # type: ignore[union-attr]
        "p99_ms": _ms(re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1)),  # type: ignore[union-attr]
        "non_2xx": int(non2xx.group(1)) if non2xx else 0,
    }


def pyload(url: str, kind: str, seconds: float, connections: int) -> dict[str, Any]:
    """Fallback load generator when wrk is not installed."""
    return in_subprocess(url.split("/api")[0], kind, seconds, connections)


HTTP_CASES = [
    # label, query, body
    ("predict-only (pixels)", "layers=&steps=false", "pixels"),
    ("full, json lists (pixels)", "steps=false", "pixels"),
    ("full, f32 base64 (pixels)", "steps=false&encoding=f32", "pixels"),
    ("full, binary (pixels)", "steps=false&encoding=binary", "pixels"),
    ("predict-only (PNG upload)", "layers=&steps=false", "png"),
    ("full, binary (PNG upload)", "steps=false&encoding=binary", "png"),
]
PYLOAD_KIND = {
    "predict-only (pixels)": "predict-only",
    "full, json lists (pixels)": "full",
    "full, f32 base64 (pixels)": "full-f32",
    "full, binary (pixels)": "full-binary",
    "predict-only (PNG upload)": "png-predict-only",
    "full, binary (PNG upload)": "png-full-binary",
}


@contextmanager
def naive_server() -> Any:
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "bench.naive:app",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        cwd=ROOT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        import httpx2 as httpx

        for _ in range(100):
            try:
                httpx.post(url + "/api/v1/predict", json={"pixels": pixels(0).tolist()}, timeout=2)
                break
            except httpx.TransportError:
                time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=15)


def bench_http(quick: bool) -> dict[str, Any]:
    """3 and 4. Throughput and latency with 1 and 2 workers, and the naive reference.

    Cases are interleaved over several rounds and each figure is the median round, so a slow spell of the shared
    machine hits every case alike instead of one. 32 keep-alive connections spread evenly over 2 workers.
    """
    seconds = 3 if quick else 4
    rounds = 1 if quick else 3
    connections = 32
    use_wrk = shutil.which("wrk") is not None
    out: dict[str, Any] = {
        "load_generator": "wrk" if use_wrk else "bench.load (python)",
        "seconds": seconds,
        "rounds": rounds,
        "connections": connections,
        "workers": {},
    }
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        bodies = _bodies(tmp)
        runs: dict[int, dict[str, list[dict[str, Any]]]] = {
            workers: {label: [] for label, _, _ in HTTP_CASES} for workers in (1, 2)
        }
        for _ in range(rounds):
            # 1 and 2 workers alternate round by round, so both see the same spells of a noisy host.
            for workers in (1, 2):
                with server_process(workers=workers, env={"CONVSCOPE_LOG_LEVEL": "warning"}) as (url, _):
                    for label, query, body in HTTP_CASES:
                        target = f"{url}/api/v1/predict?{query}"
                        runs[workers][label].append(
                            wrk(target, bodies[body], seconds, connections, tmp)
                            if use_wrk
                            else pyload(target, PYLOAD_KIND[label], seconds, connections)
                        )
        for workers, cases in runs.items():
            out["workers"][str(workers)] = {label: _median_run(r) for label, r in cases.items()}
        with naive_server() as url:
            out["naive_full_json"] = (
                wrk(url + "/api/v1/predict", bodies["pixels"], 10, connections, tmp)
                if use_wrk
                else pyload(url + "/api/v1/predict", "full", seconds, connections)
            )
    one = out["workers"]["1"]
    base = one["predict-only (pixels)"]["rps"]
    out["full_vs_predict_only"] = {label: one[label]["rps"] / base for label, _, b in HTTP_CASES if b == "pixels"}
    out["full_png_vs_predict_only_png"] = (
        one["full, binary (PNG upload)"]["rps"] / one["predict-only (PNG upload)"]["rps"]
    )
    out["vs_naive"] = {
        label: one[label]["rps"] / out["naive_full_json"]["rps"]
        for label in ("full, json lists (pixels)", "full, binary (pixels)")
    }
    out["two_workers_vs_one"] = {
        label: out["workers"]["2"][label]["rps"] / one[label]["rps"] for label, _, _ in HTTP_CASES
    }
    return out


def _median_run(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The round with the median throughput, with every round's throughput alongside."""
    ordered = sorted(runs, key=lambda r: r["rps"])
    return {**ordered[len(ordered) // 2], "rounds_rps": [r["rps"] for r in runs]}


def bench_memory(quick: bool) -> dict[str, Any]:
    """6. Server RSS before and after 20,000 requests (mixed kinds, distinct inputs)."""
    total = 4000 if quick else 20_000
    with server_process(env={"CONVSCOPE_LOG_LEVEL": "warning"}) as (url, proc):
        in_subprocess(url, "mixed", 60, requests=500)  # warm-up
        before = rss_kib(proc.pid)
        run = in_subprocess(url, "mixed", 600, connections=16, requests=total)
        after = rss_kib(proc.pid)
    return {
        "requests": run["requests"],
        "errors": run["errors"] + run["non_200"],
        "rss_before_kib": before,
        "rss_after_kib": after,
        "growth": (after - before) / before,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument(
        "--only",
        nargs="*",
        default=None,
        help="sections: capture encoding http browser memory reliability graph page explain photos",
    )
    parser.add_argument("--soak", type=float, default=0.0, help="reliability: also soak this many seconds (600)")
    args = parser.parse_args()
    sections = {
        "capture": bench_capture,
        "encoding": bench_encoding,
        "http": bench_http,
        "browser": None,
        "memory": bench_memory,
        "reliability": None,
        "graph": bench_graph,
        "page": None,
        "explain": bench_explain,
        "photos": lambda quick: bench_photos(300 if quick else 1000),
    }
    results: dict[str, Any] = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "quick": args.quick,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "torch": torch.__version__},
    }
    for name, fn in sections.items():
        if args.only and name not in args.only:
            continue
        print(f"… {name}", file=sys.stderr, flush=True)
        if name == "browser":
            from bench.browser import bench_browser

            results[name] = bench_browser(args.quick)
        elif name == "page":
            from bench.page import bench_page

            results[name] = bench_page(args.quick)
        elif name == "reliability":
            from bench.reliability import bench_reliability

            results[name] = bench_reliability(args.quick, args.soak)
        else:
            assert fn is not None
            results[name] = fn(args.quick)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "latest.json").write_text(json.dumps(results, indent=2) + "\n")
    from bench.report import table

    text = table(results)
    (RESULTS / "latest.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
