"""Turn an arbitrary digit image into an MNIST-style 28×28 input, keeping every intermediate step."""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass, field

import numpy as np
from PIL import Image, UnidentifiedImageError

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


@dataclass
class Step:
    """One preprocessing stage: its name, what it did, and the image it produced (float, 0..1)."""

    name: str
    description: str
    image: np.ndarray


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


def to_grey(image: Image.Image) -> np.ndarray:
    """Luminance in 0..1; transparent areas become the background colour opposite to the ink."""
    has_alpha = image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info)
    if not has_alpha:
        return np.asarray(image.convert("L"), dtype=np.float32) / 255.0
    rgba = np.asarray(image.convert("RGBA"), dtype=np.float32) / 255.0
    alpha = rgba[..., 3]
    lum = rgba[..., :3] @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
    opaque = alpha > 0.5
    # Ink drawn on a transparent canvas may be light or dark: put it on the contrasting paper.
    ink_is_light = bool(opaque.any()) and float(lum[opaque].mean()) > 0.5 and float(alpha.mean()) < 0.5
    background = 0.0 if ink_is_light else 1.0
    return (lum * alpha + background * (1.0 - alpha)).astype(np.float32)


def _border(grey: np.ndarray) -> np.ndarray:
    """The outermost pixel ring (≥1 px), where paper rather than ink usually lies."""
    return np.concatenate([grey[0], grey[-1], grey[:, 0], grey[:, -1]])


def normalise_polarity(grey: np.ndarray) -> tuple[np.ndarray, bool]:
    """Light-on-dark with the paper at 0 and the strongest ink at 1; reports whether it inverted."""
    paper = float(np.median(_border(grey)))
    inverted = paper > 0.5
    ink = 1.0 - grey if inverted else grey
    paper_level = 1.0 - paper if inverted else paper
    span = float(ink.max()) - paper_level
    if span < INK_THRESHOLD:
        raise PreprocessError("empty_image", "The image has no ink: draw or upload a digit.")
    return np.clip((ink - paper_level) / span, 0.0, 1.0).astype(np.float32), inverted


def crop_to_ink(ink: np.ndarray) -> np.ndarray:
    """Crop to the bounding box of the pixels that count as ink."""
    rows = np.flatnonzero((ink > INK_THRESHOLD).any(axis=1))
    cols = np.flatnonzero((ink > INK_THRESHOLD).any(axis=0))
    cropped = ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    return np.where(cropped > INK_THRESHOLD, cropped, 0.0).astype(np.float32)


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
    if max(image.size) > WORK_SIDE:
        image = image.convert("RGBA" if "A" in image.getbands() or "transparency" in image.info else "L")
        image.thumbnail((WORK_SIDE, WORK_SIDE), Image.Resampling.BOX)
    return preprocess_array(to_grey(image))


def preprocess_array(grey: np.ndarray) -> Preprocessed:
    """Prepare a greyscale image (H, W) in 0..1, of either polarity."""
    ink, inverted = normalise_polarity(grey)
    cropped = crop_to_ink(ink)
    fitted = fit_box(cropped)
    placed = place_centred(fitted)
    final = shift_to_centre(placed)
    steps = [
        Step("grey", "decoded and converted to grey (transparency composited)", grey),
        Step(
            "polarity",
            "inverted to light ink on dark" if inverted else "already light ink on dark; contrast stretched",
            ink,
        ),
        Step("crop", "cropped to the ink's bounding box", cropped),
        Step(
            "scale", f"longest side scaled to {BOX} px, aspect ratio kept, anti-aliased, strongest ink set to 1", fitted
        ),
        Step("place", f"placed in the middle of a {SIDE}×{SIDE} field", placed),
        Step("centre", "shifted so the centre of mass is at the centre", final),
    ]
    return Preprocessed(input=final, steps=steps, inverted=inverted)


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
