"""The colour demo: its generated data set is deterministic, and the shipped model meets its manifest on it."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn

from app.core import shapes
from app.core.architectures import describe
from app.core.evaluate import evaluate_shapes, predict_inputs
from app.core.preprocess import preprocess_colour
from app.core.weights import Manifest, load_model, sha256_file
from app.paths import MODELS_DIR
from app.training.shapes import ShapesConfig, channel_stats, train_shapes

MANIFEST = MODELS_DIR / "shapes.json"


def test_a_seed_names_a_data_set_exactly() -> None:
    a_images, a_labels = shapes.generate(40, seed=11)
    b_images, b_labels = shapes.generate(40, seed=11)
    c_images, _ = shapes.generate(40, seed=12)
    assert a_images.dtype == np.uint8 and a_images.shape == (40, shapes.SIDE, shapes.SIDE, 3)
    assert np.array_equal(a_images, b_images) and np.array_equal(a_labels, b_labels)
    assert not np.array_equal(a_images, c_images)
    assert a_labels.tolist() == [i % len(shapes.CLASSES) for i in range(40)], "the classes in turn"
    assert shapes.digest(a_images, a_labels) == shapes.digest(b_images, b_labels) != shapes.digest(c_images, a_labels)
    prefix, _ = shapes.generate(13, seed=11)
    assert np.array_equal(prefix, a_images[:13]), "a shorter split is a prefix of a longer one"


def test_training_never_draws_the_held_out_split() -> None:
    seeds = {shapes.training_seed(seed, epoch) for seed in range(5) for epoch in range(30)}
    assert shapes.HELD_OUT_SEED not in seeds and len(seeds) == 150


def test_images_are_two_colours_apart_and_shapes_sit_on_their_background() -> None:
    images, labels = shapes.generate(200, seed=3)
    x = images.astype(np.float64) / 255.0
    for image, label in zip(x, labels, strict=True):
        kind = shapes.CLASSES[label]
        spread = np.linalg.norm(image.reshape(-1, 3).max(0) - image.reshape(-1, 3).min(0))
        assert spread >= shapes.MIN_CONTRAST * np.sqrt(3) * 0.8, kind  # two colours that differ (noise aside)
        if kind not in shapes.TEXTURES:
            # A shape keeps clear of the image's edge at most of the border: the border is mostly one colour.
            border = np.concatenate([image[0], image[-1], image[:, 0], image[:, -1]])
            median = np.median(border, axis=0)
            assert (np.linalg.norm(border - median, axis=1) < 0.35).mean() > 0.6, kind


def test_to_tensor_is_what_the_image_recipe_makes_of_the_png() -> None:
    images, _ = shapes.generate(4, seed=5)
    mean, std = (0.5, 0.49, 0.48), (0.28, 0.27, 0.29)
    ours = shapes.to_tensor(images, mean, std)  # (4, 3, 32, 32)
    for i, image in enumerate(images):
        buf = io.BytesIO()
        Image.fromarray(image).save(buf, format="PNG")
        theirs = preprocess_colour(buf.getvalue(), (3, 32, 32), mean, std).input
        np.testing.assert_array_equal(ours[i], theirs)
    by_hand = (images[0, 7, 9, 1] / 255.0 - mean[1]) / std[1]
    assert ours[0, 1, 7, 9] == pytest.approx(by_hand, rel=1e-6)


def test_channel_stats_match_numpy() -> None:
    images, _ = shapes.generate(30, seed=9)
    mean, std = channel_stats(images)
    flat = images.reshape(-1, 3) / 255.0
    np.testing.assert_allclose(mean, flat.mean(0), atol=1e-4)
    np.testing.assert_allclose(std, flat.std(0), atol=1e-4)


def test_shipped_colour_model_meets_its_manifest() -> None:
    model, manifest = load_model(MANIFEST)
    assert sha256_file(MODELS_DIR / manifest.weights_file) == manifest.sha256
    assert manifest.architecture == "colour-shapes" and manifest.input_shape == [3, 32, 32]
    assert manifest.labels == list(shapes.CLASSES) and manifest.preprocess == "image" and manifest.dataset == "shapes"
    assert manifest.layers == describe(model) and len(manifest.mean) == len(manifest.std) == 3
    assert manifest.test_accuracy >= 0.95
    images, labels = shapes.held_out(manifest.test_total)
    assert shapes.digest(images, labels) == manifest.training["held_out_sha256"], "the same held-out images"
    result = evaluate_shapes(model, manifest.test_total, manifest.mean, manifest.std)
    assert abs(result.errors - manifest.test_errors) <= 1, "measured accuracy disagrees with the manifest"
    assert result.confusion.sum() == manifest.test_total
    # An independent count: the plain forward's argmax (softmax included) over the normalised images.
    x = torch.from_numpy(shapes.to_tensor(images, tuple(manifest.mean), tuple(manifest.std)))
    with torch.inference_mode():
        plain = model(x).argmax(1).numpy()  # (N,)
    assert int((plain != labels).sum()) == result.errors


def test_training_is_reproducible_and_writes_a_manifest(tmp_path: Path) -> None:
    """A tiny run exercises the whole path: generated data, held-out measure, weights and manifest."""
    config = ShapesConfig(name="tiny", epochs=2, images_per_epoch=960, held_out=200, batch_size=32, ema_decay=0.0)
    first = train_shapes(config, tmp_path / "a", progress=False)
    second = train_shapes(config, tmp_path / "b", progress=False)
    assert first.sha256 == second.sha256, "same seed, same weights"
    model, manifest = load_model(tmp_path / "a" / "tiny.json")
    assert isinstance(model, nn.Sequential) and manifest == Manifest.read(tmp_path / "a" / "tiny.json")
    images, labels = shapes.held_out(200)
    x = shapes.to_tensor(images, tuple(manifest.mean), tuple(manifest.std))
    assert int((predict_inputs(model, x) != labels).sum()) == manifest.test_errors
    assert manifest.test_accuracy > 0.15, "it learns (chance is 0.1)"
