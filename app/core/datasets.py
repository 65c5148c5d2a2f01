"""A model's data set: images to show in a gallery and to run through the network, as (tensor, label) pairs.

Three kinds, one interface: a folder of images (optionally one subfolder per class, `--dataset DIR`), the generated
held-out shapes (the colour demo) and the bundled MNIST test set (the digit models). Every image comes back as the
model receives it — decoded within the preprocessing budget, resized and cropped, before mean/std — and as the
normalised input tensor, so a gallery PNG fed back to the model gives the same tensor.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Literal

import numpy as np
import torch

from app.core import shapes
from app.core.mnist import DatasetError
from app.core.preprocess import Limits, PreprocessError, preprocess_colour, preprocess_image
from app.core.samples import test_split
from app.core.units import Images, TensorImages

IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".webp", ".bmp", ".gif"})
MAX_IMAGES = 1000  # a folder's images beyond this (in sorted order) are not listed
SHAPES_GALLERY = 3  # generated held-out images per class in the colour demo's gallery
MNIST_GALLERY = 3  # test digits per class in a digit model's gallery

Kind = Literal["folder", "shapes", "mnist"]


@dataclass(frozen=True)
class InputSpec:
    """What a model takes: shape (C, H, W), how an image becomes it, and the normalisation."""

    shape: tuple[int, ...]
    recipe: str  # "mnist" or "image"
    mean: tuple[float, ...] = ()
    std: tuple[float, ...] = ()


@dataclass(frozen=True)
class Item:
    """One image of a data set: its class name (None if unknown) and where it comes from."""

    label: str | None
    name: str  # a folder image's path relative to the folder; otherwise a description


@dataclass(frozen=True)
class Sample:
    """An image as the model receives it, and the tensor it becomes."""

    image: np.ndarray  # uint8 (H, W) or (H, W, C), before mean/std
    tensor: torch.Tensor  # (C, H, W) float32, the model's input
    label: int | None  # index of the item's class among the model's labels, if it is one


def scan(root: Path, limit: int = MAX_IMAGES) -> list[tuple[Path, str | None]]:
    """Image files under `root` in sorted order: (path, class) with the class from a first-level subfolder."""
    if not root.is_dir():
        raise DatasetError(f"dataset {root}: no such directory")
    found: list[tuple[Path, str | None]] = []
    for path in sorted(p for p in root.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file()):
        parts = path.relative_to(root).parts
        found.append((path, parts[0] if len(parts) > 1 else None))
        if len(found) == limit:
            break
    if not found:
        raise DatasetError(f"dataset {root}: no images ({', '.join(sorted(IMAGE_SUFFIXES))}) in it or its subfolders")
    return found


def load_file(path: Path, spec: InputSpec, limits: Limits) -> tuple[np.ndarray, torch.Tensor]:
    """An image file as the model receives it (uint8) and as its input tensor (C, H, W); PreprocessError if bad."""
    try:
        size = path.stat().st_size
        if size > limits.max_bytes:
            raise PreprocessError("too_large", f"{path.name} is {size} bytes; the limit is {limits.max_bytes}.", 413)
        data = path.read_bytes()
    except OSError as exc:
        raise PreprocessError("unreadable_image", f"{path.name} cannot be read ({exc.strerror}).", 404) from exc
    if spec.recipe == "mnist":
        digit = preprocess_image(data, limits).input  # (28, 28) in 0..1
        return np.round(digit * 255).astype(np.uint8), torch.from_numpy(digit.reshape(spec.shape))
    shape = (int(spec.shape[0]), int(spec.shape[1]), int(spec.shape[2]))
    pre = preprocess_colour(data, shape, spec.mean, spec.std, limits)
    seen = np.round(pre.steps[-1].image * 255).astype(np.uint8)  # the centre crop, before mean/std
    return seen, torch.from_numpy(pre.input)


@cache
def _shapes_held_out(count: int) -> tuple[np.ndarray, np.ndarray]:
    return shapes.held_out(count)


class Dataset:
    """A model's images: `items` to list, `sample(i)` to load one, `pairs()` to run many."""

    def __init__(
        self,
        kind: Kind,
        items: list[Item],
        spec: InputSpec,
        labels: list[str] | None,
        *,
        paths: list[Path] | None = None,
        ids: list[int] | None = None,
    ) -> None:
        self.kind = kind
        self.items = items
        self.spec = spec
        self._classes = {name: i for i, name in enumerate(labels or [])}
        self._paths = paths or []  # folder: the files, in item order
        self._ids = ids or []  # shapes, mnist: each item's index in its split

    def __len__(self) -> int:
        return len(self.items)

    def label_index(self, label: str | None) -> int | None:
        """The class's index among the model's labels (None if it has no such label)."""
        return None if label is None else self._classes.get(label)

    def sample(self, index: int, limits: Limits | None = None) -> Sample:
        """Load item `index` (IndexError if out of range; PreprocessError for a folder file that does not decode)."""
        if not 0 <= index < len(self.items):
            raise IndexError(index)
        label = self.label_index(self.items[index].label)
        if self.kind == "folder":
            image, tensor = load_file(self._paths[index], self.spec, limits or Limits())
        elif self.kind == "shapes":
            image = _shapes_held_out(max(self._ids) + 1)[0][self._ids[index]]  # (32, 32, 3)
            tensor = torch.from_numpy(shapes.to_tensor(image[None], self.spec.mean, self.spec.std)[0])
        else:
            image = test_split().images[self._ids[index]]  # (28, 28)
            tensor = torch.from_numpy(image.astype(np.float32) / 255.0).reshape(self.spec.shape)
        return Sample(image, tensor, label)

    def pairs(
        self, limit: int | None = None, limits: Limits | None = None
    ) -> Iterator[tuple[torch.Tensor, int | None]]:
        """(input tensor (C, H, W), label index or None) for the first `limit` items, in order."""
        for index in range(min(len(self.items), len(self.items) if limit is None else limit)):
            s = self.sample(index, limits)
            yield s.tensor, s.label


