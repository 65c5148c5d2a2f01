"""Flat index ↔ (c, y, x): the one convention, against numpy's."""

from __future__ import annotations

import numpy as np
import pytest

from app.core.indexing import ravel, unravel


@pytest.mark.parametrize("shape", [(16, 5, 5), (6, 28, 28), (3, 7, 11), (10,), (2, 3)])
def test_round_trip_matches_numpy(shape: tuple[int, ...]) -> None:
    for flat in range(int(np.prod(shape))):
        index = unravel(flat, shape)
        assert index == tuple(int(i) for i in np.unravel_index(flat, shape))
        assert ravel(index, shape) == flat == int(np.ravel_multi_index(index, shape))


def test_flatten_order_is_channel_then_row_then_column() -> None:
    assert unravel(25, (16, 5, 5)) == (1, 0, 0)
    assert unravel(7, (16, 5, 5)) == (0, 1, 2)
