"""Find the ink in a grey photo or drawing: paper illumination, polarity, noise, Otsu's threshold and stray specks.

Pure numpy; every function takes and returns float arrays (H, W) so each stage can be shown and tested alone.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

GRID = 16  # the paper's brightness is fitted on about GRID×GRID cells: enough for a smooth light falloff
COMPONENT_SIDE = 320  # connected components are found on a mask of at most this side (any-pooled), to stay cheap
PAPER_FLOOR = 0.05  # paper darker than this cannot be divided by: dark ink on it has no contrast left


@dataclass(frozen=True)
class Threshold:
    """Otsu's split of the ink image: threshold, the mean of each class and how well it separates them (0..1)."""

    value: float
    paper: float
    ink: float
    separation: float  # between-class variance / total variance (Otsu's effectiveness): 2/π for pure noise


def border(grey: np.ndarray) -> np.ndarray:
    """The outermost pixel ring (≥1 px), where paper rather than ink usually lies."""
    return np.concatenate([grey[0], grey[-1], grey[:, 0], grey[:, -1]])


def _surface_terms(ys: np.ndarray, xs: np.ndarray) -> np.ndarray:
    """The quadratic surface's terms at normalised coordinates in -1..1: (N, 6)."""
    return np.stack([np.ones_like(xs), xs, ys, xs * xs, xs * ys, ys * ys], axis=1)