def folder(root: Path, spec: InputSpec, labels: list[str] | None, limit: int = MAX_IMAGES) -> Dataset:
    """A folder of images (`--dataset DIR`), one subfolder per class or flat; files are decoded when used."""
    found = scan(root, limit)
    items = [Item(label, str(p.relative_to(root))) for p, label in found]
    return Dataset("folder", items, spec, labels, paths=[p for p, _ in found])


def generated_shapes(spec: InputSpec, per_class: int = SHAPES_GALLERY) -> Dataset:
    """The first `per_class` held-out generated images of each class (the colour demo's gallery)."""
    count = per_class * len(shapes.CLASSES)  # the generator draws the classes in turn
    ids = sorted(range(count), key=lambda i: (i % len(shapes.CLASSES), i))
    items = [Item(shapes.CLASSES[i % len(shapes.CLASSES)], f"held-out image {i}") for i in ids]
    return Dataset("shapes", items, spec, list(shapes.CLASSES), ids=ids)


def mnist_test(spec: InputSpec, labels: list[str] | None, per_class: int = MNIST_GALLERY) -> Dataset:
    """The first `per_class` bundled MNIST test digits of each class (a digit model's gallery)."""
    digits = test_split().labels
    ids = [int(i) for d in range(10) for i in np.flatnonzero(digits == d)[:per_class]]
    items = [Item(str(int(digits[i])), f"MNIST test digit {i}") for i in ids]
    return Dataset("mnist", items, spec, labels, ids=ids)


SHAPES_STATISTICS = 3_000  # the colour demo's whole held-out split: what its unit cards rank


def unit_images(dataset: Dataset) -> Images:
    """A model's data set as the unit cards index it: image i is its input tensor (C, H, W)."""
    if dataset.kind == "shapes":  # the gallery holds a few per class; the statistics use the whole split
        images, _ = _shapes_held_out(SHAPES_STATISTICS)  # (N, 32, 32, 3)
        tensor = torch.from_numpy(shapes.to_tensor(images, dataset.spec.mean, dataset.spec.std))  # (N, 3, 32, 32)
        return TensorImages(f"shapes-held-out-{SHAPES_STATISTICS}", tensor)
    return DatasetImages(dataset)


class DatasetImages:
    """A gallery's images, each loaded (a folder's file decoded) when the pass reaches it."""

    def __init__(self, dataset: Dataset) -> None:
        self.dataset = dataset
        listing = "\n".join(f"{item.label}/{item.name}" for item in dataset.items).encode()
        self.name = f"{dataset.kind}-{len(dataset.items)}-{hashlib.sha256(listing).hexdigest()[:16]}"

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, i: int) -> torch.Tensor:
        return self.dataset.sample(i).tensor
