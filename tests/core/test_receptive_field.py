"""Receptive-field geometry checked against autograd: the box equals the support of the gradient."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
from torch import nn

from app.core.architectures import INPUT_SHAPE, build
from app.core.layers import LayerSpec, layer_specs
from app.core.receptive_field import input_box, regions


def support_twin(model: nn.Sequential) -> nn.Sequential:
    """Same geometry, no cancellation: positive weights, identity activations, average pooling.

    Softmax stays: it is not an elementwise activation (every probability moves with every logit), and its
    derivative p_i·(δ_ij − p_j) is never zero. Its logits get different weights per row (row j all j + 1): with
    identical rows every logit would move together and the probabilities, which sum to 1, would not move at all.
    """
    twin = copy.deepcopy(model)
    last_linear = [m for m in twin.children() if isinstance(m, nn.Linear)][-1]
    for name, module in list(twin.named_children()):
        if isinstance(module, nn.Conv2d | nn.Linear):
            with torch.no_grad():
                module.weight.fill_(1.0)
                if module is last_linear:
                    module.weight.mul_(torch.arange(1, module.out_features + 1, dtype=torch.float32)[:, None])
                if module.bias is not None:
                    module.bias.zero_()
        elif isinstance(module, nn.ReLU | nn.Tanh):
            setattr(twin, name, nn.Identity())
        elif isinstance(module, nn.MaxPool2d):
            setattr(twin, name, nn.AvgPool2d(module.kernel_size, module.stride, module.padding))  # type: ignore[arg-type]
    # Keep the logits within a few units of each other, so the softmax is not saturated (p_0 = 0 has no gradient).
    with torch.no_grad():
        h = torch.full((1, *INPUT_SHAPE), 1.5)
        for module in twin.children():
            if module is last_linear:
                break
            h = module(h)
        last_linear.weight.div_(float(h.abs().sum()) * last_linear.out_features)
    return twin


def gradient_support(
    twin: nn.Sequential, specs: list[LayerSpec], src: int, dst: int, unit: tuple[int, ...]
) -> np.ndarray:
    """Boolean mask over layer src of what unit (in layer dst) depends on."""
    x = torch.rand(1, *specs[0].shape) + 0.5
    modules = list(twin.children())
    with torch.no_grad():
        for m in modules[:src]:
            x = m(x)
    a = x.clone().requires_grad_(True)
    out = a
    for m in modules[src:dst]:
        out = m(out)
    (grad,) = torch.autograd.grad(out[(0, *unit)], a)
    return (grad[0] != 0).numpy()


def expected_mask(specs: list[LayerSpec], src: int, dst: int, unit: tuple[int, ...]) -> np.ndarray:
    region = next(r for r in regions(specs, dst, unit) if r.layer == specs[src].name)
    mask = np.zeros(specs[src].shape, dtype=bool)
    if specs[src].spatial:
        assert region.box is not None
        x0, y0, x1, y1 = region.box
        channels = region.channels if region.channels is not None else slice(None)
        mask[channels, y0 : y1 + 1, x0 : x1 + 1] = True
    else:
        mask[region.channels if region.channels is not None else slice(None)] = True
    return mask


def sample_units(spec: LayerSpec, rng: np.random.Generator) -> list[tuple[int, ...]]:
    if not spec.spatial:
        return [(0,), (spec.shape[0] - 1,), (int(rng.integers(spec.shape[0])),)]
    c, h, w = spec.shape
    corners = [(0, 0, 0), (c - 1, h - 1, w - 1), (0, 0, w - 1), (c - 1, h // 2, w // 2)]
    return [*corners, tuple(int(rng.integers(d)) for d in spec.shape)]


@pytest.mark.parametrize("architecture", ["lenet", "lenet5"])
def test_every_box_equals_the_gradient_support(architecture: str) -> None:
    model = build(architecture)
    specs = layer_specs(model)
    twin = support_twin(model)
    rng = np.random.default_rng(0)
    checked = 0
    for dst in range(1, len(specs)):
        for unit in sample_units(specs[dst], rng):
            for src in range(dst):
                actual = gradient_support(twin, specs, src, dst, unit)
                np.testing.assert_array_equal(
                    actual,
                    expected_mask(specs, src, dst, unit),
                    err_msg=f"{specs[dst].name}{list(unit)} in {specs[src].name}",
                )
                checked += 1
    assert checked > 300


def test_input_box_known_values() -> None:
    specs = layer_specs(build("lenet"))
    index = {s.name: i for i, s in enumerate(specs)}
    assert input_box(specs, index["conv1"], (0, 0, 0)) == (0, 0, 2, 2)  # padding 2 clips the 5×5 field
    assert input_box(specs, index["conv1"], (0, 10, 12)) == (10, 8, 14, 12)
    assert input_box(specs, index["conv2"], (0, 4, 5)) == (8, 6, 21, 19)  # 14×14, jump 2, start −2
    assert input_box(specs, index["pool2"], (0, 4, 4)) == (14, 14, 27, 27)
    assert input_box(specs, index["flatten"], (24,)) == input_box(specs, index["pool2"], (0, 4, 4))
    assert input_box(specs, index["fc1"], (3,)) == (0, 0, 27, 27)
