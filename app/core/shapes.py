"""Coloured shapes and textures drawn in code: a colour data set that needs no download.

Every image is 3×32×32, made from a seeded random generator only, so a seed names a data set exactly. Shapes are one
flat colour on a noisy background of another; textures fill the image with two colours. Position, size, rotation,
colours, pattern scale and noise all vary; the class never depends on colour, so a network must learn form.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable

import numpy as np
from PIL import Image, ImageDraw

SIDE = 32
SUPER = 4  # drawn at 4× and box-filtered down: anti-aliased edges, no scipy needed
CLASSES = (
    "circle",
    "square",
    "triangle",
    "star",
    "cross",
    "ring",
    "stripes",
    "checkerboard",
    "dots",
    "gradient",
)
HELD_OUT_SEED = 999_983  # the held-out split: no training run uses this seed (see training_seed)
MIN_CONTRAST = 0.35  # smallest RGB distance (in 0..1 per channel) between two colours of one image

Points = list[tuple[float, float]]


def training_seed(seed: int, epoch: int) -> int:
    """The seed of one epoch's freshly drawn training images (never the held-out seed)."""
    derived = int.from_bytes(hashlib.sha256(f"shapes-train/{seed}/{epoch}".encode()).digest()[:6], "little")
    return derived if derived != HELD_OUT_SEED else derived + 1


