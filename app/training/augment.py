"""Training-time distortions for how real handwriting differs from MNIST, applied to whole batches in torch.

Each image draws its own distortions: class-specific glyph variants (a "1" with serif and base, a "7" with a
bar, a closed "4", an open "9"), stroke width, one geometric warp (rotation, slant, scale with off-centre
placement, elastic), low resolution then upscaled and blurred, noise and inverted polarity. A fraction of the
batch stays untouched, so MNIST itself keeps its weight. Projective warps are deliberately absent: the stress
suite's held-out family (`perspective`) measures generalisation to a distortion never trained on.
"""

from __future__ import annotations

import math

import torch

from app.core import distort

INK = 0.3  # a pixel above this is ink when locating strokes
CLOSED_FOUR = 0.15  # share of the picked 4s given a closed top (a closed 4 can pass for a 9)
SMALL_SHARE = 0.4  # share of images shrunk and moved off-centre
SMALL_REACH = 0.3  # a small digit moves at least this fraction of the way to the edge
LOW_RES_SHARE = 0.15  # share of images brought down to 7–14 px and back up


def _rand(n: int, gen: torch.Generator, low: float = 0.0, high: float = 1.0) -> torch.Tensor:
    return torch.rand(n, generator=gen) * (high - low) + low


def _extent(mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """First and last True index along the last axis of mask (..., L); an all-False row gives (0, L - 1)."""
    length = mask.shape[-1]
    first = mask.float().argmax(-1)
    last = length - 1 - mask.flip(-1).float().argmax(-1)
    return first.float(), last.float()


def _mean_col(mask: torch.Tensor, rows: torch.Tensor) -> torch.Tensor:
    """Mean ink column of each image's row `rows` (N,); mask (N, 28, 28)."""
    row = mask[torch.arange(mask.shape[0]), rows.long().clamp(0, 27)].float()  # (N, 28)
    cols = torch.arange(28, dtype=torch.float32)
    return (row * cols).sum(1) / row.sum(1).clamp_min(1.0)


def glyph_variants(x: torch.Tensor, y: torch.Tensor, gen: torch.Generator, p: float = 0.35) -> torch.Tensor:
    """Add the strokes some writers use to a fraction p of the 1s, 4s, 7s and 9s (drawn only for those)."""
    chosen = (torch.rand(x.shape[0], generator=gen) < p) & torch.isin(y, torch.tensor([1, 4, 7, 9]))
    idx = chosen.nonzero().squeeze(1)
    out = x.clone()
    if len(idx):
        out[idx] = _variants(x[idx], y[idx], gen)
    return out


def _variants(x: torch.Tensor, y: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Serif and base on 1, bar on 7, closed top on 4; open the loop of 9."""
    n = x.shape[0]
    mask = x[:, 0] > INK  # (N, 28, 28)
    top, bottom = _extent(mask.any(2))  # (N,) rows
    height = (bottom - top).clamp_min(1.0)
    pick = torch.ones(n, dtype=torch.bool)
    nan = torch.full((n, 2), math.nan)
    starts, ends = [], []

    def add(sel: torch.Tensor, a: torch.Tensor, b: torch.Tensor) -> None:
        starts.append(torch.where(sel.unsqueeze(1), a, nan))
        ends.append(torch.where(sel.unsqueeze(1), b, nan))

    ones = pick & (y == 1)
    top_x, bottom_x = _mean_col(mask, top), _mean_col(mask, bottom)
    flag = _rand(n, gen, 2.5, 5.0)
    add(ones, torch.stack([top_x, top], 1), torch.stack([top_x - flag, top + flag * 0.8], 1))
    base = ones & (torch.rand(n, generator=gen) < 0.6)
    half = _rand(n, gen, 3.0, 5.5)
    add(base, torch.stack([bottom_x - half, bottom], 1), torch.stack([bottom_x + half, bottom], 1))

    sevens = pick & (y == 7)
    bar_y = top + height * _rand(n, gen, 0.45, 0.6)
    bar_x = _mean_col(mask, bar_y)
    bar = _rand(n, gen, 3.0, 4.5)
    add(sevens, torch.stack([bar_x - bar, bar_y], 1), torch.stack([bar_x + bar, bar_y], 1))

    fours = pick & (y == 4) & (torch.rand(n, generator=gen) < CLOSED_FOUR)
    left, right = _extent(mask.any(1))  # (N,) columns
    mid = ((left + right) / 2).long()
    cols = torch.arange(28)
    left_half = mask & (cols.view(1, 1, -1) < mid.view(-1, 1, 1))
    right_half = mask & (cols.view(1, 1, -1) >= mid.view(-1, 1, 1))
    left_top, _ = _extent(left_half.any(2))
    right_top, _ = _extent(right_half.any(2))
    add(
        fours,
        torch.stack([_mean_col(left_half, left_top), left_top], 1),
        torch.stack([_mean_col(right_half, right_top), right_top], 1),
    )
    width = _rand(n, gen, 1.5, 2.8).unsqueeze(1).expand(n, len(starts))
    out = torch.maximum(x, distort.segments(torch.stack(starts, 1), torch.stack(ends, 1), width))

    nines = pick & (y == 9)
    gap_y = top + height * 0.3
    row = mask[torch.arange(n), gap_y.long().clamp(0, 27)]  # (N, 28)
    gap_x, _ = _extent(row)
    gap = distort.segments(
        torch.stack([gap_x, gap_y - 1.0], 1).unsqueeze(1),
        torch.stack([gap_x, gap_y + 1.0], 1).unsqueeze(1),
        torch.full((n, 1), 2.5),
    )
    return torch.where(nines.view(-1, 1, 1, 1), out * (1 - gap), out)


def stroke_width(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Thicker or thinner strokes: full 3×3 dilation/erosion (±2 px) or a half-strength mix (±1 px)."""
    draw = torch.rand(x.shape[0], generator=gen).view(-1, 1, 1, 1)
    thick, thin = distort.dilate(x), distort.thin(x)
    out = torch.where(draw < 0.15, thick, x)
    out = torch.where((draw >= 0.15) & (draw < 0.25), 0.5 * (x + thick), out)
    out = torch.where((draw >= 0.25) & (draw < 0.37), thin, out)
    return torch.where((draw >= 0.37) & (draw < 0.47), 0.5 * (x + thin), out)


def geometry(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """One warp per image: rotation ±15°, slant ±25°, scale (SMALL_SHARE small and off-centre), elastic on half."""
    n = x.shape[0]
    angle = torch.deg2rad(_rand(n, gen, -15.0, 15.0))
    small = torch.rand(n, generator=gen) < SMALL_SHARE
    scale = torch.where(small, _rand(n, gen, 0.45, 0.85), _rand(n, gen, 0.85, 1.15))
    room = (distort.SIZE / 2 - 1 - 10.0 * scale).clamp_min(0.0)
    direction = _rand(n, gen, 0.0, 2 * math.pi)
    reach = room * torch.where(small, _rand(n, gen, SMALL_REACH, 1.0), _rand(n, gen, 0.0, 0.3))
    offset = torch.stack([torch.cos(direction), torch.sin(direction)], 1) * reach.unsqueeze(1)  # (N, 2) px
    place = distort.place_theta(scale, offset)  # (N, 2, 3) output → input
    shear = distort.shear_theta(_rand(n, gen, -25.0, 25.0))
    cos, sin = torch.cos(angle), torch.sin(angle)
    rot = torch.stack([torch.stack([cos, -sin], 1), torch.stack([sin, cos], 1)], 1)  # (N, 2, 2)
    linear = rot @ shear[:, :, :2] @ place[:, :, :2]
    theta = torch.cat([linear, (rot @ shear[:, :, :2] @ place[:, :, 2:])], 2)  # (N, 2, 3)
    grid = distort.affine_grid(theta)  # (N, 28, 28, 2)
    warped = (torch.rand(n, generator=gen) < 0.5).nonzero().squeeze(1)
    strength = _rand(len(warped), gen, 0.3, 1.0).view(-1, 1, 1, 1)
    grid[warped] += distort.elastic_displacement(len(warped), gen, 34.0, 4.0) * strength  # only where drawn
    return distort.sample(x, grid)


def degrade(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Low resolution (7–14 px) then upscaled, blur, noise up to σ = 0.15, and inverted polarity on some images."""
    n = x.shape[0]
    draw = torch.rand(n, generator=gen)
    size = int(torch.randint(7, 15, (1,), generator=gen))
    low = draw < LOW_RES_SHARE
    blur = (draw >= LOW_RES_SHARE) & (draw < LOW_RES_SHARE + 0.1)
    out = torch.where(low.view(-1, 1, 1, 1), distort.low_resolution(x, size), x)
    out = torch.where(blur.view(-1, 1, 1, 1), distort.gaussian_blur(x, 0.8), out)
    sigma = torch.where(torch.rand(n, generator=gen) < 0.25, _rand(n, gen, 0.0, 0.15), torch.zeros(n))
    out = (out + torch.randn(out.shape, generator=gen) * sigma.view(-1, 1, 1, 1)).clamp(0.0, 1.0)
    flip = (torch.rand(n, generator=gen) < 0.12).view(-1, 1, 1, 1)
    return torch.where(flip, distort.invert(out), out)


def augment(x: torch.Tensor, y: torch.Tensor, gen: torch.Generator, p: float = 0.6) -> torch.Tensor:
    """Distort a batch (N, 1, 28, 28) in [0, 1] with labels y (N,); a fraction 1 - p is left untouched."""
    keep = (torch.rand(x.shape[0], generator=gen) >= p).view(-1, 1, 1, 1)
    out = degrade(geometry(stroke_width(glyph_variants(x, y, gen), gen), gen).clamp(0.0, 1.0), gen)
    return torch.where(keep, x, out.clamp(0.0, 1.0))


def in_words(p: float) -> str:
    """The augmentation in words, for a manifest: the recipe above with its shares."""
    small, reach, low = SMALL_SHARE * 100, SMALL_REACH * 100, LOW_RES_SHARE * 100
    return (
        f"glyph variants on 35 % of 1/7/9 and {35 * CLOSED_FOUR:.0f} % of 4 (serif and base, bar, open loop, closed "
        "top); stroke width ±2 px or ±1 px; rotation ±15°, slant ±25°, scale 0.85–1.15 "
        f"({small:.0f} %: 0.45–0.85, moved {reach:.0f}–100 % of the way to the edge), elastic on half "
        f"(α = 10–34 px, σ = 4 px); low resolution 7–14 px upscaled ({low:.0f} %), blur (10 %), noise σ ≤ 0.15 "
        f"(25 %), inverted polarity (12 %); applied to {p * 100:.0f} % of images, the rest untouched"
    )
