"""Attribution checked against independent references: autograd on the eager model, a plain-PyTorch Grad-CAM and
Captum's LayerGradCam / GuidedBackprop on private copies, a direct occlusion loop, IG's completeness."""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

import numpy as np
import pytest
import torch
from captum.attr import GuidedBackprop, LayerGradCam
from torch import nn

from app.core import attribution as A
from app.core.architectures import logits_part
from app.core.graph import CapturedGraph
from app.core.models import builtin, from_module
from app.core.samples import pixels
from app.core.weights import load_model
from app.paths import MODELS_DIR
from tests.support import nets

MODELS = ["lenet", "resnet_mnist", "colour_lenet"]


@dataclass
class Case:
    """A served graph, the eager module it came from (never touched by the code under test) and an input."""

    graph: CapturedGraph
    module: nn.Module
    logits: Callable[[torch.Tensor], torch.Tensor]
    x: torch.Tensor  # (1, C, H, W)


@cache
def case(name: str) -> Case:
    if name == "colour_lenet":
        net, x = nets.build(name)
        return Case(from_module(name, net, x).graph, net, net, x)
    module, _ = load_model(MODELS_DIR / f"{name}.json")
    x = torch.from_numpy(pixels(0))[None, None]  # a 7
    return Case(builtin(MODELS_DIR / f"{name}.json").graph, module, logits_part(module), x)


def logit_target(c: Case, index: int = 7) -> A.Target:
    return A.class_target(c.graph, index, "logit")


def autograd_input(fn: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor) -> np.ndarray:
    xg = x.clone().requires_grad_(True)
    (g,) = torch.autograd.grad(fn(xg), xg)
    return g[0].numpy()


def close(a: np.ndarray, b: np.ndarray, rel: float = 1e-4) -> None:
    np.testing.assert_allclose(a, b, rtol=0, atol=rel * max(1e-6, float(np.abs(b).max())))


@pytest.mark.parametrize("name", MODELS)
def test_gradient_and_gradient_x_input_equal_autograd_on_the_eager_model(name: str) -> None:
    c = case(name)
    expected = autograd_input(lambda x: c.logits(x)[0, 7], c.x)
    got = A.gradient(c.graph, c.x, logit_target(c))
    close(got.values, expected)
    assert got.values.shape == c.x.shape[1:] and got.combined.shape == c.x.shape[2:]
    close(got.combined, expected.sum(axis=0))
    assert got.target_value == pytest.approx(float(c.logits(c.x)[0, 7].detach()), rel=1e-5)
    close(A.gradient_x_input(c.graph, c.x, logit_target(c)).values, expected * c.x[0].numpy())


def test_probability_and_hidden_unit_targets() -> None:
    c = case("lenet")
    probability = A.class_target(c.graph, 3, "probability")
    close(A.gradient(c.graph, c.x, probability).values, autograd_input(lambda x: c.module(x)[0, 3], c.x))
    hidden = A.Target("conv2", (5, 4, 3))
    expected = autograd_input(lambda x: c.module[:4](x)[0, 5, 4, 3], c.x)  # type: ignore[index]  # conv1, relu1, pool1, conv2
    close(A.gradient(c.graph, c.x, hidden).values, expected)
    colour = case("colour_lenet")  # ends in logits: its probability is the softmax of them
    target = A.class_target(colour.graph, 2, "probability")
    assert target.softmax
    expected = autograd_input(lambda x: torch.softmax(colour.module(x), 1)[0, 2], colour.x)
    close(A.gradient(colour.graph, colour.x, target).values, expected)


def test_smoothgrad_is_the_mean_gradient_over_the_same_noise() -> None:
    c = case("colour_lenet")
    got = A.smoothgrad(c.graph, c.x, logit_target(c), samples=8, noise=0.2, seed=3)
    sigma = 0.2 * float(c.x.max() - c.x.min())
    noise = torch.randn((8, *c.x.shape[1:]), generator=torch.Generator().manual_seed(3))
    expected = np.mean([autograd_input(lambda x: c.logits(x)[0, 7], c.x + sigma * n[None]) for n in noise], axis=0)
    close(got.values, expected)
    again = A.smoothgrad(c.graph, c.x, logit_target(c), samples=8, noise=0.2, seed=3)
    np.testing.assert_array_equal(got.values, again.values)  # fixed seed: reproducible


