"""Declared architectures: the residual MNIST network, its logits, shipped weights and BatchNorm-aware training."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from app.core import mnist
from app.core.architectures import INPUT_SHAPE, BasicBlock, build, describe, logits_part
from app.core.evaluate import evaluate, to_tensor
from app.core.registry import Registry
from app.core.weights import load_model, sha256_file
from app.paths import MNIST_DIR, MODELS_DIR
from app.training.augment import augment
from app.training.train import TrainConfig, recalibrate_batchnorm, train
from tests.test_cli import write_idx


@pytest.fixture
def resnet() -> nn.Module:
    torch.manual_seed(0)
    return build("resnet-mnist").eval()


def test_resnet_shapes_and_probabilities(resnet: nn.Module) -> None:
    x = torch.rand(5, *INPUT_SHAPE)  # (5, 1, 28, 28)
    with torch.no_grad():
        probs = resnet(x)
    assert probs.shape == (5, 10)
    assert isinstance(list(resnet.children())[-1], nn.Softmax)
    assert (probs >= 0).all()
    torch.testing.assert_close(probs.sum(1), torch.ones(5))


def test_resnet_is_torchvision_style(resnet: nn.Module) -> None:
    blocks = [m for m in resnet.modules() if isinstance(m, BasicBlock)]
    assert len(blocks) >= 3
    assert all(isinstance(b.relu, nn.ReLU) and b.relu.inplace for b in blocks)
    assert [b.downsample is not None for b in blocks][-1], "the last stage downsamples"
    assert isinstance(resnet.avgpool, nn.AdaptiveAvgPool2d) and isinstance(resnet.fc, nn.Linear)
    names = describe(resnet)
    assert names[0] == "conv1" and names[-1] == "softmax" and "layer2.0.downsample.0" in names


def test_logits_part_is_the_network_before_softmax(resnet: nn.Module) -> None:
    x = torch.rand(4, *INPUT_SHAPE)
    with torch.no_grad():
        logits = logits_part(resnet)(x)
        torch.testing.assert_close(torch.softmax(logits, dim=1), resnet(x))
    assert logits.shape == (4, 10)
    assert {id(p) for p in logits_part(resnet).parameters()} == {id(p) for p in resnet.parameters()}


def test_logits_part_of_a_lenet_is_unchanged() -> None:
    lenet = build("lenet")
    assert isinstance(lenet, nn.Sequential)
    head = logits_part(lenet)
    assert isinstance(head, nn.Sequential) and list(head) == list(lenet)[:-1]
    with pytest.raises(ValueError, match="softmax"):
        logits_part(nn.Sequential(nn.Linear(2, 2)))
    with pytest.raises(ValueError, match="logits"):
        logits_part(nn.Linear(2, 2))


def test_shipped_resnet_loads_and_meets_its_manifest() -> None:
    model, manifest = load_model(MODELS_DIR / "resnet_mnist.json")
    assert manifest.architecture == "resnet-mnist" and not isinstance(model, nn.Sequential)
    assert sha256_file(MODELS_DIR / manifest.weights_file) == manifest.sha256
    assert manifest.test_accuracy >= 0.995 and manifest.layers == describe(model)
    result = evaluate(model, mnist.load_split(MNIST_DIR, "test"))
    assert result.total == manifest.test_total == 10_000
    assert result.errors == manifest.test_errors, "measured accuracy disagrees with the manifest"
    assert result.accuracy >= manifest.test_accuracy


def test_registry_keeps_the_resnet_out_of_api_v1(registry: Registry) -> None:
    assert registry.names() == ["lenet", "lenet5"]
    assert set(registry.graph_models) == {"resnet_mnist", "shapes"}, "v1 serves digit layer sequences only"
    model, manifest = registry.graph_models["resnet_mnist"]
    assert manifest.name == "resnet_mnist" and not isinstance(model, nn.Sequential)
    assert registry.network("resnet_mnist") == (model, manifest)
    assert registry.network(None)[1].name == "lenet"
    with pytest.raises(KeyError):
        registry.network("nope")


def test_recalibrated_batchnorm_statistics_are_exact(resnet: nn.Module) -> None:
    """One batch with a cumulative average: the stem's statistics are those of conv1 on the same augmented batch."""
    split = mnist.load_split(MNIST_DIR, "test")
    images = to_tensor(split.images[:200])  # (200, 1, 28, 28)
    labels = torch.from_numpy(split.labels[:200].astype("int64"))
    recalibrate_batchnorm(resnet, images, labels, torch.Generator().manual_seed(7), count=64, batch_size=64)
    assert not resnet.training
    gen = torch.Generator().manual_seed(7)
    pick = torch.randperm(len(images), generator=gen)[:64]
    with torch.no_grad():
        stem = resnet.conv1(augment(images[pick], labels[pick], gen))  # (64, 16, 28, 28)
    torch.testing.assert_close(resnet.bn1.running_mean, stem.mean((0, 2, 3)))
    torch.testing.assert_close(resnet.bn1.running_var, stem.var((0, 2, 3), unbiased=True))
    assert resnet.bn1.momentum == 0.1, "the usual momentum is restored"


def test_training_a_resnet_gives_the_ema_model_batchnorm_statistics(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A few steps on a slice of the bundled test set: the saved (EMA) model carries real BN statistics."""
    test = mnist.load_split(MNIST_DIR, "test")
    data = tmp_path / "data"
    data.mkdir()
    sums = {}
    for split, (images, labels) in {
        "train": (test.images[:256], test.labels[:256]),
        "test": (test.images[256:512], test.labels[256:512]),
    }.items():
        sums[mnist.FILES[f"{split}_images"]] = write_idx(data / mnist.FILES[f"{split}_images"], images)
        sums[mnist.FILES[f"{split}_labels"]] = write_idx(data / mnist.FILES[f"{split}_labels"], labels)
    monkeypatch.setattr(mnist, "RAW_MD5", sums)
    config = TrainConfig(
        name="tinyres",
        architecture="resnet-mnist",
        epochs=1,
        batch_size=32,
        ema_decay=0.9,
        bn_recalibration_images=128,
        holdout=64,
        cue_images_per_kind=5,
    )
    manifest = train(config, data, tmp_path / "out", progress=False)
    model, loaded = load_model(tmp_path / "out" / "tinyres.json")
    assert loaded.sha256 == manifest.sha256 and loaded.layers[0] == "conv1" and loaded.layers[-1] == "softmax"
    assert "BatchNorm" in manifest.training["optimizer"]
    bns = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    assert bns
    for bn in bns:
        assert bn.running_mean is not None and bn.running_var is not None
        assert not torch.allclose(bn.running_mean, torch.zeros_like(bn.running_mean))
        assert not torch.allclose(bn.running_var, torch.ones_like(bn.running_var))
        assert int(bn.num_batches_tracked) == 128 // 32, "statistics measured for the EMA weights"
    probs = model(to_tensor(test.images[:8]))
    assert np.allclose(probs.sum(1).detach().numpy(), 1.0, atol=1e-5)
