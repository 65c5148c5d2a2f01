"""The explain page in headless Chromium for a LeNet, the residual MNIST model and the colour demo: every method's
overlay against the API's attribution (sign and zero pattern, per input channel for colour), the unit card against
/api/v2/unit and /api/v2/visualise, a knock-out of the channel that matters most against /api/v2/knockout; the
statistics job's progress bar on a server with an empty cache; screenshots at 1280×800 and 390×844."""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, get_args

import httpx2 as httpx
import numpy as np
import pytest
from playwright.sync_api import expect

from app.core.attribution import Method
from tests.browser.test_visualiser import open_page
from tests.support.browser import ARTIFACTS
from tests.support.live_server import server_process

MODELS = ["lenet", "resnet_mnist", "shapes"]
METHODS = list(get_args(Method))  # every method the API accepts
# The page's default options (templates/explain.html), sent the same way by the tests' reference requests.
NUMBER = re.compile(r"^-?\d")
OPTIONS: dict[str, dict[str, Any]] = {
    "integrated_gradients": {"steps": 32, "baseline": "black", "precise": False},
    "smoothgrad": {"samples": 16, "noise": 0.15},
    "occlusion": {"window": 4, "stride": 2},
}


def api(server: str, path: str, model: str, body: dict[str, Any] | None = None) -> Any:
    url = f"{server}/api/v2{path}{'&' if '?' in path else '?'}model={model}"
    r = httpx.post(url, json=body, timeout=300) if body is not None else httpx.get(url, timeout=60)
    assert r.status_code == 200, r.text
    return r.json()


def first_image(server: str, model: str) -> str:
    """The first gallery image (what the page starts with) as a data URL."""
    item = api(server, "/gallery", model)["images"][0]
    data = httpx.get(server + item["png"], timeout=60).content
    return "data:image/png;base64," + base64.b64encode(data).decode()


def canvas_rgb(pg, selector: str) -> np.ndarray:
    canvas = pg.locator(selector)
    w, h = canvas.evaluate("c => [c.width, c.height]")
    data = canvas.evaluate("c => Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data)")
    return np.asarray(data, dtype=np.int64).reshape(h, w, 4)[..., :3]


def assert_signs(rgb: np.ndarray, values: list[list[float]], r: float | None = None) -> None:
    """Red where the API's value is clearly positive, blue where clearly negative, white exactly where it is 0."""
    v = np.asarray(values, dtype=np.float64)
    assert rgb.shape[:2] == v.shape
    r = float(np.abs(v).max()) if r is None else r
    assert r > 0, "an attribution that is zero everywhere explains nothing"
    assert (rgb[v == 0] == 255).all(), "zero must be white"
    pos, neg = v > 0.05 * r, v < -0.05 * r
    assert pos.any() or neg.any()
    assert (rgb[pos, 0] > rgb[pos, 2]).all() and (rgb[neg, 2] > rgb[neg, 0]).all()
    if r == float(np.abs(v).max()):  # the largest |value| gets the full colour of its end of the scale
        peak = np.unravel_index(np.abs(v).argmax(), v.shape)
        assert abs(rgb[peak][1] - (69 if v[peak] > 0 else 104)) <= 1


def pick_method(pg, method: str, refused: bool = False) -> None:
    pg.select_option("[data-testid=explain-method]", method)
    if refused:  # the API answers 422: the page shows why instead of a map
        expect(pg.locator("[data-testid=attribution-note]")).to_contain_text("Could not attribute", timeout=120_000)
        return
    expect(pg.locator("[data-testid=attribution-overlay]")).to_have_attribute("data-method", method, timeout=120_000)
    expect(pg.locator("[data-testid=attribution-note]")).not_to_have_text("Computing…")


