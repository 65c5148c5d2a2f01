"""The convscope command: train, predict, evaluate, serve options."""

from __future__ import annotations

import gzip
import hashlib
import json
import struct
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from app import cli
from app.core import mnist, robustness, stress
from app.core.mnist import load_split
from app.core.weights import Manifest, WeightsError, load_model
from app.paths import MNIST_DIR, MODELS_DIR
from app.training import train as train_module
from app.training.train import TrainConfig, train
from tests.support.drawings import draw_digit, png


def write_idx(path: Path, array: np.ndarray) -> str:
    raw = struct.pack(">HBB", 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape) + array.tobytes()
    path.write_bytes(gzip.compress(raw))
    return hashlib.md5(raw).hexdigest()


def tiny_mnist(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A data directory whose 'training set' is 512 bundled test digits and whose 'test set' is the next 512."""
    test = load_split(MNIST_DIR, "test")
    data = tmp_path / "data"
    data.mkdir()
    sums = {}
    for split, (images, labels) in {
        "train": (test.images[:512], test.labels[:512]),
        "test": (test.images[512:1024], test.labels[512:1024]),
    }.items():
        sums[mnist.FILES[f"{split}_images"]] = write_idx(data / mnist.FILES[f"{split}_images"], images)
        sums[mnist.FILES[f"{split}_labels"]] = write_idx(data / mnist.FILES[f"{split}_labels"], labels)
    monkeypatch.setattr(mnist, "RAW_MD5", sums)
    return data


def test_train_writes_weights_and_manifest(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A tiny run on a slice of MNIST exercises the whole training path, end to end."""
    data = tiny_mnist(tmp_path, monkeypatch)
    config = TrainConfig(name="tiny", epochs=4, batch_size=32, ema_decay=0.9, holdout=128, cue_images_per_kind=10)
    first = train(config, data, tmp_path / "a", progress=False)
    second = train(config, data, tmp_path / "b", progress=False, checkpoint=tmp_path / "b.ckpt")
    assert first.sha256 == second.sha256, "same seed, same weights, with or without checkpoints"
    assert first.test_accuracy > 0.3 and first.test_total == 512, "it learns (chance is 0.1)"
    _model, manifest = load_model(tmp_path / "a" / "tiny.json")
    assert manifest.layers[0] == "conv1" and json.loads((tmp_path / "a" / "tiny.json").read_text())["training"]
    assert manifest.training["label_smoothing"] == 0.0 and manifest.temperature > 0
    assert manifest.cue["threshold"] == first.cue["threshold"] and set(manifest.stress["families"]) == set(
        stress.FAMILIES
    )
    assert len(manifest.training["holdout_accuracy"]) == 4
    # A run interrupted after its second epoch resumes from the checkpoint to the same weights.
    calls = []
    real = train_module.recalibrate_batchnorm

    def interrupt(*args: Any, **kwargs: Any) -> None:
        calls.append(1)
        if len(calls) == 3:  # once per epoch: the third epoch's end
            raise KeyboardInterrupt
        real(*args, **kwargs)

    with monkeypatch.context() as m:
        m.setattr(train_module, "recalibrate_batchnorm", interrupt)
        with pytest.raises(KeyboardInterrupt):
            train(config, data, tmp_path / "c", progress=False, checkpoint=tmp_path / "c.ckpt")
    assert torch.load(tmp_path / "c.ckpt", weights_only=True)["epoch"] == 2
    resumed = train(config, data, tmp_path / "c", progress=False, checkpoint=tmp_path / "c.ckpt")
    assert resumed.sha256 == first.sha256


def test_distillation_loss_is_the_softened_kl() -> None:
    gen = torch.Generator().manual_seed(3)
    student, teacher = torch.randn(5, 10, generator=gen), torch.randn(5, 10, generator=gen)  # (5, 10) logits
    t = 3.0
    p_t, p_s = torch.softmax(teacher / t, 1), torch.softmax(student / t, 1)
    expected = (p_t * (p_t.log() - p_s.log())).sum(1).mean() * t * t
    torch.testing.assert_close(train_module.distillation_loss(student, teacher, t), expected)
    assert float(train_module.distillation_loss(teacher, teacher, t)) == pytest.approx(0.0, abs=1e-6)


def test_a_student_taught_only_by_its_teacher_learns(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """distill_weight = 1 leaves the labels out of the loss: all the student knows comes from the teacher."""
    data = tiny_mnist(tmp_path, monkeypatch)
    small = {"batch_size": 32, "ema_decay": 0.9, "holdout": 128, "cue_images_per_kind": 10}
    teacher = train(TrainConfig(name="teacher", epochs=4, **small), data, tmp_path / "t", progress=False)
    manifest = tmp_path / "t" / "teacher.json"
    config = TrainConfig(name="student", epochs=4, seed=7, teacher=str(manifest), distill_weight=1.0, **small)
    student = train(config, data, tmp_path / "s", progress=False)
    assert student.test_accuracy > 0.3, "it learns from the teacher's answers alone (chance is 0.1)"
    assert teacher.sha256 in student.training["optimizer"] and student.training["teacher"] == str(manifest)
    (tmp_path / "t" / "teacher.pt").write_bytes(b"not the measured weights")
    with pytest.raises(WeightsError):
        train(config, data, tmp_path / "x", progress=False)


def test_cli_evaluate_stress(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """--stress prints a row per family with accuracy, ECE before/after and ten per-class accuracies."""
    test = load_split(MNIST_DIR, "test")
    data = tmp_path / "data"
    data.mkdir()
    sums = {
        mnist.FILES["test_images"]: write_idx(data / mnist.FILES["test_images"], test.images[:300]),
        mnist.FILES["test_labels"]: write_idx(data / mnist.FILES["test_labels"], test.labels[:300]),
    }
    monkeypatch.setattr(mnist, "RAW_MD5", sums)
    assert cli.main(["evaluate", "--stress", "--data-dir", str(data)]) == 0
    out = capsys.readouterr().out
    model, manifest = load_model(Path(MODELS_DIR) / "lenet.json")
    report = robustness.stress_report(model, load_split(data, "test"), manifest.temperature)
    for family, figures in report["families"].items():
        row = next(line for line in out.splitlines() if line.startswith(family + " "))
        cells = row.split()
        assert cells[1] == f"{figures['accuracy']:.2%}" and cells[2] == f"{figures['ece_before']:.4f}"
        assert cells[3] == f"{figures['ece_after']:.4f}" and len(cells) == 14
        assert cells[4:] == [f"{a:.2%}" for a in figures["per_class"]]
    assert f"{stress.HELD_OUT}: " in out and "held out of training" in out


def test_cli_predict(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    image = tmp_path / "seven.png"
    image.write_bytes(png(draw_digit("7")))
    assert cli.main(["predict", str(image)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("prediction: 7") and out.count("%") == 10
    assert cli.main(["predict", str(image), "--json"]) == 0
    body = json.loads(capsys.readouterr().out)
    assert body["prediction"] == 7 and len(body["layers"]) == 14


def test_cli_predict_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["predict", str(tmp_path / "missing.png")]) == 2
    blank = tmp_path / "blank.png"
    blank.write_bytes(png(draw_digit("1", width=0)))
    assert cli.main(["predict", str(blank)]) == 2
    assert "no ink" in capsys.readouterr().err


def test_cli_evaluate(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["evaluate"]) == 0
    out = capsys.readouterr().out
    assert "accuracy 99." in out and "true\\pred" in out


def test_serve_help_shows_the_default_host_and_port(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        cli.parser().parse_args(["serve", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "(default: 127.0.0.1)" in text and "(default: 8000)" in text and "(default: 1)" in text
    assert "(default: None)" not in text


def test_cli_evaluate_any_manifest(capsys: pytest.CaptureFixture[str]) -> None:
    """The residual model is not served by API v1, but evaluate still finds it by name."""
    assert cli.main(["evaluate", "--model", "resnet_mnist"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("resnet_mnist: accuracy 99.") and "true\\pred" in out
    assert cli.main(["evaluate", "--model", "nope"]) == 2
    assert "resnet_mnist" in capsys.readouterr().err


def test_cli_train_arch_alias() -> None:
    args = cli.parser().parse_args(["train", "--data-dir", "d", "--arch", "resnet-mnist"])
    assert args.architecture == "resnet-mnist"
    assert cli.parser().parse_args(["train", "--data-dir", "d"]).architecture == "lenet"


def test_cli_train_colour_shapes_needs_no_data_dir(capsys: pytest.CaptureFixture[str]) -> None:
    args = cli.parser().parse_args(["train", "--arch", "colour-shapes", "--epochs", "1"])
    assert args.architecture == "colour-shapes" and args.data_dir is None and args.epochs == 1
    assert cli.main(["train", "--arch", "lenet"]) == 2
    assert "--data-dir is required" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli.parser().parse_args(["train", "--arch", "nope"])


def test_cli_serve_dataset_is_a_per_model_option() -> None:
    args = cli.parser().parse_args(["serve", "--model", "a.pt2", "--dataset", "imgs", "--model", "b.pt2"])
    assert args.models == [{"source": "a.pt2", "dataset": "imgs"}, {"source": "b.pt2"}]


def test_cli_evaluate_the_colour_demo(capsys: pytest.CaptureFixture[str]) -> None:
    """Its held-out split is generated: no --data-dir, and the figure is the manifest's."""
    manifest = Manifest.read(MODELS_DIR / "shapes.json")
    assert cli.main(["evaluate", "--model", "shapes"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"shapes: accuracy {manifest.test_accuracy:.2%} on {manifest.test_total} test images")