def _cell_medians(grey: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Median brightness of about GRID×GRID cells (ink under half a cell does not move it), with cell centres."""
    h, w = grey.shape
    cell = max(1, -(-max(h, w) // GRID))
    step = max(1, cell // 4)  # 16 samples give a cell's paper level as well as all of its pixels
    cell = step * -(-cell // step)
    gh, gw = h // cell, w // cell
    if min(gh, gw) < 4:
        return np.empty((0, 0)), np.empty(0), np.empty(0)
    cells = grey[: gh * cell : step, : gw * cell : step].reshape(gh, cell // step, gw, cell // step)
    medians = np.median(cells.transpose(0, 2, 1, 3).reshape(gh, gw, -1), axis=2)  # (gh, gw)
    ys = (np.arange(gh) + 0.5) * cell * (2.0 / h) - 1.0
    xs = (np.arange(gw) + 0.5) * cell * (2.0 / w) - 1.0
    return medians, ys, xs


def paper_surface(grey: np.ndarray) -> np.ndarray:
    """The paper's brightness under uneven light: a quadratic surface fitted to the paper, the ink left out.

    The fit starts from the outer ring of cells (paper in nearly every photo, as around every MNIST digit), then
    takes in every cell that agrees with it, dark or light ink alike, so the polarity need not be known yet.
    """
    h, w = grey.shape
    edge = border(grey)
    if np.ptp(edge) == 0.0:  # an evenly lit border (a drawing, a scan): one paper level, nothing to fit
        return np.full((h, w), edge[0], dtype=np.float32)
    medians, ys, xs = _cell_medians(grey)
    if medians.size == 0:  # too narrow for a surface: the paper is what the border shows
        return np.full((h, w), float(np.median(edge)), dtype=np.float32)
    gy, gx = np.meshgrid(ys, xs, indexing="ij")  # (gh, gw) each
    terms = _surface_terms(gy.ravel(), gx.ravel())  # (cells, 6)
    values = medians.ravel()
    ring = np.zeros(medians.shape, dtype=bool)
    ring[[0, -1], :] = True
    ring[:, [0, -1]] = True
    use = ring.ravel()
    coef = np.linalg.lstsq(terms[use], values[use], rcond=None)[0]
    for _ in range(3):
        residual = values - terms @ coef
        spread = 1.4826 * float(np.median(np.abs(residual[use])))
        agree = np.abs(residual) <= max(3.0 * spread, 0.03)
        if agree.sum() < 12 or np.array_equal(agree, use):
            break
        use = agree
        coef = np.linalg.lstsq(terms[use], values[use], rcond=None)[0]
    if np.abs(coef[1:]).max() < 1e-3:  # evenly lit (a drawing, a scan): one level, no per-pixel surface to build
        return np.full((h, w), np.clip(coef[0], 0.0, 1.0), dtype=np.float32)
    yy = ((np.arange(h) + 0.5) * (2.0 / h) - 1.0).astype(np.float32)[:, None]  # (H, 1)
    xx = ((np.arange(w) + 0.5) * (2.0 / w) - 1.0).astype(np.float32)[None, :]  # (1, W)
    c = coef.astype(np.float32)
    surface = (c[0] + c[1] * xx + c[3] * xx * xx) + (c[2] * yy + c[5] * yy * yy) + (c[4] * yy) * xx  # (H, W)
    return np.clip(surface, 0.0, 1.0)


def dark_ink(grey: np.ndarray, surface: np.ndarray, noise: float) -> bool:
    """Whether the ink is darker than the paper: the side on which more pixels stray beyond the noise, weighted by
    how far; blank images fall back to the paper's own brightness."""
    step = max(1, max(grey.shape) // 128)
    residual = grey[::step, ::step] - surface[::step, ::step]
    reach = 3.0 * noise + 0.02
    darker = float(np.maximum(-residual - reach, 0.0).sum())
    lighter = float(np.maximum(residual - reach, 0.0).sum())
    if darker == lighter:
        return float(surface.mean()) > 0.5
    return darker > lighter


def flatten(grey: np.ndarray, surface: np.ndarray, dark: bool) -> np.ndarray:
    """Ink-positive image with the paper at 0: light falls on paper and ink alike, so dark ink is divided by it."""
    if dark:
        return 1.0 - grey / np.maximum(surface, PAPER_FLOOR)
    return grey - surface


def noise_sigma(img: np.ndarray) -> float:
    """Pixel noise σ from neighbour differences (median absolute, so edges of strokes do not count)."""
    stride = max(1, img.shape[0] // 32)  # ~32 rows sample the noise well enough
    rows = img[::stride]
    diffs = np.abs(rows[:, 1:] - rows[:, :-1]).ravel()
    if not diffs.size:
        return 0.0
    middle = diffs.size // 2
    return float(1.4826 * np.partition(diffs, middle)[middle] / np.sqrt(2.0))


def median3(img: np.ndarray) -> np.ndarray:
    """3×3 median filter (edges repeated): removes pixel noise and single-pixel specks, keeps 2 px strokes."""
    p = np.pad(img, 1, mode="edge")
    h, w = img.shape
    v = [p[dy : dy + h, dx : dx + w] for dy in range(3) for dx in range(3)]

    def sort2(a: int, b: int) -> None:
        v[a], v[b] = np.minimum(v[a], v[b]), np.maximum(v[a], v[b])

    # Paeth's 19-exchange network: the median of 9 ends up in v[4] without sorting all nine.
    for a, b in ((1, 2), (4, 5), (7, 8), (0, 1), (3, 4), (6, 7), (1, 2), (4, 5), (7, 8), (0, 3)):
        sort2(a, b)
    for a, b in ((5, 8), (4, 7), (3, 6), (1, 4), (2, 5), (4, 7), (4, 2), (6, 4), (4, 2)):
        sort2(a, b)
    return v[4]


def otsu(img: np.ndarray, bins: int = 256) -> Threshold:
    """Otsu's threshold: the split of the histogram with the largest between-class variance."""
    step = -(-max(img.shape) // 128)  # ~16,000 samples make the histogram
    values = img[::step, ::step].ravel()
    lo, hi = float(values.min()), float(values.max())
    if hi - lo < 1e-6:
        return Threshold(hi, lo, hi, 0.0)
    index = np.minimum(((values - lo) * (bins / (hi - lo))).astype(np.int64), bins - 1)
    hist = np.bincount(index, minlength=bins).astype(np.float64)
    edges = lo + (hi - lo) * np.arange(bins + 1) / bins
    centres = (edges[:-1] + edges[1:]) / 2
    w0 = np.cumsum(hist)
    w1 = w0[-1] - w0
    m0 = np.cumsum(hist * centres)
    mu0 = m0 / np.maximum(w0, 1.0)  # an empty class has weight 0, so its mean does not matter
    mu1 = (m0[-1] - m0) / np.maximum(w1, 1.0)
    between = w0 * w1 * (mu0 - mu1) ** 2 / w0[-1] ** 2
    k = int(np.argmax(between))
    total = float((hist * (centres - m0[-1] / w0[-1]) ** 2).sum() / w0[-1])  # binned, like `between`
    return Threshold(float(edges[k + 1]), float(mu0[k]), float(mu1[k]), float(between[k]) / total if total else 0.0)


def _runs(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Horizontal runs of True: row, start column and stop column (exclusive), in row-major order."""
    h, w = mask.shape
    padded = np.zeros((h, w + 2), dtype=np.int8)  # a clear column each side, so no run spans two rows
    padded[:, 1:-1] = mask
    edges = np.diff(padded.ravel())
    starts = np.flatnonzero(edges == 1)
    stops = np.flatnonzero(edges == -1)
    return starts // (w + 2), starts % (w + 2), stops % (w + 2)


def components(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, int]:
    """8-connected components of a mask by runs: (row, start, stop, component) per run, and the component count."""
    rows, starts, stops = _runs(mask)
    n = len(rows)
    width = mask.shape[1] + 2
    # Runs of the row above that touch run i (diagonals included) form one contiguous index range.
    first = np.searchsorted(rows * width + stops, (rows - 1) * width + starts, side="left")
    last = np.searchsorted(rows * width + starts, (rows - 1) * width + stops, side="right")
    counts = np.maximum(last - first, 0)
    a = np.repeat(np.arange(n), counts)  # one (a, b) pair per touching pair of runs
    b = first[a] + np.arange(len(a)) - np.repeat(np.cumsum(counts) - counts, counts)
    roots = np.arange(n)
    # Hook every edge's larger root under its smaller one, then compress paths; repeat until the edges agree.
    while len(a) and not np.array_equal(roots[a], roots[b]):
        ra, rb = roots[a], roots[b]
        np.minimum.at(roots, np.maximum(ra, rb), np.minimum(ra, rb))
        while not np.array_equal(roots[roots], roots):
            roots = roots[roots]
    labels = np.unique(roots, return_inverse=True)[1]
    return rows, starts, stops, labels, int(labels.max()) + 1 if n else 0


def keep_digit(mask: np.ndarray, near: float = 0.1, large: float = 0.25, small: float = 0.03) -> tuple[np.ndarray, int]:
    """The mask without isolated specks: the largest component, every one at least `large` of its size, and
    every one at least `small` of it within `near` of the digit's size from the ink kept so far (a digit's strokes
    need not touch); with the number of components dropped."""
    h, w = mask.shape
    rows, starts, stops, labels, count = components(mask)
    n = count
    if n <= 1:
        return mask, 0
    lengths = stops - starts
    area = np.bincount(labels, weights=lengths, minlength=n)
    top = np.full(n, h)
    bottom = np.full(n, -1)
    left = np.full(n, w)
    right = np.full(n, -1)
    np.minimum.at(top, labels, rows)
    np.maximum.at(bottom, labels, rows + 1)
    np.minimum.at(left, labels, starts)
    np.maximum.at(right, labels, stops)
    kept = area >= large * area.max()
    while True:
        t, b = top[kept].min(), bottom[kept].max()
        lf, r = left[kept].min(), right[kept].max()
        margin = near * max(b - t, r - lf) + 1
        gap = np.maximum.reduce([top - b, t - bottom, left - r, lf - right, np.zeros(n, dtype=np.int64)])
        grown = kept | ((gap <= margin) & (area >= small * area.max()))
        if np.array_equal(grown, kept):
            break
        kept = grown
    keep = kept[labels]
    marks = np.zeros((h, w + 1), dtype=np.int32)
    np.add.at(marks, (rows[keep], starts[keep]), 1)
    np.add.at(marks, (rows[keep], stops[keep]), -1)
    return np.cumsum(marks, axis=1)[:, :w] > 0, int(n - kept.sum())


def pooled(mask: np.ndarray, factor: int) -> np.ndarray:
    """Any-pool a mask by factor×factor blocks (a thin stroke survives, specks merge with their neighbours)."""
    if factor == 1:
        return mask
    h, w = mask.shape
    gh, gw = -(-h // factor), -(-w // factor)
    padded = np.zeros((gh * factor, gw * factor), dtype=bool)
    padded[:h, :w] = mask
    return np.asarray(padded.reshape(gh, factor, gw, factor).any(axis=(1, 3)))


def grow(mask: np.ndarray) -> np.ndarray:
    """Dilate by one cell in all eight directions (a 3×3 square: along rows, then along columns)."""
    rows = mask.copy()
    rows[:, 1:] |= mask[:, :-1]
    rows[:, :-1] |= mask[:, 1:]
    out = rows.copy()
    out[1:] |= rows[:-1]
    out[:-1] |= rows[1:]
    return out


def digit_region(mask: np.ndarray) -> tuple[np.ndarray, int]:
    """Where the digit may have ink: its components without the specks, one grid cell wider (anti-aliased edges),
    and how many specks were dropped."""
    h, w = mask.shape
    factor = max(1, -(-max(h, w) // COMPONENT_SIDE))
    kept, dropped = keep_digit(pooled(mask, factor))
    region = grow(kept)
    if factor == 1:
        return region, dropped
    return np.repeat(np.repeat(region, factor, axis=0), factor, axis=1)[:h, :w], dropped
