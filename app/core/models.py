"""Models to look inside, however a user brings them: built-in, a torch.export file, a factory + weights, or Python.

Opening a model file means trusting it as far as its format lets it run code: a `.pt2` whose payloads are pickled
would run that pickle on load, so such files are refused unless the user says `trust`; a factory is code the user
chose to run; weights for a factory always load with `weights_only=True`.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import io
import json
import pickle
import sys
import threading
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import torch
from torch import nn

from app.core import datasets
from app.core.calibration import Calibration
from app.core.datasets import Dataset, InputSpec
from app.core.graph import CapturedGraph, GraphError, capture_graph, export, layer_roles
from app.core.weights import Manifest, WeightsError, discover, load_calibration, load_model

Recipe = Literal["mnist", "image"]
DIGITS = [str(d) for d in range(10)]


@dataclass(frozen=True)
class ModelSpec:
    """How a user names a model on the command line or from Python (everything but the module itself)."""

    source: str  # path.pt2, package.module:factory, or path/file.py:factory
    name: str | None = None
    weights: str | None = None
    input: str | None = None  # "3x224x224"
    labels: str | None = None  # a text file, one label per line
    preprocess: Recipe | None = None
    mean: tuple[float, ...] = ()
    std: tuple[float, ...] = ()
    trust: bool = False
    dataset: str | None = None  # a folder of images (class subfolders optional): the model's gallery


@dataclass
class InspectableModel:
    """A model captured as a graph, with how its input is made and what its outputs mean."""

    name: str
    title: str
    source: str
    graph: CapturedGraph
    recipe: Recipe
    mean: tuple[float, ...] = ()
    std: tuple[float, ...] = ()
    labels: list[str] | None = None
    accuracy: float | None = None
    sha256: str | None = None
    roles: dict[str, str] = field(default_factory=dict)
    dataset: Dataset | None = None  # its gallery: demo images, test digits, or the user's --dataset folder
    calibration: Calibration | None = None  # shipped digit models: temperature and non-digit threshold

    def __post_init__(self) -> None:
        self.roles = layer_roles(self.graph)

    @property
    def input_spec(self) -> InputSpec:
        """What the model takes and how an image becomes it."""
        return InputSpec(self.graph.input_shape, self.recipe, self.mean, self.std)

    @property
    def values(self) -> int:
        """Number of values one input produces across all layers."""
        return sum(layer.size for layer in self.graph.layers)


def from_module(
    name: str,
    module: nn.Module,
    example: torch.Tensor,
    *,
    source: str = "python",
    title: str | None = None,
    recipe: Recipe | None = None,
    mean: tuple[float, ...] = (),
    std: tuple[float, ...] = (),
    labels: list[str] | None = None,
    accuracy: float | None = None,
    sha256: str | None = None,
    device: str = "cpu",
) -> InspectableModel:
    """Capture an in-memory module (eval mode) for an example input of shape (1, C, H, W) or (C, H, W)."""
    if example.dim() == 3:
        example = example.unsqueeze(0)
    if example.dim() != 4:
        raise GraphError(f"the example input has shape {list(example.shape)}; expected (1, C, H, W)")
    graph = capture_graph(*export(module.to(device), example.float().to(device)), device=device)
    _check_labels(graph, labels)
    return InspectableModel(
        name, title or name, source, graph, recipe or _default_recipe(graph), mean, std, labels, accuracy, sha256
    )


def _default_recipe(graph: CapturedGraph) -> Recipe:
    """Digits for 1×28×28 models, ordinary images otherwise."""
    return "mnist" if graph.input_shape == (1, 28, 28) else "image"


def _check_labels(graph: CapturedGraph, labels: list[str] | None) -> None:
    final = graph.layer(graph.output)
    if labels is not None and (len(final.shape) != 1 or final.shape[0] != len(labels)):
        raise GraphError(f"{len(labels)} labels given, but the model's output has shape {list(final.shape)}")


_BUILTIN_LOCK = threading.Lock()
_BUILTIN_CACHE: dict[str, InspectableModel] = {}


def builtin(manifest_path: Path) -> InspectableModel:
    """A shipped model (verified against its manifest), captured once per process."""
    key = str(manifest_path.resolve())
    with _BUILTIN_LOCK:
        if key not in _BUILTIN_CACHE:
            module, manifest = load_model(manifest_path)
            model = from_module(
                manifest.name,
                module,
                torch.zeros(1, *manifest.input_shape),
                source="builtin",
                title=_title(manifest),
                recipe="image" if manifest.preprocess == "image" else "mnist",
                mean=tuple(manifest.mean),
                std=tuple(manifest.std),
                labels=manifest.labels or DIGITS,
                accuracy=manifest.test_accuracy,
                sha256=manifest.sha256,
            )
            if manifest.dataset == "shapes":
                model.dataset = datasets.generated_shapes(model.input_spec)
            else:
                model.dataset = datasets.mnist_test(model.input_spec, model.labels)
            model.calibration = load_calibration(manifest_path, manifest)
            _BUILTIN_CACHE[key] = model
        return _BUILTIN_CACHE[key]


def _title(manifest: Manifest) -> str:
    where = "its held-out generated images" if manifest.dataset == "shapes" else "MNIST test"
    return f"{manifest.name} ({manifest.architecture}, {manifest.test_accuracy:.2%} on {where})"


def builtins(models_dir: Path) -> list[Path]:
    """Manifests of the shipped models, default first."""
    return discover(models_dir)


def parse_shape(text: str) -> tuple[int, int, int]:
    """'3x224x224' → (3, 224, 224)."""
    try:
        parts = tuple(int(p) for p in text.lower().replace("×", "x").split("x"))
    except ValueError:
        parts = ()
    if len(parts) != 3 or min(parts) < 1:
        raise GraphError(f"input shape {text!r}: write it as CxHxW, e.g. 3x224x224")
    return parts


def read_labels(path: str | None) -> list[str] | None:
    """Labels from a text file, one per line (blank lines ignored)."""
    if path is None:
        return None
    try:
        return [line.strip() for line in Path(path).read_text().splitlines() if line.strip()]
    except OSError as exc:
        raise GraphError(f"labels file {path}: {exc.strerror}") from exc


def load(spec: ModelSpec, device: str = "cpu") -> InspectableModel:
    """Load and capture a user's model (and list its --dataset folder); failures are plain-message errors."""
    model = _load(spec, device)
    if spec.dataset is not None:
        model.dataset = datasets.folder(Path(spec.dataset), model.input_spec, model.labels)
    return model


