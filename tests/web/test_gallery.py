"""GET /api/v2/gallery and the colour demo served through API v2: every value against a plain forward."""

from __future__ import annotations

import base64
import io
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import torch
from fastapi.testclient import TestClient
from PIL import Image

from app.core import shapes
from app.core.models import Catalog, ModelSpec
from app.core.registry import Registry
from app.core.weights import load_model
from app.paths import MODELS_DIR
from app.web.app import create_app
from app.web.schemas.v2 import GalleryV2, ModelListV2, PredictResponseV2, TraceResponseV2
from app.web.settings import Settings
from tests.core.test_datasets import shapes_folder
from tests.web.test_response_models import error, valid

MEAN, STD = (0.5, 0.5, 0.5), (0.25, 0.25, 0.25)


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Eight generated PNGs in class subfolders, a broken file and a file at the top (no class)."""
    root = tmp_path_factory.mktemp("dataset")
    shapes_folder(root, count=8, seed=21)
    (root / "stars" / "broken.png").parent.mkdir(exist_ok=True)
    (root / "stars" / "broken.png").write_bytes(b"\x89PNG, but no")
    loose = np.random.default_rng(0).integers(0, 256, (60, 90, 3), dtype=np.uint8)
    Image.fromarray(loose).save(root / "zz-loose.jpg", quality=90)
    return root


@pytest.fixture(scope="module")
def api(registry: Registry, folder: Path) -> Iterator[TestClient]:
    labels = folder / "labels.txt"
    labels.write_text("\n".join(shapes.CLASSES))
    specs = [
        ModelSpec("tests.support.nets:colour_lenet", name="mine", input="3x24x40", labels=str(labels), mean=MEAN,
                  std=STD, dataset=str(folder)),
        ModelSpec("tests.support.nets:colour_lenet", name="bare", input="3x24x40"),
    ]  # fmt: skip
    catalog = Catalog.load(specs, MODELS_DIR)
    app = create_app(Settings(log_level="warning"), registry, catalog)
    with TestClient(app, base_url="http://localhost", raise_server_exceptions=False) as client:
        yield client


def png_pixels(response) -> np.ndarray:  # type: ignore[no-untyped-def]
    assert response.status_code == 200 and response.headers["content-type"] == "image/png"
    return np.asarray(Image.open(io.BytesIO(response.content)))


def test_the_colour_demo_is_listed_with_its_gallery(api: TestClient) -> None:
    listing = valid(ModelListV2, api.get("/api/v2/models"))
    by_name = {m["name"]: m for m in listing["models"]}
    demo = by_name["shapes"]
    assert demo["input"]["shape"] == [3, 32, 32] and demo["input"]["preprocess"] == "image"
    assert demo["labels"] == list(shapes.CLASSES) and demo["accuracy"] >= 0.95
    assert demo["gallery"] == 3 * len(shapes.CLASSES) and by_name["bare"]["gallery"] == 0
    assert by_name["lenet"]["gallery"] == 30 and listing["default"] == "mine"


def test_shapes_gallery_lists_and_serves_held_out_images(api: TestClient) -> None:
    body = valid(GalleryV2, api.get("/api/v2/gallery?model=shapes"))
    assert body["source"] == "shapes" and len(body["images"]) == 30
    images, labels = shapes.held_out(30)
    for entry in body["images"][::7]:
        held = int(entry["name"].rsplit(" ", 1)[1])
        assert entry["label"] == shapes.CLASSES[labels[held]] and entry["label_index"] == labels[held]
        np.testing.assert_array_equal(png_pixels(api.get(entry["png"])), images[held])


def test_mnist_models_show_test_digits(api: TestClient) -> None:
    from app.core.mnist import load_split
    from app.paths import MNIST_DIR

    test = load_split(MNIST_DIR, "test")
    body = valid(GalleryV2, api.get("/api/v2/gallery?model=resnet_mnist"))
    assert body["source"] == "mnist" and [e["label"] for e in body["images"][:4]] == ["0", "0", "0", "1"]
    first = int(body["images"][3]["name"].rsplit(" ", 1)[1])
    np.testing.assert_array_equal(png_pixels(api.get(body["images"][3]["png"])), test.images[first])


def test_dataset_folder_is_the_gallery(api: TestClient, folder: Path) -> None:
    body = valid(GalleryV2, api.get("/api/v2/gallery?model=mine"))
    assert body["source"] == "folder"
    names = [e["name"] for e in body["images"]]
    assert names == sorted(names) and names[-1] == "zz-loose.jpg" and len(names) == 10
    loose = body["images"][-1]
    assert loose["label"] is None and loose["label_index"] is None
    shown = png_pixels(api.get(loose["png"]))
    assert shown.shape == (24, 40, 3), "as the model receives it: scaled to cover 24×40 and centre-cropped"
    # The shown image fed back is the same input as the file itself.
    from_file = api.post("/api/v2/predict?model=mine&layers=input&encoding=f32", files={"image": (
        "f.jpg", (folder / "zz-loose.jpg").read_bytes(), "image/jpeg")}).json()  # fmt: skip
    from_png = api.post("/api/v2/predict?model=mine&layers=", files={"image": (
        "s.png", api.get(loose["png"]).content, "image/png")}).json()  # fmt: skip
    assert from_file["input_id"] == from_png["input_id"]
    circle = next(e for e in body["images"] if e["label"] == "circle")
    assert circle["label_index"] == 0 and circle["name"].startswith("circle/")
    assert png_pixels(api.get(circle["png"])).shape == (24, 40, 3)
    broken = next(e for e in body["images"] if e["name"] == "stars/broken.png")
    assert broken["label"] == "stars" and broken["label_index"] is None
    error(api.get(broken["png"]), 422, "not_an_image")


def test_gallery_errors(api: TestClient) -> None:
    error(api.get("/api/v2/gallery?model=nope"), 404, "unknown_model")
    error(api.get("/api/v2/gallery/0.png?model=nope"), 404, "unknown_model")
    error(api.get("/api/v2/gallery/30.png?model=shapes"), 404, "unknown_image")
    error(api.get("/api/v2/gallery/0.png?model=bare"), 404, "unknown_image")
    error(api.get("/api/v2/gallery/01.png?model=shapes"), 422, "invalid_request")
    error(api.get("/api/v2/gallery/-1.png?model=shapes"), 422, "invalid_request")
    assert valid(GalleryV2, api.get("/api/v2/gallery?model=bare")) == {"model": "bare", "source": None, "images": []}


def plain_layers(net: torch.nn.Sequential, x: torch.Tensor) -> dict[str, torch.Tensor]:
    """Every named layer's output by running the Sequential one module at a time."""
    out = {}
    with torch.no_grad():
        for name, module in net.named_children():
            x = module(x)
            out[name] = x[0]
    return out


