"""Receptive-field geometry derived from the layer sequence: which earlier units a unit sees."""

from __future__ import annotations

from dataclasses import dataclass

from app.core.indexing import unravel
from app.core.layers import LayerSpec


@dataclass(frozen=True)
class Geometry:
    """Unit i of a layer sees cells start + i·jump … start + i·jump + size − 1 of a reference layer (per axis)."""

    size: int
    jump: int
    start: int

    def span(self, i: int, limit: int) -> tuple[int, int]:
        """Inclusive [lo, hi] covered by unit i, clipped to 0..limit−1."""
        lo = self.start + i * self.jump
        return max(lo, 0), min(lo + self.size - 1, limit - 1)


@dataclass(frozen=True)
class Region:
    """The part of one earlier layer a unit depends on."""

    layer: str
    box: tuple[int, int, int, int] | None  # inclusive (x0, y0, x1, y1) on spatial layers
    channels: list[int] | None  # None: every channel (spatial) or every unit (vector)


def geometry(specs: list[LayerSpec], src: int, dst: int) -> Geometry | None:
    """Geometry of layer dst's units in layer src's coordinates; None once the path leaves the spatial layers."""
    size, jump, start = 1, 1, 0
    for spec in specs[src + 1 : dst + 1]:
        if not spec.spatial:
            return None
        if spec.windowed:
            assert spec.kernel is not None and spec.stride is not None and spec.padding is not None
            size += (spec.kernel - 1) * jump
            start -= spec.padding * jump
            jump *= spec.stride
    return Geometry(size, jump, start)


def _channelwise_path(specs: list[LayerSpec], src: int, dst: int) -> bool:
    """True when no layer after src up to dst mixes channels (or, for vectors, units)."""
    return all(spec.channelwise for spec in specs[src + 1 : dst + 1])


def spatial_unit(specs: list[LayerSpec], index: int, unit: tuple[int, ...]) -> tuple[int, tuple[int, ...]]:
    """A flatten unit stands for one cell of the map before it: resolve it to that (layer index, (c, y, x))."""
    if specs[index].kind == "flatten":
        return index - 1, unravel(unit[0], specs[index - 1].shape)
    return index, unit


def regions(specs: list[LayerSpec], index: int, unit: tuple[int, ...]) -> list[Region]:
    """The unit's receptive field in every earlier layer, nearest first, ending at the input."""
    out: list[Region] = []
    anchor, anchor_unit = spatial_unit(specs, index, unit)
    if anchor != index:
        out.append(Region(specs[anchor].name, _box(specs, anchor, anchor, anchor_unit), [anchor_unit[0]]))
    for k in range(anchor - 1, -1, -1):
        spec = specs[k]
        keep = _channelwise_path(specs, k, anchor)
        if spec.spatial:
            own_channel = [anchor_unit[0]] if keep and len(anchor_unit) == 3 else None
            out.append(Region(spec.name, _box(specs, k, anchor, anchor_unit), own_channel))
        else:
            out.append(Region(spec.name, None, [anchor_unit[0]] if keep else None))
    return out


def _box(specs: list[LayerSpec], src: int, dst: int, unit: tuple[int, ...]) -> tuple[int, int, int, int]:
    """Inclusive box in layer src seen by `unit` of layer dst (the whole map if dst is a vector)."""
    _, h, w = specs[src].shape
    geo = geometry(specs, src, dst)
    if geo is None or len(unit) != 3:
        return 0, 0, w - 1, h - 1
    _, y, x = unit
    x0, x1 = geo.span(x, w)
    y0, y1 = geo.span(y, h)
    return x0, y0, x1, y1


def input_box(specs: list[LayerSpec], index: int, unit: tuple[int, ...]) -> tuple[int, int, int, int]:
    """Inclusive (x0, y0, x1, y1) of input pixels a unit sees."""
    anchor, anchor_unit = spatial_unit(specs, index, unit)
    return _box(specs, 0, anchor, anchor_unit)
