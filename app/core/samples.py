"""A small gallery of MNIST test digits: every class, plus some the model gets wrong."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np

from app.core.evaluate import predict_batches
from app.core.mnist import Split, load_split
from app.core.registry import LoadedModel
from app.paths import MNIST_DIR

PER_CLASS = 2
WRONG = 6


@dataclass(frozen=True)
class Gallery:
    """Chosen test-set indices with their labels and the model's predictions."""

    ids: list[int]
    labels: list[int]
    predicted: list[int]


@cache
def test_split() -> Split:
    """The committed MNIST test set."""
    return load_split(MNIST_DIR, "test")


def choose(labels: np.ndarray, predicted: np.ndarray, per_class: int = PER_CLASS, wrong: int = WRONG) -> list[int]:
    """The first `per_class` correctly classified digits of each class, then the first `wrong` mistakes."""
    ids: list[int] = []
    for digit in range(10):
        ids.extend(int(i) for i in np.flatnonzero((labels == digit) & (predicted == labels))[:per_class])
    ids.extend(int(i) for i in np.flatnonzero(predicted != labels)[:wrong])
    return ids


_galleries: dict[str, Gallery] = {}


def gallery(lm: LoadedModel) -> Gallery:
    """The gallery for a model, computed on first use (one pass over the 10,000 test digits)."""
    if lm.name not in _galleries:
        split = test_split()
        predicted = predict_batches(lm.model, split.images)
        ids = choose(split.labels, predicted)
        _galleries[lm.name] = Gallery(ids, [int(split.labels[i]) for i in ids], [int(predicted[i]) for i in ids])
    return _galleries[lm.name]


def pixels(sample_id: int) -> np.ndarray:
    """A test digit as 28×28 floats in 0..1 (IndexError if out of range)."""
    images = test_split().images
    if not 0 <= sample_id < len(images):
        raise IndexError(sample_id)
    return images[sample_id].astype(np.float32) / 255.0
