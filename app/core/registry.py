"""The models this server serves: loaded once at start-up, described from their layer sequence."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from torch import nn

from app.core.layers import LayerSpec, layer_specs
from app.core.weights import Manifest, WeightsError, discover, load_model
from app.paths import MODELS_DIR


@dataclass(frozen=True)
class LoadedModel:
    """A network ready for inference with its manifest and layer descriptions."""

    model: nn.Sequential
    manifest: Manifest
    specs: list[LayerSpec]

    @property
    def name(self) -> str:
        """The model's name in the API."""
        return self.manifest.name

    def index(self, layer: str) -> int:
        """Position of a layer by name (KeyError if unknown)."""
        for i, spec in enumerate(self.specs):
            if spec.name == layer:
                return i
        raise KeyError(layer)


class Registry:
    """Name → loaded model; the first is the default."""

    def __init__(self, models: list[LoadedModel]) -> None:
        if not models:
            raise WeightsError("no models to serve: the models directory holds no manifest")
        self._models = {m.name: m for m in models}
        self.default = models[0].name

    @classmethod
    def load(cls, models_dir: Path = MODELS_DIR) -> Registry:
        """Load and verify every manifest in a directory."""
        loaded = []
        for manifest_path in discover(models_dir):
            model, manifest = load_model(manifest_path)
            loaded.append(LoadedModel(model, manifest, layer_specs(model)))
        return cls(loaded)

    def names(self) -> list[str]:
        """Served model names, default first."""
        return list(self._models)

    def get(self, name: str | None) -> LoadedModel:
        """A model by name, the default for None (KeyError if unknown)."""
        return self._models[name or self.default]