def test_the_colour_demo_through_v2_equals_a_plain_forward(api: TestClient) -> None:
    net, manifest = load_model(MODELS_DIR / "shapes.json")
    assert isinstance(net, torch.nn.Sequential)
    entry = valid(GalleryV2, api.get("/api/v2/gallery?model=shapes"))["images"][4]
    image = api.get(entry["png"]).content
    body = valid(
        PredictResponseV2,
        api.post("/api/v2/predict?model=shapes&layers=*&encoding=f32", files={"image": ("g.png", image, "image/png")}),
    )
    pixels = np.asarray(Image.open(io.BytesIO(image)))  # (32, 32, 3)
    x = torch.from_numpy(shapes.to_tensor(pixels[None], tuple(manifest.mean), tuple(manifest.std)))  # (1, 3, 32, 32)
    expected = plain_layers(net, x)
    got = {
        layer["name"]: np.frombuffer(base64.b64decode(layer["values"]["data"]), "<f4").reshape(layer["shape"])
        for layer in body["layers"]
    }
    np.testing.assert_array_equal(got["input"], x[0].numpy())
    assert set(expected) <= set(got)
    for name, value in expected.items():
        np.testing.assert_allclose(got[name], value.numpy(), rtol=1e-5, atol=1e-6, err_msg=name)
    assert body["prediction"]["label"] == shapes.CLASSES[int(expected["softmax"].argmax())]
    unit = [5, 3, 4]
    t = valid(
        TraceResponseV2,
        api.post("/api/v2/trace?model=shapes", json={"input_id": body["input_id"], "layer": "conv2", "index": unit}),
    )
    assert t["value"] == pytest.approx(float(expected["conv2"][tuple(unit)]), rel=1e-5, abs=1e-6)
    # d unit / d input from autograd on the plain model, per channel.
    xg = x.clone().requires_grad_(True)
    y = xg
    for name, module in net.named_children():
        y = module(y)
        if name == "conv2":
            break
    y[(0, *unit)].backward()
    assert xg.grad is not None
    np.testing.assert_allclose(np.asarray(t["gradient"]["channels"]), xg.grad[0].numpy(), rtol=1e-5, atol=1e-6)
    support = np.argwhere(xg.grad[0].abs().sum(0).numpy() > 0)
    box = t["fields"][0]["box"]
    assert box["rows"][0] <= support[:, 0].min() and support[:, 0].max() < box["rows"][1]
    assert box["cols"][0] <= support[:, 1].min() and support[:, 1].max() < box["cols"][1]
