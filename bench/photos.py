"""A phone-style photo set made from MNIST test digits, beside clean renders of the same digits (seeded, so every
run makes the same files), and the shipped model's accuracy on both through the real preprocessing.

    .venv/bin/python -m bench.photos                    # the first 1000 test digits, the default model
    .venv/bin/python -m bench.photos --count 10000 --model resnet_mnist --save /tmp/photos

A photo: the digit written with a pen of random width, colour and opacity on textured off-white paper, lit
unevenly (a gradient across the sheet, vignetting, a soft shadow, a colour cast), slightly out of focus, with
sensor noise, JPEG-compressed and stored sideways or upside down with the EXIF Orientation tag that turns it
upright. Its clean render: the same digit with the same pen stroke, at the same place, pure black on white, PNG.
The gap between the two accuracies is what the photo conditions cost; the target is at most 1 point.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image, ImageFilter

from app.core.architectures import logits_part
from app.core.evaluate import predict_batches
from app.core.preprocess import PreprocessError, preprocess_image
from app.core.registry import Registry
from app.core.samples import test_split

SEED = 16
CANVAS = (480, 360)  # landscape width × height before the EXIF turn
INKS = {  # name: RGB reflectance of the dried ink
    "black": (0.08, 0.08, 0.10),
    "blue": (0.10, 0.16, 0.55),
    "navy": (0.05, 0.08, 0.30),
    "pencil": (0.38, 0.38, 0.40),
    "red": (0.55, 0.08, 0.10),
}
# Orientation tag → how the sensor's pixels are stored so that exif_transpose turns them upright.
STORED = {1: None, 3: Image.Transpose.ROTATE_180, 6: Image.Transpose.ROTATE_90, 8: Image.Transpose.ROTATE_270}


@dataclass(frozen=True)
class Sample:
    """One test digit as a photo and as a clean render (encoded files), with how the photo was made."""

    index: int
    label: int
    photo: bytes
    clean: bytes
    recipe: dict[str, Any]


def pen_stroke(digit: np.ndarray, side: int, threshold: float) -> np.ndarray:
    """Ink coverage (side, side) in 0..1 of a 28×28 MNIST digit drawn with a pen: a low threshold is a broad pen."""
    up = Image.fromarray(np.asarray(digit, dtype=np.float32), mode="F").resize((side, side), Image.Resampling.BICUBIC)
    soft = 0.12  # edge softness in MNIST intensity units: a smooth, anti-aliased stroke edge
    return np.clip((np.asarray(up, dtype=np.float32) - threshold) / soft + 0.5, 0.0, 1.0)


def _smooth_noise(rng: np.random.Generator, shape: tuple[int, int], cells: int) -> np.ndarray:
    """Low-frequency noise in about -1..1: a cells×cells random grid, scaled up smoothly."""
    grid = rng.uniform(-1.0, 1.0, (cells, cells)).astype(np.float32)
    up = Image.fromarray(grid, mode="F").resize((shape[1], shape[0]), Image.Resampling.BICUBIC)
    return np.asarray(up, dtype=np.float32)


def lighting(rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
    """Uneven light (H, W, 3): a gradient across the sheet, vignetting, a soft shadow and a colour cast."""
    h, w = shape
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    yy, xx = yy / h - 0.5, xx / w - 0.5
    angle = rng.uniform(0, 2 * np.pi)
    along = (np.cos(angle) * xx + np.sin(angle) * yy) / 0.71 + 0.5  # 0..1 across the sheet
    light = rng.uniform(0.75, 1.0) * (1.0 - rng.uniform(0.2, 0.5) * along)
    light *= 1.0 - rng.uniform(0.0, 0.6) * (xx**2 + yy**2)
    cy, cx = rng.uniform(-0.5, 0.5, 2)
    light *= 1.0 - rng.uniform(0.0, 0.3) * np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * rng.uniform(0.1, 0.3) ** 2))
    cast = np.array([1.0, rng.uniform(0.94, 1.0), rng.uniform(0.82, 0.98)], dtype=np.float32)  # warm indoor light
    return light[..., None] * cast  # (H, W, 3)


def paper(rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
    """Off-white paper reflectance (H, W, 3): blotches and fibre grain."""
    base = np.array([rng.uniform(0.9, 0.98)] * 3, dtype=np.float32) - np.array([0, 0.01, 0.04], dtype=np.float32)
    blotch = 0.03 * _smooth_noise(rng, shape, 6)
    grain = np.asarray(
        Image.fromarray(rng.normal(0, 1, shape).astype(np.float32), mode="F")
        .resize((shape[1] // 2, shape[0] // 2), Image.Resampling.BOX)
        .resize((shape[1], shape[0]), Image.Resampling.BILINEAR),
        dtype=np.float32,
    )
    return np.clip(base + (blotch + 0.02 * grain)[..., None], 0.0, 1.0)


def _encode(image: Image.Image, fmt: str, **options: Any) -> bytes:
    buf = io.BytesIO()
    image.save(buf, format=fmt, **options)
    return buf.getvalue()


def make_sample(index: int, digit: np.ndarray, label: int, seed: int = SEED) -> Sample:
    """The photo and the clean render of one 28×28 MNIST digit (uint8 or 0..1), both from the same pen stroke."""
    rng = np.random.default_rng([seed, index])
    w, h = CANVAS
    pixels = digit.astype(np.float32) / (255.0 if digit.dtype == np.uint8 else 1.0)
    side = int(rng.uniform(0.5, 0.85) * min(w, h))  # the 28×28 field; the digit's 20 px box is 5/7 of it
    threshold = rng.uniform(0.2, 0.6)
    stroke = pen_stroke(pixels, side, threshold)  # (side, side)
    top, left = int(rng.integers(0, h - side + 1)), int(rng.integers(0, w - side + 1))
    coverage = np.zeros((h, w), dtype=np.float32)
    coverage[top : top + side, left : left + side] = stroke
    clean = Image.fromarray(np.round(255 * (1.0 - coverage)).astype(np.uint8))

    ink_name = str(rng.choice(list(INKS)))
    opacity = rng.uniform(0.8, 1.0) if ink_name != "pencil" else rng.uniform(0.85, 1.0)
    a = (coverage * opacity)[..., None]
    reflectance = paper(rng, (h, w)) * (1.0 - a) + np.asarray(INKS[ink_name], dtype=np.float32) * a
    seen = reflectance * lighting(rng, (h, w))
    blur = rng.uniform(0.4, 1.2)
    photo = Image.fromarray(np.round(255 * np.clip(seen, 0, 1)).astype(np.uint8)).filter(ImageFilter.GaussianBlur(blur))
    noise_sigma = rng.uniform(2.0, 6.0)
    noisy = np.asarray(photo, dtype=np.float32) + rng.normal(0, noise_sigma, (h, w, 3))
    photo = Image.fromarray(np.clip(np.round(noisy), 0, 255).astype(np.uint8))
    orientation = int(rng.choice(list(STORED)))
    turn = STORED[orientation]
    stored = photo if turn is None else photo.transpose(turn)
    exif = Image.Exif()
    exif[0x0112] = orientation  # Orientation
    quality = int(rng.integers(55, 91))
    recipe = {
        "side": side,
        "pen_threshold": round(float(threshold), 3),
        "ink": ink_name,
        "opacity": round(float(opacity), 3),
        "blur": round(float(blur), 2),
        "noise": round(float(noise_sigma), 2),
        "jpeg_quality": quality,
        "orientation": orientation,
    }
    return Sample(
        index=index,
        label=label,
        photo=_encode(stored, "JPEG", quality=quality, exif=exif.tobytes()),
        clean=_encode(clean, "PNG"),
        recipe=recipe,
    )


def photo_set(count: int, seed: int = SEED) -> Iterator[Sample]:
    """The first `count` MNIST test digits as samples."""
    split = test_split()
    for i in range(min(count, len(split.labels))):
        yield make_sample(i, split.images[i], int(split.labels[i]), seed)


def _inputs(files: list[bytes]) -> tuple[np.ndarray, int, float]:
    """Preprocessed inputs (N, 28, 28) (zeros for a refused file), refusals and seconds per file."""
    out = np.zeros((len(files), 28, 28), dtype=np.float32)
    refused = 0
    start = time.perf_counter()
    for i, data in enumerate(files):
        try:
            out[i] = preprocess_image(data).input
        except PreprocessError:
            refused += 1
    return out, refused, (time.perf_counter() - start) / max(1, len(files))


@torch.inference_mode()
def _predict(model: torch.nn.Module, inputs: np.ndarray) -> np.ndarray:
    net = logits_part(model).eval()
    return np.concatenate(
        [net(torch.from_numpy(inputs[i : i + 500]).unsqueeze(1)).argmax(1).numpy() for i in range(0, len(inputs), 500)]
    )


def bench_photos(count: int = 1000, model: str | None = None, seed: int = SEED, save: Path | None = None) -> dict:
    """Accuracy on the photos and on their clean renders (and on the raw MNIST digits), through preprocess_image."""
    network, manifest = Registry.load().network(model)
    samples = list(photo_set(count, seed))
    labels = np.array([s.label for s in samples])
    if save is not None:
        save.mkdir(parents=True, exist_ok=True)
        for s in samples:
            (save / f"{s.index:05d}-{s.label}-photo.jpg").write_bytes(s.photo)
            (save / f"{s.index:05d}-{s.label}-clean.png").write_bytes(s.clean)
        (save / "recipes.json").write_text(json.dumps([{"index": s.index, **s.recipe} for s in samples], indent=1))
    result: dict[str, Any] = {"model": manifest.name, "count": len(samples), "seed": seed}
    per_class: dict[str, list[float]] = {}
    for kind in ("clean", "photo"):
        inputs, refused, seconds = _inputs([getattr(s, kind) for s in samples])
        predicted = _predict(network, inputs)
        correct = predicted == labels
        result[kind] = {"accuracy": float(correct.mean()), "refused": refused, "preprocess_ms": seconds * 1e3}
        per_class[kind] = [float(correct[labels == c].mean()) if (labels == c).any() else np.nan for c in range(10)]
    split = test_split()
    raw = predict_batches(network, split.images[: len(samples)])
    result["mnist_raw_accuracy"] = float((raw == labels).mean())
    result["gap_points"] = 100 * (result["clean"]["accuracy"] - result["photo"]["accuracy"])
    result["per_class"] = per_class
    return result


def report(r: dict[str, Any]) -> str:
    """The figures as a few lines of text."""
    lines = [
        f"{r['model']}, first {r['count']} MNIST test digits (seed {r['seed']}):",
        f"  raw MNIST 28×28       {r['mnist_raw_accuracy']:.2%}",
        f"  clean renders         {r['clean']['accuracy']:.2%}  ({r['clean']['refused']} refused, "
        f"{r['clean']['preprocess_ms']:.1f} ms each to preprocess)",
        f"  phone-style photos    {r['photo']['accuracy']:.2%}  ({r['photo']['refused']} refused, "
        f"{r['photo']['preprocess_ms']:.1f} ms each to preprocess)",
        f"  gap                   {r['gap_points']:+.2f} points (target ≤ 1)",
        "  per class (clean / photo): "
        + ", ".join(f"{c}: {a:.0%}/{b:.0%}" for c, (a, b) in enumerate(zip(*r["per_class"].values(), strict=True))),
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=1000, help="how many test digits (from the first)")
    parser.add_argument("--model", default=None, help="a shipped model's name (default: the default model)")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--save", type=Path, default=None, help="also write the photos and clean renders here")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    result = bench_photos(args.count, args.model, args.seed, args.save)
    print(json.dumps(result, indent=2) if args.json else report(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
