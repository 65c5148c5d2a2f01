"""7. The graph page in headless Chromium on the ResNet-18-shaped test net (3×224×224, random weights): first paint
after an upload, the first response's bytes, every later layer fetch against the float32 size of what it asked for,
hover → highlight on the graph, and the JS heap over many uploads."""

from __future__ import annotations

import io
import json
import statistics
import time
from typing import Any

import numpy as np
from PIL import Image

from tests.support.browser import FLAGS, chromium
from tests.support.live_server import server_process

ARGS = ("--model", "tests.support.nets:resnet18", "--input", "3x224x224", "--name", "resnet18")

# Installed with page.evaluate (CDP, not eval inside the page, so the page's CSP stays in force).
LISTEN = """() => {
  window.__b = {uploads: [], paints: [], bytes: [], hovers: [], highlights: []};
  document.getElementById('upload').addEventListener('change', (e) => window.__b.uploads.push(e.timeStamp), true);
  document.getElementById('graph').addEventListener('pointermove', (e) => window.__b.hovers.push(e.timeStamp), true);
  document.addEventListener('convscope:painted', (e) => {
    window.__b.paints.push(performance.now());
    window.__b.bytes.push(e.detail.bytes);
  });
  document.addEventListener('convscope:highlighted', () => window.__b.highlights.push(performance.now()));
}"""


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _wait(page: Any, key: str, count: int, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while page.evaluate(f"() => window.__b.{key}.length") < count:
        if time.monotonic() > deadline:
            raise TimeoutError(f"no {key} event")
        time.sleep(0.005)


def _image(seed: int) -> bytes:
    rgb = (np.random.default_rng(seed).random((256, 320, 3)) * 255).astype("uint8")
    out = io.BytesIO()
    Image.fromarray(rgb).save(out, "PNG")
    return out.getvalue()


def _asked_f32(shapes: dict[str, list[int]], names: list[str], channels: str | None) -> int:
    """Bytes of the asked layers (and channel range) as raw float32."""
    total = 0
    for name in names:
        shape = shapes[name]
        if channels and len(shape) == 3:
            start, stop = (int(v) for v in channels.split(":"))
            shape = [min(stop, shape[0]) - min(start, shape[0]), *shape[1:]]
        total += 4 * int(np.prod(shape))
    return total


def _upload(page: Any, seed: int) -> float:
    """Upload one image; ms from the file input's change to the first paint."""
    n = page.evaluate("() => window.__b.paints.length")
    page.set_input_files("#upload", files=[{"name": f"{seed}.png", "mimeType": "image/png", "buffer": _image(seed)}])
    _wait(page, "paints", n + 1)
    b = page.evaluate("() => window.__b")
    return float(b["paints"][-1] - b["uploads"][-1])


def _hover(page: Any, n: int) -> list[float]:
    page.locator("#graph-scroll").evaluate("el => el.scrollTo(0, 0)")
    time.sleep(0.3)
    nodes = page.locator(".gn")
    boxes = [nodes.nth(i).bounding_box() for i in range(min(6, nodes.count()))]
    out = []
    for i in range(n):
        box = boxes[i % len(boxes)]
        count = page.evaluate("() => window.__b.highlights.length")
        hovers = page.evaluate("() => window.__b.hovers.length")
        page.mouse.move(box["x"] + 10 + (i % 7), box["y"] + 10)
        _wait(page, "highlights", count + 1)
        b = page.evaluate("() => window.__b")
        out.append(b["highlights"][-1] - b["hovers"][hovers])
    return out


def _heap(cdp: Any) -> int:
    """Used JS heap after garbage collection: the least of three readings (work still in flight only adds)."""
    readings = []
    for _ in range(3):
        time.sleep(0.3)
        cdp.send("HeapProfiler.collectGarbage")
        readings.append(int(cdp.send("Runtime.getHeapUsage")["usedSize"]))
    return min(readings)


def bench_page(quick: bool) -> dict[str, Any]:
    uploads = 15 if quick else 50
    with server_process(args=ARGS, timeout=240) as (url, _), chromium() as browser:
        page = browser.new_page(viewport={"width": 1280, "height": 800})  # type: ignore[attr-defined]
        fetches: list[tuple[str, bytes | None, int]] = []
        page.on(
            "response",
            lambda r: "/api/v2/predict" in r.url and fetches.append((r.url, r.request.post_data_buffer, len(r.body()))),
        )
        page.goto(url + "/graph?model=resnet18")
        page.wait_for_selector("body[data-ready=true]")
        shapes = {la["name"]: la["shape"] for la in page.evaluate("() => fetch('/api/v2/model?model=resnet18')"
                                                                  ".then(r => r.json())")["layers"]}  # fmt: skip
        page.evaluate(LISTEN)
        cdp = page.context.new_cdp_session(page)
        paint = [_upload(page, 0)]
        first_bytes = page.evaluate("() => window.__b.bytes[0]")
        page.wait_for_load_state("networkidle")
        # Open a wide node, page its channels, scroll the graph to the end: the fetches a user makes.
        page.locator('.gn[data-node="G:layer4.0"]').click()
        page.locator('.gn[data-layer="layer4.0.conv1"]').click()
        page.locator("[data-testid=more]").click()
        page.locator("#graph-scroll").evaluate("el => el.scrollTo(0, el.scrollHeight)")
        page.wait_for_load_state("networkidle")
        time.sleep(0.5)
        heap = [_heap(cdp)]
        series = []
        for i in range(1, uploads):
            paint.append(_upload(page, i))
            page.wait_for_load_state("networkidle")
            if i % 5 == 4:
                series.append(_heap(cdp))
        heap += [series[0], series[-1]]
        hover = _hover(page, 20 if quick else 60)
        ratios, slices = [], []
        for u, body, size in fetches:
            if body is None or not body.startswith(b"{"):
                continue  # the uploads themselves
            names = json.loads(body).get("layers", [])
            channels = dict(p.split("=", 1) for p in u.split("?", 1)[1].split("&")).get("channels")
            ratios.append(size / _asked_f32(shapes, names, None))
            slices.append(size / _asked_f32(shapes, names, channels.replace("%3A", ":") if channels else None))
    return {
        "uploads": uploads,
        "chromium_flags": FLAGS,
        "first_paint_ms": {"first": paint[0], "p50": statistics.median(paint), "p95": _pct(paint, 0.95)},
        "first_response_bytes": first_bytes,
        "layer_fetches": len(ratios),
        "layer_fetch_max_ratio_to_f32": max(ratios),
        "layer_fetch_max_ratio_to_f32_of_slice": max(slices),
        "hover_to_highlight_ms": {"p50": statistics.median(hover), "p95": _pct(hover, 0.95)},
        "heap_bytes": {"after_first": heap[0], "after_5": heap[1], "after_all": heap[-1], "every_5": series},
        "heap_growth_after_5": (heap[-1] - heap[1]) / heap[1],
    }
