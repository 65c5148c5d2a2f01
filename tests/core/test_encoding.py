"""The 8-bit display encoding: every value within half a step of its map's range, ranges per channel."""

from __future__ import annotations

import json

import numpy as np
import pytest

from app.core.encoding import dequantise_u8, quantise_u8, render


def bound(lo: np.ndarray, hi: np.ndarray, per: int) -> np.ndarray:
    """The promised error bound per value: (max − min) / 255 / 2 of its slice (plus float64 rounding)."""
    return np.repeat((hi.astype(np.float64) - lo) / 255 / 2, per) * (1 + 1e-9) + 1e-12


@pytest.mark.parametrize("channels, per", [(1, 10), (6, 576), (16, 25), (1, 120)])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_error_at_most_half_a_step_of_each_maps_range(channels: int, per: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    scales = rng.uniform(1e-3, 50, size=(channels, 1))
    values = (rng.standard_normal((channels, per)) * scales).astype(np.float32).reshape(-1)
    codes, lo, hi = quantise_u8(values, channels)
    assert codes.dtype == np.uint8 and codes.size == values.size
    np.testing.assert_array_equal(lo, values.reshape(channels, -1).min(axis=1))
    np.testing.assert_array_equal(hi, values.reshape(channels, -1).max(axis=1))
    error = np.abs(dequantise_u8(codes, lo, hi) - values.astype(np.float64))
    assert np.all(error <= bound(lo, hi, per))
    # The ends of every range are exact, and codes use the whole 0…255 scale.
    assert codes.reshape(channels, -1).min(axis=1).tolist() == [0] * channels
    assert codes.reshape(channels, -1).max(axis=1).tolist() == [255] * channels


def test_constant_maps_and_zeros_after_relu_decode_exactly() -> None:
    relu = np.maximum(np.linspace(-1, 1, 50, dtype=np.float32), 0)
    flat = np.concatenate([np.full(50, 0.25, dtype=np.float32), relu])
    codes, lo, hi = quantise_u8(flat, 2)
    decoded = dequantise_u8(codes, lo, hi)
    np.testing.assert_array_equal(decoded[:50], 0.25)
    assert np.all(decoded[50:][relu == 0] == 0)


def test_u8_frame_is_the_binary_frame_with_one_byte_per_value() -> None:
    rng = np.random.default_rng(3)
    layers = [
        {"name": "a", "shape": [3, 2, 5], "values": rng.standard_normal(30).astype(np.float32)},
        {"name": "b", "shape": [7], "values": rng.standard_normal(7).astype(np.float32)},
    ]
    body, media = render({"prediction": 1, "layers": [dict(layer) for layer in layers]}, "u8")
    assert media == "application/vnd.convscope.frame"
    n = int.from_bytes(body[:4], "little")
    header = json.loads(body[4 : 4 + n])
    start = 4 + n + (-(4 + n) % 4)
    for original, packed in zip(layers, header["layers"], strict=True):
        v = packed["values"]
        assert v["dtype"] == "uint8" and v["offset"] % 4 == 0 and v["length"] == original["values"].size
        codes = np.frombuffer(body, dtype=np.uint8, count=v["length"], offset=start + v["offset"])
        lo, hi = np.array(v["min"], dtype=np.float32), np.array(v["max"], dtype=np.float32)
        assert len(lo) == (original["shape"][0] if len(original["shape"]) == 3 else 1)
        error = np.abs(dequantise_u8(codes, lo, hi) - original["values"])
        assert np.all(error <= bound(lo, hi, v["length"] // len(lo)))
