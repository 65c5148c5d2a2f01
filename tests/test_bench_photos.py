"""The phone-style photo set: deterministic, turned by EXIF, the same digit as its clean render, and read through the
real preprocessing (the accuracy figure itself comes from `python -m bench.photos`)."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image, ImageOps

from app.core import samples
from bench import photos


def _upright(data: bytes) -> Image.Image:
    return ImageOps.exif_transpose(Image.open(io.BytesIO(data)))


def test_the_set_is_deterministic_and_seeded() -> None:
    split = samples.test_split()
    a = photos.make_sample(5, split.images[5], int(split.labels[5]))
    b = photos.make_sample(5, split.images[5], int(split.labels[5]))
    c = photos.make_sample(5, split.images[5], int(split.labels[5]), seed=photos.SEED + 1)
    assert a.photo == b.photo and a.clean == b.clean
    assert a.photo != c.photo


def test_photos_are_stored_turned_with_the_tag_that_makes_them_upright() -> None:
    seen = set()
    for sample in photos.photo_set(24):
        stored = Image.open(io.BytesIO(sample.photo))
        assert stored.format == "JPEG" and stored.mode == "RGB"
        orientation = stored.getexif().get(0x0112)
        assert orientation == sample.recipe["orientation"]
        seen.add(orientation)
        upright = _upright(sample.photo)
        clean = Image.open(io.BytesIO(sample.clean))
        assert upright.size == clean.size == photos.CANVAS
        # Where the clean render has ink, the upright photo is darker than where it has none.
        ink = np.asarray(clean) < 128
        lum = np.asarray(upright.convert("L"), dtype=np.float32)
        assert lum[ink].mean() < lum[~ink].mean() - 30
    assert seen == set(photos.STORED), "every orientation occurs"


def test_pen_stroke_width_follows_the_threshold() -> None:
    digit = samples.test_split().images[0]
    broad = photos.pen_stroke(digit.astype(np.float32) / 255, 200, 0.2)
    fine = photos.pen_stroke(digit.astype(np.float32) / 255, 200, 0.6)
    assert broad.sum() > 1.2 * fine.sum() and ((fine > 0.5) <= (broad > 0.5)).all()


def test_the_bench_reads_photos_and_clean_renders_alike() -> None:
    result = photos.bench_photos(count=20)
    assert result["count"] == 20 and result["clean"]["refused"] == 0 and result["photo"]["refused"] == 0
    assert result["clean"]["accuracy"] >= 0.9 and result["photo"]["accuracy"] >= 0.9
    assert "phone-style photos" in photos.report(result)