@pytest.mark.parametrize("model", [*MODELS, "lenet5"])
def test_every_method_draws_the_apis_attribution(browser, server: str, model: str) -> None:
    image = first_image(server, model)
    with open_page(browser, f"{server}/explain?model={model}", ready=False) as (pg, watch):
        pg.wait_for_selector("body[data-ready=true]", timeout=120_000)
        expect(pg.locator("[data-testid=explain-model]")).to_have_value(model)
        predicted = api(server, "/predict?layers=&steps=false", model, {"image": image})["prediction"]
        expect(pg.locator("[data-testid=explain-prediction]")).to_have_text(predicted["label"])
        colour = api(server, "/model", model)["input"]["shape"][0] == 3
        for method in METHODS:
            body = {"image": image, "method": method, "target": {"class_index": predicted["index"], "kind": "logit"}}
            answer = httpx.post(
                f"{server}/api/v2/attribute?model={model}", json={**body, **OPTIONS.get(method, {})}, timeout=300
            )
            if method != "gradient":
                pick_method(pg, method, refused=answer.status_code == 422)
            if answer.status_code == 422:  # guided backprop on a tanh net: the page says why, as the API does
                assert method == "guided_backprop" and model == "lenet5", answer.text
                note = pg.locator("[data-testid=attribution-note]")
                expect(note).to_contain_text(answer.json()["error"]["message"])
                assert (canvas_rgb(pg, "[data-testid=attribution-combined]") == 0).all()  # no stale map under it
                watch.errors[:] = [e for e in watch.errors if "status of 422" not in e]  # the refusal, logged
                continue
            assert answer.status_code == 200, answer.text
            ref = answer.json()
            assert_signs(canvas_rgb(pg, "[data-testid=attribution-combined]"), ref["combined"])
            assert canvas_rgb(pg, "[data-testid=attribution-overlay]").shape[:2] == np.shape(ref["combined"])
            channels = pg.locator("[data-testid=attribution-channel]")
            if colour and ref["shape"][0] == 3:
                expect(channels).to_have_count(3)
                for k in range(3):  # one scale for the three: the API's largest |value| over all channels
                    rgb = canvas_rgb(pg, f"[data-testid=attribution-channel][data-channel='{k}']")
                    assert_signs(rgb, ref["channels"][k], ref["range"]["abs_max"])
            else:
                expect(channels).to_have_count(0)
            if method in ("gradcam", "gradcam_pp"):
                expect(pg.locator("[data-testid=attribution-note]")).to_contain_text(f"Layer {ref['layer']}: ")
            if method == "integrated_gradients":
                error = ref["completeness"]["error"] * 100
                expect(pg.locator("[data-testid=attribution-note]")).to_contain_text(
                    f"Completeness error {error:.2f} %"
                )
        expect(pg.locator("#attr-legend .legend")).to_be_visible()


def channel_that_matters(
    server: str, model: str, image: str, layer: str, channels: int, logits: str
) -> tuple[int, dict, float]:
    """The channel of `layer` whose knock-out moves the predicted class's score most (by the API), and how much.

    Scores, not probabilities: a confident network's top probability sits at 1 − 1e-7, where no single channel moves it.
    """
    best: tuple[float, int, dict] = (-1.0, 0, {})
    for c in range(channels):
        ko = api(server, "/knockout", model, {"image": image, "layer": layer, "channel": c, "layers": [logits]})
        i = ko["before"]["prediction"]["index"]
        row = next(row for row in ko["layers"] if row["name"] == logits)
        moved = abs(row["difference"][i])
        best = max(best, (moved, c, ko), key=lambda t: t[0])
    return best[1], best[2], best[0]


