"""Preprocessing of drawings and photos into MNIST-style inputs."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from app.core.preprocess import (
    Limits,
    PreprocessError,
    centre_of_mass,
    preprocess_array,
    preprocess_image,
)
from tests.support.drawings import draw_digit, png


def ink_box(img: np.ndarray, threshold: float = 0.05) -> tuple[int, int, int, int]:
    rows = np.flatnonzero((img > threshold).any(axis=1))
    cols = np.flatnonzero((img > threshold).any(axis=0))
    return int(rows[0]), int(rows[-1]), int(cols[0]), int(cols[-1])


def assert_mnist_like(x: np.ndarray) -> None:
    assert x.shape == (28, 28) and x.dtype == np.float32
    assert x.min() >= 0.0 and x.max() <= 1.0
    assert x.max() > 0.9, "strongest ink should be near full intensity"
    top, bottom, left, right = ink_box(x)
    assert max(bottom - top + 1, right - left + 1) in (19, 20, 21), "longest side fits the 20 px box"
    cy, cx = centre_of_mass(x)
    assert abs(cy - 13.5) <= 0.75 and abs(cx - 13.5) <= 0.75, (cy, cx)
    corners = [x[:3, :3], x[:3, -3:], x[-3:, :3], x[-3:, -3:]]
    assert all(float(c.max()) == 0.0 for c in corners), "background stays black"


@pytest.mark.parametrize(
    ("case", "kwargs"),
    [
        ("centred", {}),
        ("off-centre", {"offset": (-80, 60)}),
        ("small", {"scale": 0.15, "width": 4}),
        ("huge", {"size": 2000, "width": 120}),
        ("thick", {"width": 60}),
        ("thin", {"width": 2}),
    ],
)
@pytest.mark.parametrize("kind", ["1", "7", "0"])
def test_drawings_become_mnist_like(case: str, kwargs: dict, kind: str) -> None:
    result = preprocess_image(png(draw_digit(kind, **kwargs)))
    assert result.inverted, "dark ink on light paper is inverted"
    assert_mnist_like(result.input)


def test_light_on_dark_is_not_inverted() -> None:
    result = preprocess_image(png(draw_digit("7", ink=255, paper=0)))
    assert not result.inverted
    assert_mnist_like(result.input)


def test_both_polarities_give_the_same_input() -> None:
    dark = preprocess_image(png(draw_digit("7"))).input
    light = preprocess_image(png(draw_digit("7", ink=255, paper=0))).input
    np.testing.assert_allclose(dark, light, atol=1e-5)


@pytest.mark.parametrize("ink", [0, 255])
def test_transparent_canvas_with_either_ink_colour(ink: int) -> None:
    result = preprocess_image(png(draw_digit("1", ink=ink, mode="RGBA")))
    assert_mnist_like(result.input)
    reference = preprocess_image(png(draw_digit("1"))).input
    np.testing.assert_allclose(result.input, reference, atol=1e-5)


def test_photo_like_grey_paper_and_noise() -> None:
    rng = np.random.default_rng(0)
    img = np.asarray(draw_digit("0", width=24), dtype=np.float32)
    photo = 0.75 * img + 40 + rng.normal(0, 4, img.shape)  # grey paper, dark-grey ink, sensor noise
    result = preprocess_image(png(Image.fromarray(np.clip(photo, 0, 255).astype(np.uint8))))
    assert result.inverted
    assert_mnist_like(result.input)


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP", "BMP", "GIF"])
def test_every_accepted_format_decodes(fmt: str) -> None:
    img = draw_digit("1").convert("RGB")
    assert_mnist_like(preprocess_image(png(img, fmt)).input)


def test_aspect_ratio_is_kept() -> None:
    x = preprocess_image(png(draw_digit("1", width=30))).input
    top, bottom, left, right = ink_box(x)
    assert bottom - top + 1 >= 19 and right - left + 1 <= 6, "a tall stroke stays tall and narrow"


def test_every_step_is_reported() -> None:
    result = preprocess_image(png(draw_digit("7")))
    names = ["original", "grey", "illumination", "polarity", "denoise", "ink", "crop", "scale", "place", "centre"]
    assert [s.name for s in result.steps] == names
    assert result.steps[-1].image is result.input
    assert max(result.steps[names.index("scale")].image.shape) == 20


@pytest.mark.parametrize("paper", [0, 255, 128])
def test_empty_drawing_is_a_clear_error(paper: int) -> None:
    with pytest.raises(PreprocessError) as err:
        preprocess_image(png(Image.new("L", (200, 200), paper)))
    assert err.value.code == "empty_image" and err.value.status == 422


def test_limits_are_enforced() -> None:
    with pytest.raises(PreprocessError) as err:
        preprocess_image(png(draw_digit("1")), Limits(max_bytes=100))
    assert err.value.status == 413
    with pytest.raises(PreprocessError) as err:
        preprocess_image(png(Image.new("L", (400, 300))), Limits(max_pixels=100_000))
    assert err.value.code == "too_many_pixels" and err.value.status == 413


def test_not_an_image() -> None:
    with pytest.raises(PreprocessError) as err:
        preprocess_image(b"hello, this is not an image")
    assert err.value.code == "not_an_image"


def test_single_pixel_of_ink() -> None:
    grey = np.zeros((50, 50), dtype=np.float32)
    grey[10, 40] = 1.0
    x = preprocess_array(grey).input
    assert x.shape == (28, 28) and x.max() == pytest.approx(1.0)


def test_large_photo_is_shrunk_before_float_work() -> None:
    big = draw_digit("7", size=3000, width=150).convert("RGB")
    result = preprocess_image(png(big, "JPEG"))
    assert max(result.steps[0].image.shape) <= 1024
    assert_mnist_like(result.input)
    small = preprocess_image(png(draw_digit("7", size=1000, width=50).convert("RGB"), "JPEG")).input
    assert np.abs(result.input - small).mean() < 0.03, "shrinking first does not change what the network sees"


def _encoded(image: Image.Image, fmt: str, **options: object) -> bytes:
    import io

    buf = io.BytesIO()
    image.save(buf, format=fmt, **options)
    return buf.getvalue()


def test_large_jpeg_is_reduced_while_decoding() -> None:
    from app.core.preprocess import decode

    big = draw_digit("7", size=2400, width=150).convert("RGB")  # 2400×2400 = 5.8 MP, over the 4 MP default budget
    image = decode(_encoded(big, "JPEG"), Limits())
    assert image.size == (1200, 1200), "decoded at half scale by libjpeg"
    assert_mnist_like(preprocess_image(_encoded(big, "JPEG")).input)
    assert decode(_encoded(big, "JPEG"), Limits(decode_pixels=100_000)).size == (300, 300)


@pytest.mark.parametrize("fmt", ["PNG", "WEBP", "GIF", "BMP"])
def test_formats_that_cannot_be_reduced_are_refused_over_the_budget(fmt: str) -> None:
    options = {"lossless": True} if fmt == "WEBP" else {}
    data = _encoded(draw_digit("7", size=700, width=50).convert("RGB"), fmt, **options)
    with pytest.raises(PreprocessError) as refused:
        preprocess_image(data, Limits(decode_pixels=400_000))
    assert refused.value.status == 413 and refused.value.code == "too_many_pixels"
    assert "budget" in refused.value.message
    assert_mnist_like(preprocess_image(data, Limits(decode_pixels=500_000)).input)


@pytest.mark.parametrize("fmt", ["GIF", "WEBP", "PNG"])
def test_animated_images_use_the_first_frame(fmt: str) -> None:
    frames = [draw_digit("1").convert("RGB"), draw_digit("8").convert("RGB")]
    data = _encoded(frames[0], fmt, save_all=True, append_images=frames[1:], duration=100, loop=0)
    first = preprocess_image(_encoded(frames[0], fmt)).input
    assert np.abs(preprocess_image(data).input - first).max() < 0.05
