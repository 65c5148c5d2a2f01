"""The stress suite: every family deterministic and built with exactly the documented parameters."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from app.core import distort, stress
from app.core.evaluate import to_tensor
from app.core.mnist import load_split
from app.paths import MNIST_DIR


@pytest.fixture(scope="module")
def digits() -> torch.Tensor:
    return to_tensor(load_split(MNIST_DIR, "test").images[:64])  # (64, 1, 28, 28)


@pytest.mark.parametrize("family", list(stress.FAMILIES))
def test_families_are_deterministic(digits: torch.Tensor, family: str) -> None:
    a = stress.family_images(digits, family)
    b = stress.family_images(digits, family)
    assert torch.equal(a, b) and a.shape == digits.shape
    assert float(a.min()) >= 0.0 and float(a.max()) <= 1.0
    assert not torch.equal(a, digits), "every family changes the images"


def test_stroke_is_a_3x3_dilation_or_a_ridge_keeping_erosion(digits: torch.Tensor) -> None:
    out = stress.family_images(digits, "stroke")
    padded = F.pad(digits, (1, 1, 1, 1))
    windows = padded.unfold(2, 3, 1).unfold(3, 3, 1)  # (N, 1, 28, 28, 3, 3)
    dilated = windows.amax((-1, -2))
    eroded = F.pad(digits, (1, 1, 1, 1), value=1.0).unfold(2, 3, 1).unfold(3, 3, 1).amin((-1, -2))
    row_max = F.pad(digits, (1, 1, 0, 0)).unfold(3, 3, 1).amax(-1)
    col_max = F.pad(digits, (0, 0, 1, 1)).unfold(2, 3, 1).amax(-1)
    ridge = (digits >= row_max) | (digits >= col_max)
    thinned = torch.maximum(eroded, torch.where(ridge, digits, torch.zeros_like(digits)))
    thick = (out == dilated).flatten(1).all(1)
    thin = (out == thinned).flatten(1).all(1)
    assert bool((thick | thin).all()) and 10 < int(thick.sum()) < 54, "each image one of the two, both used"
    assert bool((thinned.flatten(1).amax(1) > 0).all()), "thinning never deletes a digit"


def test_slant_shears_by_exactly_20_degrees() -> None:
    line = torch.zeros(1, 1, 28, 28)
    line[0, 0, 4:24, 14] = 1.0  # a vertical bar
    out = stress.family_images(line, "slant")[0, 0]
    shift = math.tan(math.radians(stress.SLANT_DEGREES)) * 9.5  # rows 4 and 23 are 9.5 px from the centre row
    cols = torch.arange(28, dtype=torch.float32)
    top = float((out[4] * cols).sum() / out[4].sum()) - 14
    bottom = float((out[23] * cols).sum() / out[23].sum()) - 14
    assert abs(top) == pytest.approx(shift, abs=0.3) and abs(bottom) == pytest.approx(shift, abs=0.3)
    assert np.sign(top) == -np.sign(bottom)


def test_low_resolution_is_8x8_area_then_bilinear(digits: torch.Tensor) -> None:
    out = stress.family_images(digits, "low_res")
    x = digits.numpy()[:, 0].astype(np.float64)
    # Area averaging over 28/8 = 3.5 px cells: cell i covers pixels floor(3.5 i) … ceil(3.5 (i + 1)) − 1.
    edges = [(math.floor(i * 3.5), math.ceil((i + 1) * 3.5)) for i in range(8)]
    small = np.array([[x[:, a:b, c:d].mean((1, 2)) for c, d in edges] for a, b in edges]).transpose(2, 0, 1)
    # Bilinear back up, half-pixel centres: output pixel j reads source position (j + 0.5) · 8/28 − 0.5.
    pos = np.clip((np.arange(28) + 0.5) * 8 / 28 - 0.5, 0, 7)
    lo = np.floor(pos).astype(int)
    hi, w = np.minimum(lo + 1, 7), pos - np.floor(pos)
    rows = small[:, lo] * (1 - w)[None, :, None] + small[:, hi] * w[None, :, None]
    expected = rows[:, :, lo] * (1 - w) + rows[:, :, hi] * w
    np.testing.assert_allclose(out.numpy()[:, 0], expected, atol=1e-5)


def test_noise_has_the_documented_sigma() -> None:
    grey = torch.full((64, 1, 28, 28), 0.5)
    out = stress.family_images(grey, "noise")
    assert float((out - grey).std()) == pytest.approx(25 / 255, rel=0.02)
    assert float((out - grey).mean()) == pytest.approx(0.0, abs=0.002)


def test_inverted_and_held_out(digits: torch.Tensor) -> None:
    torch.testing.assert_close(stress.family_images(digits, "inverted"), 1 - digits)
    assert stress.HELD_OUT in stress.FAMILIES and "held out" in stress.DESCRIPTIONS[stress.HELD_OUT]
    torch.testing.assert_close(distort.perspective(digits, torch.zeros(64, 2)), digits, atol=1e-5, rtol=0)


def test_small_offcentre_scales_and_moves(digits: torch.Tensor) -> None:
    out = stress.family_images(digits, "small_offcentre")

    def box(x: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
        ink = x[:, 0] > 0.3
        rows = ink.any(2).float()
        return rows.sum(1).numpy(), ((ink.float() * torch.arange(28.0)).sum((1, 2)) / ink.sum((1, 2))).numpy()

    height_before, _ = box(digits)
    height_after, col_after = box(out)
    ratio = height_after / height_before
    assert (ratio > 0.35).all() and (ratio < 0.95).all() and np.median(ratio) < 0.8
    rows = out[:, 0].sum(2)
    centre_row = (rows * torch.arange(28.0)).sum(1) / rows.sum(1)
    off = np.hypot(centre_row.numpy() - 13.5, col_after - 13.5)
    assert np.median(off) > 2.0, "digits are moved off-centre"


def test_elastic_matches_simard_with_numpy(digits: torch.Tensor) -> None:
    """The displacement is uniform noise blurred by a Gaussian of σ = 4 px (zero padding) times α = 34, in pixels."""
    gen = torch.Generator().manual_seed(3)
    got = distort.elastic_displacement(2, gen, 34.0, 4.0).numpy() * 14  # back to pixels
    field = (torch.rand(2, 2, 28, 28, generator=torch.Generator().manual_seed(3)) * 2 - 1).numpy().astype(np.float64)
    radius = 12
    t = np.arange(-radius, radius + 1)
    k = np.exp(-(t**2) / 32.0)
    k /= k.sum()
    padded = np.pad(field, ((0, 0), (0, 0), (radius, radius), (radius, radius)))
    smooth = np.zeros_like(field)
    for dy in range(-radius, radius + 1):
        for dx in range(-radius, radius + 1):
            shifted = padded[:, :, radius + dy : radius + dy + 28, radius + dx : radius + dx + 28]
            smooth += k[dy + radius] * k[dx + radius] * shifted
    np.testing.assert_allclose(got, (smooth * 34.0).transpose(0, 2, 3, 1), atol=1e-4)
