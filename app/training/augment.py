"""Training-time distortions that make drawn and photographed digits look like MNIST variety."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F


def random_affine(
    x: torch.Tensor,
    gen: torch.Generator,
    max_degrees: float = 12.0,
    scale: tuple[float, float] = (0.85, 1.12),
    max_shift: float = 2.5,
) -> torch.Tensor:
    """Rotate, scale and shift each image of a batch by its own random amount."""
    n = x.shape[0]  # x: (N, 1, 28, 28)
    angle = (torch.rand(n, generator=gen) * 2 - 1) * math.radians(max_degrees)
    factor = torch.empty(n).uniform_(scale[0], scale[1], generator=gen)
    shift = (torch.rand(n, 2, generator=gen) * 2 - 1) * (max_shift * 2 / x.shape[-1])
    cos, sin = torch.cos(angle) / factor, torch.sin(angle) / factor
    theta = torch.stack([torch.stack([cos, -sin, shift[:, 0]], 1), torch.stack([sin, cos, shift[:, 1]], 1)], 1)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)  # (N, 28, 28, 2)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)


def random_stroke_width(
    x: torch.Tensor, gen: torch.Generator, p_thick: float = 0.15, p_thin: float = 0.15
) -> torch.Tensor:
    """Thicken (grey dilation) or thin (grey erosion) a random part of the batch."""
    draw = torch.rand(x.shape[0], generator=gen)
    thick = F.max_pool2d(x, 3, stride=1, padding=1)
    thin = -F.max_pool2d(-x, 3, stride=1, padding=1)
    # A half-strength mix keeps strokes from swelling into blobs at 28 px.
    thick = 0.5 * (x + thick)
    thin = 0.5 * (x + thin)
    sel_thick = (draw < p_thick).view(-1, 1, 1, 1)
    sel_thin = ((draw >= p_thick) & (draw < p_thick + p_thin)).view(-1, 1, 1, 1)
    return torch.where(sel_thick, thick, torch.where(sel_thin, thin, x))


def augment(x: torch.Tensor, gen: torch.Generator, p: float = 0.85) -> torch.Tensor:
    """Distort a batch (N, 1, 28, 28) in [0, 1]; a fraction 1 - p is left untouched."""
    keep = (torch.rand(x.shape[0], generator=gen) >= p).view(-1, 1, 1, 1)
    out = random_stroke_width(random_affine(x, gen), gen).clamp(0.0, 1.0)
    return torch.where(keep, x, out)
