"""The Python functions a notebook calls: an nn.Module in, numpy arrays out, equal to autograd and the core."""

from __future__ import annotations

import numpy as np
import torch

from app import explain
from app.core import attribution as A
from tests.support import nets


def test_functions_on_an_in_memory_module() -> None:
    net, x = nets.build("colour_lenet")
    xg = x.clone().requires_grad_(True)
    (expected,) = torch.autograd.grad(net(xg)[0, 4], xg)
    got = explain.gradient(net, x[0].numpy(), 4)  # (C, H, W) numpy in, numpy out
    assert isinstance(got, np.ndarray) and got.shape == (3, 24, 40)
    np.testing.assert_allclose(got, expected[0].numpy(), atol=1e-5 * float(expected.abs().max()))
    np.testing.assert_allclose(explain.gradient_x_input(net, x, 4), got * x[0].numpy(), rtol=1e-5, atol=1e-7)
    assert explain.graph_of(net, x) is explain.graph_of(net, x[0])  # captured once per module and shape
    ig = explain.integrated_gradients(net, x, 4, steps=64)
    assert ig.completeness is not None and ig.values.shape == (3, 24, 40)
    cam = explain.gradcam(net, x, 4)
    assert cam.layer == "3" and cam.layer_map is not None and cam.values.shape == (1, 24, 40)
    unit = explain.gradient(net, x, A.Target("3", (1, 2, 3)))
    assert unit.shape == (3, 24, 40) and np.abs(unit).sum() > 0
    ko = explain.knockout(net, x, "3", channel=1)
    with torch.no_grad():
        np.testing.assert_allclose(ko.before[explain.graph_of(net, x).output], net(x)[0].numpy(), rtol=1e-5)
    assert "3" in ko.changed()
    assert explain.smoothgrad(net, x, 4, samples=4).shape == (3, 24, 40)
    assert explain.occlusion(net, x, 4, window=8, stride=8).shape == (3, 24, 40)
    assert explain.guided_backprop(net, x, 4).shape == (3, 24, 40)
    assert [row["name"] for row in explain.compare(net, net, x)["layers"]][:2] == ["input", "0"]