def _load(spec: ModelSpec, device: str) -> InspectableModel:
    labels = read_labels(spec.labels)
    if spec.source.endswith(".pt2"):
        name = spec.name or Path(spec.source).stem
        graph = capture_graph(*load_exported(Path(spec.source), spec.trust), device=device)
        _check_labels(graph, labels)
        recipe = spec.preprocess or _default_recipe(graph)
        return InspectableModel(
            name, name, "export", graph, recipe, spec.mean, spec.std, labels, sha256=_sha256(Path(spec.source))
        )
    module, example = load_factory(spec)
    name = spec.name or spec.source.rsplit(":", 1)[-1]
    return from_module(
        name,
        module,
        example,
        source="factory",
        recipe=spec.preprocess,
        mean=spec.mean,
        std=spec.std,
        labels=labels,
        sha256=_sha256(Path(spec.weights)) if spec.weights else None,
        device=device,
    )


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def pickled_payloads(path: Path) -> list[str]:
    """Entries of a .pt2 archive that torch.export.load would unpickle (and so could run code)."""
    try:
        archive = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as exc:
        raise GraphError(f"{path}: not a torch.export archive ({exc})") from exc
    risky = []
    with archive:
        for entry in archive.namelist():
            if entry.endswith("_config.json") and ("/weights/" in entry or "/constants/" in entry):
                config = json.loads(archive.read(entry)).get("config", {})
                risky += [f"{entry}: {key}" for key, meta in config.items() if meta.get("use_pickle", True)]
            elif "/constants/" in entry and not entry.endswith(".json") and "/tensor_" not in entry:
                risky.append(entry)  # custom objects are pickled
            elif entry.endswith(".pt"):
                try:
                    torch.load(io.BytesIO(archive.read(entry)), weights_only=True)
                except (pickle.UnpicklingError, RuntimeError, ValueError, EOFError) as exc:
                    risky.append(f"{entry} ({str(exc).splitlines()[0][:120]})")
    return risky


def load_exported(path: Path, trust: bool = False) -> tuple[torch.export.ExportedProgram, bool]:
    """A torch.export program from a .pt2 file, refusing pickled payloads unless trusted; (program, batched)."""
    if not path.is_file():
        raise GraphError(f"{path}: no such file")
    risky = pickled_payloads(path)
    if risky and not trust:
        raise GraphError(
            f"{path} carries pickled payloads ({'; '.join(risky[:3])}): loading them would run code from the file. "
            "Re-export with tensors only, or pass --trust if you trust whoever made the file."
        )
    try:
        program = torch.export.load(path)
    except Exception as exc:
        raise GraphError(f"{path}: torch.export.load failed ({str(exc).splitlines()[0]})") from exc
    source = next(n for n in program.graph.nodes if n.op == "placeholder" and n.name not in _lifted(program))
    return program, not isinstance(source.meta["val"].shape[0], int)


