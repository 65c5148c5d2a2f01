"""What a unit sees: its values over a data set, the images that excite its channel most, an image optimised for it.

One pass over a data set records, for every layer, each image's maximum over positions per channel and where it
occurs (vector layers: each unit's value), plus each unit's running mean, spread and extremes (layers up to
UNIT_STATS_LIMIT units). The result is cached on disk under the model's SHA-256 and the data set's name, so it is
computed once per model and data set.
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
import os
import tempfile
import threading
from collections.abc import Iterable, Iterator, Sequence, Sized
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import torch

from app.core.fields import fields
from app.core.graph import CapturedGraph
from app.core.indexing import UnitError, check_unit
from app.core.lean import layer_function
from app.core.progress import Progress
from app.core.samples import test_split

UNIT_STATS_LIMIT = 200_000  # larger layers keep per-channel statistics only (a 224×224 stem has 800,000 units)
FORMAT = 1  # bump when the cached arrays change meaning


class UnitsError(ValueError):
    """A unit request that cannot be answered (unknown layer, unit, or no data set)."""


class Images(Protocol):
    """A data set the unit card can index: len() images, each (C, H, W) in the model's input space."""

    def __len__(self) -> int: ...

    def __getitem__(self, i: int) -> torch.Tensor: ...


@dataclass(frozen=True)
class TensorImages:
    """Images held in one tensor (N, C, H, W), e.g. the MNIST test set scaled to 0..1."""

    name: str
    tensor: torch.Tensor

    def __len__(self) -> int:
        return int(self.tensor.shape[0])

    def __getitem__(self, i: int) -> torch.Tensor:
        return self.tensor[i]


def mnist_images(images: np.ndarray, name: str = "mnist-test") -> TensorImages:
    """uint8 (N, 28, 28) digits as the digit models take them: (N, 1, 28, 28) floats in 0..1."""
    return TensorImages(name, torch.from_numpy(images.astype(np.float32) / 255.0).unsqueeze(1))


def batches(images: Iterable[torch.Tensor] | Images, size: int) -> Iterator[torch.Tensor]:
    """Batches (B, C, H, W) from a tensor data set, or from any iterable of (C, H, W) or (B, C, H, W) tensors."""
    if isinstance(images, TensorImages):
        yield from images.tensor.split(size)
        return
    pending: list[torch.Tensor] = []
    for item in images:  # type: ignore[union-attr]
        pending.extend(item.unbind(0) if item.dim() == 4 else [item])
        while len(pending) >= size:
            yield torch.stack(pending[:size])
            pending = pending[size:]
    if pending:
        yield torch.stack(pending)


@dataclass
class Statistics:
    """The arrays of one data-set pass, by layer name."""

    count: int
    peak: dict[str, np.ndarray]  # (N, C) per map layer: max over positions; (N, U) per vector layer: the value
    where: dict[str, np.ndarray]  # (N, C) per map layer: flat position (y·W + x) of that maximum
    mean: dict[str, np.ndarray]  # per unit (layer's shape), layers up to UNIT_STATS_LIMIT units
    std: dict[str, np.ndarray]
    low: dict[str, np.ndarray]
    high: dict[str, np.ndarray]


def dataset_pass(
    graph: CapturedGraph,
    images: Iterable[torch.Tensor] | Images,
    *,
    total: int | None = None,
    batch: int = 500,
    progress: Progress | None = None,
) -> Statistics:
    """One forward over every image, keeping per-channel peaks and where they are, and per-unit running moments."""
    names = [layer.name for layer in graph.layers]
    peaks: dict[str, list[np.ndarray]] = {n: [] for n in names}
    where: dict[str, list[np.ndarray]] = {n: [] for n in names if graph.layer(n).spatial}
    small = [n for n in names if graph.layer(n).size <= UNIT_STATS_LIMIT]
    s1 = {n: torch.zeros(graph.layer(n).shape, dtype=torch.float64) for n in small}
    s2 = {n: torch.zeros(graph.layer(n).shape, dtype=torch.float64) for n in small}
    lo = {n: torch.full(graph.layer(n).shape, math.inf) for n in small}
    hi = {n: torch.full(graph.layer(n).shape, -math.inf) for n in small}
    count = 0
    total = total if total is not None else (len(images) if isinstance(images, Sized) else 0)
    with torch.inference_mode():
        for x in batches(images, batch):
            if tuple(x.shape[1:]) != graph.input_shape:
                raise UnitsError(
                    f"data-set images have shape {list(x.shape[1:])}; the model takes {list(graph.input_shape)}"
                )
            for name, v in zip(names, graph.forward(x.float().to(graph.device)), strict=True):
                v = v.float().cpu()  # (B, *shape)
                if v.dim() == 4:
                    flat = v.flatten(2)  # (B, C, H·W)
                    top, arg = flat.max(dim=2)  # (B, C)
                    peaks[name].append(top.numpy())
                    where[name].append(arg.to(torch.int32).numpy())
                else:
                    peaks[name].append(v.reshape(v.shape[0], -1).numpy())
                if name in s1:
                    d = v.double()
                    s1[name] += d.sum(0)
                    s2[name] += (d * d).sum(0)
                    lo[name] = torch.minimum(lo[name], v.amin(0))
                    hi[name] = torch.maximum(hi[name], v.amax(0))
            count += x.shape[0]
            if progress is not None:
                progress(count, max(total, count))
    if count == 0:
        raise UnitsError("the data set is empty")
    mean = {n: (s1[n] / count) for n in small}
    std = {n: (s2[n] / count - mean[n] ** 2).clamp(min=0).sqrt() for n in small}
    return Statistics(
        count,
        {n: np.concatenate(p) for n, p in peaks.items()},
        {n: np.concatenate(p) for n, p in where.items()},
        {n: m.float().numpy() for n, m in mean.items()},
        {n: s.float().numpy() for n, s in std.items()},
        {n: t.numpy() for n, t in lo.items()},
        {n: t.numpy() for n, t in hi.items()},
    )


