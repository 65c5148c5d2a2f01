"""Receptive fields on graphs equal the support of autograd's gradient on each net's linear twin.

The twin of a net has identity activations and average pools where the net has max pools, so d(unit)/d(cell) is
non-zero exactly where the cell can influence the unit: its support IS the receptive field, and its hull the box.
"""

from __future__ import annotations

import random

import pytest
import torch

from app.core.architectures import build as build_builtin
from app.core.fields import Field, adaptive_matrix, fields, window_matrix
from app.core.graph import CapturedGraph, capture_graph, export
from tests.support import nets

SAMPLES = {"resnet18": 2, "inception": 4, "separable": 4, "dilated": 4, "colour_lenet": 4}
RESNET_LAYERS = ["maxpool", "layer1.1/add", "layer2.0.downsample.1", "layer3.0.conv1", "layer4.1.relu:2", "fc"]


def graph_of(net: torch.nn.Module, x: torch.Tensor) -> CapturedGraph:
    return capture_graph(*export(net, x))


def units(shape: tuple[int, ...], n: int, rng: random.Random) -> list[tuple[int, ...]]:
    """Corners first, then random units."""
    picks = [tuple(0 for _ in shape), tuple(s - 1 for s in shape)]
    picks += [tuple(rng.randrange(s) for s in shape) for _ in range(max(0, n - 2))]
    return picks[:n]


def support(grad: torch.Tensor) -> torch.Tensor:
    return grad[0] != 0


def check_unit(graph: CapturedGraph, twin: CapturedGraph, x: torch.Tensor, layer: str, unit: tuple[int, ...]) -> int:
    """Compare the field in every layer both graphs share with the twin's gradient support; return the count."""
    ours = {f.layer: f for f in fields(graph, layer, unit)}
    xd = x.double().requires_grad_(True)
    values = twin.forward(xd)
    by_name = dict(zip((lay.name for lay in twin.layers), values, strict=True))
    shared = [name for name in by_name if name in ours and name != layer and twin.index(name) < twin.index(layer)]
    grads = torch.autograd.grad(by_name[layer][(0, *unit)], [by_name[n] for n in shared], allow_unused=True)
    for name, grad in zip(shared, grads, strict=True):
        field = ours[name]
        assert field.known and field.mask is not None
        expected = support(grad) if grad is not None else torch.zeros_like(field.mask)
        assert torch.equal(field.mask, expected), f"{layer}{list(unit)} in {name}"
        if field.mask.dim() == 3 and expected.any():
            rows = torch.nonzero(expected.any(dim=(0, 2))).flatten()
            cols = torch.nonzero(expected.any(dim=(0, 1))).flatten()
            assert field.box() == ((int(rows[0]), int(rows[-1]) + 1), (int(cols[0]), int(cols[-1]) + 1))
    return len(shared)


@pytest.mark.parametrize("name", sorted(nets.NETS))
def test_fields_equal_autograd_support_on_the_linear_twin(name: str) -> None:
    net, x = nets.build(name)
    twin_net, _ = nets.build(name, twin=True)
    graph = graph_of(net, x)
    twin = graph_of(twin_net.double(), x.double())
    rng = random.Random(name)
    layers = RESNET_LAYERS if name == "resnet18" else [lay.name for lay in graph.layers[1:]]
    checked = 0
    for layer in layers:
        if layer not in {lay.name for lay in twin.layers}:
            continue  # an activation: the twin has none there
        for unit in units(graph.layer(layer).shape, SAMPLES[name], rng):
            checked += check_unit(graph, twin, x, layer, unit)
    assert checked >= 10


@pytest.mark.parametrize("arch", ["lenet", "lenet5"])
def test_fields_on_the_builtin_lenets(arch: str) -> None:
    net = build_builtin(arch).eval()
    twin = build_builtin(arch)
    twin.load_state_dict(net.state_dict())
    for i, m in enumerate(twin):
        if isinstance(m, torch.nn.ReLU | torch.nn.Tanh):
            twin[i] = torch.nn.Identity()
        elif isinstance(m, torch.nn.MaxPool2d):
            twin[i] = torch.nn.AvgPool2d(m.kernel_size, m.stride)
    x = torch.rand(1, 1, 28, 28)
    graph, twin_graph = graph_of(net, x), graph_of(twin.eval().double(), x.double())
    rng = random.Random(arch)
    for layer in ["conv1", "pool1", "conv2", "pool2", "flatten", "fc1", "fc3"]:
        for unit in units(graph.layer(layer).shape, 3, rng):
            check_unit(graph, twin_graph, x, layer, unit)


def test_dilated_strided_one_by_one_leaves_holes() -> None:
    net, x = nets.build("separable")
    graph = graph_of(net, x)
    field = {f.layer: f for f in fields(graph, "pw2", (0, 2, 3))}["act2"]
    assert field.box() == ((4, 5), (6, 7)) and field.dense()
    wide = {f.layer: f for f in fields(graph, "gap", (0, 0, 0))}["act2"]
    assert not wide.dense()  # a strided 1×1 convolution reads every other cell


def test_cat_routes_each_channel_to_its_branch() -> None:
    net, x = nets.build("inception")
    graph = graph_of(net, x)
    by_layer = {f.layer: f for f in fields(graph, "cat", (5, 4, 3))}  # channel 5 comes from the 3×3 branch
    assert "b1" not in by_layer and "b5.2" not in by_layer
    assert by_layer["b3.2"].channels() == [1]
    assert by_layer["input"].box() == ((2, 7), (1, 6))  # stem 3×3 then 3×3: 5×5 around (4, 3)


def test_axis_matrices() -> None:
    a = window_matrix(out_size=3, in_size=5, kernel=2, stride=2, pad_before=1, dilation=1)  # ceil mode, N=5 P=1
    assert a.int().tolist() == [[1, 0, 0, 0, 0], [0, 1, 1, 0, 0], [0, 0, 0, 1, 1]]
    assert adaptive_matrix(3, 7).int().tolist() == [
        [1, 1, 1, 0, 0, 0, 0],
        [0, 0, 1, 1, 1, 0, 0],
        [0, 0, 0, 0, 1, 1, 1],
    ]


def test_an_op_without_a_rule_makes_the_field_unknown() -> None:
    class Odd(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv = torch.nn.Conv2d(1, 2, 3)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return torch.cumsum(self.conv(x), dim=3)

    graph = graph_of(Odd().eval(), torch.randn(1, 1, 6, 6))
    out = {f.layer: f for f in fields(graph, graph.output, (0, 1, 1))}
    assert graph.layer(graph.output).kind == "opaque"
    assert out["conv"] == Field("conv", None, False) and not out["input"].known