@pytest.mark.parametrize("model", MODELS)
def test_unit_card_and_knockout_match_the_api(browser, server: str, model: str) -> None:
    image = first_image(server, model)
    every = api(server, "/model", model)["layers"]
    names = [layer["name"] for layer in every]
    assert names[-1] == "softmax"
    layers = [layer for layer in every if len(layer["shape"]) == 3]
    maps = [layer for layer in layers if layer["shape"][1] * layer["shape"][2] > 1 and layer["name"] != "input"]
    with open_page(browser, f"{server}/explain?model={model}", ready=False) as (pg, _):
        pg.wait_for_selector("body[data-ready=true]", timeout=120_000)
        # The card of channel 1 at the centre of the deepest map (the page's default layer and position).
        deepest = maps[-1]
        index = [1, deepest["shape"][1] // 2, deepest["shape"][2] // 2]
        expect(pg.locator("[data-testid=unit-layer]")).to_have_value(deepest["name"])
        pg.fill("[data-testid=unit-channel]", "1")
        pg.click("[data-testid=open-card]")
        expect(pg.locator("[data-testid=feature-vis]")).to_have_attribute("data-value", NUMBER, timeout=300_000)
        card = api(server, "/unit", model, {"image": image, "layer": deepest["name"], "index": index, "k": 9})
        shown = pg.locator("[data-testid=topk-grid] figure")
        expect(shown).to_have_count(len(card["top"]))
        assert [int(i) for i in shown.evaluate_all("fs => fs.map(f => f.dataset.index)")] == [
            t["index"] for t in card["top"]
        ]
        sizes = pg.locator("[data-testid=topk-grid] canvas").evaluate_all("cs => cs.map(c => [c.height, c.width])")
        assert sizes == [[len(t["crop"][0]), len(t["crop"][0][0])] for t in card["top"]]
        expect(pg.locator("[data-testid=unit-value]")).to_have_text(f"{card['value']:.3f}")
        vis = api(server, "/visualise", model, {"layer": deepest["name"], "index": [1], "steps": 64})
        value = float(pg.locator("[data-testid=feature-vis]").get_attribute("data-value") or "nan")
        assert value == pytest.approx(vis["value"], rel=1e-4, abs=1e-5)
        fv = canvas_rgb(pg, "[data-testid=feature-vis]")
        assert fv.shape[:2] == np.shape(vis["pixels"])[1:]
        if len(vis["pixels"]) == 3:
            assert (fv[..., 0] != fv[..., 1]).any(), "a colour model's optimised image is in colour"

        # Knock out the channel of a middle map that moves the prediction most: the page shows the API's answer.
        layer = maps[len(maps) // 2]
        expect(pg.locator("[data-testid=knockout-layer]")).to_have_value(layer["name"])
        logits = names[-2]  # every model here ends in its logits, then softmax
        channel, ko, score_moved = channel_that_matters(server, model, image, layer["name"], layer["shape"][0], logits)
        pg.fill("[data-testid=knockout-channel]", str(channel))
        pg.click("[data-testid=knockout]")
        after = pg.locator("[data-testid=knockout-after]")
        expect(after).to_have_attribute("data-index", str(ko["after"]["prediction"]["index"]), timeout=60_000)
        p_after = float(after.get_attribute("data-probability") or "nan")
        p_before = float(pg.locator("[data-testid=knockout-before]").get_attribute("data-probability") or "nan")
        assert p_after == pytest.approx(ko["after"]["prediction"]["probability"], rel=1e-5)
        assert p_before == pytest.approx(ko["before"]["prediction"]["probability"], rel=1e-5)
        moved = ko["after"]["prediction"]["index"] != ko["before"]["prediction"]["index"]
        assert moved or score_moved > 1e-2, "the chosen channel changes the predicted class's score"
        rows = pg.locator("[data-testid=knockout-layers] tbody tr")
        expect(rows).to_have_count(len(ko["layers"]))
        diff_layer = pg.locator("[data-testid=knockout-diff-layer]").input_value()
        expect(pg.locator("[data-testid=knockout-difference]")).to_have_attribute("data-layer", diff_layer)
        full = api(
            server,
            "/knockout",
            model,
            {"image": image, "layer": layer["name"], "channel": channel, "layers": [diff_layer]},
        )
        d = next(row for row in full["layers"] if row["name"] == diff_layer)
        scale = int(pg.locator("[data-testid=knockout-difference]").get_attribute("data-scale") or "0")
        rgb = canvas_rgb(pg, "[data-testid=knockout-difference]")[::scale, ::scale]  # a unit is scale×scale pixels
        # The first tile (channel 0 of a map; the first row of up to 32 of a vector) on the layer's one scale.
        h, w = (d["shape"][1], d["shape"][2]) if len(d["shape"]) == 3 else (1, min(32, d["shape"][0]))
        first = np.asarray(d["difference"][: h * w]).reshape(h, w)
        if first.any():
            assert_signs(rgb[:h, :w], first.tolist(), d["max_abs_difference"])
        else:
            assert (rgb[:h, :w] == 255).all()


@pytest.fixture(scope="module")
def empty_cache_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    cache = tmp_path_factory.mktemp("explain-cache")
    with server_process(env={"CONVSCOPE_EXPLAIN_CACHE_DIR": str(cache)}, timeout=120) as (url, _):
        yield url


def test_a_card_without_statistics_computes_them_with_progress(browser, empty_cache_server: str) -> None:
    server = empty_cache_server
    assert api(server, "/statistics", "shapes")["ready"] is False
    with open_page(browser, f"{server}/explain?model=shapes", ready=False) as (pg, _):
        pg.wait_for_selector("body[data-ready=true]", timeout=120_000)
        pg.click("[data-testid=open-card]")
        expect(pg.locator("[data-testid=statistics-progress]")).to_be_visible(timeout=30_000)
        expect(pg.locator("[data-testid=card-note]")).to_contain_text("Ranking every unit over shapes-held-out-3000")
        expect(pg.locator("[data-testid=topk-grid] figure")).to_have_count(9, timeout=600_000)
        expect(pg.locator("[data-testid=statistics-progress]")).to_be_hidden()
    assert api(server, "/statistics", "shapes")["ready"] is True


@pytest.mark.parametrize("model", ["lenet", "shapes"])
@pytest.mark.parametrize("viewport", [(1280, 800), (390, 844)])
def test_screenshots_fit_the_viewport(browser, server: str, model: str, viewport: tuple[int, int]) -> None:
    size = {"width": viewport[0], "height": viewport[1]}
    with open_page(browser, f"{server}/explain?model={model}", ready=False, viewport=size) as (pg, _):
        pg.wait_for_selector("body[data-ready=true]", timeout=120_000)
        pick_method(pg, "integrated_gradients")
        pg.click("[data-testid=open-card]")
        expect(pg.locator("[data-testid=feature-vis]")).to_have_attribute("data-value", NUMBER, timeout=300_000)
        pg.click("[data-testid=knockout]")
        expect(pg.locator("[data-testid=knockout-after]")).to_be_visible(timeout=60_000)
        if pg.locator("[data-testid=compare]").is_enabled():  # lenet: compared with another digit model
            pg.click("[data-testid=compare]")
            expect(pg.locator("[data-testid=compare-b]")).to_be_visible(timeout=60_000)
        assert pg.evaluate("() => document.documentElement.scrollWidth") <= viewport[0], "nothing overflows sideways"
        ARTIFACTS.mkdir(exist_ok=True)
        path = Path(ARTIFACTS / f"explain-{model}-{viewport[0]}x{viewport[1]}.png")
        pg.screenshot(path=str(path), full_page=True)


def test_explain_is_linked_from_every_page(browser, server: str) -> None:
    for path in ("/", "/lab", "/graph?model=lenet"):
        html = httpx.get(server + path, timeout=60).text
        assert '<a href="/explain">Explain</a>' in html, path
    with open_page(browser, f"{server}/graph?model=resnet_mnist") as (pg, _):
        expect(pg.locator("[data-testid=explain-link]")).to_have_attribute("href", "/explain?model=resnet_mnist")


def test_a_long_method_shows_progress_and_cancels(browser, server: str) -> None:
    with open_page(browser, f"{server}/explain?model=resnet_mnist", ready=False) as (pg, _):
        pg.wait_for_selector("body[data-ready=true]", timeout=120_000)
        pick_method(pg, "integrated_gradients")
        pg.check("[data-testid=ig-precise]")  # 512 steps through the residual net: seconds, as a job
        expect(pg.locator("[data-testid=attribution-progress]")).to_be_visible(timeout=30_000)
        pg.click("[data-testid=attribution-cancel]")
        expect(pg.locator("[data-testid=attribution-note]")).to_have_text("Cancelled.", timeout=60_000)
        expect(pg.locator("[data-testid=attribution-progress]")).to_be_hidden()
        expect(pg.locator("[data-testid=attribution-overlay]")).to_have_attribute("data-method", "integrated_gradients")


def test_an_upload_a_unit_target_and_a_chosen_cam_layer(browser, server: str) -> None:
    item = api(server, "/gallery", "shapes")["images"][5]
    data = httpx.get(server + item["png"], timeout=60).content
    image = "data:image/png;base64," + base64.b64encode(data).decode()
    with open_page(browser, f"{server}/explain?model=shapes", ready=False) as (pg, _):
        pg.wait_for_selector("body[data-ready=true]", timeout=120_000)
        pg.set_input_files(
            "[data-testid=explain-upload]", files=[{"name": "in.png", "mimeType": "image/png", "buffer": data}]
        )
        predicted = api(server, "/predict?layers=&steps=false", "shapes", {"image": image})["prediction"]
        expect(pg.locator("[data-testid=explain-prediction]")).to_have_attribute("data-index", str(predicted["index"]))
        expect(pg.locator("[data-testid=explain-prediction]")).to_have_text(predicted["label"])

        pg.select_option("[data-testid=explain-target-kind]", "unit")
        pg.select_option("[data-testid=explain-target-layer]", "conv2")
        pg.fill("[data-testid=explain-target-index]", "3, 8, 8")
        pg.press("[data-testid=explain-target-index]", "Enter")  # commits the field (a change event)
        note = pg.locator("[data-testid=attribution-note]")
        expect(note).to_contain_text("gradient of unit conv2 [3, 8, 8]", timeout=60_000)
        ref = api(server, "/attribute", "shapes", {"image": image, "method": "gradient",
                                                    "target": {"layer": "conv2", "index": [3, 8, 8]}})  # fmt: skip
        assert_signs(canvas_rgb(pg, "[data-testid=attribution-combined]"), ref["combined"])

        pg.select_option("[data-testid=explain-target-kind]", "class")
        pick_method(pg, "gradcam")
        pg.select_option("[data-testid=cam-layer]", "conv2")
        expect(note).to_contain_text("Layer conv2 (chosen).", timeout=60_000)
        target = {"class_index": predicted["index"], "kind": "logit"}
        ref = api(
            server, "/attribute", "shapes", {"image": image, "method": "gradcam", "layer": "conv2", "target": target}
        )
        assert_signs(canvas_rgb(pg, "[data-testid=attribution-combined]"), ref["combined"])


def test_a_link_with_a_unit_opens_its_card_and_one_unit_is_knocked_out(browser, server: str) -> None:
    image = first_image(server, "lenet")
    with open_page(browser, f"{server}/explain?model=lenet&layer=conv2&unit=3,4,5", ready=False) as (pg, _):
        pg.wait_for_selector("body[data-ready=true]", timeout=120_000)
        expect(pg.locator("[data-testid=unit-layer]")).to_have_value("conv2")
        expect(pg.locator("[data-testid=card-note]")).to_contain_text("conv2 [3, 4, 5] is", timeout=300_000)
        card = api(server, "/unit", "lenet", {"image": image, "layer": "conv2", "index": [3, 4, 5], "k": 9})
        expect(pg.locator("[data-testid=unit-value]")).to_have_text(f"{card['value']:.3f}")

        expect(pg.locator("[data-testid=knockout-layer]")).to_have_value("conv2")
        pg.fill("[data-testid=knockout-channel]", "3")
        pg.check("[data-testid=knockout-unit]")
        pg.fill("#ko-y", "4")
        pg.fill("#ko-x", "5")
        pg.select_option("[data-testid=knockout-mode]", "mean")
        pg.click("[data-testid=knockout]")
        expect(pg.locator("[data-testid=knockout-result]")).to_contain_text("conv2 unit [3, 4, 5] (1 value set to")
        ko = api(server, "/knockout", "lenet", {"image": image, "layer": "conv2", "index": [3, 4, 5], "mode": "mean"})
        after = float(pg.locator("[data-testid=knockout-after]").get_attribute("data-probability") or "nan")
        assert after == pytest.approx(ko["after"]["prediction"]["probability"], rel=1e-5)
        expect(pg.locator("[data-testid=knockout-layers] tbody tr")).to_have_count(len(ko["layers"]))


def test_two_models_compared_side_by_side_match_the_api(browser, server: str) -> None:
    image = first_image(server, "lenet")
    served = api(server, "/models", "lenet")["models"]
    same_input = sorted(m["name"] for m in served if m["name"] != "lenet" and m["input"]["shape"] == [1, 28, 28])
    assert "lenet5" in same_input
    with open_page(browser, f"{server}/explain?model=lenet", ready=False) as (pg, _):
        pg.wait_for_selector("body[data-ready=true]", timeout=120_000)
        offered = pg.locator("[data-testid=compare-other] option").evaluate_all("os => os.map(o => o.value)")
        assert sorted(offered) == same_input  # only models that take this input (not the colour demo)
        pg.select_option("[data-testid=compare-other]", "lenet5")
        pg.click("[data-testid=compare]")
        want = api(server, "/compare?other=lenet5", "lenet", {"image": image, "values": True})
        for side in ("a", "b"):
            expect(pg.locator(f"[data-testid=compare-{side}]")).to_have_attribute(
                "data-index", str(want[side]["prediction"]["index"]), timeout=60_000
            )
        rows = pg.locator("[data-testid=compare-layers] tbody tr")
        expect(rows).to_have_count(len(want["layers"]))
        assert rows.locator("button").all_inner_texts() == [layer["name"] for layer in want["layers"]]
        maps = pg.locator("[data-testid=compare-maps]")
        expect(maps).to_have_attribute("data-layer", want["layers"][-1]["name"])  # the deepest shared layer first
        # A shared map picked from the table: its difference tiles have the signs of the API's b − a.
        layer = next(lay for lay in want["layers"] if len(lay["shape"]) == 3 and lay["max_abs_difference"] > 0)
        pg.click(f"[data-testid=compare-layers] button[data-layer='{layer['name']}']")
        expect(maps).to_have_attribute("data-layer", layer["name"])
        d = np.asarray(layer["b"], dtype=np.float64) - np.asarray(layer["a"], dtype=np.float64)
        assert np.abs(d).max() == pytest.approx(layer["max_abs_difference"], rel=1e-5)
        scale = int(pg.locator("[data-testid=compare-difference]").get_attribute("data-scale") or "0")
        rgb = canvas_rgb(pg, "[data-testid=compare-difference]")[::scale, ::scale]
        h, w = layer["shape"][1], layer["shape"][2]
        assert_signs(rgb[:h, :w], d[: h * w].reshape(h, w).tolist(), float(np.abs(d).max()))


def test_a_drawing_is_explained_as_it_is_drawn(browser, server: str) -> None:
    with open_page(browser, f"{server}/explain?model=lenet", ready=False) as (pg, _):
        pg.wait_for_selector("body[data-ready=true]", timeout=120_000)
        pad = pg.locator("[data-testid=explain-draw-pad]")
        expect(pad).to_be_visible()
        box = pad.bounding_box()
        assert box is not None
        first = pg.locator("[data-testid=explain-input]").get_attribute("data-input-id")
        pg.mouse.move(box["x"] + 0.5 * box["width"], box["y"] + 0.15 * box["height"])
        pg.mouse.down()
        pg.mouse.move(box["x"] + 0.5 * box["width"], box["y"] + 0.5 * box["height"], steps=8)
        # mid-stroke: the page has already sent the half-drawn line (the overlay follows the pen)
        expect(pg.locator("[data-testid=explain-input]")).not_to_have_attribute("data-input-id", first or "")
        pg.mouse.move(box["x"] + 0.5 * box["width"], box["y"] + 0.85 * box["height"], steps=8)
        pg.mouse.up()
        expect(pg.locator("[data-testid=explain-prediction]")).to_have_text("1", timeout=30_000)
        same = (
            "() => document.querySelector('[data-testid=attribution-combined]').dataset.inputId"
            " === document.querySelector('[data-testid=explain-input]').dataset.inputId"
        )
        for _ in range(3):  # a last round may still start after the stroke ends: compare once the page is settled
            pg.wait_for_function(same, timeout=30_000)  # the map painted is the one of the drawing shown
            shown = pg.locator("[data-testid=explain-input]").get_attribute("data-input-id")
            rgb = canvas_rgb(pg, "[data-testid=attribution-combined]")
            if pg.locator("[data-testid=explain-input]").get_attribute("data-input-id") == shown:
                break
        body = {"input_id": shown, "method": "gradient", "target": {"class_index": 1, "kind": "logit"}}
        assert_signs(rgb, api(server, "/attribute", "lenet", body)["combined"])
        pg.click("[data-testid=explain-draw-clear]")
    with open_page(browser, f"{server}/explain?model=shapes", ready=False) as (pg, _):
        pg.wait_for_selector("body[data-ready=true]", timeout=120_000)
        expect(pg.locator("[data-testid=explain-draw-pad]")).to_be_hidden()  # not a digit model
