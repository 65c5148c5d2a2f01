"""Turn an arbitrary digit image into an MNIST-style 28×28 input, keeping every intermediate step."""

from __future__ import annotations

import io
import struct
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from app.core import ink as ink_lib

ALLOWED_FORMATS = {"PNG", "JPEG", "WEBP", "BMP", "GIF"}
BOX = 20  # MNIST digits were size-normalised into a 20×20 box ...
SIDE = 28  # ... and centred by centre of mass in a 28×28 field.
INK_THRESHOLD = 0.1  # fraction of full contrast that counts as ink, not paper noise
WORK_SIDE = 1024  # larger images are shrunk first: a 20 px digit needs no more, and float copies stay small


class PreprocessError(ValueError):
    """An image that cannot become a network input; `status` is the HTTP status it maps to."""

    def __init__(self, code: str, message: str, status: int = 422) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


class TooCostly(PreprocessError):
    """The image decodes to more than `Limits.isolate_pixels`: decode it in a helper process (app.core.isolation).

    A PreprocessError (413), so a caller that does not use helper processes still answers a clear refusal.
    """

    def __init__(self, message: str) -> None:
        super().__init__("too_costly", message, 413)


@dataclass(frozen=True)
class Limits:
    """Input limits that keep one request from exhausting the server."""

    max_bytes: int = 5 * 1024 * 1024
    max_pixels: int = 16_000_000  # declared size, any format
    max_side: int = 8192
    # Pixels actually decoded: a larger JPEG is decoded at 1/2, 1/4 or 1/8 scale (libjpeg's DCT scaling, nearly
    # free); PNG, WebP, GIF and BMP cannot be decoded at reduced scale, so above this they are refused from the header.
    decode_pixels: int = 4_000_000
    # Images that decode to more pixels than this are decoded in a short-lived helper process (app.core.isolation),
    # which gives their memory back when it exits and can be killed after `isolate_timeout` seconds; 0: never.
    isolate_pixels: int = 0
    isolate_timeout: float = 10.0


class Step:
    """One preprocessing stage: its name, what it did, and the image it produced (float, 0..1). A picture made only
    for showing (the crop frame, the kept ink) is given as a function and drawn when first read: a request without
    steps, like the page's live drawing, never pays for it."""

    def __init__(self, name: str, description: str, image: np.ndarray | Callable[[], np.ndarray]) -> None:
        self.name = name
        self.description = description
        self._image = image

    @property
    def image(self) -> np.ndarray:
        """The stage's image, (H, W) grey or (H, W, 3) colour."""
        if callable(self._image):
            self._image = self._image()
        return self._image

    def __getstate__(self) -> dict[str, object]:
        # Crossing to another process (app.core.isolation's helper) needs the picture itself, not its recipe.
        return {"name": self.name, "description": self.description, "_image": self.image}

    def __repr__(self) -> str:
        return f"Step({self.name!r}, {self.description!r})"


@dataclass
class Preprocessed:
    """The network input (28×28 float32 in 0..1) and the steps that made it."""

    input: np.ndarray
    steps: list[Step] = field(default_factory=list)
    inverted: bool = False


def decode(data: bytes, limits: Limits) -> Image.Image:
    """Decode image bytes (first frame only) with size, format, decoding-budget and decompression-bomb checks."""
    if not data:
        raise PreprocessError("empty_image", "The image is empty (0 bytes).")
    if len(data) > limits.max_bytes:
        raise PreprocessError("too_large", f"The image is {len(data)} bytes; the limit is {limits.max_bytes}.", 413)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))  # reads the header only
            fmt = image.format
            width, height = image.size
            if fmt not in ALLOWED_FORMATS:
                raise PreprocessError(
                    "unsupported_format", f"Image format {fmt} is not accepted; use PNG, JPEG, WebP, BMP or GIF.", 415
                )
            if width * height > limits.max_pixels or max(width, height) > limits.max_side:
                raise PreprocessError(
                    "too_many_pixels",
                    f"The image is {width}×{height} pixels; the limits are {limits.max_pixels} pixels "
                    f"and {limits.max_side} px per side.",
                    413,
                )
            _fit_decoding_budget(image, limits.decode_pixels)
            if limits.isolate_pixels and image.width * image.height > limits.isolate_pixels:
                raise TooCostly(f"{image.width}×{image.height} pixels to decode")  # nothing decoded yet
            image.seek(0)  # first frame of an animated GIF, WebP or PNG; later frames are never decoded
            image.load()
    except PreprocessError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise PreprocessError("too_many_pixels", f"The image declares too many pixels ({exc}).", 413) from exc
    except UnidentifiedImageError as exc:
        raise PreprocessError("not_an_image", "The data is not a PNG, JPEG, WebP, BMP or GIF image.") from exc
    except (OSError, ValueError, SyntaxError, EOFError) as exc:
        raise PreprocessError("corrupt_image", f"The image could not be decoded ({exc}).") from exc
    return _upright(image)