def direct_occlusion(
    fn: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, window: int, stride: int
) -> np.ndarray:
    """Every window position by hand: f(x) − f(occluded), averaged over the windows covering each pixel.

    Windows start every `stride` cells until one reaches the far edge; the last may hang over it (cropped).
    """
    _, _, h, w = x.shape
    starts_y = range(0, -(-(h - window) // stride) * stride + 1, stride)
    starts_x = range(0, -(-(w - window) // stride) * stride + 1, stride)
    total = torch.zeros_like(x[0])
    count = torch.zeros_like(x[0])
    with torch.no_grad():
        base = fn(x)
        for top in starts_y:
            for left in starts_x:
                occluded = x.clone()
                occluded[:, :, top : top + window, left : left + window] = 0.0
                total[:, top : top + window, left : left + window] += base - fn(occluded)
                count[:, top : top + window, left : left + window] += 1
    return (total / count.clamp(min=1)).numpy()


@pytest.mark.parametrize(
    ("name", "window", "stride"), [("lenet", 4, 2), ("resnet_mnist", 6, 4), ("colour_lenet", 8, 4)]
)
def test_occlusion_equals_a_direct_loop(name: str, window: int, stride: int) -> None:
    c = case(name)
    got = A.occlusion(c.graph, c.x, logit_target(c), window=window, stride=stride, fill=0.0, batch=7)
    close(got.values, direct_occlusion(lambda x: c.logits(x)[0, 7], c.x, window, stride))


def plain_cam(
    module: nn.Module, head: Callable[[nn.Module], nn.Module], path: str, x: torch.Tensor, plus: bool
) -> np.ndarray:
    """Grad-CAM(++) in plain PyTorch on a private copy: the layer's output kept by a forward hook, autograd.grad."""
    private = copy.deepcopy(module)
    kept: list[torch.Tensor] = []
    handle = dict(private.named_modules())[path].register_forward_hook(lambda _m, _i, out: kept.append(out))
    y = head(private)(x)[0, 7]
    handle.remove()
    (g,) = torch.autograd.grad(y, kept[0])
    a, g = kept[0].detach()[0], g[0]
    if plus:
        weights = []
        for ch in range(a.shape[0]):
            num = g[ch] ** 2
            den = 2 * g[ch] ** 2 + a[ch].sum() * g[ch] ** 3
            alpha = torch.where(den != 0, num / torch.where(den != 0, den, torch.ones_like(den)), torch.zeros_like(den))
            weights.append(float((alpha * torch.relu(g[ch])).sum()))
        w = torch.tensor(weights)
    else:
        w = g.mean(dim=(1, 2))
    return torch.relu((w[:, None, None] * a).sum(0)).numpy()


def head_of(name: str) -> Callable[[nn.Module], nn.Module]:
    """The module whose output is the logits: the net itself, or its view without the softmax."""
    return (lambda m: m) if name == "colour_lenet" else logits_part


@pytest.mark.parametrize("name", MODELS)
@pytest.mark.parametrize("plus", [False, True])
def test_gradcam_equals_plain_pytorch_and_captum(name: str, plus: bool) -> None:
    c = case(name)
    got = A.gradcam(c.graph, c.x, logit_target(c), plus=plus)
    layer = c.graph.layer(got.layer or "")
    assert layer.kind == "conv" and got.details["default_layer_reason"]
    assert not any(lay.kind == "conv" for lay in c.graph.layers[c.graph.index(layer.name) + 1 :])  # the last conv
    expected = plain_cam(c.module, head_of(name), layer.module, c.x, plus)
    assert got.layer_map is not None
    close(got.layer_map, expected)
    if not plus:
        private = copy.deepcopy(c.module)
        captum = LayerGradCam(head_of(name)(private), dict(private.named_modules())[layer.module])
        reference = captum.attribute(c.x, target=7, relu_attributions=True)[0, 0].detach().numpy()
        close(got.layer_map, reference)
    assert got.values.shape == (1, *c.x.shape[2:])


def test_gradcam_at_any_map_layer_and_its_errors() -> None:
    c = case("lenet")
    got = A.gradcam(c.graph, c.x, logit_target(c), "pool1")
    assert got.layer_map is not None
    close(got.layer_map, plain_cam(c.module, logits_part, "pool1", c.x, False))
    with pytest.raises(A.AttributionError, match="map layer"):
        A.gradcam(c.graph, c.x, logit_target(c), "fc1")
    with pytest.raises(A.AttributionError, match="before"):
        A.gradcam(c.graph, c.x, A.Target("conv1", (0, 1, 1)), "conv2")


@pytest.mark.parametrize("name", ["lenet", "colour_lenet"])
def test_guided_backprop_equals_captum_on_a_private_copy(name: str) -> None:
    c = case(name)
    private = copy.deepcopy(c.module)
    with pytest.warns(UserWarning, match="backward hooks on ReLU"):  # Captum's hooks: on the private copy only
        expected = GuidedBackprop(head_of(name)(private)).attribute(c.x.clone().requires_grad_(True), target=7)
    close(A.guided_backprop(c.graph, c.x, logit_target(c)).values, expected[0].detach().numpy())


def test_guided_backprop_names_the_activations_that_stop_it() -> None:
    graph = builtin(MODELS_DIR / "lenet5.json").graph
    with pytest.raises(A.AttributionError, match=r"ReLU networks.*tanh1 \(tanh\)"):
        A.guided_backprop(graph, torch.zeros(1, 1, 28, 28), A.class_target(graph, 1))


def test_integrated_gradients_completeness_on_lenet() -> None:
    c = case("lenet")
    default, precise = [], []
    for i in range(12):
        x = torch.from_numpy(pixels(i))[None, None]
        target = A.class_target(c.graph, int(c.logits(x).detach().argmax()))
        got = A.integrated_gradients(c.graph, x, target)
        assert got.completeness is not None and got.details["steps"] == A.DEFAULT_IG_STEPS
        # The error reported is the one measured here from independent forwards of the eager model.
        with torch.no_grad():
            difference = float(c.logits(x)[0, target.unit[0]] - c.logits(torch.zeros_like(x))[0, target.unit[0]])
        assert got.completeness["difference"] == pytest.approx(difference, rel=1e-4)
        assert got.completeness["error"] == pytest.approx(
            abs(got.values.sum() - difference) / abs(difference), rel=1e-3
        )
        default.append(got.completeness["error"])
        if i < 6:
            precise.append(A.integrated_gradients(c.graph, x, target, precise=True, batch=128).completeness["error"])  # type: ignore[index]
    assert np.median(default) < 0.05
    assert np.median(precise) < 0.01


def test_integrated_gradients_baselines() -> None:
    c = case("colour_lenet")
    mean, std = (0.5, 0.4, 0.3), (0.2, 0.25, 0.5)
    black = A.baseline(c.graph, c.x, "black", mean, std)
    close(black[0, :, 0, 0].numpy(), -np.array(mean) / np.array(std))
    given = np.random.default_rng(0).standard_normal(c.x.shape[1:]).astype(np.float32)
    got = A.integrated_gradients(c.graph, c.x, logit_target(c), baseline_kind=given, steps=64)
    np.testing.assert_array_equal(got.details["baseline"], given)
    with torch.no_grad():
        difference = float(c.logits(c.x)[0, 7] - c.logits(torch.from_numpy(given)[None])[0, 7])
    assert got.completeness is not None and got.completeness["difference"] == pytest.approx(difference, rel=1e-4)
    blurred = A.baseline(c.graph, c.x, "blurred")
    assert blurred.shape == c.x.shape and float(blurred.std()) < float(c.x.std())
    flat = torch.full_like(c.x, 0.7)
    close(A.baseline(c.graph, flat, "blurred").numpy(), flat.numpy())  # weights sum to 1, edges reflected


def test_progress_is_reported_and_cancel_stops() -> None:
    c = case("lenet")
    seen: list[tuple[int, int]] = []
    A.integrated_gradients(c.graph, c.x, logit_target(c), steps=64, batch=16, progress=lambda d, t: seen.append((d, t)))
    assert seen[-1] == (64, 64) and len(seen) >= 4

    def stop(done: int, total: int) -> None:
        raise A.Cancelled

    with pytest.raises(A.Cancelled):
        A.occlusion(c.graph, c.x, logit_target(c), window=4, stride=2, batch=8, progress=stop)


def test_bad_targets_are_refused() -> None:
    c = case("lenet")
    with pytest.raises(A.AttributionError, match="no layer"):
        A.gradient(c.graph, c.x, A.Target("nope", (0,)))
    with pytest.raises(A.AttributionError, match="outside"):
        A.gradient(c.graph, c.x, A.Target("fc3", (10,)))
    with pytest.raises(A.AttributionError, match="input has shape"):
        A.gradient(c.graph, torch.zeros(1, 3, 28, 28), logit_target(c))
    with pytest.raises(A.AttributionError, match="unknown method"):
        A.attribute(c.graph, c.x, logit_target(c), "lime")
