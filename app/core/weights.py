"""Shipped weights: manifests, SHA-256 verification and safe loading."""

from __future__ import annotations

import hashlib
import json
import pickle
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from app.core.architectures import build
from app.core.calibration import Calibration, Density, of_manifest
from app.paths import MODELS_DIR


class WeightsError(RuntimeError):
    """Weights that are missing, altered, or do not fit their architecture."""


@dataclass
class Manifest:
    """What a weights file is, how it was made and how well it does."""

    name: str
    architecture: str
    input_shape: list[int]
    layers: list[str]
    parameters: int
    test_accuracy: float
    test_errors: int
    test_total: int
    weights_file: str
    sha256: str
    training: dict[str, Any] = field(default_factory=dict)
    default: bool = False
    # What the input is and what the outputs mean; the defaults describe the MNIST digit models.
    dataset: str = "mnist"  # where test_accuracy was measured: "mnist" (test set) or "shapes" (held-out split)
    preprocess: str = "mnist"  # how an image becomes the input: "mnist" or "image"
    labels: list[str] | None = None  # class names; None: the digits 0..9
    mean: list[float] = field(default_factory=list)  # per-channel, for preprocess "image"
    std: list[float] = field(default_factory=list)
    # Served probabilities are softmax(logits / temperature); the logits and the network's own softmax stay raw.
    temperature: float = 1.0
    # The "looks like a digit" cue: score name, threshold and how well it separates digits from generated non-digits.
    cue: dict[str, Any] = field(default_factory=dict)
    # Calibration error before/after temperature scaling and the stress suite's figures.
    calibration: dict[str, Any] = field(default_factory=dict)
    stress: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def read(cls, path: Path) -> Manifest:
        """Read a manifest JSON file."""
        try:
            data = json.loads(path.read_text())
            return cls(**data)
        except (OSError, ValueError, TypeError) as exc:
            raise WeightsError(f"{path}: not a valid model manifest ({exc})") from exc

    def write(self, path: Path) -> None:
        """Write the manifest as pretty JSON."""
        path.write_text(json.dumps(asdict(self), indent=2) + "\n")


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of a file."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def save_model(model: nn.Module, manifest: Manifest, out_dir: Path) -> Manifest:
    """Save the state dict and a manifest carrying its SHA-256."""
    out_dir.mkdir(parents=True, exist_ok=True)
    weights_path = out_dir / manifest.weights_file
    torch.save(model.state_dict(), weights_path)
    manifest.sha256 = sha256_file(weights_path)
    manifest.write(out_dir / f"{manifest.name}.json")
    return manifest


def save_density(density: Density, out_dir: Path, name: str) -> tuple[str, str]:
    """Save the cue's density (class means and precision) next to the weights; return its file name and SHA-256."""
    path = out_dir / f"{name}.cue.pt"
    torch.save({"means": torch.from_numpy(density.means), "precision": torch.from_numpy(density.precision)}, path)
    return path.name, sha256_file(path)


def load_calibration(manifest_path: Path, manifest: Manifest) -> Calibration | None:
    """The manifest's temperature and non-digit cue, its density file verified by SHA-256 (None if uncalibrated)."""
    density = None
    file = manifest.cue.get("density_file")
    if file is not None:
        path = manifest_path.parent / file
        if not path.is_file() or sha256_file(path) != manifest.cue.get("density_sha256"):
            raise WeightsError(f"{path}: the cue's density file is missing or not the one measured")
        state = torch.load(path, map_location="cpu", weights_only=True)
        density = Density(manifest.cue["layer"], state["means"].numpy(), state["precision"].numpy())
    return of_manifest(manifest.temperature, manifest.cue, density)


def load_model(manifest_path: Path) -> tuple[nn.Module, Manifest]:
    """Build the manifest's architecture and load its weights, refusing any file whose hash differs."""
    manifest = Manifest.read(manifest_path)
    weights_path = manifest_path.parent / manifest.weights_file
    if not weights_path.is_file():
        raise WeightsError(f"{weights_path}: weights file named by {manifest_path.name} is missing")
    actual = sha256_file(weights_path)
    if actual != manifest.sha256:
        raise WeightsError(
            f"{weights_path}: SHA-256 {actual} does not match the manifest's {manifest.sha256}; "
            "refusing to load weights that are not the ones that were measured"
        )
    model = build(manifest.architecture)
    try:
        # weights_only: a tampered file can carry pickled code; this loader never runs it.
        state = torch.load(weights_path, map_location="cpu", weights_only=True)
        model.load_state_dict(state)
    except (pickle.UnpicklingError, RuntimeError, ValueError, TypeError, KeyError, EOFError, OSError) as exc:
        raise WeightsError(f"{weights_path}: cannot load as {manifest.architecture} weights ({exc})") from exc
    return model.eval(), manifest


def discover(models_dir: Path = MODELS_DIR) -> list[Path]:
    """Manifest files in a models directory, default model first."""
    paths = sorted(models_dir.glob("*.json"))
    return sorted(paths, key=lambda p: not Manifest.read(p).default)
