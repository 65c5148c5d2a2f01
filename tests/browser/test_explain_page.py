"""The explain page in headless Chromium: pick a method → overlay; open a unit card → top-k grid and optimised image;
knock out a channel → the prediction's probability changes."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.support.browser import ARTIFACTS, PageWatch


@pytest.mark.parametrize("viewport", [(1280, 800), (390, 844)])
def test_explain_page(browser, server: str, viewport: tuple[int, int]) -> None:
    context = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]})
    try:
        page = context.new_page()
        watch = PageWatch(page)
        page.goto(server + "/explain?model=lenet")
        page.wait_for_selector("body[data-ready=true]", timeout=60_000)
        overlay = page.locator("[data-testid=attribution-overlay]")
        expect(overlay).to_have_attribute("data-method", "gradient")
        first = page.locator("[data-testid=explain-sample] option").first.inner_text()  # "#3 (label 0)"
        expect(page.locator("[data-testid=explain-prediction]")).to_have_text(first.split("label ")[1].rstrip(")"))
        page.select_option("[data-testid=explain-method]", "gradcam")
        expect(overlay).to_have_attribute("data-method", "gradcam")
        expect(page.locator("[data-testid=attribution-note]")).to_contain_text("Layer conv2: The last convolution")
        page.select_option("[data-testid=explain-method]", "integrated_gradients")
        expect(page.locator("[data-testid=attribution-note]")).to_contain_text("Completeness error")
        assert float(overlay.get_attribute("data-range") or 0) > 0
        expect(page.locator(".legend")).to_be_visible()

        page.select_option("[data-testid=unit-layer]", "conv2")
        page.fill("[data-testid=unit-channel]", "3")
        page.click("[data-testid=open-card]")
        expect(page.locator("[data-testid=topk-grid] canvas")).to_have_count(9, timeout=240_000)
        expect(page.locator("[data-testid=feature-vis]")).to_have_attribute(
            "data-value", re.compile(r"^-?\d"), timeout=60_000
        )
        expect(page.locator("[data-testid=card-note]")).to_contain_text("ranked over 10000 digits")

        page.select_option("[data-testid=knockout-layer]", "conv2")
        page.fill("[data-testid=knockout-channel]", "3")
        page.click("[data-testid=knockout]")
        result = page.locator("[data-testid=knockout-result]")
        expect(result).to_contain_text("after switching off conv2 channel 3")
        text = result.inner_text()
        before = text.split("Before: ")[1].split(" · ")[0]
        after = page.locator("[data-testid=knockout-after]").inner_text()
        assert before != after  # the probability moves (a single channel rarely flips a confident 7)
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"explain-{viewport[0]}x{viewport[1]}.png"), full_page=True)
        assert watch.errors == [] and watch.outside == []
    finally:
        context.close()