def _colour_pair(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Two random RGB colours in 0..1 that differ enough to be told apart."""
    first = rng.random(3)
    while True:
        second = rng.random(3)
        if np.linalg.norm(first - second) >= MIN_CONTRAST * math.sqrt(3):
            return first, second


def _rotated(points: Points, cx: float, cy: float, radius: float, angle: float) -> Points:
    """Unit-circle points scaled, rotated by `angle` and moved to (cx, cy)."""
    c, s = math.cos(angle), math.sin(angle)
    return [(cx + radius * (c * x - s * y), cy + radius * (s * x + c * y)) for x, y in points]


def _regular(n: int, start: float = -math.pi / 2) -> Points:
    return [(math.cos(start + 2 * math.pi * k / n), math.sin(start + 2 * math.pi * k / n)) for k in range(n)]


def _star() -> Points:
    """A five-pointed star: outer radius 1, inner 0.45."""
    return [
        (r * math.cos(-math.pi / 2 + math.pi * k / 5), r * math.sin(-math.pi / 2 + math.pi * k / 5))
        for k, r in zip(range(10), [1.0, 0.45] * 5, strict=True)
    ]


def _cross() -> Points:
    """A plus sign with arms a third as wide as it is long."""
    a, b = 1.0, 0.33
    return [(-b, -a), (b, -a), (b, -b), (a, -b), (a, b), (b, b), (b, a), (-b, a), (-b, b), (-a, b), (-a, -b), (-b, -b)]


SHAPE_OUTLINES: dict[str, Points] = {
    "square": [(x * 0.8, y * 0.8) for x, y in _regular(4, math.pi / 4)],  # corners at 0.8·√2: area near a circle's
    "triangle": _regular(3),
    "star": _star(),
    "cross": _cross(),
}


def _shape_mask(kind: str, rng: np.random.Generator) -> np.ndarray:
    """Coverage (SIDE, SIDE) in 0..1 of one shape at a random place, size and rotation."""
    big = SIDE * SUPER
    radius = rng.uniform(0.22, 0.42) * SIDE  # in output pixels: 7..13 px
    cx, cy = rng.uniform(radius, SIDE - radius, 2) * SUPER  # the whole shape stays inside
    r, angle = radius * SUPER, rng.uniform(0, 2 * math.pi)
    canvas = Image.new("L", (big, big), 0)
    draw = ImageDraw.Draw(canvas)
    if kind == "circle":
        draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=255)
    elif kind == "ring":
        width = round(r * rng.uniform(0.3, 0.45))
        draw.ellipse((cx - r, cy - r, cx + r, cy + r), outline=255, width=width)
    else:
        draw.polygon(_rotated(SHAPE_OUTLINES[kind], cx, cy, r, angle), fill=255)
    return _downsample(np.asarray(canvas, dtype=np.float32) / 255.0)


def _downsample(fine: np.ndarray) -> np.ndarray:
    """Average SUPER×SUPER blocks: (SIDE·SUPER, SIDE·SUPER) → (SIDE, SIDE)."""
    return fine.reshape(SIDE, SUPER, SIDE, SUPER).mean(axis=(1, 3))


def _fine_grid(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Supersampled pixel-centre coordinates, rotated by a random angle and shifted by a random phase."""
    t = (np.arange(SIDE * SUPER, dtype=np.float64) + 0.5) / SUPER  # output-pixel units
    y, x = np.meshgrid(t, t, indexing="ij")
    angle = rng.uniform(0, math.pi)
    u = math.cos(angle) * x + math.sin(angle) * y + rng.uniform(0, 100)
    v = -math.sin(angle) * x + math.cos(angle) * y + rng.uniform(0, 100)
    return u, v


def _stripes(rng: np.random.Generator) -> np.ndarray:
    u, _ = _fine_grid(rng)
    period = rng.uniform(4.0, 9.0)
    return _downsample((np.mod(u, period) < period / 2).astype(np.float32))


def _checkerboard(rng: np.random.Generator) -> np.ndarray:
    u, v = _fine_grid(rng)
    cell = rng.uniform(3.0, 6.0)
    return _downsample(((np.floor(u / cell) + np.floor(v / cell)) % 2).astype(np.float32))


def _dots(rng: np.random.Generator) -> np.ndarray:
    u, v = _fine_grid(rng)
    spacing = rng.uniform(5.0, 9.0)
    radius = spacing * rng.uniform(0.2, 0.32)
    du, dv = np.mod(u, spacing) - spacing / 2, np.mod(v, spacing) - spacing / 2
    return _downsample((du * du + dv * dv <= radius * radius).astype(np.float32))


def _gradient(rng: np.random.Generator) -> np.ndarray:
    u, _ = _fine_grid(rng)
    lo = u.min()
    return _downsample(((u - lo) / (u.max() - lo)).astype(np.float32))


TEXTURES: dict[str, Callable[[np.random.Generator], np.ndarray]] = {
    "stripes": _stripes,
    "checkerboard": _checkerboard,
    "dots": _dots,
    "gradient": _gradient,
}


def render(label: int, rng: np.random.Generator) -> np.ndarray:
    """One image of class `label` as uint8 (SIDE, SIDE, 3)."""
    kind = CLASSES[label]
    background, ink = _colour_pair(rng)
    mask = TEXTURES[kind](rng) if kind in TEXTURES else _shape_mask(kind, rng)  # (32, 32) in 0..1
    image = background + mask[..., None] * (ink - background)  # (32, 32, 3)
    noise = rng.normal(0.0, rng.uniform(0.0, 0.08), image.shape)
    return np.round(np.clip(image + noise, 0.0, 1.0) * 255).astype(np.uint8)


def generate(count: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """`count` images (N, SIDE, SIDE, 3) uint8 and labels (N,) int64, classes in turn, all from `seed`."""
    rng = np.random.default_rng(seed)
    labels = np.arange(count, dtype=np.int64) % len(CLASSES)
    images = np.stack([render(int(label), rng) for label in labels]) if count else np.zeros((0, SIDE, SIDE, 3))
    return images.astype(np.uint8), labels


def held_out(count: int) -> tuple[np.ndarray, np.ndarray]:
    """The first `count` images of the held-out split (the same images for every prefix length)."""
    return generate(count, HELD_OUT_SEED)


def digest(images: np.ndarray, labels: np.ndarray) -> str:
    """SHA-256 of a split's bytes: names exactly the images an accuracy was measured on."""
    h = hashlib.sha256(np.ascontiguousarray(images, dtype=np.uint8).tobytes())
    h.update(np.ascontiguousarray(labels, dtype="<i8").tobytes())
    return h.hexdigest()


def to_tensor(images: np.ndarray, mean: tuple[float, ...], std: tuple[float, ...]) -> np.ndarray:
    """uint8 (N, H, W, 3) → float32 (N, 3, H, W) normalised, exactly as preprocess_colour makes a PNG's input."""
    x = images.astype(np.float32).transpose(0, 3, 1, 2) / 255.0  # (N, 3, H, W) in 0..1
    m = np.asarray(mean, np.float32)[None, :, None, None]
    s = np.asarray(std, np.float32)[None, :, None, None]
    return np.ascontiguousarray((x - m) / s, dtype=np.float32)
