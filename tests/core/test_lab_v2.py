"""The v2 lab's numbers against references written here: plain-Python loops for the worked examples, PyTorch's own
pools for floor/ceil sizes and divisors, autograd for the loss gradients, numpy loops for the live layers."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from app.core import lab, lab_chain, lab_live
from app.core.lab_chain import PoolSpec, chain
from app.core.lab_sizes import conv_size, pool_size
from app.core.models import from_module
from tests.support import nets

# ---- plain-Python references -------------------------------------------------------------------------------------


def py_conv(image: list[list[list[float]]], kernel: list[list[list[float]]], bias: float, stride: int, pad: int):
    """Per-channel product sums and their total + bias, with nothing but loops."""
    c_n, h, w = len(image), len(image[0]), len(image[0][0])
    f = len(kernel[0])

    def at(c: int, y: int, x: int) -> float:
        return image[c][y][x] if 0 <= y < h and 0 <= x < w else 0.0

    oh, ow = (h + 2 * pad - f) // stride + 1, (w + 2 * pad - f) // stride + 1
    per = [[[0.0] * ow for _ in range(oh)] for _ in range(c_n)]
    for c in range(c_n):
        for oy in range(oh):
            for ox in range(ow):
                total = 0.0
                for i in range(f):
                    for j in range(f):
                        total += at(c, oy * stride - pad + i, ox * stride - pad + j) * kernel[c][i][j]
                per[c][oy][ox] = total
    out = [[sum(per[c][y][x] for c in range(c_n)) + bias for x in range(ow)] for y in range(oh)]
    return per, out


def py_pool(m: list[list[float]], kind: str, f: int, s: int, ceil: bool) -> list[list[float]]:
    """Pooling without padding; in ceil mode a last window that starts inside the map pools the cells it has."""
    h, w = len(m), len(m[0])

    def count(n: int) -> int:
        if ceil:
            out = -(-(n - f) // s) + 1
            return out - 1 if (out - 1) * s >= n else out
        return (n - f) // s + 1

    rows = []
    for oy in range(count(h)):
        row = []
        for ox in range(count(w)):
            cells = [m[y][x] for y in range(oy * s, min(oy * s + f, h)) for x in range(ox * s, min(ox * s + f, w))]
            row.append({"max": max(cells), "avg": sum(cells) / len(cells), "sum": sum(cells)}[kind])
        rows.append(row)
    return rows


def run_example(name: str, **changes) -> dict:
    ex = {**lab.EXAMPLES_V2[name], **changes}
    spec = PoolSpec(**{k: v for k, v in ex["pool"].items()})
    return chain(
        ex["input"], ex["kernel"], ex["bias"], ex["stride"], ex["padding"], ex["dilation"], ex["activation"], 0.01, spec
    )


# ---- the worked examples -----------------------------------------------------------------------------------------


def test_smiley_is_the_classic_picture_and_counts_matching_ones() -> None:
    rows = ["0000000", "0100010", "0000000", "0001000", "0100010", "0011100", "0000000"]
    assert [[int(c) for c in r] for r in rows] == lab.SMILEY
    ex = lab.EXAMPLES_V2["smiley"]
    assert ex["kernel"] == [[[0, 0, 1], [1, 0, 0], [0, 1, 1]]]
    result = run_example("smiley")
    _, expected = py_conv(ex["input"], ex["kernel"], 0.0, 1, 0)
    assert result["feature_map"].tolist() == expected and len(expected) == 5 and len(expected[0]) == 5
    # 2×2 max pooling, stride 2, keeping the partial windows at the edge: 5×5 → 3×3.
    pooled = result["pooled"]
    assert pooled["mode"] == "ceil" and pooled["shape"] == [3, 3]
    assert pooled["values"].tolist() == py_pool(expected, "max", 2, 2, ceil=True)
    assert pooled["windows"][-1] == {"rows": [4, 5], "cols": [4, 5]}  # the corner window has one cell
    for (y, x), win, v in zip(pooled["winners"], pooled["windows"], pooled["values"].reshape(-1), strict=True):
        assert win["rows"][0] <= y < win["rows"][1] and win["cols"][0] <= x < win["cols"][1]
        assert expected[y][x] == v


@pytest.mark.parametrize("kind", ["max", "avg", "sum"])
def test_x_example_diagonal_bias_relu_and_pooling(kind: str) -> None:
    ex = lab.EXAMPLES_V2["x"]
    result = run_example("x", pool={**ex["pool"], "type": kind})
    _, conv = py_conv(ex["input"], ex["kernel"], ex["bias"], ex["stride"], 0)
    relu = [[max(v, 0.0) for v in row] for row in conv]
    assert result["feature_map"].tolist() == conv and result["activated"].tolist() == relu
    np.testing.assert_allclose(result["pooled"]["values"], py_pool(relu, kind, 2, 2, ceil=False), atol=1e-12)
    assert result["pooled"]["shape"] == [2, 2]  # floor: ⌊(5 − 2) / 2⌋ + 1


def test_an_output_size_that_is_not_whole() -> None:
    result = run_example("x_stride")
    size = result["output_size"]["rows"]
    assert not size["exact"] and size["value"] == 2 == result["feature_map"].shape[0]
    assert size["formula"].startswith("((7 − 3 + 2·0) / 3) + 1 = 2.333 → 2")
    assert "rounds down" in size["formula"]


def test_colour_example_sums_three_channels_plus_bias() -> None:
    ex = lab.EXAMPLES_V2["colour"]
    result = run_example("colour")
    per, out = py_conv(ex["input"], ex["kernel"], ex["bias"], ex["stride"], ex["padding"])
    assert result["per_channel"].shape == (3, 3, 3)
    assert result["per_channel"].tolist() == per and result["feature_map"].tolist() == out


def test_valid_and_same_and_dilation_sizes() -> None:
    image = np.arange(49.0).reshape(1, 7, 7)
    kernel = np.ones((1, 3, 3))
    valid = chain(image.tolist(), kernel.tolist(), padding="valid")
    same = chain(image.tolist(), kernel.tolist(), padding="same")
    assert valid["feature_map"].shape == (5, 5) and same["feature_map"].shape == (7, 7)
    dilated = chain(image.tolist(), kernel.tolist(), padding="same", dilation=2)
    reference = F.conv2d(torch.tensor(image)[None], torch.tensor(kernel)[None], padding=2, dilation=2)[0, 0]
    np.testing.assert_allclose(dilated["feature_map"], reference.numpy())
    assert conv_size(7, 3, 0, 1, 2)["formula"] == "((7 − 2·(3 − 1) + 1 + 2·0) / 1) + 1 = 3"


# ---- pooling: floor and ceil, divisors, against PyTorch's own pools --------------------------------------------


def test_pool_size_formula_example_from_the_issue() -> None:
    size = pool_size(5, 2, 1, 2, "ceil")
    assert size["ceil"]["value"] == 3 and size["floor"]["value"] == 3, "N = 5, F = 2, S = 2, P = 1 gives 3, not 4"
    assert "⌈(5 + 2·1 − 2) / 2⌉ + 1 = ⌈2.5⌉ + 1 = 4" in size["ceil"]["formula"]
    assert "drops it: 3" in size["ceil"]["formula"]
    out = F.max_pool2d(torch.zeros(1, 1, 5, 5), 2, 2, 1, ceil_mode=True)
    assert out.shape[-1] == 3


@pytest.mark.parametrize("n", [4, 5, 6, 7, 9])
@pytest.mark.parametrize(("f", "s", "p"), [(2, 2, 0), (2, 2, 1), (3, 2, 0), (3, 2, 1), (3, 3, 1), (2, 1, 0), (3, 1, 1)])
@pytest.mark.parametrize("mode", ["floor", "ceil"])
def test_pool_sizes_match_pytorch(n: int, f: int, s: int, p: int, mode: str) -> None:
    x = torch.zeros(1, 1, n, n)
    expected = F.max_pool2d(x, f, s, p, ceil_mode=mode == "ceil").shape[-1]
    assert pool_size(n, f, p, s, mode)["value"] == expected  # type: ignore[arg-type]
    avg = F.avg_pool2d(x, f, s, p, ceil_mode=mode == "ceil").shape[-1]
    assert avg == expected


RNG = np.random.default_rng(3)
MAP = RNG.normal(size=(7, 6))


@pytest.mark.parametrize(("f", "s", "p"), [(2, 2, 0), (2, 2, 1), (3, 2, 1), (3, 3, 0), (2, 1, 1)])
@pytest.mark.parametrize("mode", ["floor", "ceil"])
@pytest.mark.parametrize(
    ("kind", "divisor", "torch_kwargs"),
    [
        ("max", "covered", {}),
        ("avg", "covered", {"count_include_pad": False}),
        ("avg", "padded", {"count_include_pad": True}),
        ("avg", "window", {"divisor_override": None}),
        ("sum", "covered", {"divisor_override": 1}),
    ],
)
def test_pool_values_and_divisors_match_pytorch(f, s, p, mode, kind, divisor, torch_kwargs) -> None:
    x = torch.tensor(MAP)
    result = lab_chain.pool(x, PoolSpec(kind, f, s, p, mode, divisor))
    ceil = mode == "ceil"
    if kind == "max":
        expected = F.max_pool2d(x[None, None], f, s, p, ceil_mode=ceil)
    else:
        kwargs = {**torch_kwargs}
        if "divisor_override" in kwargs and kwargs["divisor_override"] is None:
            kwargs["divisor_override"] = f * f
        expected = F.avg_pool2d(x[None, None], f, s, p, ceil_mode=ceil, **kwargs)
    np.testing.assert_allclose(result["values"], expected[0, 0].numpy(), atol=1e-12)
    assert result["shape"] == list(expected.shape[2:])
    assert result["output_size"]["rows"]["value"] == expected.shape[2]
    for i, win in enumerate(result["windows"]):
        (r0, r1), (c0, c1) = win["rows"], win["cols"]
        assert 0 <= r0 < r1 <= 7 and 0 <= c0 < c1 <= 6
        cells = MAP[r0:r1, c0:c1]
        value = result["values"].reshape(-1)[i]
        if kind == "max":
            y, x_ = result["winners"][i]
            assert MAP[y, x_] == value == cells.max()
        elif kind == "avg":
            assert cells.sum() / result["divisors"][i] == pytest.approx(value)
            if divisor == "covered":
                assert result["divisors"][i] == cells.size
        else:
            assert cells.sum() == pytest.approx(value)


def test_bad_pool_settings() -> None:
    with pytest.raises(lab.LabError, match="half"):
        lab_chain.pool(torch.zeros(5, 5, dtype=torch.float64), PoolSpec("max", 2, 2, 2))
    with pytest.raises(lab.LabError, match="does not fit"):
        lab_chain.pool(torch.zeros(2, 2, dtype=torch.float64), PoolSpec("max", 5, 1, 0))


# ---- activations, flattening, dropout ----------------------------------------------------------------------------


def test_activations_side_by_side_flattening_and_dropout() -> None:
    result = run_example("x", activation="none", pool={"type": "max"})
    feature = result["feature_map"]
    acts = result["activations"]
    np.testing.assert_allclose(acts["relu"], np.maximum(feature, 0))
    np.testing.assert_allclose(acts["leaky_relu"], np.where(feature > 0, feature, 0.01 * feature))
    np.testing.assert_allclose(acts["tanh"], np.tanh(feature))
    np.testing.assert_allclose(acts["sigmoid"], 1 / (1 + np.exp(-feature)))
    pooled = result["pooled"]["values"]
    flat = result["flattened"]
    np.testing.assert_array_equal(flat["values"], pooled.reshape(-1))
    h, w = pooled.shape
    for y in range(h):
        for x in range(w):
            assert flat["values"][y * w + x] == pooled[y, x]
    drop = result["dropout"]
    kept = drop["kept"].astype(bool)
    np.testing.assert_allclose(drop["train"], np.where(kept, flat["values"] / (1 - drop["p"]), 0))
    np.testing.assert_array_equal(drop["eval"], flat["values"])
    assert drop["scale"] == 2.0
    x = torch.tensor(flat["values"])
    np.testing.assert_array_equal(F.dropout(x, drop["p"], training=False).numpy(), drop["eval"])


# ---- softmax, cross-entropy, MSE and their gradients -------------------------------------------------------------

SCORES = [1.2, -0.4, 0.3, 2.5, -1.0, 0.0, 0.8, 4.1, -0.2, 0.6]


@pytest.mark.parametrize("label", [7, 4, 0])
def test_loss_gradients_match_autograd(label: int) -> None:
    result = lab.softmax_losses(SCORES, label)
    z = torch.tensor(SCORES, dtype=torch.float64, requires_grad=True)
    y = F.one_hot(torch.tensor(label), 10).double()
    ce = F.cross_entropy(z[None], torch.tensor([label]))
    (ce_grad,) = torch.autograd.grad(ce, z)
    mse = ((torch.softmax(z, 0) - y) ** 2).mean()
    (mse_grad,) = torch.autograd.grad(mse, z)
    assert result["cross_entropy"] == pytest.approx(ce.item()) and result["mse"] == pytest.approx(mse.item())
    np.testing.assert_allclose(result["gradients"]["cross_entropy"], ce_grad.numpy(), atol=1e-12)
    np.testing.assert_allclose(result["gradients"]["mse"], mse_grad.numpy(), atol=1e-12)


def test_the_note_argues_with_gradients_and_the_chart_reaches_the_current_loss() -> None:
    result = lab.softmax_losses(SCORES, 4)  # confidently wrong: p(4) ≈ 0.0044, CE ≈ 5.43
    assert result["cross_entropy"] == pytest.approx(5.432, abs=1e-3)
    sweep = result["sweep"]
    assert max(sweep["cross_entropy"]) >= result["cross_entropy"], "the chart must reach the current loss"
    assert min(sweep["p_true"]) <= result["probabilities"][4]
    note = result["note"]
    assert "at most" not in note and "gradient" in note and "p − 1" in note
    assert f"{result['gradients']['cross_entropy'][4]:.4g}" in note
    # Along the sweep, the gradient on the true score: CE's is p − 1, MSE's matches autograd at each point.
    points = zip(sweep["p_true"], sweep["cross_entropy_gradient"], sweep["mse_gradient"], strict=True)
    for p, g_ce, g_mse in list(points)[::9]:
        rest = math.log((1 - p) / 9)
        z = torch.tensor([math.log(p)] + [rest] * 9, dtype=torch.float64, requires_grad=True)
        mse = ((torch.softmax(z, 0) - F.one_hot(torch.tensor(0), 10).double()) ** 2).mean()
        (grad,) = torch.autograd.grad(mse, z)
        assert g_ce == pytest.approx(p - 1) and g_mse == pytest.approx(float(grad[0]), abs=1e-12)
    # The MSE of the sweep at a given p(true) is the least MSE for it (the rest shared equally), not the most.
    assert sweep["mse"][0] <= ((1 - sweep["p_true"][0]) ** 2 * 2) / 10


# ---- the live network ------------------------------------------------------------------------------------------


def np_conv_channel(x: np.ndarray, k: np.ndarray, stride, pads, dilation) -> np.ndarray:
    """(C, H, W) × (C, kh, kw) → (C, oh, ow) per-channel sums, by loops; pads = (top, bottom, left, right)."""
    t, b, left, r = pads
    xp = np.pad(x, ((0, 0), (t, b), (left, r)))
    c_n, kh, kw = k.shape
    (sh, sw), (dh, dw) = stride, dilation
    oh = (xp.shape[1] - dh * (kh - 1) - 1) // sh + 1
    ow = (xp.shape[2] - dw * (kw - 1) - 1) // sw + 1
    out = np.zeros((c_n, oh, ow))
    for c in range(c_n):
        for i in range(oh):
            for j in range(ow):
                for u in range(kh):
                    for v in range(kw):
                        out[c, i, j] += xp[c, i * sh + u * dh, j * sw + v * dw] * k[c, u, v]
    return out


@pytest.fixture(scope="module", params=["colour_lenet", "dilated"])
def captured(request):
    net, x = nets.build(request.param)
    m = from_module(request.param, net, x)
    return m, m.graph.capture(x)


def test_every_conv_and_pool_layer_recomputes_the_network(captured) -> None:
    m, values = captured
    for layer in m.graph.layers:
        if layer.kind not in ("conv", "pool"):
            continue
        for c in (0, layer.shape[0] - 1):
            r = lab_live.live(m.graph, layer, values, c)
            assert r["as_network"] and r["feature_map"].shape == r["network"].shape
            np.testing.assert_allclose(r["feature_map"], r["network"], atol=1e-5)
            assert [r["output_size"]["rows"]["value"], r["output_size"]["cols"]["value"]] == list(layer.shape[1:])


@pytest.mark.parametrize(("stride", "padding", "dilation"), [(None, None, None), (2, 0, None), (1, 3, 2), (3, 1, 1)])
def test_conv_what_if_against_a_numpy_loop(captured, stride, padding, dilation) -> None:
    m, values = captured
    layer = next(layer for layer in m.graph.layers if layer.kind == "conv" and layer.params["in_channels"] > 1)
    co = layer.shape[0] - 1
    r = lab_live.live(m.graph, layer, values, co, lab_live.WhatIf(stride, padding, dilation))
    x = values[layer.inputs[0]][0].double().numpy()
    w = m.graph.state[layer.weights[0]][co].double().numpy()
    used = r["settings"]
    (t, b), (left, right) = used["padding"]
    per = np_conv_channel(x, w, used["stride"], (t, b, left, right), used["dilation"])
    shown = r["shown"][1] - r["shown"][0]
    assert shown == min(x.shape[0], lab_live.SHOWN_CHANNELS)
    np.testing.assert_allclose(r["per_channel"], per[:shown], atol=1e-9)
    np.testing.assert_allclose(r["input"], x[:shown])
    np.testing.assert_allclose(r["channel_totals"], per.sum(axis=(1, 2)), atol=1e-9)
    np.testing.assert_allclose(r["feature_map"], per.sum(0) + r["bias"], atol=1e-9)
    assert [r["output_size"]["rows"]["value"], r["output_size"]["cols"]["value"]] == list(per.shape[1:])
    assert r["as_network"] == (stride is None and padding is None and dilation is None)


def test_pool_what_if_floor_and_ceil(captured) -> None:
    m, values = captured
    layer = next(layer for layer in m.graph.layers if layer.kind == "pool")
    x = values[layer.inputs[0]][0][0].double()
    for mode in ("floor", "ceil"):
        r = lab_live.live(m.graph, layer, values, 0, lab_live.WhatIf(stride=3, padding=1, mode=mode))
        f = layer.params["kernel_size"][0]
        expected = F.max_pool2d(x[None, None], f, 3, 1, ceil_mode=mode == "ceil")[0, 0]
        np.testing.assert_allclose(r["feature_map"], expected.numpy())
        assert r["pooled"]["mode"] == mode and not r["as_network"]


def test_live_errors(captured) -> None:
    m, values = captured
    relu = next(layer for layer in m.graph.layers if layer.kind not in ("conv", "pool", "input"))
    with pytest.raises(lab_live.LiveError, match="convolution and pooling"):
        lab_live.live(m.graph, relu, values, 0)
    conv = next(layer for layer in m.graph.layers if layer.kind == "conv")
    with pytest.raises(lab_live.LiveError, match="channels"):
        lab_live.live(m.graph, conv, values, conv.shape[0])
