"""Shipped weights: accuracy as the manifest says, hash verified, pickled code never run."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch

from app.core.evaluate import evaluate
from app.core.mnist import load_split
from app.core.registry import LoadedModel, Registry
from app.core.weights import Manifest, WeightsError, load_calibration, load_model, sha256_file
from app.paths import MNIST_DIR, MODELS_DIR
from app.web.app import create_app
from app.web.settings import Settings


def test_shipped_model_meets_its_manifest(lenet: LoadedModel) -> None:
    result = evaluate(lenet.model, load_split(MNIST_DIR, "test"))
    assert result.total == 10_000
    assert result.accuracy >= 0.993
    assert abs(result.errors - lenet.manifest.test_errors) <= 1, "measured accuracy disagrees with the manifest"
    assert result.confusion.sum() == 10_000 and result.confusion.trace() == 10_000 - result.errors


def test_every_manifest_hash_matches_its_file() -> None:
    manifests = sorted(MODELS_DIR.glob("*.json"))
    assert manifests
    for path in manifests:
        manifest = Manifest.read(path)
        assert sha256_file(MODELS_DIR / manifest.weights_file) == manifest.sha256
        assert manifest.layers[0] == "conv1" and manifest.layers[-1] == "softmax"


def copy_model(tmp_path: Path, name: str = "lenet") -> Path:
    shutil.copy(MODELS_DIR / f"{name}.json", tmp_path / f"{name}.json")
    shutil.copy(MODELS_DIR / f"{name}.pt", tmp_path / f"{name}.pt")
    return tmp_path / f"{name}.json"


def test_altered_weights_refuse_to_load(tmp_path: Path) -> None:
    manifest = copy_model(tmp_path)
    weights = tmp_path / "lenet.pt"
    data = bytearray(weights.read_bytes())
    data[len(data) // 2] ^= 0xFF
    weights.write_bytes(bytes(data))
    with pytest.raises(WeightsError, match="does not match the manifest"):
        load_model(manifest)
    with pytest.raises(WeightsError, match="SHA-256"):
        create_app(Settings(models_dir=tmp_path))


class _Boom:
    def __reduce__(self):  # pickled code that would run on an unsafe load
        return (Path("/tmp/convscope-pwned").write_text, ("pwned",))


def test_pickled_code_is_never_executed(tmp_path: Path) -> None:
    manifest_path = copy_model(tmp_path)
    marker = Path("/tmp/convscope-pwned")
    marker.unlink(missing_ok=True)
    evil = tmp_path / "lenet.pt"
    torch.save({"state": _Boom()}, evil)
    data = json.loads(manifest_path.read_text())
    data["sha256"] = sha256_file(evil)  # even with a matching hash, weights_only refuses code
    manifest_path.write_text(json.dumps(data))
    with pytest.raises(WeightsError, match="cannot load"):
        load_model(manifest_path)
    assert not marker.exists()


def test_missing_weights_and_empty_directory(tmp_path: Path) -> None:
    manifest = copy_model(tmp_path)
    (tmp_path / "lenet.pt").unlink()
    with pytest.raises(WeightsError, match="missing"):
        load_model(manifest)
    with pytest.raises(WeightsError, match="no models"):
        Registry.load(tmp_path / "empty")


def test_an_altered_cue_density_refuses_to_load(tmp_path: Path) -> None:
    manifest_path = copy_model(tmp_path)
    manifest = Manifest.read(manifest_path)
    if "density_file" not in manifest.cue:
        pytest.skip("the shipped lenet carries no cue density")
    density = tmp_path / manifest.cue["density_file"]
    shutil.copy(MODELS_DIR / manifest.cue["density_file"], density)
    assert load_calibration(manifest_path, manifest) is not None
    data = bytearray(density.read_bytes())
    data[len(data) // 2] ^= 0xFF
    density.write_bytes(bytes(data))
    with pytest.raises(WeightsError, match="density"):
        load_calibration(manifest_path, manifest)
    with pytest.raises(WeightsError, match="density"):
        Registry.load(tmp_path)
