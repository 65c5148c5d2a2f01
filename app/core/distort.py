"""Batched digit distortions in torch, shared by the stress suite (fixed parameters) and training (random ones).

Every function takes a batch (N, 1, 28, 28) in [0, 1], light ink on dark as MNIST stores it, and per-image
parameters as tensors, so one call distorts a whole batch with one grid_sample or one pooling.
"""

from __future__ import annotations

import math
from typing import Literal

import torch
import torch.nn.functional as F

SIZE = 28


def dilate(x: torch.Tensor, px: int = 1) -> torch.Tensor:
    """Grey dilation with a (2px+1)² square: every stroke grows by px on each side (width + 2px)."""
    return F.max_pool2d(x, 2 * px + 1, stride=1, padding=px)


def erode(x: torch.Tensor, px: int = 1) -> torch.Tensor:
    """Grey erosion with a (2px+1)² square: every stroke shrinks by px on each side (width − 2px)."""
    return -F.max_pool2d(-x, 2 * px + 1, stride=1, padding=px)


def thin(x: torch.Tensor, px: int = 1) -> torch.Tensor:
    """Erosion that keeps each stroke's one-pixel centre ridge: a thin pen, not an eraser.

    Plain erosion deletes every stroke narrower than 2px + 1 (many MNIST strokes are 2 px wide); a pixel that is a
    maximum across its row or column neighbours is the stroke's ridge and survives at its own value.
    """
    across_rows = F.max_pool2d(x, (1, 3), stride=1, padding=(0, 1))
    across_cols = F.max_pool2d(x, (3, 1), stride=1, padding=(1, 0))
    ridge = (x >= across_rows) | (x >= across_cols)
    return torch.maximum(erode(x, px), torch.where(ridge, x, torch.zeros_like(x)))


def gaussian_blur(x: torch.Tensor, sigma: float, edges: Literal["zero", "reflect"] = "zero") -> torch.Tensor:
    """Separable Gaussian blur of x (N, C, H, W), truncated at 3σ, per channel; edges zero-padded or reflected."""
    radius = max(1, math.ceil(3 * sigma))
    if edges == "reflect":
        radius = max(1, min(radius, min(x.shape[2:]) - 1))  # reflection needs a radius below the shorter side
    t = torch.arange(-radius, radius + 1, dtype=x.dtype, device=x.device)
    k = torch.exp(-(t**2) / (2 * sigma**2))
    k = k / k.sum()  # (K,)
    c = x.shape[1]
    kx = k.view(1, 1, 1, -1).expand(c, 1, 1, -1)
    ky = k.view(1, 1, -1, 1).expand(c, 1, -1, 1)
    if edges == "zero":
        x = F.conv2d(x, kx, padding=(0, radius), groups=c)
        return F.conv2d(x, ky, padding=(radius, 0), groups=c)  # (N, C, H, W)
    x = F.conv2d(F.pad(x, (0, 0, radius, radius), mode="reflect"), ky, groups=c)
    return F.conv2d(F.pad(x, (radius, radius, 0, 0), mode="reflect"), kx, groups=c)  # (N, C, H, W)


def _base_grid(n: int) -> torch.Tensor:
    """Identity sampling grid (N, 28, 28, 2) in grid_sample's normalised coordinates (x, y)."""
    theta = torch.tensor([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]).expand(n, 2, 3)
    return F.affine_grid(theta, [n, 1, SIZE, SIZE], align_corners=False)


def sample(x: torch.Tensor, grid: torch.Tensor) -> torch.Tensor:
    """Read x at grid (N, 28, 28, 2): bilinear, zero (background) outside the frame."""
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)


def affine_grid(theta: torch.Tensor) -> torch.Tensor:
    """Sampling grid (N, 28, 28, 2) for output→input affine maps theta (N, 2, 3)."""
    return F.affine_grid(theta, [theta.shape[0], 1, SIZE, SIZE], align_corners=False)


def elastic_displacement(n: int, gen: torch.Generator, alpha: float, sigma: float) -> torch.Tensor:
    """Simard et al. (2003): uniform(−1, 1) fields smoothed by a Gaussian of σ px and scaled by α px.

    Returns the displacement in normalised grid units (N, 28, 28, 2), to add to a sampling grid.
    """
    field = torch.rand(n, 2, SIZE, SIZE, generator=gen) * 2 - 1  # (N, 2, 28, 28)
    field = gaussian_blur(field, sigma) * alpha  # pixels
    return field.permute(0, 2, 3, 1) * (2.0 / SIZE)  # (N, 28, 28, 2)


def elastic(x: torch.Tensor, gen: torch.Generator, alpha: float = 34.0, sigma: float = 4.0) -> torch.Tensor:
    """Elastic distortion with the given α and σ (pixels)."""
    return sample(x, _base_grid(x.shape[0]) + elastic_displacement(x.shape[0], gen, alpha, sigma))