def _upright(image: Image.Image) -> Image.Image:
    """The image turned as its EXIF Orientation says (a phone stores the sensor's pixels and a tag); unreadable
    EXIF leaves it as stored."""
    try:
        return ImageOps.exif_transpose(image)
    except (OSError, ValueError, SyntaxError, KeyError, TypeError, IndexError, struct.error):
        return image


def _jpeg_scale(width: int, height: int, budget: int) -> int | None:
    """The smallest of libjpeg's reductions (1, 2, 4, 8) that brings a JPEG within the budget; None if none does."""
    return next((s for s in (1, 2, 4, 8) if -(-width // s) * -(-height // s) <= budget), None)


def _fit_decoding_budget(image: Image.Image, budget: int) -> None:
    """Ask a JPEG over the budget to decode at 1/2, 1/4 or 1/8 scale; refuse any other format over it (413)."""
    width, height = image.size
    if width * height <= budget:
        return
    scale = _jpeg_scale(width, height, budget) if image.format == "JPEG" else None
    if scale is not None:
        image.draft(None, (width // scale, height // scale))
        return
    raise PreprocessError(
        "too_many_pixels",
        f"The {image.format} image is {width}×{height} = {width * height} pixels; images are decoded within a "
        f"{budget}-pixel budget (JPEGs are reduced while decoding, other formats cannot be): scale it down.",
        413,
    )


GREY_16 = ("I;16", "I;16L", "I;16B", "I;16N", "I", "F")  # integer and float grey: scaled by their own range
MIN_CONTRAST = 0.1  # ink must differ from the paper by this fraction of the paper's brightness ...
NOISE_SNR = 3.0  # ... and by this many times the pixel noise
NOISE_FLOOR = 5 / 255  # pixel noise above this is median-filtered before the ink is found


def _alpha_background(rgba: np.ndarray) -> float:
    """The paper colour for transparent areas: opposite to the ink, which may be light or dark on a clear canvas."""
    alpha = rgba[..., 3]
    lum = rgba[..., :3] @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
    opaque = alpha > 0.5
    ink_is_light = bool(opaque.any()) and float(lum[opaque].mean()) > 0.5 and float(alpha.mean()) < 0.5
    return 0.0 if ink_is_light else 1.0


def has_alpha(image: Image.Image) -> bool:
    """Whether the image carries transparency (an alpha band or a transparent palette entry)."""
    return image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in image.info


def to_colour(image: Image.Image) -> tuple[np.ndarray, np.ndarray | None]:
    """Luminance (H, W) in 0..1 and, for a colour image, its RGB (H, W, 3), transparency composited on the paper.

    16-bit and 32-bit grey are scaled by their own range (a 16-bit scan often uses only part of 0..65535); palette,
    CMYK and every other mode go through RGB.
    """
    if image.mode in GREY_16:
        values = np.asarray(image).astype(np.float32)  # I;16B is big-endian: astype gives native floats
        lo, hi = float(values.min()), float(values.max())
        grey = (values - lo) / (hi - lo) if hi > lo else np.zeros_like(values)
        return grey, None
    if image.mode in ("L", "1"):
        return np.asarray(image.convert("L"), dtype=np.float32) / 255.0, None
    if has_alpha(image):
        rgba = np.asarray(image.convert("RGBA"), dtype=np.float32) / 255.0
        alpha = rgba[..., 3:]
        rgb = rgba[..., :3] * alpha + _alpha_background(rgba) * (1.0 - alpha)
    else:
        rgb = np.asarray(image.convert("RGB"), dtype=np.float32) / 255.0
    grey = rgb @ np.array([0.299, 0.587, 0.114], dtype=np.float32)  # ITU-R 601 luma, as Pillow's convert("L")
    colour = None if image.mode in ("LA", "La") else rgb
    return grey, colour


def to_grey(image: Image.Image) -> np.ndarray:
    """Luminance in 0..1; transparent areas become the background colour opposite to the ink."""
    return to_colour(image)[0]


@dataclass(frozen=True)
class InkFound:
    """The ink-positive image (paper 0, ink 1) inside the digit's box, and what finding it measured."""

    ink: np.ndarray
    box: tuple[int, int, int, int]  # top, bottom, left, right: half-open, in the grey image's pixels
    surface: np.ndarray
    flat: np.ndarray
    denoised: np.ndarray
    mask: np.ndarray  # above Otsu's threshold
    region: np.ndarray  # where the digit (not a speck) may have ink
    inverted: bool
    noise: float
    threshold: ink_lib.Threshold
    specks: int


def find_ink(grey: np.ndarray) -> InkFound:
    """Flatten the light, choose polarity, denoise, split ink from paper (Otsu) and drop specks; 422 if no digit."""
    surface = ink_lib.paper_surface(grey)
    inverted = ink_lib.dark_ink(grey, surface, ink_lib.noise_sigma(grey))
    flat = ink_lib.flatten(grey, surface, inverted)
    noise = ink_lib.noise_sigma(flat)
    filtered = noise > NOISE_FLOOR
    denoised = ink_lib.median3(flat) if filtered else flat
    split = ink_lib.otsu(denoised)
    contrast = split.ink - split.paper
    if contrast < MIN_CONTRAST:
        raise PreprocessError("empty_image", "The image has no ink: draw or upload a digit.")
    if contrast < NOISE_SNR * noise:  # pure noise, median-filtered, splits at under 1 σ of the unfiltered noise
        raise PreprocessError(
            "empty_image", "The image has no ink, only noise: draw or upload a digit (or photograph it closer)."
        )
    mask = denoised > split.value
    region, specks = ink_lib.digit_region(mask)
    kept = mask & region
    ink_values = denoised[kept][::7]  # a sample is enough for a percentile
    top_ink = (
        float(np.partition(ink_values, len(ink_values) * 9 // 10)[len(ink_values) * 9 // 10])
        if len(ink_values)
        else split.ink
    )
    span = max(top_ink - split.paper, 1e-6)
    cut = max(INK_THRESHOLD, NOISE_SNR * (ink_lib.noise_sigma(denoised) if filtered else noise) / span)
    scaled = np.clip((denoised - split.paper) / span, 0.0, 1.0)
    scaled[(scaled <= cut) | ~region] = 0.0
    rows = np.flatnonzero(scaled.any(axis=1))
    cols = np.flatnonzero(scaled.any(axis=0))
    if not rows.size:  # nothing stands out of the noise once the paper is cut away
        raise PreprocessError("empty_image", "The image has no ink: draw or upload a digit.")
    box = (int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1)
    return InkFound(
        ink=scaled[box[0] : box[1], box[2] : box[3]],
        box=box,
        surface=surface,
        flat=flat,
        denoised=denoised,
        mask=mask,
        region=region,
        inverted=inverted,
        noise=noise,
        threshold=split,
        specks=specks,
    )


def draw_box(picture: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
    """The picture in colour with a red frame just outside the half-open box, thick enough to see when shrunk."""
    rgb = np.repeat(picture[..., None], 3, axis=2) if picture.ndim == 2 else picture.copy()
    h, w = rgb.shape[:2]
    t = max(1, -(-max(h, w) // 70))
    top, bottom, left, right = box
    outer_top, outer_left = max(0, top - t), max(0, left - t)
    red = np.array([1.0, 0.1, 0.1], dtype=rgb.dtype)
    rgb[outer_top:top, outer_left : right + t] = red
    rgb[bottom : bottom + t, outer_left : right + t] = red
    rgb[outer_top : bottom + t, outer_left:left] = red
    rgb[outer_top : bottom + t, right : right + t] = red
    return rgb


def fit_box(cropped: np.ndarray, box: int = BOX) -> np.ndarray:
    """Scale so the longest side is `box` px, keeping the aspect ratio, with anti-aliasing."""
    h, w = cropped.shape
    scale = box / max(h, w)
    new_w, new_h = max(1, round(w * scale)), max(1, round(h * scale))
    resample = Image.Resampling.LANCZOS if scale < 1 else Image.Resampling.BICUBIC
    resized = np.clip(
        np.asarray(Image.fromarray(cropped, mode="F").resize((new_w, new_h), resample=resample), dtype=np.float32),
        0.0,
        1.0,
    )
    # A thin pen stroke shrinks to a faint line; MNIST strokes always reach full intensity.
    peak = float(resized.max())
    return resized / peak if peak > 0 else resized


def place_centred(fitted: np.ndarray, side: int = SIDE) -> np.ndarray:
    """Paste into the middle of a side×side field."""
    out = np.zeros((side, side), dtype=np.float32)
    h, w = fitted.shape
    top, left = (side - h) // 2, (side - w) // 2
    out[top : top + h, left : left + w] = fitted
    return out


def centre_of_mass(img: np.ndarray) -> tuple[float, float]:
    """Intensity-weighted (row, column) centre."""
    total = float(img.sum())
    ys, xs = np.indices(img.shape)
    return float((ys * img).sum() / total), float((xs * img).sum() / total)


def shift_to_centre(placed: np.ndarray) -> np.ndarray:
    """Shift by whole pixels so the centre of mass lands at the field's centre, keeping all ink inside."""
    side = placed.shape[0]
    cy, cx = centre_of_mass(placed)
    dy, dx = round((side - 1) / 2 - cy), round((side - 1) / 2 - cx)
    rows = np.flatnonzero(placed.any(axis=1))
    cols = np.flatnonzero(placed.any(axis=0))
    dy = int(np.clip(dy, -rows[0], side - 1 - rows[-1]))
    dx = int(np.clip(dx, -cols[0], side - 1 - cols[-1]))
    return np.roll(placed, (dy, dx), axis=(0, 1))


def preprocess_image(data: bytes, limits: Limits | None = None) -> Preprocessed:
    """Decode image bytes and prepare them the way MNIST digits were prepared."""
    image = decode(data, limits or Limits())
    source = describe_mode(image)
    if max(image.size) > WORK_SIDE:
        if image.mode in GREY_16:
            image = image.convert("F")  # 8-bit would clip a 16-bit scan before it is scaled by its range
        elif image.mode not in ("L", "RGB", "RGBA"):
            image = image.convert("RGBA" if has_alpha(image) else "RGB")
        image.thumbnail((WORK_SIDE, WORK_SIDE), Image.Resampling.BOX)
    grey, colour = to_colour(image)
    return preprocess_array(grey, colour, source)


def describe_mode(image: Image.Image) -> str:
    """How the decoded pixels became grey, for the steps."""
    if image.mode in GREY_16:
        return f"{image.mode} grey scaled by its own range"
    if image.mode in ("L", "1"):
        return "8-bit grey"
    return f"{image.mode} to luminance" + (", transparency composited on the paper" if has_alpha(image) else "")


def preprocess_array(grey: np.ndarray, colour: np.ndarray | None = None, source: str = "grey") -> Preprocessed:
    """Prepare a greyscale image (H, W) in 0..1, of either polarity; `colour` (H, W, 3) is shown with the crop."""
    found = find_ink(grey)
    fitted = fit_box(found.ink)
    placed = place_centred(fitted)
    final = shift_to_centre(placed)
    split = found.threshold
    surface_range = f"{float(found.surface.min()):.2f}–{float(found.surface.max()):.2f}"
    steps = [
        Step(
            "original",
            "as decoded and turned upright (EXIF); red frame: the crop",
            lambda: draw_box(grey if colour is None else colour, found.box),
        ),
        Step("grey", f"luminance in 0..1 ({source})", grey),
        Step(
            "illumination",
            f"the paper's brightness under the light: a smooth surface fitted to the paper, ink left out "
            f"(from {surface_range}); {'divided out' if found.inverted else 'subtracted'}",
            found.surface,
        ),
        Step(
            "polarity",
            ("dark ink on light paper: inverted" if found.inverted else "light ink on dark paper: kept")
            + " to light ink on dark, the paper at 0",
            found.flat,  # shown clipped to 0..1
        ),
        Step(
            "denoise",
            f"pixel noise σ ≈ {found.noise * 255:.1f}/255: "
            + ("3×3 median filter" if found.noise > NOISE_FLOOR else "low, left unchanged"),
            found.denoised,
        ),
        Step(
            "ink",
            f"ink above Otsu's threshold {split.value:.2f} (paper {split.paper:.2f}, ink {split.ink:.2f}); "
            f"{found.specks} isolated speck{'' if found.specks == 1 else 's'} dropped (grey)",
            lambda: found.mask * np.where(found.region, np.float32(1.0), np.float32(0.4)),
        ),
        Step("crop", "cropped to the digit's ink, contrast stretched, faint paper set to 0", found.ink),
        Step(
            "scale", f"longest side scaled to {BOX} px, aspect ratio kept, anti-aliased, strongest ink set to 1", fitted
        ),
        Step("place", f"placed in the middle of a {SIDE}×{SIDE} field", placed),
        Step("centre", "shifted so the centre of mass is at the centre", final),
    ]
    return Preprocessed(input=final, steps=steps, inverted=found.inverted)


def preprocess_colour(
    data: bytes,
    shape: tuple[int, int, int],
    mean: tuple[float, ...] = (),
    std: tuple[float, ...] = (),
    limits: Limits | None = None,
) -> Preprocessed:
    """An image for a general CNN: decode, to the model's channels, scale to cover H×W, centre-crop, 0..1, normalise."""
    channels, height, width = shape
    image = decode(data, limits or Limits())
    mode = {1: "L", 3: "RGB", 4: "RGBA"}.get(channels)
    if mode is None:
        raise PreprocessError("unsupported_channels", f"The model takes {channels} channels; images give 1, 3 or 4.")
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        # Transparent areas become white, as a browser shows them on a page.
        background = Image.new("RGBA", image.size, (255, 255, 255, 255))
        image = Image.alpha_composite(background, image.convert("RGBA"))
    image = image.convert(mode)
    steps = [Step("decoded", f"decoded, {image.width}×{image.height}, as {mode}", _display(image))]
    scale = max(width / image.width, height / image.height)
    size = (max(width, round(image.width * scale)), max(height, round(image.height * scale)))
    resized = image.resize(size, Image.Resampling.BILINEAR, reducing_gap=3.0)
    steps.append(Step("resized", f"scaled to {size[0]}×{size[1]} to cover {width}×{height}", _display(resized)))
    left, top = (size[0] - width) // 2, (size[1] - height) // 2
    cropped = resized.crop((left, top, left + width, top + height))
    steps.append(Step("cropped", f"centre-cropped to {width}×{height}: what the model sees", _display(cropped)))
    pixels = np.asarray(cropped, dtype=np.float32) / 255.0  # (H, W) or (H, W, C)
    tensor = pixels[None] if pixels.ndim == 2 else pixels.transpose(2, 0, 1)  # (C, H, W)
    if mean:
        tensor = (tensor - np.asarray(mean, np.float32)[:, None, None]) / np.asarray(std, np.float32)[:, None, None]
    return Preprocessed(input=np.ascontiguousarray(tensor, dtype=np.float32), steps=steps)


def _display(image: Image.Image) -> np.ndarray:
    """An image as floats in 0..1 for the steps: (H, W) grey or (H, W, C) colour."""
    return np.asarray(image, dtype=np.float32) / 255.0
