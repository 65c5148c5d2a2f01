"""Knock-outs equal a forward of a private copy with the weights edited; comparisons equal two plain forwards."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
from torch import nn

from app.core import knockout as K
from app.core.models import builtin, from_module
from app.core.samples import pixels
from app.core.weights import load_model
from app.paths import MODELS_DIR
from tests.support import nets

X = torch.from_numpy(pixels(0))[None, None]


def sequential_values(net: nn.Sequential, x: torch.Tensor) -> dict[str, np.ndarray]:
    """Every child's output of a Sequential, by name (the graph's names for the shipped LeNet)."""
    out = {"input": x[0].numpy()}
    with torch.no_grad():
        for name, child in net.named_children():
            x = child(x)
            out[name] = x[0].numpy()
    return out


def lenet() -> tuple[nn.Sequential, K.CapturedGraph]:
    module, _ = load_model(MODELS_DIR / "lenet.json")
    assert isinstance(module, nn.Sequential)
    return module, builtin(MODELS_DIR / "lenet.json").graph


def weighted(net: nn.Module, name: str) -> nn.Conv2d | nn.Linear:
    """A private copy's conv or linear layer by name, to edit its weights."""
    found = dict(net.named_modules())[name]
    assert isinstance(found, nn.Conv2d | nn.Linear) and found.bias is not None
    return found


def assert_all_equal(got: dict[str, np.ndarray], expected: dict[str, np.ndarray]) -> None:
    assert set(expected) <= set(got)
    for name, value in expected.items():
        np.testing.assert_allclose(got[name], value, rtol=1e-5, atol=1e-6, err_msg=name)


@pytest.mark.parametrize(("layer", "mode"), [("conv2", "zero"), ("relu2", "zero"), ("conv2", "mean")])
def test_channel_knockout_equals_a_forward_with_the_weights_edited(layer: str, mode: K.Mode) -> None:
    module, graph = lenet()
    before = graph.capture(X)
    got = K.knockout(graph, X, layer, channel=5, mode=mode)
    edited = copy.deepcopy(module)
    fill = float(before["conv2"][0, 5].mean()) if mode == "mean" else 0.0
    assert got.fill == pytest.approx(fill, rel=1e-6)
    with torch.no_grad():
        conv = weighted(edited, "conv2")
        conv.weight[5] = 0.0
        conv.bias[5] = fill
    expected = sequential_values(edited, X)
    if layer == "relu2":  # relu(0) = 0: the edited conv's own output differs, relu2 on equals
        expected.pop("conv2")
    assert_all_equal(got.after, {k: v for k, v in expected.items() if k not in ("input", "conv1", "relu1", "pool1")})
    assert_all_equal(got.before, sequential_values(module, X))
    assert "softmax" in got.changed() and "pool1" not in got.changed()
    for name, value in graph.capture(X).items():  # the shared graph is untouched
        torch.testing.assert_close(value, before[name], rtol=0, atol=0)


def test_unit_knockouts_equal_edited_weights_and_a_split_forward() -> None:
    module, graph = lenet()
    got = K.knockout(graph, X, "fc1", unit=(17,))
    edited = copy.deepcopy(module)
    with torch.no_grad():
        fc = weighted(edited, "fc1")
        fc.weight[17] = 0.0
        fc.bias[17] = 0.0
    assert_all_equal(got.after, sequential_values(edited, X))
    got = K.knockout(graph, X, "conv1", unit=(2, 10, 12), mode="value", value=-3.0)
    with torch.no_grad():
        a = module[:1](X).clone()
        a[0, 2, 10, 12] = -3.0
        expected = module[1:](a)
    np.testing.assert_allclose(got.after["softmax"], expected[0].numpy(), rtol=1e-5, atol=1e-7)
    assert got.mask.sum() == 1 and got.mask[2, 10, 12]
    np.testing.assert_allclose(got.difference("conv1")[2, 10, 12], -3.0 - got.before["conv1"][2, 10, 12], rtol=1e-6)


