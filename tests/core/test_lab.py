"""The lab's numbers (PyTorch) against a direct numpy computation, for every operation and setting."""

from __future__ import annotations

import math

import numpy as np
import pytest

from app.core import lab


def np_conv(x: np.ndarray, k: np.ndarray, bias: float, stride: int, pad: int) -> np.ndarray:
    """Cross-correlation (what CNNs call convolution), written out with loops."""
    xp = np.pad(x, pad)
    f = k.shape[0]
    oh = (xp.shape[0] - f) // stride + 1
    ow = (xp.shape[1] - f) // stride + 1
    out = np.zeros((oh, ow))
    for i in range(oh):
        for j in range(ow):
            out[i, j] = (xp[i * stride : i * stride + f, j * stride : j * stride + f] * k).sum() + bias
    return out


def np_pool(x: np.ndarray, kind: str, size: int, stride: int) -> np.ndarray:
    """Pooling where the last window may run past the edge and pools the cells it covers."""
    h, w = x.shape
    oh = math.ceil((h - size) / stride) + 1
    ow = math.ceil((w - size) / stride) + 1
    # As in PyTorch's ceil mode, a window must start inside the map.
    oh -= (oh - 1) * stride >= h
    ow -= (ow - 1) * stride >= w
    out = np.zeros((oh, ow))
    for i in range(oh):
        for j in range(ow):
            cells = x[i * stride : i * stride + size, j * stride : j * stride + size]
            out[i, j] = {"max": cells.max(), "avg": cells.mean(), "sum": cells.sum()}[kind]
    return out


ACTIVATIONS = {
    "none": lambda v: v,
    "relu": lambda v: np.maximum(v, 0),
    "leaky_relu": lambda v: np.where(v > 0, v, 0.1 * v),
    "tanh": np.tanh,
    "sigmoid": lambda v: 1 / (1 + np.exp(-v)),
}
RNG = np.random.default_rng(7)
IMAGE = RNG.normal(size=(11, 9))


@pytest.mark.parametrize("kernel_name", sorted(lab.KERNELS))
@pytest.mark.parametrize("stride", [1, 2, 3])
@pytest.mark.parametrize("padding", ["valid", "same", 2])
def test_convolution_matches_numpy(kernel_name: str, stride: int, padding: int | str) -> None:
    k = np.array(lab.KERNELS[kernel_name])
    result = lab.convolve(IMAGE.tolist(), k.tolist(), bias=0.25, stride=stride, padding=padding)
    p = {"valid": 0, "same": 1}.get(padding, padding) if isinstance(padding, str) else padding
    expected = np_conv(IMAGE, k, 0.25, stride, p)
    np.testing.assert_allclose(result["feature_map"]["values"], expected, atol=1e-12)
    assert result["output_size"]["rows"]["value"] == expected.shape[0] == (11 - 3 + 2 * p) // stride + 1
    assert result["output_size"]["cols"]["value"] == expected.shape[1]
    np.testing.assert_array_equal(result["padded"]["values"], np.pad(IMAGE, p))


@pytest.mark.parametrize("size", [1, 2, 4, 5])
def test_other_kernel_sizes(size: int) -> None:
    k = RNG.normal(size=(size, size))
    result = lab.convolve(IMAGE.tolist(), k.tolist(), stride=2, padding=1)
    np.testing.assert_allclose(result["feature_map"]["values"], np_conv(IMAGE, k, 0.0, 2, 1), atol=1e-12)


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
def test_activations_match_numpy(activation: str) -> None:
    k = np.array(lab.KERNELS["edge detect"])
    result = lab.convolve(IMAGE.tolist(), k.tolist(), activation=activation, slope=0.1)  # type: ignore[arg-type]
    feature = np.array(result["feature_map"]["values"])
    np.testing.assert_allclose(result["activated"]["values"], ACTIVATIONS[activation](feature), atol=1e-12)


@pytest.mark.parametrize("kind", ["max", "avg", "sum"])
@pytest.mark.parametrize(("size", "stride"), [(2, 2), (3, 2), (2, 1), (3, 3), (4, 3)])
def test_pooling_matches_numpy_including_partial_windows(kind: str, size: int, stride: int) -> None:
    result = lab.convolve(IMAGE.tolist(), [[1.0]], pool=lab.Pool(kind, size, stride))  # type: ignore[arg-type]
    expected = np_pool(IMAGE, kind, size, stride)
    np.testing.assert_allclose(result["pooled"]["values"], expected, atol=1e-12)
    windows = result["pooled"]["windows"]
    assert len(windows) == expected.size
    if kind == "max":
        flat = IMAGE.reshape(-1)
        assert [flat[i] for i in result["pooled"]["winners"]] == pytest.approx(expected.reshape(-1).tolist())


def test_flattening_is_row_major() -> None:
    result = lab.convolve(IMAGE.tolist(), [[1.0]], pool=lab.Pool("max", 2, 2))
    np.testing.assert_array_equal(result["flattened"]["values"], np.array(result["pooled"]["values"]).reshape(-1))


def test_worked_example_smiley() -> None:
    ex = lab.EXAMPLES["smiley"]
    result = lab.convolve(ex["input"], ex["kernel"], stride=1, padding=0, pool=lab.Pool("max", 2, 2))
    feature = np_conv(np.array(ex["input"]), np.array(ex["kernel"]), 0, 1, 0)
    assert result["feature_map"]["shape"] == [5, 5] and result["pooled"]["shape"] == [3, 3]
    np.testing.assert_array_equal(result["feature_map"]["values"], feature)
    np.testing.assert_array_equal(result["pooled"]["values"], np_pool(feature, "max", 2, 2))
    assert result["output_size"]["rows"]["formula"].startswith("((7 − 3 + 2·0) / 1) + 1 = 5")


def test_worked_example_x() -> None:
    ex = lab.EXAMPLES["x"]
    result = lab.convolve(ex["input"], ex["kernel"])
    values = np.array(result["feature_map"]["values"])
    assert values.shape == (3, 3)
    np.testing.assert_array_equal(values, np_conv(np.array(ex["input"]), np.array(ex["kernel"]), 0, 1, 0))
    assert values[1, 1] == 3 and values[0, 0] == 3 and values[2, 2] == 3  # the diagonal lines up three times


def test_inexact_output_size_is_floored_and_explained() -> None:
    size = lab.output_size(10, 3, 0, 2)
    assert size["value"] == 4 and not size["exact"] and "floor" in size["formula"]


def test_bad_settings() -> None:
    with pytest.raises(lab.LabError, match="odd kernel"):
        lab.resolve_padding("same", 4)
    with pytest.raises(lab.LabError, match="does not fit"):
        lab.convolve([[1.0, 2.0]], [[1.0, 1.0, 1.0]] * 3)


def test_softmax_and_losses_match_numpy() -> None:
    scores = [2.0, -1.0, 0.5, 3.0]
    result = lab.softmax_losses(scores, 1)
    e = np.exp(np.array(scores) - max(scores))
    p = e / e.sum()
    np.testing.assert_allclose(result["probabilities"], p)
    assert result["cross_entropy"] == pytest.approx(-np.log(p[1]))
    assert result["mse"] == pytest.approx(((p - np.eye(4)[1]) ** 2).mean())
    sweep = result["sweep"]
    assert sweep["cross_entropy"][0] > 10 * sweep["mse"][0], "CE punishes the confident mistake far more"
