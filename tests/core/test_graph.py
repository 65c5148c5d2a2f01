"""Graph capture: every layer equals the user's eager model (forward hooks), names are stable, in-place ops are seen."""

from __future__ import annotations

from collections import defaultdict

import pytest
import torch
from torch import nn

from app.core.architectures import build as build_builtin
from app.core.graph import CapturedGraph, GraphError, capture_graph, export, layer_roles
from tests.support import nets


def graph_of(net: nn.Module, x: torch.Tensor) -> CapturedGraph:
    return capture_graph(*export(net, x))


def eager_outputs(net: nn.Module, x: torch.Tensor) -> dict[str, list[torch.Tensor]]:
    """Every leaf module's output per call, cloned at once (an in-place op later must not change it)."""
    seen: dict[str, list[torch.Tensor]] = defaultdict(list)
    handles = []
    for name, module in net.named_modules():
        if name and not list(module.children()):
            handles.append(
                module.register_forward_hook(lambda _m, _i, out, name=name: seen[name].append(out.detach().clone()))
            )
    try:
        with torch.no_grad():
            seen["<output>"].append(net(x).clone())
    finally:
        for h in handles:
            h.remove()
    return seen


def close(a: torch.Tensor, b: torch.Tensor) -> bool:
    """Relative error ≤ 1e-5 of the largest magnitude."""
    return bool((a - b).abs().max() <= 1e-5 * max(1.0, float(b.abs().max())))


@pytest.mark.parametrize("name", sorted(nets.NETS))
def test_every_module_output_equals_the_eager_model(name: str) -> None:
    net, x = nets.build(name)
    graph = graph_of(net, x)
    values = graph.capture(x)
    eager = eager_outputs(net, x)
    assert close(values[graph.output], eager["<output>"][0])
    compared = 0
    for path, outputs in eager.items():
        if path == "<output>" or isinstance(dict(net.named_modules())[path], nn.Identity):
            continue
        names = [path] if len(outputs) == 1 else [f"{path}:{k + 1}" for k in range(len(outputs))]
        for layer, expected in zip(names, outputs, strict=True):
            assert close(values[layer][0], expected[0]), f"{name}: {layer}"
            compared += 1
    assert compared >= 6


def test_in_place_relu_and_add_keep_the_pre_activation_values() -> None:
    net, x = nets.build("resnet18")
    graph = graph_of(net, x)
    values = graph.capture(x)
    bn2, add, relu = values["layer1.0.bn2"], values["layer1.0/add"], values["layer1.0.relu:2"]
    assert (bn2 < 0).any(), "a post-activation value would have no negatives"
    assert torch.equal(relu, add.clamp(min=0)) and not torch.equal(add, relu)
    assert torch.allclose(add, bn2 + values["layer1.0.relu:1"].new_tensor(0) + values["maxpool"], atol=1e-5)


def test_resnet_names_and_graph() -> None:
    net, x = nets.build("resnet18")
    graph = graph_of(net, x)
    names = [layer.name for layer in graph.layers]
    assert names[:5] == ["input", "conv1", "bn1", "relu", "maxpool"]
    assert {"layer1.0.relu:1", "layer1.0.relu:2", "layer1.0/add", "layer2.0.downsample.0", "avgpool", "fc"} <= set(
        names
    )
    assert len(names) == len(set(names))
    add = graph.layer("layer2.0/add")
    assert set(add.inputs) == {"layer2.0.bn2", "layer2.0.downsample.1"} and add.module == "layer2.0"
    assert graph.layer("layer2.0.conv1").params["stride"] == [2, 2] and graph.layer("fc").shape == (1000,)
    assert graph.layer("conv1").parameters == 64 * 3 * 7 * 7 and graph.layer("bn1").parameters == 128
    assert names == [layer.name for layer in graph_of(*nets.build("resnet18")).layers]  # stable run to run
    assert graph.batch, "exported with a dynamic batch dimension"


def test_kinds_and_hyper_parameters() -> None:
    graph = graph_of(*nets.build("dilated"))
    conv1, conv3 = graph.layer("conv1"), graph.layer("conv3")
    assert conv1.params["dilation"] == [2, 2] and conv1.params["padding"] == [[2, 2], [2, 2]]
    assert conv3.params["padding"] == [[1, 2], [1, 2]]  # 'same' with an even kernel pads one more at the far side
    pool = graph.layer("pool")
    assert pool.params["ceil_mode"] and pool.kind == "pool" and pool.shape == (4, 8, 7)
    separable = graph_of(*nets.build("separable"))
    assert separable.layer("dw2").params["groups"] == 8 and separable.layer("gap").kind == "adaptive_pool"
    inception = graph_of(*nets.build("inception"))
    assert inception.layer("cat").kind == "cat" and len(inception.layer("cat").inputs) == 4
    assert layer_roles(inception)["softmax"] == "probabilities" and layer_roles(inception)["head"] == "logits"
    colour = graph_of(*nets.build("colour_lenet"))
    assert colour.input_shape == (3, 24, 40) and colour.layer("7").op == "dropout"


def test_the_builtin_lenet_keeps_its_names() -> None:
    graph = graph_of(build_builtin("lenet").eval(), torch.zeros(1, 1, 28, 28))
    assert [layer.name for layer in graph.layers] == [
        "input", "conv1", "relu1", "pool1", "conv2", "relu2", "pool2", "flatten", "fc1", "relu3", "fc2", "relu4",
        "fc3", "softmax",
    ]  # fmt: skip


def test_concurrent_captures_do_not_mix() -> None:
    from concurrent.futures import ThreadPoolExecutor

    net, _ = nets.build("inception")
    graph = graph_of(net, torch.zeros(1, 3, 9, 7))
    inputs = [torch.randn(1, 3, 9, 7, generator=torch.Generator().manual_seed(i)) for i in range(64)]
    alone = [graph.capture(x)[graph.output] for x in inputs]
    with ThreadPoolExecutor(8) as pool:
        together = list(pool.map(lambda x: graph.capture(x)[graph.output], inputs))
    assert all(torch.equal(a, b) for a, b in zip(alone, together, strict=True))


def test_a_model_export_cannot_capture_fails_with_advice() -> None:
    class DataDependent(nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return x[x > 0.5].reshape(1, -1) if x.sum() > 0 else x

    with pytest.raises(GraphError, match=r"torch\.export could not capture the model"):
        graph_of(DataDependent(), torch.randn(1, 1, 4, 4))


def test_a_model_with_two_inputs_is_refused_clearly() -> None:
    class Two(nn.Module):
        def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
            return x + y

    program = torch.export.export(Two(), (torch.randn(1, 1, 2, 2), torch.randn(1, 1, 2, 2)))
    with pytest.raises(GraphError, match="takes 2 inputs"):
        capture_graph(program, False)


def test_the_shipped_residual_model_equals_its_eager_self() -> None:
    from app.core.models import builtin
    from app.core.weights import load_model
    from app.paths import MODELS_DIR

    eager, _ = load_model(MODELS_DIR / "resnet_mnist.json")
    model = builtin(MODELS_DIR / "resnet_mnist.json")
    x = torch.rand(3, 1, 28, 28)
    values = model.graph.capture(x)
    seen = eager_outputs(eager, x)
    assert close(values["softmax"], seen["<output>"][0])
    assert close(values["layer2.0.bn2"], seen["layer2.0.bn2"][0]), "pre-activation, before += and the in-place ReLU"
    assert model.roles["fc"] == "logits" and model.accuracy is not None and model.accuracy >= 0.995
