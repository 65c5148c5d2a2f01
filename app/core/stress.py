"""The stress suite: MNIST's test set under one fixed, documented distortion per family.

Each family distorts all 10,000 test images with a fixed seed, so every run (and every model) sees the same
images. `perspective` is held out of training on purpose: no training distortion is projective, so accuracy
there measures how the model generalises rather than whether it memorised an augmentation.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from app.core import distort
from app.core.architectures import logits_part

SEED = 16
HELD_OUT = "perspective"
# The fixed parameters, as the README documents them.
STROKE_PX = 1  # ±1 px on each side: stroke width ±2 px (half the images thicker, half thinner)
ELASTIC_ALPHA, ELASTIC_SIGMA = 34.0, 4.0
SLANT_DEGREES = 20.0  # each image slanted by exactly +20° or −20°
LOW_RES = 8
SMALL_SCALE = (0.5, 0.8)
NOISE_SIGMA = 25.0 / 255.0
PERSPECTIVE_TILT = 0.3  # last-row homography terms uniform in ±0.3 (a side shrinks to ~77 %)
DIGIT_HALF_EXTENT = 10.0  # MNIST digits fit a 20×20 box centred in the 28×28 frame


def _stroke(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    thicker = (torch.rand(x.shape[0], generator=gen) < 0.5).view(-1, 1, 1, 1)
    return torch.where(thicker, distort.dilate(x, STROKE_PX), distort.thin(x, STROKE_PX))


def _elastic(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    return distort.elastic(x, gen, ELASTIC_ALPHA, ELASTIC_SIGMA)


def _slant(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    sign = torch.where(torch.rand(x.shape[0], generator=gen) < 0.5, -1.0, 1.0)
    return distort.slant(x, sign * SLANT_DEGREES)


def _low_res(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    return distort.low_resolution(x, LOW_RES)


def _small(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    n = x.shape[0]
    scale = torch.empty(n).uniform_(*SMALL_SCALE, generator=gen)
    room = distort.SIZE / 2 - 1 - DIGIT_HALF_EXTENT * scale  # px the centre can move and keep the digit in frame
    angle = torch.rand(n, generator=gen) * 2 * math.pi
    reach = room * (0.5 + 0.5 * torch.rand(n, generator=gen))  # at least half-way to the edge: off-centre
    offset = torch.stack([torch.cos(angle), torch.sin(angle)], 1) * reach.unsqueeze(1)
    return distort.place(x, scale, offset)


def _noise(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    return distort.noise(x, gen, NOISE_SIGMA)


def _inverted(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    return distort.invert(x)


def _perspective(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    tilt = (torch.rand(x.shape[0], 2, generator=gen) * 2 - 1) * PERSPECTIVE_TILT
    return distort.perspective(x, tilt)


FAMILIES: dict[str, Callable[[torch.Tensor, torch.Generator], torch.Tensor]] = {
    "stroke": _stroke,
    "elastic": _elastic,
    "slant": _slant,
    "low_res": _low_res,
    "small_offcentre": _small,
    "noise": _noise,
    "inverted": _inverted,
    HELD_OUT: _perspective,
}
DESCRIPTIONS = {
    "stroke": "stroke width ±2 px: 3×3 grey dilation, or 3×3 erosion that keeps the 1-px centre ridge (half each)",
    "elastic": f"elastic distortion, α = {ELASTIC_ALPHA:g} px, σ = {ELASTIC_SIGMA:g} px (Simard et al. 2003)",
    "slant": f"slant (shear) of exactly ±{SLANT_DEGREES:g}°",
    "low_res": f"area-averaged to {LOW_RES}×{LOW_RES}, bilinear back to 28×28",
    "small_offcentre": f"scaled {SMALL_SCALE[0]}–{SMALL_SCALE[1]}, centre moved at least half-way to the edge",
    "noise": "Gaussian noise σ = 25/255, clipped to [0, 1]",
    "inverted": "inverted polarity (dark ink on light)",
    HELD_OUT: f"projective tilt, homography terms uniform in ±{PERSPECTIVE_TILT} (held out of training)",
}


def family_images(images: torch.Tensor, family: str, seed: int = SEED) -> torch.Tensor:
    """The family's distortion of images (N, 1, 28, 28) in [0, 1]; the same seed gives the same images."""
    gen = torch.Generator().manual_seed(seed + list(FAMILIES).index(family))
    return FAMILIES[family](images, gen).clamp(0.0, 1.0)


@dataclass(frozen=True)
class FamilyResult:
    """One family's accuracy, per-class accuracy, and the model's logits for calibration measures."""

    family: str
    accuracy: float
    per_class: list[float]
    logits: np.ndarray
    labels: np.ndarray


@torch.inference_mode()
def logits_of(model: nn.Module, images: torch.Tensor, batch_size: int = 1000) -> np.ndarray:
    """The model's logits (N, 10) for images (N, 1, 28, 28)."""
    net = logits_part(model).eval()
    return torch.cat([net(images[i : i + batch_size]) for i in range(0, len(images), batch_size)]).numpy()


def per_class_accuracy(predictions: np.ndarray, labels: np.ndarray) -> list[float]:
    """Accuracy within each true class 0–9."""
    return [float((predictions[labels == c] == c).mean()) for c in range(10)]


def run(model: nn.Module, images: torch.Tensor, labels: np.ndarray, seed: int = SEED) -> list[FamilyResult]:
    """Every family's results for a model on images (N, 1, 28, 28) with labels (N,)."""
    results = []
    for family in FAMILIES:
        logits = logits_of(model, family_images(images, family, seed))
        predictions = logits.argmax(1)
        accuracy = float((predictions == labels).mean())
        results.append(FamilyResult(family, accuracy, per_class_accuracy(predictions, labels), logits, labels))
    return results


def format_report(report: dict[str, Any], temperature: float) -> str:
    """The stress report as text: a row per family (accuracy, ECE, per-class accuracy) and the overall rows."""
    classes = " ".join(f"{c:>6}" for c in range(10))
    lines = [
        f"stress suite (seed {report['seed']}; {report['held_out']} held out of training), "
        f"temperature {temperature:.3f}",
        f"{'family':<16} {'acc':>7} {'ECE T=1':>8} {'ECE T':>7}  per class: {classes}",
    ]
    for family, f in report["families"].items():
        per_class = " ".join(f"{a:6.2%}" for a in f["per_class"])
        lines.append(
            f"{family:<16} {f['accuracy']:7.2%} {f['ece_before']:8.4f} {f['ece_after']:7.4f}             {per_class}"
        )
    per_class = " ".join(f"{a:6.2%}" for a in report["overall_per_class"])
    lines.append(
        f"{'all families':<16} {report['overall_accuracy']:7.2%} {report['ece_before']:8.4f} "
        f"{report['ece_after']:7.4f}             {per_class}"
    )
    lines.append(f"MNIST test ECE: {report['test_ece_before']:.4f} at T = 1, {report['test_ece_after']:.4f} at T")
    for family, f in report["families"].items():
        lines.append(f"  {family}: {f['description']}")
    return "\n".join(lines)
