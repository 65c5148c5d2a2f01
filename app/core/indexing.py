"""Unit addresses: a flat row-major index ↔ its (c, y, x), the one convention everything uses."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol


def unravel(flat: int, shape: Sequence[int]) -> tuple[int, ...]:
    """The (c, y, x) (or any rank) of a row-major flat index."""
    out = []
    for size in reversed(shape):
        flat, rem = divmod(flat, size)
        out.append(rem)
    return tuple(reversed(out))


def ravel(index: Sequence[int], shape: Sequence[int]) -> int:
    """The row-major flat index of (c, y, x) (or any rank)."""
    flat = 0
    for i, size in zip(index, shape, strict=True):
        flat = flat * size + i
    return flat


class UnitError(ValueError):
    """A unit index that does not address a unit of its layer."""


class Shaped(Protocol):
    """Anything with a layer's name and per-sample shape (v1's LayerSpec, a graph Layer)."""

    @property
    def name(self) -> str: ...

    @property
    def shape(self) -> tuple[int, ...]: ...


def check_unit(layer: Shaped, index: Sequence[int]) -> tuple[int, ...]:
    """Validate an index against the layer's shape: [c, y, x] for maps, [i] for vectors."""
    spatial = len(layer.shape) == 3
    if len(index) != len(layer.shape):
        form = "[c, y, x]" if spatial else "[i]"
        raise UnitError(f"layer {layer.name} has shape {list(layer.shape)}: give the unit as {form}")
    for value, limit, axis in zip(index, layer.shape, "cyx" if spatial else "i", strict=True):
        if not 0 <= value < limit:
            raise UnitError(f"layer {layer.name}: {axis}={value} is outside 0..{limit - 1}")
    return tuple(index)