def test_mean_ablation_with_data_set_means_sets_each_cell_to_its_own_mean() -> None:
    module, graph = lenet()
    means = np.random.default_rng(3).normal(size=(16, 10, 10)).astype(np.float32)  # stand-in data-set means of conv2
    got = K.knockout(graph, X, "conv2", channel=5, mode="mean", dataset_mean=means)
    with torch.no_grad():
        a = module[:4](X).clone()  # conv1, relu1, pool1, conv2: (1, 16, 10, 10)
        a[0, 5] = torch.from_numpy(means[5])
        expected = module[4:](a)
    np.testing.assert_allclose(got.after["conv2"][5], means[5], rtol=0, atol=0)
    np.testing.assert_allclose(got.after["softmax"], expected[0].numpy(), rtol=1e-5, atol=1e-7)
    assert got.fill_source == "data set" and got.fill == pytest.approx(float(means[5].mean()), rel=1e-6)
    assert K.knockout(graph, X, "conv2", channel=5, mode="mean").fill_source == "this input"
    with pytest.raises(K.KnockoutError, match="shape"):
        K.knockout(graph, X, "conv2", channel=5, mode="mean", dataset_mean=means[:3])


@pytest.mark.parametrize("name", ["resnet_mnist", "colour_lenet"])
def test_knockout_on_residual_and_colour_nets(name: str) -> None:
    if name == "resnet_mnist":
        module, _ = load_model(MODELS_DIR / "resnet_mnist.json")
        graph, x, layer, path = builtin(MODELS_DIR / "resnet_mnist.json").graph, X, "layer2.0.conv1", "layer2.0.conv1"
    else:
        module, x = nets.build(name)
        graph, layer, path = from_module(name, module, x).graph, "3", "3"
    got = K.knockout(graph, x, layer, channel=3)
    edited = copy.deepcopy(module)
    conv = dict(edited.named_modules())[path]
    assert isinstance(conv, nn.Conv2d)
    with torch.no_grad():
        conv.weight[3] = 0.0
        if conv.bias is not None:
            conv.bias[3] = 0.0
        expected = edited(x)[0].numpy()
    np.testing.assert_allclose(got.after[graph.output], expected, rtol=1e-5, atol=1e-6)
    assert not np.allclose(got.before[graph.output], expected)


def test_bad_knockouts_are_refused() -> None:
    _, graph = lenet()
    with pytest.raises(K.KnockoutError, match="no layer"):
        K.knockout(graph, X, "nope", channel=0)
    with pytest.raises(K.KnockoutError, match="outside"):
        K.knockout(graph, X, "conv1", channel=6)
    with pytest.raises(K.KnockoutError, match="vector"):
        K.knockout(graph, X, "fc1", channel=0)
    with pytest.raises(K.KnockoutError, match="exactly one"):
        K.knockout(graph, X, "conv1")
    with pytest.raises(K.KnockoutError, match="after the input"):
        K.knockout(graph, X, "input", channel=0)


def test_compare_two_checkpoints_and_two_architectures() -> None:
    module, graph = lenet()
    other = copy.deepcopy(module)
    with torch.no_grad():
        weighted(other, "fc1").weight.mul_(1.1)
    other_graph = from_module("other", other, X).graph
    got = K.compare(graph, other_graph, X)
    assert [layer["name"] for layer in got["layers"]] == [lay.name for lay in graph.layers]
    a, b = sequential_values(module, X), sequential_values(other, X)
    for layer in got["layers"]:
        d = np.abs(b[layer["name"]] - a[layer["name"]])
        assert layer["max_abs_difference"] == pytest.approx(float(d.max()), abs=1e-5)
    assert got["layers"][graph.index("conv2")]["max_abs_difference"] == 0.0
    resnet = builtin(MODELS_DIR / "resnet_mnist.json").graph
    mixed = K.compare(graph, resnet, X)
    names = [layer["name"] for layer in mixed["layers"]]
    assert "input" in names and "conv1" not in names  # conv1 has 6 channels in one, 16 in the other
    assert {"conv1", "relu1"} <= set(mixed["only_a"]) and "layer1.0.conv1" in mixed["only_b"]