def shear_theta(degrees: torch.Tensor) -> torch.Tensor:
    """Affine maps (N, 2, 3) that slant each image by its angle (positive leans the top to the right)."""
    t = torch.tan(torch.deg2rad(degrees))
    one, zero = torch.ones_like(t), torch.zeros_like(t)
    # Output (u, v) reads input (u + t·v, v): rows above the centre (v < 0) shift right.
    return torch.stack([torch.stack([one, t, zero], 1), torch.stack([zero, one, zero], 1)], 1)


def slant(x: torch.Tensor, degrees: torch.Tensor) -> torch.Tensor:
    """Shear each image about its centre by `degrees` (N,)."""
    return sample(x, affine_grid(shear_theta(-degrees)))


def place_theta(scale: torch.Tensor, offset: torch.Tensor) -> torch.Tensor:
    """Affine maps (N, 2, 3) that shrink each image by `scale` (N,) and move its centre to `offset` (N, 2) px."""
    inv = 1.0 / scale
    c = offset * (2.0 / SIZE)  # normalised units
    zero = torch.zeros_like(scale)
    row_x = torch.stack([inv, zero, -c[:, 0] * inv], 1)
    row_y = torch.stack([zero, inv, -c[:, 1] * inv], 1)
    return torch.stack([row_x, row_y], 1)


def place(x: torch.Tensor, scale: torch.Tensor, offset: torch.Tensor) -> torch.Tensor:
    """Scale each image about its centre by `scale` (N,), then shift its centre by `offset` (N, 2) pixels."""
    return sample(x, affine_grid(place_theta(scale, offset)))


def low_resolution(x: torch.Tensor, size: int = 8) -> torch.Tensor:
    """Average down to size×size, then bilinear back up to 28×28 (a blurred, blocky low-resolution scan)."""
    small = F.interpolate(x, size=(size, size), mode="area")  # (N, 1, size, size)
    return F.interpolate(small, size=(SIZE, SIZE), mode="bilinear", align_corners=False)


def noise(x: torch.Tensor, gen: torch.Generator, sigma: float) -> torch.Tensor:
    """Add Gaussian noise of standard deviation sigma and clip to [0, 1]."""
    return (x + torch.randn(x.shape, generator=gen) * sigma).clamp(0.0, 1.0)


def invert(x: torch.Tensor) -> torch.Tensor:
    """Swap polarity: dark ink on a light background."""
    return 1.0 - x


def perspective(x: torch.Tensor, tilt: torch.Tensor) -> torch.Tensor:
    """A projective warp per image: paper seen at an angle; tilt (N, 2) are the homography's last-row terms.

    Output (u, v) reads input (u, v) / (1 + p·u + q·v): the side where p·u + q·v > 0 shrinks, the other grows.
    """
    grid = _base_grid(x.shape[0])  # (N, 28, 28, 2)
    w = 1.0 + grid[..., 0] * tilt[:, 0, None, None] + grid[..., 1] * tilt[:, 1, None, None]  # (N, 28, 28)
    return sample(x, grid / w.unsqueeze(-1))


def segments(starts: torch.Tensor, ends: torch.Tensor, width: torch.Tensor) -> torch.Tensor:
    """Anti-aliased strokes: ink (N, 1, 28, 28) of segments starts→ends (N, K, 2) px (x, y), widths (N, K) px.

    A pixel's ink falls linearly from 1 to 0 over one pixel past half the width from the segment; a segment with
    a non-finite start draws nothing (so batches can hold different numbers of strokes).
    """
    ys, xs = torch.meshgrid(
        torch.arange(SIZE, dtype=torch.float32), torch.arange(SIZE, dtype=torch.float32), indexing="ij"
    )
    p = torch.stack([xs, ys], -1).view(1, 1, SIZE * SIZE, 2)  # (1, 1, 784, 2)
    valid = torch.isfinite(starts).all(-1)  # (N, K)
    a = torch.where(valid.unsqueeze(-1), starts, torch.zeros_like(starts)).unsqueeze(2)  # (N, K, 1, 2)
    b = torch.where(valid.unsqueeze(-1), ends, torch.zeros_like(ends)).unsqueeze(2)
    ab = b - a
    t = ((p - a) * ab).sum(-1) / (ab * ab).sum(-1).clamp_min(1e-6)  # (N, K, 784)
    closest = a + t.clamp(0, 1).unsqueeze(-1) * ab
    dist = (p - closest).norm(dim=-1)  # (N, K, 784)
    ink = (width.unsqueeze(-1) / 2 + 0.5 - dist).clamp(0, 1) * valid.unsqueeze(-1)
    return ink.amax(1).view(-1, 1, SIZE, SIZE)
