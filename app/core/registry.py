"""The models this server serves: loaded once at start-up, described from their layer sequence.

API v1 describes a digit network as a sequence of layers, so only `nn.Sequential` MNIST models are served through
it; any other network (e.g. the residual resnet_mnist, the colour shapes demo) is loaded and verified too but kept
apart in `graph_models` (API v2 serves them).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from torch import nn

from app.core.calibration import Calibration
from app.core.layers import LayerSpec, layer_specs
from app.core.weights import Manifest, WeightsError, discover, load_calibration, load_model
from app.paths import MODELS_DIR


@dataclass(frozen=True)
class LoadedModel:
    """A network ready for inference with its manifest and layer descriptions."""

    model: nn.Sequential
    manifest: Manifest
    specs: list[LayerSpec]
    calibration: Calibration | None = None  # temperature and non-digit cue of a calibrated manifest

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

    def __init__(
        self, models: list[LoadedModel], graph_models: dict[str, tuple[nn.Module, Manifest]] | None = None
    ) -> None:
        if not models:
            raise WeightsError("no models to serve: the models directory holds no manifest of a layer sequence")
        self._models = {m.name: m for m in models}
        self.default = models[0].name
        # Networks that are not a layer sequence (not served by API v1): name → (model, manifest).
        self.graph_models: dict[str, tuple[nn.Module, Manifest]] = dict(graph_models or {})

    @classmethod
    def load(cls, models_dir: Path = MODELS_DIR) -> Registry:
        """Load and verify every manifest in a directory; layer sequences are served, other networks kept aside."""
        loaded = []
        graph_models: dict[str, tuple[nn.Module, Manifest]] = {}
        for manifest_path in discover(models_dir):
            model, manifest = load_model(manifest_path)
            if isinstance(model, nn.Sequential) and manifest.dataset == "mnist" and manifest.preprocess == "mnist":
                loaded.append(
                    LoadedModel(model, manifest, layer_specs(model), load_calibration(manifest_path, manifest))
                )
            else:
                graph_models[manifest.name] = (model, manifest)
        return cls(loaded, graph_models)

    def names(self) -> list[str]:
        """Served model names, default first."""
        return list(self._models)

    def get(self, name: str | None) -> LoadedModel:
        """A model by name, the default for None (KeyError if unknown)."""
        return self._models[name or self.default]

    def network(self, name: str | None) -> tuple[nn.Module, Manifest]:
        """Any loaded network with its manifest, served by API v1 or not (KeyError if unknown)."""
        if name in self.graph_models:
            return self.graph_models[name]
        lm = self.get(name)
        return lm.model, lm.manifest

    def all_names(self) -> list[str]:
        """Every loaded model's name: the served ones (default first), then the other networks."""
        return [*self._models, *self.graph_models]
