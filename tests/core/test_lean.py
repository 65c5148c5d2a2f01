"""The lean copy of a captured graph: the same values as the full graph, the shared graph untouched."""

from __future__ import annotations

import threading

import pytest
import torch
from torch import nn

from app.core import lean
from app.core.models import from_module
from app.core.runtime import set_thread_threads


class _Wide(nn.Module):
    """A colour net whose first convolution is big enough for oneDNN and whose second is not."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, stride=2, padding=1)  # input 3×96×96 = 27,648 elements per sample
        self.bn = nn.BatchNorm2d(8)
        self.conv2 = nn.Conv2d(8, 4, 3, padding="same")  # input 8×12×12 after the pool: stays on the plain path
        self.conv3 = nn.Conv2d(4, 4, 1, bias=False)  # small, every argument left at its default
        self.bn3 = nn.BatchNorm2d(4)
        self.head = nn.Linear(4 * 12 * 12, 5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.relu(self.bn(self.conv1(x)))  # (N, 8, 48, 48)
        x = nn.functional.max_pool2d(x, 4)  # (N, 8, 12, 12)
        x = torch.relu(self.conv2(x))  # (N, 4, 12, 12)
        x = self.bn3(self.conv3(x))  # (N, 4, 12, 12)
        return self.head(x.flatten(1))  # (N, 5)


@pytest.fixture(scope="module")
def graph():  # type: ignore[no-untyped-def]
    torch.manual_seed(0)
    net = _Wide().eval()
    with torch.no_grad():
        net.bn.running_mean.uniform_(-0.5, 0.5)
        net.bn.running_var.uniform_(0.5, 2.0)
        net.bn3.running_mean.uniform_(-0.5, 0.5)
        net.bn3.weight.uniform_(0.5, 1.5)
    return from_module("wide", net, torch.rand(1, 3, 96, 96)).graph


def _convs(module: torch.fx.GraphModule) -> list[object]:
    return [n.target for n in module.graph.nodes if n.op == "call_function" and "conv" in str(n.target)]


def test_every_layer_matches_the_full_graph_in_value_and_gradient(graph) -> None:  # type: ignore[no-untyped-def]
    x = torch.rand(3, 3, 96, 96)
    full = graph.forward(x)
    for layer in graph.layers:
        f = lean.layer_function(graph, layer.name)
        got = f(x)
        assert got.shape == full[graph.index(layer.name)].shape
        torch.testing.assert_close(got, full[graph.index(layer.name)], rtol=1e-5, atol=1e-5)
    xg = x.clone().requires_grad_(True)
    (want,) = torch.autograd.grad(graph.forward(xg)[graph.index(graph.output)][:, 2].sum(), xg)
    xg2 = x.clone().requires_grad_(True)
    (got,) = torch.autograd.grad(lean.layer_function(graph, graph.output)(xg2)[:, 2].sum(), xg2)
    torch.testing.assert_close(got, want, rtol=1e-4, atol=1e-6)


def test_only_big_convolutions_go_through_onednn_and_the_shared_graph_is_untouched(graph) -> None:  # type: ignore[no-untyped-def]
    before = _convs(graph.module)
    weight = graph.module.get_parameter("conv1.weight") if hasattr(graph.module, "conv1") else None
    lean.layer_function(graph, graph.output)
    module = lean._CACHE[graph.module][graph.output]
    same = torch.ops.aten.conv2d.padding  # padding="same": a small map, and an overload oneDNN is not asked for
    plain = torch.ops.aten.conv2d.default
    assert _convs(module) == [lean._onednn_conv2d, same, plain]
    assert _convs(graph.module) == before == [plain, same, plain]
    assert not any("batch_norm" in str(n.target) for n in module.graph.nodes)  # folded into conv1 and conv3
    assert any("batch_norm" in str(n.target) for n in graph.module.graph.nodes)
    if weight is not None:
        assert weight.is_contiguous()  # the private copy is channels-last, the shared weight is not
    assert lean.layer_function(graph, graph.output) is not None
    assert lean._CACHE[graph.module][graph.output] is module  # built once per layer


def test_a_layer_before_the_output_drops_the_rest_of_the_graph(graph) -> None:  # type: ignore[no-untyped-def]
    first_conv = next(layer.name for layer in graph.layers if layer.kind == "conv")
    lean.layer_function(graph, first_conv)
    module = lean._CACHE[graph.module][first_conv]
    assert _convs(module) == [lean._onednn_conv2d]  # conv2 and the head are gone


def test_thread_counts_are_per_thread() -> None:
    seen: dict[str, int] = {}

    def run(name: str, n: int, ready: threading.Barrier) -> None:
        set_thread_threads(n)
        ready.wait()  # both have set theirs before either reads
        seen[name] = torch.get_num_threads()

    ready = threading.Barrier(2)
    threads = [threading.Thread(target=run, args=(name, n, ready)) for name, n in (("jobs", 2), ("requests", 1))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert seen == {"jobs": 2, "requests": 1}
