"""The shipped default model's manifest figures: recomputed here, and held to the issue's targets."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from app.core import calibration, nondigits, robustness, stress
from app.core.evaluate import to_tensor
from app.core.mnist import load_split
from app.core.weights import Manifest, load_calibration, load_model
from app.paths import MNIST_DIR, MODELS_DIR

SHARED = Path("/work/shared/datasets/mnist")


@pytest.fixture(scope="module")
def shipped() -> tuple[torch.nn.Module, Manifest, calibration.Calibration]:
    model, manifest = load_model(MODELS_DIR / "lenet.json")
    cal = load_calibration(MODELS_DIR / "lenet.json", manifest)
    if cal is None:
        pytest.skip("the shipped lenet carries no calibration")
    return model, manifest, cal


def test_cue_figures_recomputed_and_on_target(shipped) -> None:  # type: ignore[no-untyped-def]
    model, manifest, cal = shipped
    report = robustness.cue_report(
        model, load_split(MNIST_DIR, "test"), cal, manifest.cue["non_digits"] // len(nondigits.KINDS)
    )
    assert report["auroc"] == pytest.approx(manifest.cue["auroc"], abs=1e-9)
    assert report["fpr_at_95_tpr"] == pytest.approx(manifest.cue["fpr_at_95_tpr"], abs=1e-9)
    assert report["auroc"] >= 0.95 and report["fpr_at_95_tpr"] <= 0.10


def test_two_stress_families_recomputed(shipped) -> None:  # type: ignore[no-untyped-def]
    model, manifest, _ = shipped
    test = load_split(MNIST_DIR, "test")
    x, labels = to_tensor(test.images), test.labels.astype(np.int64)
    for family in ("inverted", stress.HELD_OUT):
        predicted = stress.logits_of(model, stress.family_images(x, family)).argmax(1)
        assert float((predicted == labels).mean()) == manifest.stress["families"][family]["accuracy"]
    clean = float((stress.logits_of(model, x).argmax(1) == labels).mean())
    assert clean == manifest.test_accuracy


def test_temperature_lowers_the_held_out_nll(shipped) -> None:  # type: ignore[no-untyped-def]
    _, manifest, _ = shipped
    assert manifest.calibration["holdout_nll_after"] <= manifest.calibration["holdout_nll_before"]


@pytest.mark.skipif(not SHARED.is_dir(), reason="the training set is not bundled")
def test_temperature_recomputed_on_the_held_out_split(shipped) -> None:  # type: ignore[no-untyped-def]
    from app.training.train import TrainConfig, split_holdout

    model, manifest, cal = shipped
    train = load_split(SHARED, "train")
    config = TrainConfig(**{k: v for k, v in manifest.training.items() if k in TrainConfig.__dataclass_fields__})
    _, hold = split_holdout(len(train.labels), config.holdout, config.seed)
    logits = stress.logits_of(model, to_tensor(train.images[hold.numpy()]))
    labels = train.labels[hold.numpy()].astype(np.int64)
    assert calibration.fit_temperature(logits, labels) == pytest.approx(cal.temperature, rel=1e-6)
    assert calibration.nll(logits, labels, cal.temperature) < calibration.nll(logits, labels)
