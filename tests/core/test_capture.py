"""Captured intermediates equal a plain forward pass; layer descriptions come from the module sequence."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from app.core.architectures import INPUT_SHAPE, build, forward_logits
from app.core.capture import capture
from app.core.layers import layer_specs
from app.core.registry import LoadedModel
from app.core.samples import pixels


def test_captured_values_equal_plain_forward(lenet: LoadedModel) -> None:
    x = torch.from_numpy(np.stack([pixels(i) for i in range(8)]))[:, None]  # (8, 1, 28, 28)
    outputs = capture(lenet.model, x)
    assert list(outputs) == [s.name for s in lenet.specs]
    with torch.inference_mode():
        expected = x
        for name, module in lenet.model.named_children():
            expected = module(expected)
            torch.testing.assert_close(outputs[name], expected, rtol=0, atol=0)
        torch.testing.assert_close(outputs["fc3"], forward_logits(lenet.model, x), rtol=0, atol=0)
        torch.testing.assert_close(outputs["softmax"], lenet.model(x), rtol=0, atol=0)
    assert torch.allclose(outputs["softmax"].sum(1), torch.ones(8))


def test_capture_keeps_every_layer_distinct(lenet: LoadedModel) -> None:
    x = torch.from_numpy(pixels(0))[None, None]
    outputs = capture(lenet.model, x)
    # Layers are not in place: the pre-activation survives next to its ReLU.
    assert (outputs["conv1"] < 0).any()
    assert (outputs["relu1"] >= 0).all()
    torch.testing.assert_close(outputs["relu1"], outputs["conv1"].clamp(min=0))


@pytest.mark.parametrize("architecture", ["lenet", "lenet5"])
def test_layer_specs_from_sequence(architecture: str) -> None:
    specs = layer_specs(build(architecture))
    shapes = {s.name: s.shape for s in specs}
    assert specs[0].name == "input" and specs[0].shape == INPUT_SHAPE
    assert shapes["conv1"] == (6, 28, 28) and shapes["pool1"] == (6, 14, 14)
    assert shapes["conv2"] == (16, 10, 10) and shapes["pool2"] == (16, 5, 5)
    assert shapes["flatten"] == (400,) and shapes["fc3"] == (10,) and shapes["softmax"] == (10,)
    pools = {s.pool for s in specs if s.kind == "pool"}
    assert pools == ({"max"} if architecture == "lenet" else {"avg"})
    assert sum(s.parameters() for s in specs) == 61706


def test_unknown_module_type_is_rejected() -> None:
    with pytest.raises(ValueError, match="not supported"):
        layer_specs(nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2)))
