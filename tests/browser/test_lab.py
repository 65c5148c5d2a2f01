"""The lab in headless Chromium: kernels, stride and padding change the output size and values."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from tests.support.browser import ARTIFACTS, PageWatch


@pytest.fixture(scope="module")
def lab_page(browser, server: str) -> Iterator[tuple[object, PageWatch]]:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    try:
        page = context.new_page()
        watch = PageWatch(page)
        page.goto(server + "/lab")
        page.wait_for_selector("body[data-ready=true]")
        yield page, watch
    finally:
        context.close()


def feature(page) -> tuple[str, str]:
    el = page.locator("[data-testid=lab-feature-map]")
    return el.get_attribute("data-shape"), el.get_attribute("data-sum")


def test_worked_example_then_kernel_stride_padding(lab_page) -> None:
    page, watch = lab_page
    size = page.locator("[data-testid=lab-output-size] [data-role=size]")
    expect(size).to_have_text("5×5")  # the smiley: 7×7, 3×3, stride 1, no padding
    expect(page.locator("[data-testid=lab-pooled]")).to_have_attribute("data-shape", "3x3")

    page.select_option("[data-testid=lab-kernel]", "sharpen")
    expect(page.locator("[data-testid=lab-feature-map]")).not_to_have_attribute("data-sum", "12.000000")
    shape, before = feature(page)
    assert shape == "5x5"

    page.select_option("[data-testid=lab-padding]", "same")
    expect(size).to_have_text("7×7")
    page.fill("[data-testid=lab-stride]", "2")
    expect(size).to_have_text("4×4")
    expect(page.locator("[data-testid=lab-feature-map]")).to_have_attribute("data-shape", "4x4")
    assert feature(page)[1] != before

    page.select_option("[data-testid=lab-kernel]", "edge detect")
    expect(page.locator("[data-testid=lab-feature-map]")).not_to_have_attribute("data-sum", feature(page)[1])
    assert watch.errors == [] and watch.outside == []


def test_hovering_a_cell_shows_its_multiply_and_add(lab_page) -> None:
    page, watch = lab_page
    page.select_option("[data-testid=lab-source]", "x")
    expect(page.locator("[data-testid=lab-output-size] [data-role=size]")).to_have_text("3×3")
    cell = page.locator("[data-testid=lab-feature-map] td[data-y='1'][data-x='1']")
    cell.hover()
    detail = page.locator("[data-testid=lab-detail]")
    expect(detail.locator("[data-role=sum]")).to_have_attribute("data-value", "3")
    assert float(detail.locator("[data-role=value]").get_attribute("data-value")) == 3.0
    page.locator("[data-testid=lab-pool]").select_option("avg")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "lab-1280x800.png"), full_page=True)
    assert watch.errors == [] and watch.outside == []


def test_softmax_cross_entropy(lab_page) -> None:
    page, watch = lab_page
    out = page.locator("[data-testid=lab-softmax]")
    expect(out.locator("[data-role=ce]")).to_be_visible()
    confident = float(out.locator("[data-role=ce]").get_attribute("data-value"))
    page.select_option("[data-testid=lab-label]", "4")  # the scores favour 7: a confident wrong answer
    expect(out.locator("[data-role=ce]")).not_to_have_attribute("data-value", str(confident))
    wrong = float(out.locator("[data-role=ce]").get_attribute("data-value"))
    assert wrong > confident * 5
    assert watch.errors == []


def test_my_own_digit(lab_page) -> None:
    page, watch = lab_page
    page.select_option("[data-testid=lab-source]", "digit")
    page.select_option("[data-testid=lab-padding]", "valid")
    page.fill("[data-testid=lab-stride]", "1")
    box = page.locator("#lab-pad").bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + 20)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] - 20, steps=8)
    page.mouse.up()
    # The drawn digit is preprocessed to 28×28; a 3×3 kernel without padding gives 26×26.
    expect(page.locator("[data-testid=lab-output-size] [data-role=size]")).to_have_text("26×26")
    assert watch.errors == [] and watch.outside == []
