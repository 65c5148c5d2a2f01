"""Measure a network on a test set (MNIST's, or the generated shapes' held-out split): accuracy and confusion."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from app.core import shapes
from app.core.architectures import logits_part
from app.core.mnist import Split


@dataclass(frozen=True)
class Evaluation:
    """Test-set results: accuracy in [0, 1] and confusion[true][predicted] counts."""

    accuracy: float
    errors: int
    total: int
    confusion: np.ndarray
    predictions: np.ndarray


def to_tensor(images: np.ndarray) -> torch.Tensor:
    """uint8 images (N, 28, 28) → float tensor (N, 1, 28, 28) in [0, 1]."""
    return torch.from_numpy(images.astype(np.float32) / 255.0).unsqueeze(1)


@torch.inference_mode()
def predict_batches(model: nn.Module, images: np.ndarray, batch_size: int = 1000) -> np.ndarray:
    """Predicted class of every image."""
    net = logits_part(model).eval()
    out = [net(to_tensor(images[i : i + batch_size])).argmax(1).numpy() for i in range(0, len(images), batch_size)]
    return np.concatenate(out)


@torch.inference_mode()
def predict_inputs(model: nn.Module, x: np.ndarray, batch_size: int = 500) -> np.ndarray:
    """Predicted class of every input already in the model's input space (N, C, H, W) float32."""
    net = logits_part(model).eval()
    out = [net(torch.from_numpy(x[i : i + batch_size])).argmax(1).numpy() for i in range(0, len(x), batch_size)]
    return np.concatenate(out) if out else np.zeros(0, dtype=np.int64)


def score(predictions: np.ndarray, labels: np.ndarray, classes: int = 10) -> Evaluation:
    """Accuracy and confusion matrix (confusion[true][predicted]) of predictions against labels."""
    labels = labels.astype(np.int64)
    confusion = np.zeros((classes, classes), dtype=np.int64)
    np.add.at(confusion, (labels, predictions), 1)
    errors = int((predictions != labels).sum())
    return Evaluation(1.0 - errors / len(labels), errors, len(labels), confusion, predictions)


def evaluate(model: nn.Module, split: Split) -> Evaluation:
    """Accuracy and confusion matrix of a model on an MNIST split."""
    return score(predict_batches(model, split.images), split.labels)


def evaluate_shapes(model: nn.Module, count: int, mean: list[float], std: list[float]) -> Evaluation:
    """Accuracy and confusion matrix on the first `count` held-out generated shapes, normalised by mean/std."""
    images, labels = shapes.held_out(count)
    x = shapes.to_tensor(images, tuple(mean), tuple(std))  # (N, 3, 32, 32)
    return score(predict_inputs(model, x), labels, len(shapes.CLASSES))


def format_confusion(confusion: np.ndarray) -> str:
    """Confusion matrix as a text table: rows are true labels, columns predictions."""
    header = "true\\pred " + " ".join(f"{c:>5}" for c in range(confusion.shape[1]))
    rows = [f"{r:>9} " + " ".join(f"{v:>5}" for v in confusion[r]) for r in range(confusion.shape[0])]
    return "\n".join([header, *rows])
