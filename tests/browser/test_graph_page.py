"""The graph page (any model) in real headless Chromium: a ResNet-18-shaped net at 3×224×224, the residual MNIST
model and a colour net. The graph against API v2's edges, folding modules, lazy layer requests, a deep unit's field
against /api/v2/trace, channel paging and sorting against the exact values, the colour input, axe-core."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2 as httpx
import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import expect

from tests.browser.test_accessibility import AXE, serious
from tests.browser.test_visualiser import open_page
from tests.support.browser import ARTIFACTS
from tests.support.drawings import draw_digit, png
from tests.support.live_server import server_process

ARGS = (
    "--model", "tests.support.nets:resnet18", "--input", "3x224x224", "--name", "resnet18",
    "--model", "tests.support.nets:colour", "--input", "3x24x40", "--name", "colour",
    "--labels", str(Path(__file__).parents[1] / "support" / "colour_labels.txt"),
)  # fmt: skip


@pytest.fixture(scope="module")
def graph_server() -> Iterator[str]:
    with server_process(args=ARGS, timeout=180) as (url, _):
        yield url


def noise_png(h: int, w: int, seed: int = 0) -> bytes:
    img = Image.fromarray((np.random.default_rng(seed).random((h, w, 3)) * 255).astype("uint8"))
    out = io.BytesIO()
    img.save(out, "PNG")
    return out.getvalue()


def upload(pg, data: bytes) -> None:
    pg.set_input_files("[data-testid=upload]", files=[{"name": "in.png", "mimeType": "image/png", "buffer": data}])
    expect(pg.locator("[data-testid=prediction]")).not_to_have_text("", timeout=60_000)


def model(server: str, name: str) -> dict[str, Any]:
    return httpx.get(f"{server}/api/v2/model?model={name}", timeout=60).json()


def node(pg, layer: str):
    return pg.locator(f'.gn[data-node="L:{layer}"]')


def incoming(pg, node_id: str) -> list[str]:
    return pg.eval_on_selector_all(f'svg.edges path[data-to="{node_id}"]', "ps => ps.map(p => p.dataset.from)")


def test_residual_mnist_graph_has_every_edge_branches_side_by_side_and_merges(browser, graph_server: str) -> None:
    api = model(graph_server, "resnet_mnist")
    with open_page(browser, graph_server + "/graph?model=resnet_mnist") as (pg, _):
        drawn = pg.eval_on_selector_all("svg.edges path", "ps => ps.map(p => [p.dataset.from, p.dataset.to])")
        # Small enough to unfold completely: every edge of the API's graph is drawn, and nothing else.
        assert sorted(drawn) == sorted([f"L:{a}", f"L:{b}"] for a, b in api["edges"])
        add = node(pg, "layer2.0/add")
        expect(add).to_have_class("gn layer merge")
        sources = incoming(pg, "L:layer2.0/add")
        assert sorted(sources) == ["L:layer2.0.bn2", "L:layer2.0.downsample.1"]
        left, right = (node(pg, s[2:]).bounding_box() for s in sources)
        assert abs(left["x"] - right["x"]) >= left["width"], "the two branches are side by side"
        assert abs(left["y"] - right["y"]) < left["height"], "at the same depth"
        assert add.bounding_box()["y"] > max(left["y"], right["y"]), "the merge is below its branches"


def test_resnet18_reads_as_stages_and_blocks_that_unfold_and_fold(browser, graph_server: str) -> None:
    with open_page(browser, graph_server + "/graph?model=resnet18") as (pg, _):
        assert pg.locator(".gn").count() <= 40
        block = pg.locator('.gn[data-node="G:layer2.0"]')
        expect(block).to_contain_text("layer2.0")
        assert node(pg, "layer2.0/add").count() == 0
        block.click()
        expect(node(pg, "layer2.0/add")).to_be_visible()
        assert sorted(incoming(pg, "L:layer2.0/add")) == ["G:layer2.0.downsample", "L:layer2.0.bn2"]
        pg.locator('[data-fold="layer2.0"]').click()
        expect(pg.locator('.gn[data-node="G:layer2.0"]')).to_have_count(1)
        assert node(pg, "layer2.0/add").count() == 0


def test_layers_are_asked_for_as_they_come_into_view(browser, graph_server: str) -> None:
    shapes = {la["name"]: la["shape"] for la in model(graph_server, "resnet18")["layers"]}
    with open_page(browser, graph_server + "/graph?model=resnet18") as (pg, _):
        got: list[tuple[str, bytes | None, int]] = []
        pg.on(
            "response",
            lambda r: "/api/v2/predict" in r.url and got.append((r.url, r.request.post_data_buffer, len(r.body()))),
        )
        with pg.expect_response(lambda r: "/api/v2/predict" in r.url) as answered:
            upload(pg, noise_png(240, 320))
        first = httpx.URL(answered.value.url).params
        shown = set(first["layers"].split(",")) if first["layers"] else set()
        assert "fc" not in shown and first["channels"] == "0:1", "only the nodes in view, one channel each"
        assert 0 < len(shown) < 20 and len(answered.value.body()) <= 1_000_000, "first response ≤ 1 MB"
        expect(pg.locator('.gn[data-layer="conv1"] canvas')).to_have_attribute("width", "112")
        before = len(got)
        pg.locator("#graph-scroll").evaluate("el => el.scrollTo(0, el.scrollHeight)")
        expect(pg.locator('.gn[data-layer="fc"] canvas')).not_to_have_attribute("width", "1", timeout=30_000)

        def later() -> list[list[str]]:
            return [json.loads(body or b"{}").get("layers", []) for _, body, _ in got[before:]]

        for _ in range(50):  # the response events (with their bodies) may trail the page's painting
            if any("fc" in names for names in later()):
                break
            pg.wait_for_timeout(200)
        assert any("fc" in names for names in later()), "the bottom layers were asked for once in view"
        for _, body, size in got:
            if not (body or b"").startswith(b"{"):
                continue  # the upload itself
            names = json.loads(body or b"{}").get("layers", [])
            assert size <= sum(4 * int(np.prod(shapes[n])) for n in names) + 4096, "≤ the layers' float32 size"


def unit_click(pg, layer: str, channel: int, y: int, x: int, h: int, w: int) -> None:
    canvas = pg.locator(f'#maps canvas[data-layer="{layer}"][data-channel="{channel}"]')
    box = canvas.bounding_box()
    canvas.click(position={"x": (x + 0.5) * box["width"] / w, "y": (y + 0.5) * box["height"] / h})


def mark_box(pg, holder: str) -> tuple[dict[str, float], dict[str, float]]:
    """The field mark's box and its map's canvas box (page coordinates)."""
    mark = pg.locator(f"{holder} .gf").first
    return mark.bounding_box(), pg.locator(f"{holder} canvas").first.bounding_box()


def test_a_deep_unit_traces_to_the_input_where_the_api_says(browser, graph_server: str) -> None:
    with open_page(browser, graph_server + "/graph?model=resnet18") as (pg, _):
        upload(pg, noise_png(224, 224, seed=3))
        pg.locator('.gn[data-node="G:layer4.0"]').click()
        node(pg, "layer4.0.conv2").scroll_into_view_if_needed()
        node(pg, "layer4.0.conv2").click()
        unit_click(pg, "layer4.0.conv2", 5, 3, 4, 7, 7)
        expect(pg.locator("[data-testid=detail] h3")).to_contain_text("layer4.0.conv2 [5, 3, 4]", timeout=60_000)
        input_id = pg.locator("body").get_attribute("data-input-id")
        body = {"input_id": input_id, "layer": "layer4.0.conv2", "index": [5, 3, 4]}
        t = httpx.post(f"{graph_server}/api/v2/trace?model=resnet18", json=body, timeout=120).json()
        fields = {f["layer"]: f for f in t["fields"]}
        box = fields["input"]["box"]
        mark = pg.locator("[data-testid=rf-input] .gf")
        assert mark.get_attribute("data-rows") == ",".join(map(str, box["rows"]))
        assert mark.get_attribute("data-cols") == ",".join(map(str, box["cols"]))
        drawn, canvas = mark_box(pg, "[data-testid=rf-input]")
        scale = canvas["width"] / 224
        assert abs(drawn["x"] - canvas["x"] - box["cols"][0] * scale) <= 1
        assert abs(drawn["width"] - (box["cols"][1] - box["cols"][0]) * scale) <= 1.5
        assert abs(drawn["y"] - canvas["y"] - box["rows"][0] * scale) <= 1
        # Every node on screen whose layer the field reaches carries the API's box.
        marks = pg.eval_on_selector_all(
            ".gn.layer .gf", "ms => ms.map(m => [m.closest('.gn').dataset.layer, m.dataset.rows, m.dataset.cols])"
        )
        assert len(marks) >= 5
        for layer, rows, cols in marks:
            f = fields[layer]["box"]
            assert (rows, cols) == (",".join(map(str, f["rows"])), ",".join(map(str, f["cols"])))
        expect(pg.locator("[data-testid=gradient] canvas")).to_have_count(4)  # summed + 3 channels
        pg.screenshot(path=str(ARTIFACTS / "graph-resnet18-1280x800.png"))


def test_a_wide_layer_pages_its_channels_and_sorts_by_max(browser, graph_server: str) -> None:
    with open_page(browser, graph_server + "/graph?model=resnet18") as (pg, _):
        upload(pg, noise_png(200, 200, seed=5))
        pg.locator('.gn[data-node="G:layer4.0"]').click()
        node(pg, "layer4.0.conv1").scroll_into_view_if_needed()
        node(pg, "layer4.0.conv1").click()
        maps = pg.locator('#maps canvas[data-layer="layer4.0.conv1"]')
        expect(maps).to_have_count(32)
        pg.locator("[data-testid=more]").click()
        expect(maps).to_have_count(64)
        assert maps.nth(40).get_attribute("data-channel") == "40"
        pg.select_option("#order", "max")
        expect(maps).to_have_count(32)
        order = [int(c) for c in pg.eval_on_selector_all("#maps canvas", "cs => cs.map(c => c.dataset.channel)")]
        input_id = pg.locator("body").get_attribute("data-input-id")
        r = httpx.post(
            f"{graph_server}/api/v2/predict?model=resnet18&layers=layer4.0.conv1",
            json={"input_id": input_id},
            timeout=120,
        ).json()
        values = np.asarray(r["layers"][0]["values"], dtype=np.float32).reshape(512, 49)
        top = values.max(axis=1)
        step = (values.max() - values.min()) / 255  # the page sorts 8-bit display values
        shown = top[order]
        assert np.all(np.diff(shown) <= 2 * step), "largest max first"
        assert shown.min() >= np.sort(top)[-32] - 2 * step, "the 32 largest"
        pg.select_option("#zoom", "4")
        assert maps.first.bounding_box()["width"] == pytest.approx(28, abs=0.5)  # 7 units × 4 px


def test_colour_input_per_channel_drawing_and_gradient(browser, graph_server: str) -> None:
    with open_page(browser, graph_server + "/graph?model=colour") as (pg, _):
        pad = pg.locator("[data-testid=draw-pad]").bounding_box()
        pg.locator("#gp-colour").fill("#00ff00")
        pg.mouse.move(pad["x"] + 20, pad["y"] + pad["height"] / 2)
        pg.mouse.down()
        pg.mouse.move(pad["x"] + pad["width"] - 20, pad["y"] + pad["height"] / 2, steps=8)
        pg.mouse.up()
        expect(pg.locator("[data-testid=prediction]")).to_contain_text("shape", timeout=30_000)
        seen = pg.locator("[data-testid=seen] canvas")
        expect(seen).to_have_count(4)  # as received + red, green, blue
        input_id = pg.locator("body").get_attribute("data-input-id")
        r = httpx.post(
            f"{graph_server}/api/v2/predict?model=colour&layers=input", json={"input_id": input_id}, timeout=60
        ).json()
        x = np.asarray(r["layers"][0]["values"], dtype=np.float32).reshape(3, 24, 40)
        assert x[1, 12].mean() > 0.8 and x[0, 12].mean() < 0.2, "the green stroke reached the model"
        rgb = pg.locator("[data-testid=rf-input] canvas").evaluate(
            "c => Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data)"
        )
        page_rgb = np.asarray(rgb, dtype=np.float64).reshape(24, 40, 4)[..., :3]
        assert np.abs(page_rgb - np.clip(x.transpose(1, 2, 0), 0, 1) * 255).max() <= 2
        node(pg, "3").click()
        unit_click(pg, "3", 2, 5, 7, 10, 16)
        expect(pg.locator("[data-testid=detail] h3")).to_contain_text("3 [2, 5, 7]", timeout=30_000)
        expect(pg.locator("[data-testid=gradient] canvas")).to_have_count(4)
        expect(pg.locator("[data-testid=seen] .gf")).to_have_count(4)
        # By keyboard, on from the unit clicked: one tab stop on the maps, arrows over units, Page Down: next channel.
        pg.locator("[data-testid=maps]").focus()
        for key in ("ArrowDown", "ArrowDown", "ArrowRight", "ArrowRight", "ArrowRight", "PageDown", "Enter"):
            pg.keyboard.press(key)
        expect(pg.locator("[data-testid=detail] h3")).to_contain_text("3 [3, 7, 10]", timeout=30_000)


def in_view(pg, selector: str) -> bool:
    box = pg.locator(selector).first.bounding_box()
    size = pg.viewport_size
    return box is not None and box["y"] >= 0 and box["y"] + box["height"] <= size["height"] and box["x"] >= 0


def test_answer_and_field_in_view_at_1280x800_and_axe(browser, graph_server: str) -> None:
    if not AXE.exists():
        pytest.skip("axe-core missing: run npm ci")
    with open_page(browser, graph_server + "/graph?model=resnet_mnist", bypass_csp=True) as (pg, _):
        upload(pg, png(draw_digit("7")))  # a digit: noise holds no ink for the digit preprocessing (422)
        assert in_view(pg, "[data-testid=prediction]")
        node(pg, "layer3.0.conv1").scroll_into_view_if_needed()
        node(pg, "layer3.0.conv1").click()
        unit_click(pg, "layer3.0.conv1", 1, 3, 3, 7, 7)
        expect(pg.locator("[data-testid=detail] h3")).to_be_visible(timeout=30_000)
        assert in_view(pg, "[data-testid=rf-input] .gf") and in_view(pg, "[data-testid=detail] h3")
        assert in_view(pg, "[data-testid=prediction]")
        pg.screenshot(path=str(ARTIFACTS / "graph-resnet_mnist-1280x800.png"))
        problems = serious(pg, AXE)
        assert problems == [], "\n".join(problems)


def test_phone_layout_has_no_horizontal_overflow_and_axe(browser, graph_server: str) -> None:
    if not AXE.exists():
        pytest.skip("axe-core missing: run npm ci")
    phone = {"viewport": {"width": 390, "height": 844}, "has_touch": True, "is_mobile": True, "bypass_csp": True}
    with open_page(browser, graph_server + "/graph?model=colour", **phone) as (pg, _):
        upload(pg, noise_png(48, 80, seed=2))
        width = pg.evaluate("() => document.documentElement.scrollWidth")
        assert width <= 390
        node(pg, "2").tap()
        expect(pg.locator("#maps canvas")).to_have_count(6)
        assert in_view(pg, "#layer-title"), "the opened node's maps come into view on a phone"
        unit_click(pg, "2", 3, 5, 9, 12, 20)
        expect(pg.locator("[data-testid=detail] h3")).to_contain_text("2 [3, 5, 9]", timeout=30_000)
        pg.screenshot(path=str(ARTIFACTS / "graph-colour-390x844-unit.png"))
        pg.screenshot(path=str(ARTIFACTS / "graph-colour-390x844.png"), full_page=False)
        problems = serious(pg, AXE)
        assert problems == [], "\n".join(problems)


def test_the_lenet_address_of_another_model_leads_to_its_graph(graph_server: str) -> None:
    r = httpx.get(f"{graph_server}/?model=resnet_mnist", follow_redirects=False)
    assert r.status_code == 307 and r.headers["location"] == "/graph?model=resnet_mnist"
    assert httpx.get(f"{graph_server}/?model=lenet5").status_code == 200
    assert "graph/main.js" in httpx.get(f"{graph_server}/graph?model=colour").text


def test_a_bad_upload_says_so_under_the_upload_and_clears_the_answer(browser, graph_server: str) -> None:
    with open_page(browser, graph_server + "/graph?model=colour") as (pg, watch):
        upload(pg, noise_png(24, 40))
        bad = [{"name": "notes.png", "mimeType": "image/png", "buffer": b"not an image at all"}]
        pg.set_input_files("[data-testid=upload]", files=bad)
        expect(pg.locator("[data-testid=upload-error]")).to_contain_text("not an image", timeout=30_000)
        expect(pg.locator("[data-testid=prediction]")).to_have_text("")
        # The browser logs the 4xx response itself; the page adds no error of its own.
        watch.errors[:] = [e for e in watch.errors if "status of 4" not in e]


def test_an_expired_capture_is_sent_again_and_the_request_retried(browser, graph_server: str) -> None:
    with open_page(browser, graph_server + "/graph?model=colour") as (pg, watch):
        upload(pg, noise_png(24, 40, seed=9))
        expired = {"error": {"code": "capture_expired", "message": "send the input again"}}
        hits: list[str] = []

        def once(route) -> None:  # the first request by input_id meets a server that no longer holds it
            if not hits:
                hits.append("409")
                route.fulfill(status=409, content_type="application/json", body=json.dumps(expired))
            else:
                route.continue_()

        pg.route("**/api/v2/trace*", once)
        sent: list[str] = []
        pg.on("request", lambda r: "/api/v2/" in r.url and sent.append(r.headers.get("content-type", "")))
        node(pg, "0").click()
        unit_click(pg, "0", 1, 4, 6, 24, 40)
        expect(pg.locator("[data-testid=detail] h3")).to_contain_text("0 [1, 4, 6]", timeout=30_000)
        assert hits == ["409"] and "image/png" in sent, "the image went up again after the 409"
        watch.errors[:] = [e for e in watch.errors if "status of 409" not in e]


def test_the_colour_demo_gallery_feeds_the_model_its_images(browser, graph_server: str) -> None:
    listed = httpx.get(f"{graph_server}/api/v2/gallery?model=shapes", timeout=60).json()["images"]
    with open_page(browser, graph_server + "/graph?model=shapes") as (pg, _):
        buttons = pg.locator("[data-testid=gallery] button")
        expect(buttons).to_have_count(len(listed), timeout=30_000)
        pick = len(listed) // 2
        buttons.nth(pick).click()
        png = httpx.get(graph_server + listed[pick]["png"], timeout=60).content
        api = httpx.post(
            f"{graph_server}/api/v2/predict?model=shapes&layers=",
            content=png,
            headers={"content-type": "image/png"},
            timeout=60,
        ).json()
        expect(pg.locator("[data-testid=prediction]")).to_have_text(api["prediction"]["label"], timeout=30_000)
        assert pg.locator("body").get_attribute("data-input-id") == api["input_id"]  # the very tensor the API saw


def test_the_shapes_demo_traces_a_deep_unit_of_a_gallery_image_to_the_input(browser, graph_server: str) -> None:
    api = model(graph_server, "shapes")
    listed = httpx.get(f"{graph_server}/api/v2/gallery?model=shapes", timeout=60).json()["images"]
    deepest = [la for la in api["layers"] if la["kind"] in ("conv", "pool")][-1]
    (C, H, W), (c, y, x) = api["input"]["shape"], (5, 1, 2)
    with open_page(browser, graph_server + "/graph?model=shapes") as (pg, _):
        # A flat net: every layer of the API's graph is a node of its own, no folded group.
        drawn = pg.eval_on_selector_all(".gn", "ns => ns.map(n => n.dataset.node)")
        assert sorted(drawn) == sorted(f"L:{la['name']}" for la in api["layers"])
        pick = next(i for i, im in enumerate(listed) if im["label"] == "star")
        pg.locator("[data-testid=gallery] button").nth(pick).click()
        expect(pg.locator("[data-testid=prediction]")).not_to_have_text("", timeout=30_000)
        expect(pg.locator("[data-testid=seen] canvas")).to_have_count(4)  # as received + red, green, blue
        name = deepest["name"]
        node(pg, name).scroll_into_view_if_needed()
        node(pg, name).click()
        unit_click(pg, name, c, y, x, *deepest["shape"][1:])
        expect(pg.locator("[data-testid=detail] h3")).to_contain_text(f"{name} [{c}, {y}, {x}]", timeout=30_000)
        input_id = pg.locator("body").get_attribute("data-input-id")
        body = {"input_id": input_id, "layer": name, "index": [c, y, x]}
        t = httpx.post(f"{graph_server}/api/v2/trace?model=shapes", json=body, timeout=120).json()
        fields = {f["layer"]: f for f in t["fields"]}
        box = fields["input"]["box"]
        assert (box["rows"][1] - box["rows"][0]) * (box["cols"][1] - box["cols"][0]) < H * W, "a part of the input"
        mark = pg.locator("[data-testid=rf-input] .gf")
        assert mark.get_attribute("data-rows") == ",".join(map(str, box["rows"]))
        assert mark.get_attribute("data-cols") == ",".join(map(str, box["cols"]))
        drawn_box, canvas = mark_box(pg, "[data-testid=rf-input]")
        scale = canvas["width"] / W
        assert abs(drawn_box["x"] - canvas["x"] - box["cols"][0] * scale) <= 1
        assert abs(drawn_box["width"] - (box["cols"][1] - box["cols"][0]) * scale) <= 1.5
        assert abs(drawn_box["y"] - canvas["y"] - box["rows"][0] * scale) <= 1
        assert abs(drawn_box["height"] - (box["rows"][1] - box["rows"][0]) * scale) <= 1.5
        expect(pg.locator("[data-testid=seen] .gf")).to_have_count(4)  # the field on the input and each channel
        marks = pg.eval_on_selector_all(
            ".gn.layer .gf", "ms => ms.map(m => [m.closest('.gn').dataset.layer, m.dataset.rows, m.dataset.cols])"
        )
        assert {layer for layer, _, _ in marks} >= {"input", "conv1", name}
        for layer, rows, cols in marks:
            f = fields[layer]["box"]
            assert (rows, cols) == (",".join(map(str, f["rows"])), ",".join(map(str, f["cols"])))
        # The gradient, summed then red, green, blue: blank exactly where the API's gradient is 0 (outside the field).
        grads = pg.locator("[data-testid=gradient] canvas")
        expect(grads).to_have_count(4)
        captions = pg.eval_on_selector_all("[data-testid=gradient] figcaption", "fs => fs.map(f => f.textContent)")
        assert [s.split(", ")[1] for s in captions] == ["summed over channels", "red", "green", "blue"]
        g = t["gradient"]
        wanted = [np.asarray(g["combined"], dtype=np.float64)] + [
            np.asarray(ch, dtype=np.float64) for ch in g["channels"]
        ]
        assert len(wanted) == 1 + C
        r = max(np.abs(w).max() for w in wanted)  # one shared range: the page's scale
        strong_seen = 0
        for i, want in enumerate(wanted):
            rgba = grads.nth(i).evaluate(
                "c => Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data)"
            )
            px = np.asarray(rgba, dtype=np.float64).reshape(H, W, 4)[..., :3]
            zero = px[want == 0]
            assert len(zero) > 0 and np.ptp(zero, axis=0).max() == 0, "one colour where the gradient is 0"
            strong = np.abs(want) > 0.2 * r
            strong_seen += int(strong.sum())
            assert np.all(np.abs(px[strong] - zero[0]).max(axis=1) > 20), "a colour where it is large"
        assert strong_seen > 0
        pg.screenshot(path=str(ARTIFACTS / "graph-shapes-1280x800.png"))