def cache_path(cache_dir: Path, sha256: str, dataset: str) -> Path:
    """Where a model's statistics over a data set live: <dir>/<model sha256>/<data set key>.npz."""
    key = hashlib.sha256(f"{dataset}\0{FORMAT}".encode()).hexdigest()[:24]
    return cache_dir / sha256 / f"{key}.npz"


def save(stats: Statistics, path: Path) -> None:
    """Write atomically (another worker may be reading or writing the same file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    arrays: dict[str, np.ndarray] = {"count": np.array(stats.count)}
    for part in ("peak", "where", "mean", "std", "low", "high"):
        for name, value in getattr(stats, part).items():
            arrays[f"{part}|{name}"] = value
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".npz.tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **arrays)  # type: ignore[arg-type]
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load(path: Path) -> Statistics | None:
    """Statistics from the cache, or None if absent or unreadable."""
    try:
        with np.load(path, allow_pickle=False) as data:
            parts: dict[str, dict[str, np.ndarray]] = {p: {} for p in ("peak", "where", "mean", "std", "low", "high")}
            for key in data.files:
                if "|" in key:
                    part, name = key.split("|", 1)
                    parts[part][name] = data[key]
            return Statistics(int(data["count"]), **parts)
    except (OSError, ValueError, KeyError):
        return None


def statistics(
    graph: CapturedGraph,
    images: Images,
    *,
    sha256: str | None,
    dataset: str,
    cache_dir: Path | None,
    progress: Progress | None = None,
) -> Statistics:
    """The data-set statistics from the disk cache, else computed (and cached when the model has a SHA-256)."""
    path = cache_path(cache_dir, sha256, dataset) if cache_dir is not None and sha256 else None
    if path is not None and path.is_file():
        found = load(path)
        if found is not None:
            return found
    stats = dataset_pass(graph, images, progress=progress)
    if path is not None:
        save(stats, path)
    return stats


def _box(graph: CapturedGraph, layer: str, unit: tuple[int, ...]) -> tuple[tuple[int, int], tuple[int, int]]:
    """The unit's field in the input as a half-open box (the whole input where the field is unknown)."""
    first = fields(graph, layer, unit)[0]
    found = first.box() if first.layer == "input" else None
    _, h, w = graph.input_shape
    return found if found is not None else ((0, h), (0, w))


def top_images(
    graph: CapturedGraph, stats: Statistics, images: Images, layer: str, channel: int, k: int = 9
) -> list[dict[str, Any]]:
    """The k images whose channel peaks highest, each cropped to the field of the position of its peak."""
    peak = stats.peak[layer][:, channel]  # (N,)
    order = np.argsort(-peak, kind="stable")[:k]
    spatial = graph.layer(layer).spatial
    out = []
    for i in order:
        if spatial:
            w = graph.layer(layer).shape[2]
            y, x = divmod(int(stats.where[layer][i, channel]), w)
            unit: tuple[int, ...] = (channel, y, x)
        else:
            unit = (channel,)
        rows, cols = _box(graph, layer, unit)
        image = images[int(i)]
        out.append(
            {
                "index": int(i),
                "value": float(peak[i]),
                "unit": list(unit),
                "box": {"rows": list(rows), "cols": list(cols)},
                "crop": np.ascontiguousarray(image[:, rows[0] : rows[1], cols[0] : cols[1]].float().numpy()),
            }
        )
    return out


