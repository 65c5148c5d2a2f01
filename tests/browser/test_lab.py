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
    expect(page.locator("[data-testid=lab-output-size] [data-role=size]")).to_have_text("5×5")
    cell = page.locator("[data-testid=lab-feature-map] td[data-y='1'][data-x='1']")
    cell.hover()
    detail = page.locator("[data-testid=lab-detail]")
    expect(detail.locator("[data-role=sum]")).to_have_attribute("data-value", "1")  # 3 ones on the diagonal − 2
    assert float(detail.locator("[data-role=value]").get_attribute("data-value")) == 1.0
    page.locator("[data-testid=lab-pool]").select_option("avg")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "lab-1280x800.png"), full_page=True)
    assert watch.errors == [] and watch.outside == []


def test_input_is_grey_and_pooling_switches_floor_ceil_and_divisor(lab_page) -> None:
    page, watch = lab_page
    page.select_option("[data-testid=lab-source]", "smiley")
    expect(page.locator("[data-testid=lab-input-map]")).to_have_attribute("data-scale", "grey")
    pooled = page.locator("[data-testid=lab-pooled]")
    expect(pooled).to_have_attribute("data-shape", "3x3")  # the classic example keeps the partial windows
    page.select_option("[data-testid=lab-pool-mode]", "floor")
    expect(pooled).to_have_attribute("data-shape", "2x2")
    expect(page.locator("[data-testid=lab-pool-size] [data-role=pool-size]")).to_have_text("2×2")
    assert "⌈" in page.locator("[data-testid=lab-pool-size]").inner_text()  # both formulas stay on screen
    page.select_option("[data-testid=lab-pool-mode]", "ceil")
    page.select_option("[data-testid=lab-pool]", "avg")
    corner = pooled.locator("td[data-y='2'][data-x='2']")  # one cell of the 5×5 map: feature [4, 4] = 1
    expect(corner).to_have_attribute("data-value", "1")
    page.select_option("[data-testid=lab-pool-divisor]", "window")
    expect(corner).to_have_attribute("data-value", "0.25")
    corner.hover()
    assert "full window" in page.locator("[data-testid=lab-detail]").inner_text()
    page.select_option("[data-testid=lab-pool]", "max")
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
    # The chart reaches the current loss; the note argues with gradients, not an "at most".
    assert float(page.locator("#loss-chart").get_attribute("data-y-max")) >= wrong
    note = out.locator("[data-role=loss-note]").inner_text()
    assert "gradient" in note and "at most" not in note
    assert out.locator("[data-role=ce-grad]").count() == 10
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


def test_live_layer_from_a_visualiser_link(browser, server: str) -> None:
    """/lab?model=&layer=&channel= (the visualiser's link): the real kernels on the real input, then what-ifs."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    try:
        page = context.new_page()
        watch = PageWatch(page)
        page.goto(server + "/lab?model=lenet&layer=conv2&channel=3")
        page.wait_for_selector("body[data-ready=true]")
        result = page.locator("[data-testid=live-result]")
        expect(result).to_have_attribute("data-layer", "conv2")
        expect(result).to_have_attribute("data-channel", "3")
        expect(result).to_have_attribute("data-as-network", "true")
        channels = page.locator("[data-testid=live-channels] .chan-row")
        expect(channels).to_have_count(6)  # conv2 reads all six channels of pool1
        expect(page.locator("[data-testid=live-match]")).to_contain_text("agree")
        expect(page.locator("[data-testid=live-feature]")).to_have_attribute("data-shape", "10x10")
        # Hover a cell: its value is the sum of the six channels' products plus the bias.
        cell = page.locator("[data-testid=live-feature] td[data-y='4'][data-x='5']")
        cell.hover()
        total = page.locator("[data-testid=live-detail] [data-role=live-sum]")
        assert float(total.get_attribute("data-value")) == pytest.approx(float(cell.get_attribute("data-value")))
        # What if stride 2? ⌊(14 − 5 + 2·0) / 2⌋ + 1 = 5.5 → 5, not the network's own any more.
        page.fill("[data-testid=live-stride]", "2")
        expect(result).to_have_attribute("data-as-network", "false")
        expect(page.locator("[data-testid=live-size] [data-role=size]")).to_have_text("5×5")
        assert "5.5 → 5" in page.locator("[data-testid=live-size]").inner_text()
        expect(page.locator("[data-testid=live-network]")).to_be_empty()
        page.fill("[data-testid=live-dilation]", "2")
        expect(page.locator("[data-testid=live-size] [data-role=size]")).to_have_text("3×3")
        # A pooling layer of the other model: floor (its own) vs ceil.
        page.select_option("[data-testid=live-model]", "lenet5")
        expect(result).to_have_attribute("data-model", "lenet5")  # its layer list has arrived
        page.select_option("[data-testid=live-layer]", "pool2")
        expect(result).to_have_attribute("data-layer", "pool2")
        expect(page.locator("[data-testid=live-size] [data-role=pool-size]")).to_have_text("5×5")
        page.fill("[data-testid=live-stride]", "3")
        page.select_option("[data-testid=live-mode]", "ceil")
        expect(page.locator("[data-testid=live-size] [data-role=pool-size]")).to_have_text("4×4")  # ⌈8 / 3⌉ + 1
        assert "model=lenet5" in page.url and "layer=pool2" in page.url
        ARTIFACTS.mkdir(exist_ok=True)
        page.locator("[data-testid=lab-live]").screenshot(path=str(ARTIFACTS / "lab-live-1280.png"))
        assert watch.errors == [] and watch.outside == []
    finally:
        context.close()
