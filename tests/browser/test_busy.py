"""A busy server's 503 (with Retry-After) is retried by the page, which says so while it waits."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.test_visualiser import stroke, wait_prediction
from tests.support.browser import ARTIFACTS, PageWatch

BUSY = '{"error": {"code": "busy", "message": "The server is busy; retry in 1 s."}}'


def refuse_twice(page, pattern: str) -> dict[str, int]:
    """Answer the first two requests matching pattern with 503 busy and Retry-After: 1; the count sent is kept."""
    refusals = {"left": 2, "sent": 0}

    def busy(route) -> None:
        if refusals["left"]:
            refusals["left"] -= 1
            refusals["sent"] += 1
            route.fulfill(status=503, headers={"Retry-After": "1"}, content_type="application/json", body=BUSY)
        else:
            route.continue_()

    page.route(pattern, busy)
    return refusals


def test_a_busy_server_is_retried_and_the_wait_is_shown(browser, server: str) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    try:
        page = context.new_page()
        watch = PageWatch(page)
        refusals = refuse_twice(page, "**/api/v1/predict*")
        page.goto(server + "/")
        page.wait_for_selector("body[data-ready=true]")
        note = page.locator("[data-testid=busy]")
        expect(note).to_be_hidden()
        ARTIFACTS.mkdir(exist_ok=True)
        for width, height, points, digit in [(1280, 800, [(0.5, 0.15), (0.5, 0.85)], "1"),
                                              (390, 844, [(0.25, 0.2), (0.75, 0.2), (0.4, 0.85)], "7")]:  # fmt: skip
            page.set_viewport_size({"width": width, "height": height})
            refusals["left"] = 2
            page.locator("[data-testid=clear]").click()
            page.locator("[data-testid=draw-pad]").scroll_into_view_if_needed()
            stroke(page, points)
            expect(note).to_be_visible(timeout=10_000)
            expect(note).to_contain_text("The server is busy: trying again in")
            page.screenshot(path=str(ARTIFACTS / f"busy-{width}x{height}.png"))
            wait_prediction(page, digit)  # answered once the server takes it
            expect(note).to_be_hidden()
        assert refusals["sent"] == 4
        # The browser logs each refused load itself; anything else would be the page's error.
        assert [e for e in watch.errors if "503" not in e] == []
        assert watch.outside == []
    finally:
        context.close()


@pytest.mark.parametrize(("width", "height"), [(1280, 800), (390, 844)])
def test_the_lab_retries_a_busy_server_and_shows_the_wait(browser, server: str, width: int, height: int) -> None:
    context = browser.new_context(viewport={"width": width, "height": height})
    try:
        page = context.new_page()
        watch = PageWatch(page)
        refusals = refuse_twice(page, "**/api/v2/lab/presets*")
        page.goto(server + "/lab")
        note = page.locator("[data-testid=busy]")
        expect(note).to_be_visible(timeout=10_000)
        expect(note).to_contain_text("The server is busy: trying again in")
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"busy-lab-{width}x{height}.png"))
        page.wait_for_selector("body[data-ready=true]", timeout=30_000)  # the lab starts once the server takes it
        expect(note).to_be_hidden()
        assert refusals["sent"] == 2
        assert [e for e in watch.errors if "503" not in e] == []
        assert watch.outside == []
    finally:
        context.close()