def _lifted(program: torch.export.ExportedProgram) -> set[str]:
    """Placeholder names that stand for parameters, buffers and constants rather than the user's input."""
    from torch.export.graph_signature import InputKind

    return {s.arg.name for s in program.graph_signature.input_specs if s.kind != InputKind.USER_INPUT}


def _import_factory(target: str) -> Any:
    """The callable named by 'package.module:name' or 'path/to/file.py:name'."""
    where, _, attr = target.rpartition(":")
    if not where or not attr:
        raise GraphError(f"model {target!r}: write it as package.module:factory or path/to/file.py:factory")
    try:
        if where.endswith(".py"):
            path = Path(where)
            spec = importlib.util.spec_from_file_location(f"convscope_user_{path.stem}", path)
            if spec is None or spec.loader is None or not path.is_file():
                raise GraphError(f"model {target!r}: no Python file {where}")
            module = importlib.util.module_from_spec(spec)
            sys.modules[spec.name] = module
            spec.loader.exec_module(module)
        else:
            module = importlib.import_module(where)
    except GraphError:
        raise
    except Exception as exc:
        raise GraphError(f"model {target!r}: importing {where} failed: {type(exc).__name__}: {exc}") from exc
    try:
        return getattr(module, attr)
    except AttributeError:
        raise GraphError(f"model {target!r}: {where} has no {attr!r}") from None


def load_factory(spec: ModelSpec) -> tuple[nn.Module, torch.Tensor]:
    """Run the user's factory, load their state dict (weights_only) and find the example input."""
    factory = _import_factory(spec.source)
    try:
        module = factory()
    except Exception as exc:
        raise GraphError(f"model {spec.source!r}: calling the factory failed: {type(exc).__name__}: {exc}") from exc
    if not isinstance(module, nn.Module):
        raise GraphError(f"model {spec.source!r}: the factory returned {type(module).__name__}, not an nn.Module")
    if spec.weights:
        try:
            state = torch.load(spec.weights, map_location="cpu", weights_only=True)
            module.load_state_dict(state.get("state_dict", state) if isinstance(state, dict) else state)
        except FileNotFoundError:
            raise WeightsError(f"weights {spec.weights}: no such file") from None
        except (pickle.UnpicklingError, RuntimeError, ValueError, TypeError, KeyError, EOFError) as exc:
            first = str(exc).splitlines()[0][:300]
            raise WeightsError(f"weights {spec.weights} do not load into {spec.source}: {first}") from exc
    if spec.input:
        example = torch.zeros(1, *parse_shape(spec.input))
    else:
        found = getattr(module, "example_input", None)
        found = getattr(factory, "example_input", None) if found is None else found
        if not isinstance(found, torch.Tensor):
            raise GraphError(f"model {spec.source!r}: give --input CxHxW or an `example_input` tensor attribute")
        example = found if found.dim() == 4 else found.unsqueeze(0)
    return module.eval(), example


class Catalog:
    """Every model API v2 serves: the user's (captured at start-up) first, then the shipped ones (on first use)."""

    def __init__(self, models: list[InspectableModel], builtin_manifests: list[Path]) -> None:
        self._models = {m.name: m for m in models}
        self._builtin = {Manifest.read(p).name: p for p in builtin_manifests}
        for name in self._builtin:
            if name in self._models:
                raise GraphError(f"model name {name!r} is taken by a shipped model; choose another with --name")
        names = list(self._models) + list(self._builtin)
        if not names:
            raise WeightsError("no models to serve")
        self.default = names[0]

    @classmethod
    def load(
        cls, specs: list[ModelSpec], models_dir: Path, extra: list[InspectableModel] | None = None, device: str = "cpu"
    ) -> Catalog:
        """User models from their specs (failing now, with a message, if one cannot be captured) plus the shipped."""
        models = [*(extra or []), *(load(spec, device) for spec in specs)]
        names = [m.name for m in models]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise GraphError(f"two models are named {', '.join(duplicates)}; give each its own --name")
        return cls(models, builtins(models_dir))

    def names(self) -> list[str]:
        """Served model names, default first."""
        return [*self._models, *(n for n in self._builtin if n not in self._models)]

    def warm(self, stop: threading.Event | None = None) -> None:
        """Capture every shipped model now (each once per process), stopping between models once `stop` is set."""
        for path in self._builtin.values():
            if stop is not None and stop.is_set():
                return
            builtin(path)

    def get(self, name: str | None) -> InspectableModel:
        """A model by name (the default for None); KeyError if unknown."""
        name = name or self.default
        if name in self._models:
            return self._models[name]
        return builtin(self._builtin[name])
