"""A model's data set: folders with or without class subfolders, the generated shapes, the MNIST test digits."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from app.core import datasets, shapes
from app.core.datasets import InputSpec
from app.core.mnist import DatasetError, load_split
from app.core.preprocess import Limits, PreprocessError, preprocess_colour, preprocess_image
from app.paths import MNIST_DIR

COLOUR = InputSpec((3, 32, 32), "image", (0.5, 0.5, 0.5), (0.25, 0.25, 0.25))


def write_png(path: Path, image: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(image).save(buf, format="PNG")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buf.getvalue())
    return buf.getvalue()


def shapes_folder(root: Path, count: int = 6, seed: int = 4) -> list[tuple[Path, bytes, int]]:
    """Generated images saved as PNGs in one subfolder per class name: (path, bytes, class index)."""
    images, labels = shapes.generate(count, seed)
    out = []
    for i, (image, label) in enumerate(zip(images, labels, strict=True)):
        path = root / shapes.CLASSES[label] / f"{i:03d}.png"
        out.append((path, write_png(path, image), int(label)))
    return out


def test_scan_takes_classes_from_subfolders_in_sorted_order(tmp_path: Path) -> None:
    written = shapes_folder(tmp_path)
    (tmp_path / "notes.txt").write_text("not an image")
    write_png(tmp_path / "loose.PNG", np.zeros((5, 5, 3), np.uint8))
    found = datasets.scan(tmp_path)
    expected = sorted([(p, shapes.CLASSES[c]) for p, _, c in written] + [(tmp_path / "loose.PNG", None)])
    assert found == expected
    assert datasets.scan(tmp_path, limit=2) == expected[:2]


def test_scan_errors_name_the_folder(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="no such directory"):
        datasets.scan(tmp_path / "missing")
    (tmp_path / "a.txt").write_text("x")
    with pytest.raises(DatasetError, match="no images"):
        datasets.scan(tmp_path)


def test_folder_pairs_are_what_the_image_recipe_makes_of_each_file(tmp_path: Path) -> None:
    written = shapes_folder(tmp_path)
    dataset = datasets.folder(tmp_path, COLOUR, list(shapes.CLASSES))
    assert dataset.kind == "folder" and len(dataset) == len(written)
    by_path = {p: (data, c) for p, data, c in written}
    pairs = list(dataset.pairs())
    for item, (tensor, label) in zip(dataset.items, pairs, strict=True):
        data, cls = by_path[tmp_path / item.name]
        expected = preprocess_colour(data, (3, 32, 32), COLOUR.mean, COLOUR.std).input
        torch.testing.assert_close(tensor, torch.from_numpy(expected), rtol=0, atol=0)
        assert label == cls and item.label == shapes.CLASSES[cls]
    assert len(list(dataset.pairs(limit=2))) == 2


def test_a_folder_image_is_shown_as_the_model_receives_it(tmp_path: Path) -> None:
    """A 64×48 photo: scaled to cover 32×32 and centre-cropped; the PNG of what is shown gives the same tensor."""
    photo = np.random.default_rng(0).integers(0, 256, (48, 64, 3), dtype=np.uint8)
    write_png(tmp_path / "photo.png", photo)
    dataset = datasets.folder(tmp_path, COLOUR, None)
    sample = dataset.sample(0)
    assert sample.image.shape == (32, 32, 3) and sample.image.dtype == np.uint8 and sample.label is None
    reference = (
        Image.fromarray(photo).resize((43, 32), Image.Resampling.BILINEAR, reducing_gap=3.0).crop((5, 0, 37, 32))
    )
    np.testing.assert_array_equal(sample.image, np.asarray(reference))
    again = preprocess_colour(write_png(tmp_path / "again.png", sample.image), (3, 32, 32), COLOUR.mean, COLOUR.std)
    torch.testing.assert_close(sample.tensor, torch.from_numpy(again.input), rtol=0, atol=0)


def test_a_digit_folder_uses_the_mnist_recipe(tmp_path: Path) -> None:
    test = load_split(MNIST_DIR, "test")
    data = write_png(tmp_path / "7" / "a.png", 255 - test.images[0])  # dark ink on light paper
    spec = InputSpec((1, 28, 28), "mnist")
    sample = datasets.folder(tmp_path, spec, [str(d) for d in range(10)]).sample(0)
    expected = preprocess_image(data).input  # (28, 28)
    torch.testing.assert_close(sample.tensor, torch.from_numpy(expected).reshape(1, 28, 28), rtol=0, atol=0)
    assert sample.label == 7 and sample.image.shape == (28, 28)


def test_bad_files_are_preprocess_errors_with_a_status(tmp_path: Path) -> None:
    (tmp_path / "broken.png").write_bytes(b"\x89PNG not really")
    write_png(tmp_path / "large.png", np.zeros((40, 40, 3), np.uint8))
    dataset = datasets.folder(tmp_path, COLOUR, None)
    with pytest.raises(PreprocessError) as bad:
        dataset.sample(0)
    assert bad.value.status == 422
    with pytest.raises(PreprocessError) as big:
        dataset.sample(1, Limits(max_bytes=50))
    assert big.value.status == 413 and "large.png" in big.value.message
    with pytest.raises(IndexError):
        dataset.sample(2)


def test_generated_gallery_is_the_held_out_split_class_by_class() -> None:
    spec = InputSpec((3, 32, 32), "image", (0.5, 0.49, 0.5), (0.28, 0.28, 0.27))
    dataset = datasets.generated_shapes(spec, per_class=2)
    assert [item.label for item in dataset.items] == [c for c in shapes.CLASSES for _ in range(2)]
    images, labels = shapes.held_out(20)
    for i, item in enumerate(dataset.items):
        sample = dataset.sample(i)
        held = int(item.name.rsplit(" ", 1)[1])
        np.testing.assert_array_equal(sample.image, images[held])
        assert sample.label == labels[held] == shapes.CLASSES.index(item.label)
        expected = (images[held].transpose(2, 0, 1) / 255.0 - np.array(spec.mean)[:, None, None]) / np.array(spec.std)[
            :, None, None
        ]
        np.testing.assert_allclose(sample.tensor.numpy(), expected, rtol=1e-5, atol=1e-6)


def test_mnist_gallery_is_test_digits_of_every_class() -> None:
    test = load_split(MNIST_DIR, "test")
    dataset = datasets.mnist_test(InputSpec((1, 28, 28), "mnist"), [str(d) for d in range(10)], per_class=2)
    assert [item.label for item in dataset.items] == [str(d) for d in range(10) for _ in range(2)]
    tensor, label = next(dataset.pairs())
    first = int(np.flatnonzero(test.labels == 0)[0])
    np.testing.assert_array_equal(tensor.numpy()[0], test.images[first] / np.float32(255.0))
    assert label == 0


def test_unit_cards_rank_the_whole_held_out_split_or_the_folder(tmp_path: Path) -> None:
    spec = InputSpec((3, 32, 32), "image", (0.5, 0.49, 0.5), (0.28, 0.28, 0.27))
    gallery = datasets.generated_shapes(spec, per_class=2)
    images = datasets.unit_images(gallery)
    assert len(images) == datasets.SHAPES_STATISTICS and images.name.startswith("shapes-held-out")
    for i, item in enumerate(gallery.items):  # the gallery's images are the split's, at the same places
        held = int(item.name.rsplit(" ", 1)[1])
        torch.testing.assert_close(images[held], gallery.sample(i).tensor)
    for name in ("a.png", "b.png"):
        Image.new("RGB", (32, 32), (10, 200, 30)).save(tmp_path / name)
    spec_folder = InputSpec((3, 32, 32), "image", (0.0, 0.0, 0.0), (1.0, 1.0, 1.0))
    in_folder = datasets.unit_images(datasets.folder(tmp_path, spec_folder, None))
    assert len(in_folder) == 2 and in_folder.name.startswith("folder-2-")
    torch.testing.assert_close(in_folder[1][:, 0, 0], torch.tensor([10, 200, 30]) / 255.0)
