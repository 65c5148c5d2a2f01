"""Preprocessing of real-world files: EXIF orientation, bit depths and colour modes, polarity, noise, specks, uneven
light and images with no digit, each built in the test from a clean MNIST test digit and compared with its clean
render; the shipped LeNet must still read them."""

from __future__ import annotations

import io

import numpy as np
import pytest
import torch
from numpy.lib.stride_tricks import sliding_window_view
from PIL import Image

from app.core import ink, samples
from app.core.architectures import logits_part
from app.core.preprocess import PreprocessError, find_ink, preprocess_image, to_colour
from app.core.registry import LoadedModel

CANVAS = 280
DIGITS = [3, 2, 1, 30, 4, 8, 11, 0, 61, 7]  # a test digit of each class, 0 to 9, read surely at 18-21 px


def coverage(index: int, side: int = 196, canvas: int = CANVAS, at: tuple[int, int] | None = None) -> np.ndarray:
    """Ink coverage (canvas, canvas) in 0..1 of MNIST test digit `index`, its 28×28 field scaled to `side` px."""
    digit = samples.test_split().images[index].astype(np.float32) / 255.0
    up = np.asarray(Image.fromarray(digit, mode="F").resize((side, side), Image.Resampling.BICUBIC), dtype=np.float32)
    out = np.zeros((canvas, canvas), dtype=np.float32)
    top, left = at if at is not None else ((canvas - side) // 2, (canvas - side) // 2)
    out[top : top + side, left : left + side] = np.clip(up, 0.0, 1.0)
    return out


def label(index: int) -> int:
    return int(samples.test_split().labels[index])


def encode(image: Image.Image, fmt: str = "PNG", **options: object) -> bytes:
    buf = io.BytesIO()
    image.save(buf, format=fmt, **options)
    return buf.getvalue()


def grey_image(grey: np.ndarray) -> Image.Image:
    """An 8-bit grey image of values in 0..1."""
    return Image.fromarray(np.round(255 * np.clip(grey, 0.0, 1.0)).astype(np.uint8))


def clean(index: int) -> np.ndarray:
    """The reference: the digit in pure black on white, as a PNG, through the pipeline."""
    return preprocess_image(encode(grey_image(1.0 - coverage(index)))).input


def predicted(lenet: LoadedModel, x: np.ndarray) -> int:
    """The shipped model's class for one 28×28 input, by a plain forward."""
    with torch.inference_mode():
        return int(logits_part(lenet.model)(torch.from_numpy(x)[None, None]).argmax())


def distance(x: np.ndarray, reference: np.ndarray) -> float:
    """Mean absolute difference, at the best whole-pixel shift of at most one (centring rounds to whole pixels,
    so a centre of mass a hair away from .5 moves the whole digit by one)."""
    return min(
        float(np.abs(np.roll(x, (dy, dx), axis=(0, 1)) - reference).mean()) for dy in (-1, 0, 1) for dx in (-1, 0, 1)
    )


def assert_same_digit(x: np.ndarray, reference: np.ndarray, tolerance: float) -> None:
    assert x.shape == (28, 28) and x.dtype == np.float32 and x.min() >= 0.0 and x.max() <= 1.0
    assert distance(x, reference) < tolerance, distance(x, reference)


def iou(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> float:
    """Intersection over union of two half-open boxes (top, bottom, left, right)."""
    h = max(0, min(a[1], b[1]) - max(a[0], b[0]))
    w = max(0, min(a[3], b[3]) - max(a[2], b[2]))
    area = (a[1] - a[0]) * (a[3] - a[2]) + (b[1] - b[0]) * (b[3] - b[2])
    return h * w / (area - h * w)


@pytest.fixture(scope="module", autouse=True)
def clean_digits_are_read(lenet: LoadedModel) -> None:
    """The comparisons below mean something only if the clean renders themselves are read right."""
    for i in DIGITS:
        assert predicted(lenet, clean(i)) == label(i), i


# Orientation tag → the stored pixels of an upright image (EXIF 2.3, written with numpy, not Pillow's table).
STORED = {
    2: np.fliplr,
    3: lambda a: np.rot90(a, 2),
    4: np.flipud,
    5: np.transpose,
    6: lambda a: np.rot90(a, 1),  # stored turned a quarter anticlockwise; the viewer turns it clockwise
    7: lambda a: np.rot90(a, 2).T,
    8: lambda a: np.rot90(a, -1),
}


@pytest.mark.parametrize("orientation", sorted(STORED))
def test_exif_rotated_jpeg_is_read_upright(orientation: int, lenet: LoadedModel) -> None:
    index = 0  # a 7: no quarter turn or mirror of it is still a 7
    upright = 1.0 - coverage(index)
    stored = grey_image(np.ascontiguousarray(STORED[orientation](upright))).convert("RGB")
    exif = Image.Exif()
    exif[0x0112] = orientation
    tagged = preprocess_image(encode(stored, "JPEG", quality=90, exif=exif.tobytes())).input
    assert_same_digit(tagged, clean(index), 0.02)
    assert predicted(lenet, tagged) == label(index)
    untagged = preprocess_image(encode(stored, "JPEG", quality=90)).input
    assert distance(untagged, clean(index)) > 0.05, "without the tag it is read as stored"


@pytest.mark.parametrize(("paper", "ink_level"), [(52000, 6000), (3000, 200), (100, 4095)])
def test_16_bit_grey_png_is_scaled_by_its_range(paper: int, ink_level: int, lenet: LoadedModel) -> None:
    index = 1
    values = paper + (ink_level - paper) * coverage(index)
    image = Image.fromarray(np.round(values).astype(np.uint16))
    data = encode(image)
    assert Image.open(io.BytesIO(data)).mode.startswith("I"), "a 16-bit PNG"
    x = preprocess_image(data).input
    reference = clean(index) if ink_level < paper else preprocess_image(encode(grey_image(coverage(index)))).input
    assert_same_digit(x, reference, 0.01)
    assert predicted(lenet, x) == label(index)


def test_16_bit_big_endian_and_32_bit_grey_are_scaled_not_clipped() -> None:
    cov = coverage(2)
    values = np.round(40000 - 30000 * cov).astype(np.uint16)  # (H, W)
    big_endian = Image.frombytes("I;16B", (CANVAS, CANVAS), values.astype(">u2").tobytes())
    wide = Image.fromarray(values.astype(np.int32) * 1000, mode="I")
    expected = (values - values.min()) / float(values.max() - values.min())
    for image in (big_endian, wide):
        grey, colour = to_colour(image)
        assert colour is None
        np.testing.assert_allclose(grey, expected, atol=1e-5)


def _rgba(index: int, ink: tuple[int, int, int]) -> Image.Image:
    """Coloured ink on a fully transparent canvas."""
    a = coverage(index)
    rgba = np.zeros((CANVAS, CANVAS, 4), dtype=np.uint8)
    rgba[..., :3] = ink
    rgba[..., 3] = np.round(255 * a).astype(np.uint8)
    return Image.fromarray(rgba, mode="RGBA")


def _palette(index: int) -> Image.Image:
    rgb = np.stack([1.0 - coverage(index)] * 3, axis=2) * np.array([1.0, 0.95, 0.85])  # dark ink, cream paper
    return Image.fromarray(np.round(255 * rgb).astype(np.uint8)).convert("P", palette=Image.Palette.ADAPTIVE)


@pytest.mark.parametrize(
    ("mode", "make"),
    [
        ("RGBA dark ink", lambda i: encode(_rgba(i, (10, 20, 90)))),
        ("RGBA light ink", lambda i: encode(_rgba(i, (250, 250, 240)))),
        ("RGB blue ink on cream", lambda i: encode(_palette(i).convert("RGB"))),
        ("P", lambda i: encode(_palette(i))),
        ("P with transparency", lambda i: encode(_palette(i), transparency=_palette(i).getpixel((0, 0)))),
        ("CMYK JPEG", lambda i: encode(_palette(i).convert("RGB").convert("CMYK"), "JPEG", quality=95)),
    ],
)
def test_colour_modes(mode: str, make: object, lenet: LoadedModel) -> None:
    index = 3
    data = make(index)  # type: ignore[operator]
    x = preprocess_image(data).input
    assert_same_digit(x, clean(index), 0.03)
    assert predicted(lenet, x) == label(index)


def test_palette_with_alpha_is_composited() -> None:
    rgba = _rgba(4, (0, 0, 0))
    pa = rgba.convert("P").convert("PA")
    pa.putalpha(rgba.getchannel("A"))
    grey, colour = to_colour(pa)
    np.testing.assert_allclose(grey, 1.0 - coverage(4), atol=2 / 255)
    assert colour is not None and colour.shape == (CANVAS, CANVAS, 3)


@pytest.mark.parametrize("index", DIGITS)
def test_dark_on_light_and_light_on_dark_give_the_same_input(index: int, lenet: LoadedModel) -> None:
    cov = coverage(index)
    dark = preprocess_image(encode(grey_image(0.92 - 0.8 * cov)))
    light = preprocess_image(encode(grey_image(0.08 + 0.8 * cov)))
    assert dark.inverted and not light.inverted
    np.testing.assert_allclose(dark.input, light.input, atol=0.02)
    assert predicted(lenet, dark.input) == predicted(lenet, light.input) == label(index)


@pytest.mark.parametrize("index", DIGITS)
def test_noise_sigma_25_keeps_the_crop(index: int, lenet: LoadedModel) -> None:
    rng = np.random.default_rng(index)
    cov = coverage(index)
    noisy = 0.85 - 0.7 * cov + rng.normal(0, 25 / 255, cov.shape)  # grey paper, so the noise is not clipped
    found = find_ink(noisy.astype(np.float32))
    reference = find_ink(1.0 - cov)
    assert iou(found.box, reference.box) >= 0.8, (found.box, reference.box)
    x = preprocess_image(encode(grey_image(noisy))).input
    assert_same_digit(x, clean(index), 0.04)
    rows = np.flatnonzero(x.max(axis=1) > 0.05)
    cols = np.flatnonzero(x.max(axis=0) > 0.05)
    assert max(rows[-1] - rows[0], cols[-1] - cols[0]) + 1 >= 19, "the digit keeps its 20 px, not the noise's"
    assert predicted(lenet, x) == label(index)


@pytest.mark.parametrize("index", DIGITS)
def test_stray_specks_do_not_move_the_crop(index: int, lenet: LoadedModel) -> None:
    rng = np.random.default_rng(100 + index)
    grey = 1.0 - coverage(index)
    for _ in range(15):  # dust and pen dots, 1 to 5 px, anywhere on the sheet
        y, x = rng.integers(0, CANVAS, 2)
        r = int(rng.integers(1, 6))
        grey[max(0, y - r // 2) : y + (r + 1) // 2, max(0, x - r // 2) : x + (r + 1) // 2] = 0.0
    assert iou(find_ink(grey).box, find_ink(1.0 - coverage(index)).box) >= 0.8
    x = preprocess_image(encode(grey_image(grey))).input
    assert_same_digit(x, clean(index), 0.04)
    assert predicted(lenet, x) == label(index)


@pytest.mark.parametrize("index", DIGITS)
def test_linear_light_gradient_across_a_paper_photo(index: int, lenet: LoadedModel) -> None:
    rng = np.random.default_rng(200 + index)
    yy, xx = np.mgrid[0:CANVAS, 0:CANVAS] / CANVAS
    light = 1.0 - 0.6 * (0.7 * xx + 0.3 * yy)  # from full light to 40 % across the sheet
    reflectance = 0.9 - 0.8 * coverage(index)
    photo = light * reflectance + rng.normal(0, 3 / 255, light.shape)
    rgb = grey_image(photo).convert("RGB")
    result = preprocess_image(encode(rgb, "JPEG", quality=85))
    assert_same_digit(result.input, clean(index), 0.05)  # a 1 px rounding of the fitted size is about 0.04
    assert predicted(lenet, result.input) == label(index)
    surface = next(s.image for s in result.steps if s.name == "illumination")
    paper = coverage(index) == 0
    assert float(np.abs(surface - 0.9 * light)[paper].max()) < 0.05, "the fitted paper follows the light"


def _blank_photo() -> Image.Image:
    rng = np.random.default_rng(7)
    yy, xx = np.mgrid[0:300, 0:400] / 400
    sheet = 0.9 * (1.0 - 0.3 * xx - 0.3 * yy) + rng.normal(0, 3 / 255, xx.shape)
    return grey_image(sheet).convert("RGB")


@pytest.mark.parametrize(
    ("case", "data"),
    [
        ("uniform white", encode(Image.new("L", (200, 200), 255))),
        ("uniform grey RGB", encode(Image.new("RGB", (200, 150), (120, 130, 110)))),
        ("uniform 16-bit", encode(Image.fromarray(np.full((64, 64), 30000, dtype=np.uint16)))),
        ("gaussian noise σ 25", encode(grey_image(np.random.default_rng(1).normal(0.5, 25 / 255, (200, 200))))),
        ("uniform noise", encode(grey_image(np.random.default_rng(2).random((200, 200))))),
        ("16-bit noise", encode(Image.fromarray(np.random.default_rng(3).integers(0, 9, (99, 99), dtype=np.uint16)))),
        ("blank paper photo", encode(_blank_photo(), "JPEG", quality=80)),
    ],
)
def test_no_digit_is_a_clear_422(case: str, data: bytes) -> None:
    with pytest.raises(PreprocessError) as err:
        preprocess_image(data)
    assert err.value.code == "empty_image" and err.value.status == 422 and "no ink" in err.value.message


def test_the_crop_is_drawn_on_the_original() -> None:
    cov = coverage(5)
    rgb = (np.stack([1.0 - cov] * 3, axis=2) * np.array([0.9, 0.9, 1.0])).astype(np.float32)
    result = preprocess_image(encode(Image.fromarray(np.round(255 * rgb).astype(np.uint8))))
    original = result.steps[0]
    assert original.name == "original" and original.image.shape == (CANVAS, CANVAS, 3)
    top, bottom, left, right = find_ink(to_colour(Image.fromarray(np.round(255 * rgb).astype(np.uint8)))[0]).box
    red = (original.image[..., 0] > 0.9) & (original.image[..., 1] < 0.2)
    rows, cols = np.flatnonzero(red.any(axis=1)), np.flatnonzero(red.any(axis=0))
    assert rows[0] < top <= rows[-1] and rows[0] < bottom <= rows[-1] + 1
    assert cols[0] < left and right <= cols[-1] + 1
    assert not red[top:bottom, left:right].any(), "the frame does not cover the digit"
    assert original.image[top:bottom, left:right].min() < 0.3, "the digit is inside the frame"


# The helpers against plain references written here.


def test_median3_is_the_median_of_each_3x3_window() -> None:
    img = np.random.default_rng(0).random((37, 41)).astype(np.float32)
    reference = np.median(sliding_window_view(np.pad(img, 1, mode="edge"), (3, 3)), axis=(2, 3))
    np.testing.assert_array_equal(ink.median3(img), reference.astype(np.float32))


def test_otsu_maximises_the_between_class_variance() -> None:
    rng = np.random.default_rng(1)
    img = np.concatenate([rng.normal(0.2, 0.05, 3000), rng.normal(0.7, 0.1, 1000)]).reshape(40, 100)
    found = ink.otsu(img.astype(np.float32), bins=256)
    lo, hi = img.min(), img.max()
    best, best_t = -1.0, 0.0
    for k in range(1, 256):  # every bin edge as a threshold, by brute force
        t = lo + (hi - lo) * k / 256
        below, above = img[img < t], img[img >= t]
        if below.size and above.size:
            between = below.size * above.size / img.size**2 * (below.mean() - above.mean()) ** 2
            if between > best:
                best, best_t = between, t
    assert found.value == pytest.approx(best_t, abs=(hi - lo) / 256)
    assert 0.35 < found.value < 0.55 and found.separation > 0.8


def _flood_components(mask: np.ndarray) -> list[set[tuple[int, int]]]:
    """8-connected components by a plain breadth-first flood fill."""
    seen: set[tuple[int, int]] = set()
    out = []
    for start in zip(*np.nonzero(mask), strict=True):
        if start in seen:
            continue
        group, todo = set(), [start]
        seen.add(start)
        while todo:
            y, x = todo.pop()
            group.add((y, x))
            for dy in (-1, 0, 1):
                for dx in (-1, 0, 1):
                    n = (y + dy, x + dx)
                    if 0 <= n[0] < mask.shape[0] and 0 <= n[1] < mask.shape[1] and mask[n] and n not in seen:
                        seen.add(n)
                        todo.append(n)
        out.append(group)
    return out


@pytest.mark.parametrize("density", [0.1, 0.3, 0.45, 0.6])
def test_components_match_a_flood_fill(density: float) -> None:
    mask = np.random.default_rng(int(density * 100)).random((31, 47)) < density
    rows, starts, stops, labels, count = ink.components(mask)
    found: dict[int, set[tuple[int, int]]] = {}
    for r, s, e, lab in zip(rows, starts, stops, labels, strict=True):
        found.setdefault(int(lab), set()).update((int(r), c) for c in range(s, e))
    expected = _flood_components(mask)
    assert count == len(expected)
    assert sorted(map(sorted, found.values())) == sorted(map(sorted, expected))


def test_speck_removal_keeps_a_digits_separate_strokes() -> None:
    mask = np.zeros((100, 100), dtype=bool)
    mask[20:80, 48:52] = True  # the stem
    mask[20:23, 30:45] = True  # a detached bar, 3 px from the stem: part of the digit
    mask[90:92, 5:7] = True  # a speck in a corner
    kept, dropped = ink.keep_digit(mask)
    assert kept[20:80, 48:52].all() and kept[20:23, 30:45].all()
    assert not kept[90:92, 5:7].any() and dropped == 1


def test_a_large_16_bit_scan_is_shrunk_without_clipping() -> None:
    values = np.round(20000 + 200 * coverage(6, side=1400, canvas=2000)).astype(np.uint16)  # light ink, 1 % of range
    result = preprocess_image(encode(Image.fromarray(values)))
    assert max(result.steps[1].image.shape) <= 1024 and "I;16" in result.steps[1].description
    light = preprocess_image(encode(grey_image(coverage(6)))).input
    assert_same_digit(result.input, light, 0.03)
