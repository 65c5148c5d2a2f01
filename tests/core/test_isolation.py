"""Decoding in a helper process: the same answer as in-process, and a crash, a hang or a refusal stays a refusal."""

from __future__ import annotations

import io
import os
import time
from dataclasses import replace

import numpy as np
import pytest
from PIL import Image

from app.core import isolation
from app.core.preprocess import Limits, PreprocessError, TooCostly, decode, preprocess_colour, preprocess_image
from tests.support import isolation_targets
from tests.support.drawings import draw_digit, png
from tests.support.hostile import costly_images

LIMITS = Limits()
COSTLY = costly_images()


def outcome(fn: object, *args: object) -> object:
    """fn(*args)'s result, or the (code, status, message) of the PreprocessError it raised."""
    try:
        return fn(*args)  # type: ignore[operator]
    except PreprocessError as exc:
        return (exc.code, exc.status, exc.message)


def isolated_outcome(fn: object, *args: object) -> object:
    try:
        return isolation.call(fn, *args, timeout=60)  # type: ignore[arg-type]
    except isolation.Refused as exc:
        assert isinstance(exc.error, PreprocessError)
        return (exc.error.code, exc.error.status, exc.error.message)


def assert_same(a: object, b: object) -> None:
    if isinstance(a, tuple):
        assert a == b
        return
    assert not isinstance(b, tuple), b
    assert np.array_equal(a.input, b.input) and a.input.dtype == b.input.dtype  # type: ignore[attr-defined]
    assert a.inverted == b.inverted  # type: ignore[attr-defined]
    assert [(s.name, s.description) for s in a.steps] == [(s.name, s.description) for s in b.steps]  # type: ignore[attr-defined]
    for x, y in zip(a.steps, b.steps, strict=True):  # type: ignore[attr-defined]
        assert np.array_equal(x.image, y.image)


@pytest.mark.parametrize("case", range(len(COSTLY)), ids=[name for name, _, _ in COSTLY])
def test_helper_gives_what_in_process_gives(case: int) -> None:
    _, data, _ = COSTLY[case]
    assert_same(isolated_outcome(preprocess_image, data, LIMITS), outcome(preprocess_image, data, LIMITS))


def test_helper_gives_what_in_process_gives_for_colour_and_small_images() -> None:
    drawing = png(draw_digit("7", width=18))
    assert not isinstance(outcome(preprocess_image, drawing, LIMITS), tuple)  # a digit, not a refusal
    assert_same(isolated_outcome(preprocess_image, drawing, LIMITS), outcome(preprocess_image, drawing, LIMITS))
    photo = COSTLY[4][1]
    args = (photo, (3, 32, 48), (0.5, 0.4, 0.3), (0.2, 0.25, 0.3), LIMITS)
    assert_same(isolated_outcome(preprocess_colour, *args), outcome(preprocess_colour, *args))


def test_each_call_is_a_new_process() -> None:
    pids = {isolation.call(isolation_targets.pid, timeout=60) for _ in range(3)}
    assert len(pids) == 3 and os.getpid() not in pids


def test_a_refusal_comes_back_as_the_same_error() -> None:
    with pytest.raises(isolation.Refused) as caught:
        isolation.call(isolation_targets.refuse, b"12345", LIMITS, timeout=60)
    error = caught.value.error
    assert isinstance(error, PreprocessError)
    assert (error.code, error.status, error.message) == ("too_many_pixels", 413, "5 bytes refused under 4000000")
    with pytest.raises(isolation.Refused) as other:
        isolation.call(isolation_targets.fail, timeout=60)
    assert isinstance(other.value.error, ValueError) and str(other.value.error) == "not a refusal"


def test_a_crash_is_helper_failed() -> None:
    with pytest.raises(isolation.HelperFailed, match="status -11"):
        isolation.call(isolation_targets.crash, timeout=60)


def test_a_hang_is_killed_at_the_deadline() -> None:
    started = time.monotonic()
    with pytest.raises(isolation.HelperTimeout):
        isolation.call(isolation_targets.hang, timeout=1.0)
    assert time.monotonic() - started < 30  # killed, not waited for (the hang is an hour)


@pytest.mark.parametrize("case", range(len(COSTLY)), ids=[name for name, _, _ in COSTLY])
def test_too_costly_exactly_when_decoding_gives_more_pixels(case: int) -> None:
    _, data, _ = COSTLY[case]
    try:
        image = decode(data, LIMITS)
    except PreprocessError:
        return  # refused in-process anyway, cheaply, from the header
    pixels = image.width * image.height
    for bound in (pixels - 1, pixels):
        costly = replace(LIMITS, isolate_pixels=bound)
        if bound < pixels:
            with pytest.raises(TooCostly):
                decode(data, costly)
        else:
            assert decode(data, costly).size == image.size


@pytest.mark.parametrize("side", [1000, 3000, 4000, 5600])
def test_too_costly_counts_a_reduced_jpeg_at_its_reduced_size(side: int) -> None:
    buf = io.BytesIO()
    Image.new("L", (side, side // 2), 200).save(buf, format="JPEG")
    data = buf.getvalue()
    image = decode(data, LIMITS)
    assert image.width * image.height <= LIMITS.decode_pixels
    assert decode(data, replace(LIMITS, isolate_pixels=image.width * image.height)).size == image.size
    with pytest.raises(TooCostly):
        decode(data, replace(LIMITS, isolate_pixels=image.width * image.height - 1))
