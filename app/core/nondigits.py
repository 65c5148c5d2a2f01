"""Generated non-digits for measuring the "does not look like a digit" cue: strokes, dots, lines, letters, scribbles.

Each is framed as MNIST frames its digits (light ink on dark, the ink's box scaled to fit 20×20, centre of mass
at the centre of the 28×28 frame), the way the app's preprocessing frames an upload. Letters are rendered with
Pillow's bundled font (ImageFont.load_default); letters a person could mistake for a digit (O, I, l, Z, S, B, g …)
are left out, since reading them as digits is not an error.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from PIL import Image, ImageDraw, ImageFont

from app.core import distort

KINDS = ("strokes", "dots", "lines", "letters", "scribbles")
LETTERS = "ACEFHKMNPRUVWXYacdefhkmnprtuvwxy"  # no O o Q D I i l j J L T Z z S s b G B g q
BOX = 20


def mnist_frame(ink: np.ndarray) -> np.ndarray:
    """Crop ink (H, W) in [0, 1] to its box, scale the longer side to 20 px and centre its mass in 28×28."""
    rows, cols = np.nonzero(ink > 0.05)
    if len(rows) == 0:
        return np.zeros((28, 28), dtype=np.float32)
    crop = ink[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1]
    h, w = crop.shape
    k = BOX / max(h, w)
    size = (max(1, round(w * k)), max(1, round(h * k)))
    small = np.asarray(Image.fromarray((crop * 255).astype(np.uint8)).resize(size, Image.Resampling.LANCZOS))
    small = small.astype(np.float32) / 255.0
    out = np.zeros((28, 28), dtype=np.float32)
    total = small.sum()
    cy, cx = (np.indices(small.shape) * small).reshape(2, -1).sum(1) / max(total, 1e-6)
    top, left = round(14 - cy), round(14 - cx)
    top, left = min(max(top, 0), 28 - small.shape[0]), min(max(left, 0), 28 - small.shape[1])
    out[top : top + small.shape[0], left : left + small.shape[1]] = small
    return out


def _polyline(points: np.ndarray, width: float) -> np.ndarray:
    """Ink of a polyline (K, 2) in 28-px coordinates."""
    starts = torch.from_numpy(points[:-1]).float().unsqueeze(0)
    ends = torch.from_numpy(points[1:]).float().unsqueeze(0)
    return distort.segments(starts, ends, torch.full((1, len(points) - 1), width))[0, 0].numpy()


def _strokes(rng: np.random.Generator) -> np.ndarray:
    ink = np.zeros((28, 28), dtype=np.float32)
    for _ in range(rng.integers(2, 5)):
        ink = np.maximum(ink, _polyline(rng.uniform(3, 25, (2, 2)), rng.uniform(1.5, 3.0)))
    return ink


def _dots(rng: np.random.Generator) -> np.ndarray:
    ink = np.zeros((28, 28), dtype=np.float32)
    for _ in range(rng.integers(1, 6)):
        p = rng.uniform(4, 24, 2)
        ink = np.maximum(ink, _polyline(np.stack([p, p + 0.01]), rng.uniform(2.0, 5.0)))
    return ink


def _lines(rng: np.random.Generator) -> np.ndarray:
    """One to three long straight lines at most 40° from horizontal (a steep bar is a fair "1")."""
    ink = np.zeros((28, 28), dtype=np.float32)
    for _ in range(rng.integers(1, 4)):
        angle = rng.uniform(-40, 40) * math.pi / 180  # from horizontal
        c, half = rng.uniform(8, 20, 2), rng.uniform(6, 12)
        d = np.array([math.cos(angle), math.sin(angle)]) * half
        ink = np.maximum(ink, _polyline(np.stack([c - d, c + d]), rng.uniform(1.5, 3.0)))
    return ink


def _letters(rng: np.random.Generator, font: ImageFont.FreeTypeFont | ImageFont.ImageFont) -> np.ndarray:
    canvas = Image.new("L", (96, 96), 0)
    ImageDraw.Draw(canvas).text((20, 10), str(rng.choice(list(LETTERS))), fill=255, font=font)
    return np.asarray(canvas, dtype=np.float32) / 255.0


def _scribbles(rng: np.random.Generator) -> np.ndarray:
    """A random walk with sharp turns: a tangle that no digit follows."""
    steps = rng.integers(8, 16)
    heading = rng.uniform(0, 2 * math.pi)
    points = [rng.uniform(10, 18, 2)]
    for _ in range(steps):
        heading += rng.uniform(-2.5, 2.5)
        points.append(np.clip(points[-1] + rng.uniform(3, 7) * np.array([math.cos(heading), math.sin(heading)]), 2, 26))
    return _polyline(np.array(points), rng.uniform(1.5, 2.5))


def generate(count_per_kind: int = 400, seed: int = 16) -> dict[str, np.ndarray]:
    """count_per_kind images (N, 28, 28) float32 in [0, 1] of every kind, the same for the same seed."""
    rng = np.random.default_rng(seed)
    font = ImageFont.load_default(size=64)
    makers = {
        "strokes": lambda: _strokes(rng),
        "dots": lambda: _dots(rng),
        "lines": lambda: _lines(rng),
        "letters": lambda: _letters(rng, font),
        "scribbles": lambda: _scribbles(rng),
    }
    return {kind: np.stack([mnist_frame(makers[kind]()) for _ in range(count_per_kind)]) for kind in KINDS}
