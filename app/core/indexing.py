"""Unit addresses: a flat row-major index ↔ its (c, y, x), the one convention everything uses."""

from __future__ import annotations

from collections.abc import Sequence


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
