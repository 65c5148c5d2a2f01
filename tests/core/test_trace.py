"""The arithmetic a trace reports adds up to the unit's value; the gradient map is autograd's."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

from app.core.capture import as_input, capture
from app.core.indexing import UnitError, check_unit
from app.core.registry import LoadedModel
from app.core.samples import pixels
from app.core.trace import trace


@pytest.fixture(scope="module")
def seven(lenet: LoadedModel) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    x = as_input(pixels(0))  # test digit 0 is a 7
    return x, capture(lenet.model, x)


def run(lenet: LoadedModel, outputs: dict[str, torch.Tensor], layer: str, unit: tuple[int, ...]) -> dict:
    return trace(lenet.model, lenet.specs, lenet.index(layer), outputs, unit, top=10)


@pytest.mark.parametrize("layer", ["conv1", "conv2"])
@pytest.mark.parametrize("unit", [(0, 0, 0), (2, 5, 7), (5, 9, 9)])
def test_conv_products_add_up(lenet: LoadedModel, seven, layer: str, unit: tuple[int, ...]) -> None:
    _, outputs = seven
    result = run(lenet, outputs, layer, unit)
    comp = result["computation"]
    products = np.array(comp["products"])
    np.testing.assert_allclose(products, np.array(comp["patch"]) * np.array(comp["kernel"]), rtol=1e-6)
    assert products.sum() + comp["bias"] == pytest.approx(comp["sum"], abs=1e-9)
    assert comp["sum"] == pytest.approx(result["value"], abs=1e-5)
    # The relu after it turns exactly this sum into its value.
    relu = run(lenet, outputs, f"relu{layer[-1]}", unit)["computation"]
    assert relu["before"] == pytest.approx(comp["sum"], abs=1e-5) and relu["after"] == max(relu["before"], 0.0)


def test_conv_patch_is_zero_padded_at_the_border(lenet: LoadedModel, seven) -> None:
    comp = run(lenet, seven[1], "conv1", (0, 0, 0))["computation"]
    assert comp["window"] == [-2, -2, 2, 2]
    patch = np.array(comp["patch"])[0]
    assert (patch[:2] == 0).all() and (patch[:, :2] == 0).all()


@pytest.mark.parametrize("unit", [(0, 0, 0), (3, 6, 7), (5, 13, 13)])
def test_pool_window_and_winner(lenet: LoadedModel, seven, unit: tuple[int, ...]) -> None:
    result = run(lenet, seven[1], "pool1", unit)
    comp = result["computation"]
    window = np.array(comp["values"])
    wy, wx = comp["winner"]
    assert window[wy, wx] == window.max() == pytest.approx(result["value"])
    c, y, x = unit
    relu1 = seven[1]["relu1"][0, c].numpy()
    np.testing.assert_array_equal(window, relu1[2 * y : 2 * y + 2, 2 * x : 2 * x + 2])


@pytest.mark.parametrize(("layer", "i"), [("fc1", 0), ("fc1", 77), ("fc2", 5), ("fc3", 7)])
def test_dense_contributions_add_up(lenet: LoadedModel, seven, layer: str, i: int) -> None:
    result = run(lenet, seven[1], layer, (i,))
    comp = result["computation"]
    top = comp["top"]
    assert len(top) == 10
    assert all(abs(a["product"]) >= abs(b["product"]) for a, b in itertools.pairwise(top))
    assert all(t["input"] * t["weight"] == pytest.approx(t["product"], rel=1e-6) for t in top)
    total = sum(t["product"] for t in top) + comp["rest"] + comp["bias"]
    assert total == pytest.approx(comp["sum"], abs=1e-6) == pytest.approx(result["value"], abs=1e-4)
    assert comp["positive_total"] + comp["negative_total"] + comp["bias"] == pytest.approx(comp["sum"], abs=1e-6)


def test_softmax_arithmetic(lenet: LoadedModel, seven) -> None:
    result = run(lenet, seven[1], "softmax", (7,))
    comp = result["computation"]
    exps = np.exp(np.array(comp["logits"]) - comp["shift"])
    np.testing.assert_allclose(exps, comp["exponentials"])
    assert comp["sum"] == pytest.approx(exps.sum())
    assert comp["probability"] == pytest.approx(exps[7] / exps.sum()) == pytest.approx(result["value"], abs=1e-6)
    np.testing.assert_allclose(comp["logits"], seven[1]["fc3"][0].numpy(), rtol=1e-6)


def test_flatten_maps_to_its_cell(lenet: LoadedModel, seven) -> None:
    result = run(lenet, seven[1], "flatten", (2 * 25 + 3 * 5 + 4,))
    assert result["computation"]["source_unit"] == [2, 3, 4]
    assert result["value"] == float(seven[1]["pool2"][0, 2, 3, 4])
    assert result["receptive_field"][0] == {
        "layer": "pool2",
        "box": [4, 3, 4, 3],
        "rows": [3, 4],
        "cols": [4, 5],
        "channels": [2],
    }


def test_gradient_matches_autograd_and_respects_the_receptive_field(lenet: LoadedModel, seven) -> None:
    x, outputs = seven
    result = run(lenet, outputs, "conv2", (3, 4, 5))
    grad = np.array(result["gradient"])
    assert grad.shape == (28, 28) and np.abs(grad).sum() > 0
    x0, y0, x1, y1 = result["receptive_field"][-1]["box"]
    outside = np.ones_like(grad, dtype=bool)
    outside[y0 : y1 + 1, x0 : x1 + 1] = False
    assert (grad[outside] == 0).all()
    # Finite-difference check on the most influential pixel (conv2 is linear in the input until relu1 flips).
    py, px = np.unravel_index(np.abs(grad).argmax(), grad.shape)
    eps = 1e-3
    x2 = x.clone()
    x2[0, 0, py, px] += eps
    moved = capture(lenet.model, x2)["conv2"][0, 3, 4, 5] - outputs["conv2"][0, 3, 4, 5]
    assert float(moved) / eps == pytest.approx(grad[py, px], rel=0.05, abs=1e-3)


def test_receptive_field_lists_every_earlier_layer(lenet: LoadedModel, seven) -> None:
    result = run(lenet, seven[1], "fc2", (3,))
    assert [r["layer"] for r in result["receptive_field"]] == [
        "relu3",
        "fc1",
        "flatten",
        "pool2",
        "relu2",
        "conv2",
        "pool1",
        "relu1",
        "conv1",
        "input",
    ]
    assert result["receptive_field"][-1]["box"] == [0, 0, 27, 27]


@pytest.mark.parametrize(
    ("layer", "index"), [("conv1", [6, 0, 0]), ("conv1", [0, -1, 0]), ("fc1", [120]), ("fc1", [0, 0]), ("conv2", [1])]
)
def test_bad_units_are_rejected(lenet: LoadedModel, layer: str, index: list[int]) -> None:
    with pytest.raises(UnitError):
        check_unit(lenet.specs[lenet.index(layer)], index)


def test_softmax_depends_on_every_logit(lenet: LoadedModel, seven) -> None:
    """Probability i is exp(z_i) / Σ_j exp(z_j): its field, its rays and its arithmetic name all ten logits."""
    result = run(lenet, seven[1], "softmax", (3,))
    fc3 = result["receptive_field"][0]
    assert fc3["layer"] == "fc3" and fc3["channels"] is None, "every logit is an input, not only logit 3"
    comp = result["computation"]
    assert comp["inputs"] == list(range(10)) and len(comp["logits"]) == 10
    # The rays' weights: ∂p_3/∂z_j by autograd through softmax.
    z = seven[1]["fc3"][0].double().clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(torch.softmax(z, 0)[3], z)
    np.testing.assert_allclose(comp["derivatives"], grad.numpy(), rtol=1e-5, atol=1e-12)
    assert sum(1 for d in comp["derivatives"] if d != 0) == 10
    np.testing.assert_allclose(comp["probabilities"], torch.softmax(z.detach(), 0).numpy(), rtol=1e-6)
    # The written-out arithmetic has all ten exponentials in its denominator.
    denominator = comp["expression"].split("/ (")[1].split(")")[0]
    assert len(denominator.split(" + ")) == 10


def test_softmax_is_not_channelwise(lenet: LoadedModel) -> None:
    softmax = lenet.specs[lenet.index("softmax")]
    assert not softmax.channelwise
    assert all(s.channelwise for s in lenet.specs if s.kind in ("relu", "pool"))


@pytest.mark.parametrize(("layer", "unit"), [("conv1", (0, 0, 0)), ("conv2", (3, 9, 9)), ("pool1", (2, 13, 0))])
def test_windows_also_in_the_v2_convention(lenet: LoadedModel, seven, layer: str, unit: tuple[int, ...]) -> None:
    result = run(lenet, seven[1], layer, unit)
    comp = result["computation"]
    x0, y0, x1, y1 = comp["window"]
    _, h, w = lenet.specs[lenet.index(layer) - 1].shape
    assert comp["rows"] == [max(y0, 0), min(y1 + 1, h)] and comp["cols"] == [max(x0, 0), min(x1 + 1, w)]
    for region in result["receptive_field"]:
        if region["box"] is not None:
            bx0, by0, bx1, by1 = region["box"]
            assert region["rows"] == [by0, by1 + 1] and region["cols"] == [bx0, bx1 + 1]
    if layer == "pool1":
        c, y, x = comp["winner_unit"]
        prev = seven[1]["relu1"][0].numpy()
        assert c == unit[0] and prev[c, y, x] == pytest.approx(result["value"])
        rows, cols = comp["rows"], comp["cols"]
        assert rows[0] <= y < rows[1] and cols[0] <= x < cols[1]