def unit_values(
    graph: CapturedGraph,
    images: Images,
    layer: str,
    unit: tuple[int, ...],
    batch: int = 500,
    progress: Progress | None = None,
) -> np.ndarray:
    """One unit's value for every image (N,): for the per-unit ranking, which the cached peaks cannot give."""
    f = layer_function(graph, layer)
    out = []
    with torch.inference_mode():
        for x in batches(images, batch):
            at: tuple[Any, ...] = (slice(None), *unit)
            out.append(f(x.float())[at].float().cpu().numpy())
            if progress is not None:
                progress(sum(len(o) for o in out), len(images))
    return np.concatenate(out)


def top_images_for_unit(
    graph: CapturedGraph,
    images: Images,
    layer: str,
    unit: tuple[int, ...],
    k: int = 9,
    progress: Progress | None = None,
) -> list[dict[str, Any]]:
    """The k images for which this one unit is highest, cropped to its field."""
    values = unit_values(graph, images, layer, unit, progress=progress)
    order = np.argsort(-values, kind="stable")[:k]
    rows, cols = _box(graph, layer, unit)
    return [
        {
            "index": int(i),
            "value": float(values[i]),
            "unit": list(unit),
            "box": {"rows": list(rows), "cols": list(cols)},
            "crop": np.ascontiguousarray(images[int(i)][:, rows[0] : rows[1], cols[0] : cols[1]].float().numpy()),
        }
        for i in order
    ]


def histogram(values: np.ndarray, bins: int = 32) -> dict[str, Any]:
    """Counts over equal bins between the extremes."""
    lo, hi = float(values.min()), float(values.max())
    counts, edges = np.histogram(values, bins=bins, range=(lo, hi if hi > lo else lo + 1.0))
    return {"counts": counts.astype(np.int64), "edges": edges.astype(np.float64)}


def card(
    graph: CapturedGraph,
    stats: Statistics,
    images: Images,
    layer: str,
    unit: tuple[int, ...],
    value: float | None = None,
    k: int = 9,
) -> dict[str, Any]:
    """A unit's card: its value now, where that stands in the data set, and its channel's top images."""
    try:
        found = graph.layer(layer)
    except KeyError:
        raise UnitsError(f"no layer {layer!r}") from None
    try:
        unit = check_unit(found, unit)
    except UnitError as exc:
        raise UnitsError(str(exc)) from exc
    channel = unit[0]
    own = stats.peak[layer][:, channel]  # the channel's peak (maps) or the unit's value (vectors)
    moments = None
    if layer in stats.mean:
        moments = {k2: float(getattr(stats, k2)[layer][unit]) for k2 in ("mean", "std", "low", "high")}
    out: dict[str, Any] = {
        "layer": layer,
        "unit": list(unit),
        "value": value,
        "count": stats.count,
        "unit_statistics": moments,
        "distribution": {"of": "channel maximum over positions" if found.spatial else "unit value", **histogram(own)},
        "percentile": float((own < value).mean() * 100) if value is not None and not found.spatial else None,
        "top": top_images(graph, stats, images, layer, channel, k),
    }
    return out


def dataset_key(images: Images) -> str:
    """A name for a data set: its own name, else a digest of its size and first image."""
    name = getattr(images, "name", None)
    if name:
        return str(name)
    first = images[0].float().contiguous().numpy().tobytes() if len(images) else b""
    return "data-" + hashlib.sha256(json.dumps(len(images)).encode() + first).hexdigest()[:16]


