"""The visualiser in real headless Chromium: drawing, live prediction, tracing, detail arithmetic, upload, gallery."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

import httpx2 as httpx
import pytest
from playwright.sync_api import expect

from tests.support.browser import ARTIFACTS, PageWatch
from tests.support.drawings import draw_digit, png


@contextmanager
def open_page(browser, url: str, ready: bool = True, **context_options) -> Iterator[tuple[object, PageWatch]]:
    """A fresh browser context on url; on exit, no console errors and no request off 127.0.0.1."""
    context = browser.new_context(**{"viewport": {"width": 1280, "height": 800}, **context_options})
    try:
        page = context.new_page()
        watch = PageWatch(page)
        page.goto(url)
        if ready:
            page.wait_for_selector("body[data-ready=true]")
        yield page, watch
        assert watch.errors == [], f"console errors: {watch.errors}"
        assert watch.outside == [], f"requests left 127.0.0.1: {watch.outside}"
    finally:
        context.close()


@pytest.fixture
def page(browser, server: str) -> Iterator[tuple[object, PageWatch]]:
    with open_page(browser, server + "/") as opened:
        yield opened


def stroke(page, points: list[tuple[float, float]], release: bool = True, steps: int = 10) -> None:
    """Draw through points given as fractions of the pad."""
    box = page.locator("[data-testid=draw-pad]").bounding_box()
    xy = [(box["x"] + fx * box["width"], box["y"] + fy * box["height"]) for fx, fy in points]
    page.mouse.move(*xy[0])
    page.mouse.down()
    for p in xy[1:]:
        page.mouse.move(*p, steps=steps)
    if release:
        page.mouse.up()


def prediction(page) -> str:
    return page.locator("[data-testid=prediction]").text_content() or ""


def wait_prediction(page, expected: str) -> None:
    # expect() polls without eval: the page's CSP (no unsafe-eval) stays in force during the tests.
    expect(page.locator("[data-testid=prediction]")).to_have_text(expected, timeout=10_000)


def test_vertical_stroke_predicts_1(page) -> None:
    pg, _ = page
    assert prediction(pg) == ""
    stroke(pg, [(0.5, 0.15), (0.5, 0.85)])
    wait_prediction(pg, "1")


def test_drawn_7_predicts_7_and_screenshot(page) -> None:
    pg, _ = page
    stroke(pg, [(0.25, 0.2), (0.75, 0.2), (0.4, 0.85)])
    wait_prediction(pg, "7")
    ARTIFACTS.mkdir(exist_ok=True)
    pg.locator('canvas[data-layer="conv2"][data-channel="3"]').hover()
    pg.wait_for_selector("[data-testid=detail] [data-role=sum]")
    pg.screenshot(path=str(ARTIFACTS / "visualiser-1280x800.png"), full_page=True)
    assert (ARTIFACTS / "visualiser-1280x800.png").stat().st_size > 10_000


def test_prediction_updates_before_the_pointer_is_released(page) -> None:
    pg, _ = page
    responses: list[str] = []
    pg.on("response", lambda r: "/api/v1/predict" in r.url and responses.append(r.url))
    stroke(pg, [(0.5, 0.15), (0.5, 0.85)], release=False, steps=30)
    expect(pg.locator("[data-testid=prediction]")).to_have_text(re.compile(r"^\d$"), timeout=10_000)
    during = prediction(pg)
    assert during != "" and len(responses) >= 1
    pg.mouse.up()
    wait_prediction(pg, "1")


def box_from_geometry(server: str, layer: str, unit: tuple[int, int, int]) -> str:
    model = httpx.get(server + "/api/v1/model").json()
    geo = next(entry for entry in model["layers"] if entry["name"] == layer)["receptive_field"]
    _, y, x = unit

    def span(i: int) -> tuple[int, int]:
        lo = geo["start"] + i * geo["jump"]
        return max(lo, 0), min(lo + geo["size"] - 1, 27)

    (x0, x1), (y0, y1) = span(x), span(y)
    return f"{x0},{y0},{x1},{y1}"


def hover_unit(pg, layer: str, unit: tuple[int, int, int]) -> None:
    c, y, x = unit
    canvas = pg.locator(f'canvas[data-layer="{layer}"][data-channel="{c}"]')
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    rows = int(canvas.get_attribute("data-rows"))
    cols = int(canvas.get_attribute("data-cols"))
    pg.mouse.move(box["x"] + (x + 0.5) * box["width"] / cols, box["y"] + (y + 0.5) * box["height"] / rows)


@pytest.mark.parametrize("unit", [(3, 4, 5), (0, 0, 0), (15, 9, 9)])
def test_hovering_conv2_gives_the_geometrys_input_box(page, server: str, unit: tuple[int, int, int]) -> None:
    pg, _ = page
    stroke(pg, [(0.25, 0.2), (0.75, 0.2), (0.4, 0.85)])
    wait_prediction(pg, "7")
    hover_unit(pg, "conv2", unit)
    rf = pg.locator("[data-testid=rf-input]")
    rf.wait_for(state="visible")
    assert rf.get_attribute("data-box") == box_from_geometry(server, "conv2", unit)


def values(pg, role: str) -> list[float]:
    return [
        float(v)
        for v in pg.eval_on_selector_all(
            f"[data-testid=detail] [data-role={role}]", "els => els.map(e => e.dataset.value)"
        )
    ]


def test_detail_panel_numbers_add_up(page) -> None:
    pg, _ = page
    stroke(pg, [(0.25, 0.2), (0.75, 0.2), (0.4, 0.85)])
    wait_prediction(pg, "7")
    hover_unit(pg, "conv2", (3, 4, 5))
    pg.wait_for_selector("[data-testid=detail] [data-role=sum]")
    channel_sums, bias, total = values(pg, "channel-sum"), values(pg, "bias")[0], values(pg, "sum")[0]
    assert len(channel_sums) == 6
    assert sum(channel_sums) + bias == pytest.approx(total, abs=1e-5)
    value = float(pg.locator("[data-testid=detail] [data-role=value]").get_attribute("data-value"))
    assert total == pytest.approx(value, abs=1e-4)
    # A dense unit: top contributions + the rest + bias = its value.
    pg.locator('canvas[data-layer="fc1"]').click()
    expect(pg.locator("[data-testid=detail] h3")).to_have_text(re.compile(r"^fc1"))
    pg.wait_for_selector("[data-testid=detail] [data-role=rest]")
    top = sum(values(pg, "product"))
    assert top + values(pg, "rest")[0] + values(pg, "bias")[0] == pytest.approx(values(pg, "sum")[0], abs=1e-4)
    pg.keyboard.press("Escape")
    assert pg.locator("[data-testid=rf-input]").is_hidden()


def test_upload(page, tmp_path) -> None:
    pg, _ = page
    path = tmp_path / "zero.png"
    path.write_bytes(png(draw_digit("0", width=22)))
    pg.locator("[data-testid=upload]").set_input_files(str(path))
    wait_prediction(pg, "0")


def test_gallery(page, server: str) -> None:
    pg, _ = page
    samples = httpx.get(server + "/api/v1/samples").json()["samples"]
    pg.wait_for_selector("button.sample")
    wrong = next(s for s in samples if not s["correct"])
    pg.locator(f'button.sample[data-sample-id="{wrong["id"]}"]').click()
    wait_prediction(pg, str(wrong["predicted"]))
    right = next(s for s in samples if s["correct"] and s["label"] == 3)
    pg.locator(f'button.sample[data-sample-id="{right["id"]}"]').click()
    wait_prediction(pg, "3")


def test_keyboard_tracing_and_clear(page) -> None:
    pg, _ = page
    stroke(pg, [(0.5, 0.15), (0.5, 0.85)])
    wait_prediction(pg, "1")
    pg.locator('canvas[data-layer="conv1"][data-channel="0"]').focus()
    rf = pg.locator("[data-testid=rf-input]")
    rf.wait_for(state="visible")
    first = rf.get_attribute("data-box")
    pg.keyboard.press("ArrowRight")
    x0, y0, x1, y1 = map(int, first.split(","))
    assert rf.get_attribute("data-box") == f"{x0 + 1},{y0},{x1 + 1},{y1}"
    pg.keyboard.press("Escape")
    assert rf.is_hidden()
    pg.locator("[data-testid=clear]").click()
    wait_prediction(pg, "")


def test_phone_width_renders_without_errors(browser, server: str) -> None:
    with open_page(browser, server + "/", viewport={"width": 390, "height": 844}, has_touch=True, is_mobile=True) as (
        pg,
        _,
    ):
        stroke(pg, [(0.5, 0.15), (0.5, 0.85)])
        wait_prediction(pg, "1")
        ARTIFACTS.mkdir(exist_ok=True)
        pg.screenshot(path=str(ARTIFACTS / "visualiser-390x844.png"))
        width = pg.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"page is {width}px wide at phone width"


def test_api_docs_work_offline(browser, server: str) -> None:
    with open_page(browser, server + "/docs", ready=False) as (pg, _):
        expect(pg.locator(".opblock-summary-path").first).to_be_visible(timeout=15_000)
        paths = pg.locator(".opblock-summary-path").all_text_contents()
        assert "/api/v1/predict" in paths and "/api/v1/trace" in paths


def test_second_architecture_in_the_page(page, server: str) -> None:
    pg, _ = page
    expect(pg.locator("#model-select option")).to_have_count(2)
    pg.select_option("#model-select", "lenet5")
    pg.wait_for_url("**/?model=lenet5")
    pg.wait_for_selector("body[data-ready=true]")
    assert pg.locator('canvas[data-layer="tanh1"]').count() == 6
    stroke(pg, [(0.5, 0.15), (0.5, 0.85)])
    wait_prediction(pg, "1")
    hover_unit(pg, "tanh2", (2, 3, 4))
    expect(pg.locator("[data-testid=rf-input]")).to_have_attribute(
        "data-box", box_from_geometry(server, "conv2", (2, 3, 4))
    )
    expect(pg.locator("[data-testid=detail] h3")).to_have_text(re.compile(r"^tanh2\[2, 3, 4\]"))


@pytest.mark.parametrize("viewport", [(1280, 800), (390, 844)])
def test_the_cue_flags_a_dash_and_names_the_runner_up(browser, server: str, viewport: tuple[int, int]) -> None:
    """A horizontal dash is answered with 'does not look like a digit' and the runner-up; clearing clears the cue."""
    width, height = viewport
    with open_page(browser, server + "/", viewport={"width": width, "height": height}) as (page, _):
        stroke(page, [(0.2, 0.5), (0.8, 0.52)])
        cue = page.locator("[data-testid=cue]")
        expect(cue).to_contain_text("does not look like a digit", timeout=10_000)
        expect(cue).to_contain_text("or ")
        page.screenshot(path=str(ARTIFACTS / f"cue-dash-{width}.png"))
        page.locator("[data-testid=clear]").click()
        expect(cue).to_have_text("")
