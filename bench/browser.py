"""5. Browser timings in headless Chromium: pointer move → every layer repainted, and hover → highlight."""

from __future__ import annotations

import statistics
import time
from typing import Any

from tests.support.browser import FLAGS, chromium
from tests.support.live_server import live_server

# Installed with page.evaluate (CDP, not eval inside the page, so the page's CSP stays in force).
LISTEN = """() => {
  window.__b = {moves: [], paints: [], hovers: [], highlights: []};
  const pad = document.querySelector('[data-testid=draw-pad]');
  pad.addEventListener('pointermove', (e) => window.__b.moves.push(e.timeStamp), true);
  document.getElementById('network').addEventListener('pointermove', (e) => window.__b.hovers.push(e.timeStamp), true);
  document.addEventListener('convscope:painted', () => window.__b.paints.push(performance.now()));
  document.addEventListener('convscope:highlighted', () => window.__b.highlights.push(performance.now()));
}"""


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _wait(page: Any, key: str, count: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while page.evaluate(f"() => window.__b.{key}.length") < count:
        if time.monotonic() > deadline:
            raise TimeoutError(f"no {key} event")
        time.sleep(0.002)


def bench_browser(quick: bool) -> dict[str, Any]:
    n = 20 if quick else 60
    with live_server(env={"CONVSCOPE_LOG_LEVEL": "warning"}) as url, chromium() as browser:
        page = browser.new_page(viewport={"width": 1280, "height": 800})  # type: ignore[attr-defined]
        page.goto(url + "/")
        page.wait_for_selector("body[data-ready=true]")
        page.evaluate(LISTEN)
        pad = page.locator("[data-testid=draw-pad]").bounding_box()
        x, y = pad["x"] + pad["width"] * 0.5, pad["y"] + pad["height"] * 0.15
        page.mouse.move(x, y)
        page.mouse.down()
        _wait(page, "paints", 1)
        repaint = []
        for i in range(n):
            # One move at a time, waiting for its repaint, so each sample is one move's full round trip.
            paints = page.evaluate("() => window.__b.paints.length")
            moves = page.evaluate("() => window.__b.moves.length")
            page.mouse.move(x + (i % 5), y + pad["height"] * 0.7 * (i + 1) / n)
            _wait(page, "moves", moves + 1)
            _wait(page, "paints", paints + 1)
            b = page.evaluate("() => window.__b")
            repaint.append(b["paints"][-1] - b["moves"][moves])
        page.mouse.up()
        time.sleep(0.3)
        hover = []
        canvas = page.locator('canvas[data-layer="conv2"][data-channel="5"]')
        canvas.scroll_into_view_if_needed()
        box = canvas.bounding_box()
        for i in range(n):
            count = page.evaluate("() => window.__b.highlights.length")
            hovers = page.evaluate("() => window.__b.hovers.length")
            page.mouse.move(
                box["x"] + (i % 10 + 0.5) * box["width"] / 10, box["y"] + ((i // 10) % 10 + 0.5) * box["height"] / 10
            )
            _wait(page, "highlights", count + 1)
            b = page.evaluate("() => window.__b")
            hover.append(b["highlights"][-1] - b["hovers"][hovers])
    return {
        "samples": n,
        "chromium_flags": FLAGS,
        "move_to_repaint_ms": {"p50": statistics.median(repaint), "p95": _pct(repaint, 0.95)},
        "hover_to_highlight_ms": {"p50": statistics.median(hover), "p95": _pct(hover, 0.95)},
    }