def feature_visualisation(
    graph: CapturedGraph,
    layer: str,
    channel: int,
    unit: tuple[int, ...] | None = None,
    *,
    steps: int = 128,
    lr: float = 0.05,
    jitter: int = 2,
    seed: int = 0,
    mean: tuple[float, ...] = (),
    std: tuple[float, ...] = (),
    progress: Progress | None = None,
) -> dict[str, Any]:
    """An image (0..1 pixels) optimised to excite a channel (its mean over positions) or one unit.

    Fourier parameterisation (each frequency scaled by 1/f, so gradient steps favour smooth images), colour
    decorrelated by a fixed matrix for 3-channel inputs, random jitter each step; a private seeded generator makes the
    result reproducible. Only the image's parameters get gradients (torch.autograd.grad): no weight's .grad is written.
    """
    found = graph.layer(layer)
    f = layer_function(graph, layer)
    c, h, w = graph.input_shape
    gen = torch.Generator().manual_seed(seed)
    fy = torch.fft.fftfreq(h)[:, None]
    fx = torch.fft.rfftfreq(w)[None, :]
    scale = 1.0 / torch.maximum(torch.sqrt(fy**2 + fx**2), torch.tensor(1.0 / max(h, w)))  # (h, w//2+1)
    spectrum = (0.01 * torch.randn((c, h, w // 2 + 1, 2), generator=gen)).requires_grad_(True)
    colour = _COLOUR if c == 3 else torch.eye(c)
    m = torch.tensor(mean or (0.0,) * c).reshape(1, c, 1, 1)
    s = torch.tensor(std or (1.0,) * c).reshape(1, c, 1, 1)

    def image() -> torch.Tensor:
        spec = torch.view_as_complex(spectrum) * scale  # (c, h, w//2+1)
        decorrelated = torch.fft.irfft2(spec, s=(h, w), norm="ortho")  # (c, h, w)
        mixed = torch.einsum("ij,jhw->ihw", colour, decorrelated)
        return torch.sigmoid(mixed * 4.0)[None]  # (1, c, h, w) pixels in 0..1

    def objective(x: torch.Tensor) -> torch.Tensor:
        v = f((x - m) / s)[0]  # (*shape)
        return v[unit] if unit is not None else (v[channel].mean() if found.spatial else v[channel])

    # Adam by hand on the one parameter tensor: no optimiser state shared, nothing else touched.
    m1 = torch.zeros_like(spectrum)
    m2 = torch.zeros_like(spectrum)
    history = []
    with torch.enable_grad():
        for step in range(1, steps + 1):
            x = image()
            if jitter:
                dy, dx = (int(v) for v in torch.randint(-jitter, jitter + 1, (2,), generator=gen))
                x = torch.roll(x, shifts=(dy, dx), dims=(2, 3))
            score = objective(x)
            (g,) = torch.autograd.grad(-score, spectrum)
            with torch.no_grad():
                m1.mul_(0.9).add_(0.1 * g)
                m2.mul_(0.999).add_(0.001 * g * g)
                spectrum -= lr * (m1 / (1 - 0.9**step)) / ((m2 / (1 - 0.999**step)).sqrt() + 1e-8)
            history.append(float(score.detach()))
            if progress is not None:
                progress(step, steps)
    with torch.no_grad():
        final = image()
        value = float(objective(final))
    return {"pixels": final[0].numpy(), "value": value, "history": np.array(history), "steps": steps, "seed": seed}


# Lucid's colour correlation matrix (square root of ImageNet's RGB covariance), normalised: decorrelated
# parameters map to natural colour statistics.
_COLOUR_RAW = torch.tensor([[0.26, 0.09, 0.02], [0.27, 0.00, -0.05], [0.27, -0.09, 0.03]])
_COLOUR = _COLOUR_RAW / _COLOUR_RAW.norm(dim=0).max()


def as_images(data: Sequence[torch.Tensor] | torch.Tensor, name: str) -> Images:
    """A data set from a tensor (N, C, H, W) or a sequence of (C, H, W) tensors."""
    if isinstance(data, torch.Tensor):
        return TensorImages(name, data)
    return TensorImages(name, torch.stack(list(data)))


@functools.cache
def mnist_test_images() -> TensorImages:
    """The bundled MNIST test set as the digit models take it."""
    return mnist_images(test_split().images, "mnist-test")


def digit_model(graph: CapturedGraph, recipe: str) -> bool:
    """Whether the bundled MNIST test set is this model's data set."""
    return recipe == "mnist" and graph.input_shape == (1, 28, 28)


class StatisticsStore:
    """Data-set statistics in memory by (model, data set), loaded from or computed into the disk cache once."""

    def __init__(self, cache_dir: Path | None) -> None:
        self.cache_dir = cache_dir
        self._held: dict[tuple[str, str], Statistics] = {}
        self._lock = threading.Lock()

    def get(self, model: str, sha256: str | None, dataset: str) -> Statistics | None:
        """Statistics already computed (in memory, or on disk from an earlier run), else None."""
        key = (model, dataset)
        with self._lock:
            if key in self._held:
                return self._held[key]
        if self.cache_dir is None or not sha256:
            return None
        path = cache_path(self.cache_dir, sha256, dataset)
        found = load(path) if path.is_file() else None
        if found is not None:
            with self._lock:
                self._held[key] = found
        return found

    def compute(
        self, model: str, sha256: str | None, graph: CapturedGraph, images: Images, progress: Progress | None = None
    ) -> Statistics:
        """Compute (or read) and keep the statistics of a model over a data set."""
        dataset = dataset_key(images)
        stats = statistics(graph, images, sha256=sha256, dataset=dataset, cache_dir=self.cache_dir, progress=progress)
        with self._lock:
            self._held[(model, dataset)] = stats
        return stats
