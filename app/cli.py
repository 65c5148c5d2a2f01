"""The `convscope` command: serve, predict, train, evaluate."""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path
from typing import Any

from app import __version__
from app.core.architectures import ARCHITECTURES
from app.core.graph import GraphError
from app.core.mnist import DatasetError
from app.core.models import ModelSpec
from app.core.weights import WeightsError
from app.paths import MNIST_DIR, MODELS_DIR


def _serve(args: argparse.Namespace) -> int:
    from app.web.server import PortInUse, serve
    from app.web.settings import Settings

    if args.device == "cuda" and not torch_cuda_available():
        print("error: --device cuda: this machine has no CUDA device", file=sys.stderr)
        return 2
    # Options given on the command line win over CONVSCOPE_* variables, which win over the defaults.
    given: dict[str, Any] = {
        "log_level": getattr(args, "log_level", None),
        "models_dir": getattr(args, "models_dir", None),
        "device": args.device,
        "models": tuple(ModelSpec(**spec) for spec in getattr(args, "models", [])) or None,
    }
    settings = Settings(**{k: v for k, v in given.items() if v is not None})
    try:
        serve(args.host, args.port, args.workers, settings)
    except PortInUse as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


def torch_cuda_available() -> bool:
    """Whether torch sees a CUDA device."""
    import torch

    return bool(torch.cuda.is_available())


class _NewModel(argparse.Action):
    """--model starts a model; the per-model options after it describe that model."""

    def __call__(
        self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, value: Any, option: str | None = None
    ) -> None:
        namespace.models = [*getattr(namespace, "models", []), {"source": value}]


class _ModelOption(argparse.Action):
    """An option of the model named by the last --model."""

    def __call__(
        self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, value: Any, option: str | None = None
    ) -> None:
        if not getattr(namespace, "models", None):
            parser.error(f"{option} describes a model: give --model first")
        if self.dest in ("mean", "std"):
            value = tuple(float(v) for v in str(value).split(","))
        namespace.models[-1][self.dest] = True if self.nargs == 0 else value


def _predict(args: argparse.Namespace) -> int:
    from app.core import inspection
    from app.core.encoding import dumps
    from app.core.preprocess import PreprocessError, preprocess_image
    from app.core.registry import Registry
    from app.core.runtime import configure_torch

    configure_torch()
    registry = Registry.load(Path(args.models_dir))
    try:
        lm = registry.get(args.model)
    except KeyError:
        print(f"error: no model {args.model!r}; available: {', '.join(registry.names())}", file=sys.stderr)
        return 2
    try:
        pre = preprocess_image(Path(args.image).read_bytes())
    except OSError as exc:
        print(f"error: cannot read {args.image}: {exc}", file=sys.stderr)
        return 2
    except PreprocessError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 2
    result = inspection.predict(lm, pre, None if args.json else [], steps=args.json)
    if args.json:
        sys.stdout.buffer.write(dumps(result) + b"\n")
        return 0
    print(f"prediction: {result['prediction']}")
    for digit, p in enumerate(result["probabilities"]):
        print(f"  {digit}: {float(p):7.2%} {'█' * round(float(p) * 40)}")
    return 0


def _train(args: argparse.Namespace) -> int:
    from app.core.mnist import download
    from app.training.shapes import ShapesConfig, train_shapes
    from app.training.train import TrainConfig, train

    if args.architecture == "colour-shapes":  # generated images: no data directory, nothing to download
        shapes_config = ShapesConfig(name=args.name or "shapes", seed=args.seed, threads=args.threads)
        if args.epochs is not None:
            shapes_config = dataclasses.replace(shapes_config, epochs=args.epochs)
        manifest = train_shapes(shapes_config, Path(args.out))
    else:
        if args.data_dir is None:
            print("error: --data-dir is required to train on MNIST", file=sys.stderr)
            return 2
        data_dir = Path(args.data_dir)
        if args.download:
            download(data_dir)
        config = TrainConfig(
            name=args.name or "lenet",
            architecture=args.architecture,
            seed=args.seed,
            threads=args.threads,
            teacher=args.teacher,
        )
        if args.epochs is not None:
            config = dataclasses.replace(config, epochs=args.epochs)
        checkpoint = Path(args.checkpoint) if args.checkpoint else None
        manifest = train(config, data_dir, Path(args.out), checkpoint=checkpoint)
    print(
        f"{manifest.name}: test accuracy {manifest.test_accuracy:.2%} ({manifest.test_errors} errors), "
        f"{manifest.training['seconds']} s, sha256 {manifest.sha256}"
    )
    return 0


def _calibrate(args: argparse.Namespace) -> int:
    from app.training.train import calibrate_shipped

    manifest = calibrate_shipped(Path(args.models_dir) / f"{args.model}.json", Path(args.data_dir))
    print(
        f"{manifest.name}: temperature {manifest.temperature:.4f}, cue threshold {manifest.cue['threshold']:.4f}, "
        f"AUROC {manifest.cue['auroc']:.4f}, FPR at 95 % TPR {manifest.cue['fpr_at_95_tpr']:.2%}"
    )
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    from app.core.evaluate import evaluate, evaluate_shapes, format_confusion
    from app.core.mnist import load_split
    from app.core.registry import Registry

    registry = Registry.load(Path(args.models_dir))
    try:
        model, manifest = registry.network(args.model)  # any manifest's model, served by API v1 or not
    except KeyError:
        print(f"error: no model {args.model!r}; available: {', '.join(registry.all_names())}", file=sys.stderr)
        return 2
    if manifest.dataset == "shapes":  # its held-out split is generated, not read from --data-dir
        if args.stress:
            print("error: --stress is the digit models' suite (built from MNIST's test set)", file=sys.stderr)
            return 2
        result = evaluate_shapes(model, manifest.test_total, manifest.mean, manifest.std)
    else:
        split = load_split(Path(args.data_dir), "test")
        result = evaluate(model, split)
    print(
        f"{manifest.name}: accuracy {result.accuracy:.2%} on {result.total} test images ({result.errors} errors); "
        f"manifest says {manifest.test_accuracy:.2%}"
    )
    print(format_confusion(result.confusion))
    if args.stress:
        from app.core.robustness import stress_report
        from app.core.stress import format_report

        print(format_report(stress_report(model, split, manifest.temperature), manifest.temperature))
    return 0


def _model_options(s: argparse.ArgumentParser) -> None:
    """--model and the options that describe it; --model may repeat."""
    m = s.add_argument_group("your models (repeat --model; the options after it describe that model)")
    m.add_argument(
        "--model",
        dest="models",
        action=_NewModel,
        default=argparse.SUPPRESS,
        metavar="SOURCE",
        help="net.pt2 (torch.export.save), package.module:factory or path/file.py:factory",
    )
    m.add_argument(
        "--weights",
        action=_ModelOption,
        default=argparse.SUPPRESS,
        help="state dict for a factory (loaded with weights_only=True)",
    )
    m.add_argument(
        "--input",
        action=_ModelOption,
        default=argparse.SUPPRESS,
        metavar="CxHxW",
        help="input shape for a factory, e.g. 3x224x224",
    )
    m.add_argument(
        "--name",
        action=_ModelOption,
        default=argparse.SUPPRESS,
        help="the model's name in the API (default: from the source)",
    )
    m.add_argument(
        "--labels", action=_ModelOption, default=argparse.SUPPRESS, metavar="FILE", help="class names, one per line"
    )
    m.add_argument(
        "--preprocess",
        action=_ModelOption,
        default=argparse.SUPPRESS,
        choices=["mnist", "image"],
        help="how an uploaded image becomes the input (default: mnist for 1x28x28, else image)",
    )
    m.add_argument(
        "--mean",
        action=_ModelOption,
        default=argparse.SUPPRESS,
        metavar="M,M,M",
        help="per-channel mean to subtract (image)",
    )
    m.add_argument(
        "--std",
        action=_ModelOption,
        default=argparse.SUPPRESS,
        metavar="S,S,S",
        help="per-channel std to divide by (image)",
    )
    m.add_argument(
        "--dataset",
        action=_ModelOption,
        default=argparse.SUPPRESS,
        metavar="DIR",
        help="a folder of images (one subfolder per class, optionally) shown as the model's gallery",
    )
    m.add_argument(
        "--trust",
        action=_ModelOption,
        default=argparse.SUPPRESS,
        nargs=0,
        help="allow a .pt2 with pickled payloads (loading it runs code from the file)",
    )


class _Defaults(argparse.ArgumentDefaultsHelpFormatter):
    """--help shows each option's default, except where the help already says it (options whose default is None)."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        return action.help if action.default is None else super()._get_help_string(action)


def parser() -> argparse.ArgumentParser:
    """The argument parser with its subcommands."""
    p = argparse.ArgumentParser(prog="convscope", description="See inside a convolutional neural network.")
    p.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = p.add_subparsers(dest="command", required=True)
    fmt = _Defaults

    s = sub.add_parser("serve", help="run the web app and JSON API", formatter_class=fmt)
    s.add_argument("--host", default="127.0.0.1", help="address to listen on")
    s.add_argument("--port", type=int, default=8000, help="port to listen on")
    s.add_argument("--workers", type=int, default=1, help="worker processes")
    s.add_argument(
        "--log-level",
        choices=["debug", "info", "warning", "error"],
        default=argparse.SUPPRESS,
        help="info logs one JSON line per request (default: CONVSCOPE_LOG_LEVEL, else info)",
    )
    s.add_argument(
        "--models-dir",
        default=argparse.SUPPRESS,
        help="where manifests and weights are (default: CONVSCOPE_MODELS_DIR, else the shipped models)",
    )
    s.add_argument("--device", choices=["cpu", "cuda"], default="cpu", help="where models run")
    _model_options(s)
    s.set_defaults(func=_serve)

    s = sub.add_parser("predict", help="classify an image file", formatter_class=fmt)
    s.add_argument("image")
    s.add_argument("--json", action="store_true", help="print the whole API response")
    s.add_argument("--model", default=None)
    s.add_argument("--models-dir", default=str(MODELS_DIR))
    s.set_defaults(func=_predict)

    s = sub.add_parser(
        "train",
        help="train a model (on MNIST, or on generated colour shapes) and write weights + manifest",
        formatter_class=fmt,
    )
    s.add_argument("--data-dir", default=None, help="directory with the four MNIST IDX .gz files (MNIST models)")
    s.add_argument("--download", action="store_true", help="fetch the standard files first (needs a network)")
    s.add_argument("--name", default=None, help="the model's name (default: lenet; shapes for colour-shapes)")
    s.add_argument(
        "--architecture",
        "--arch",
        dest="architecture",
        default="lenet",
        choices=sorted(ARCHITECTURES),
        help="colour-shapes trains on images it generates (no --data-dir)",
    )
    s.add_argument("--epochs", type=int, default=None, help="default: 50 for MNIST, 15 for colour-shapes")
    s.add_argument("--seed", type=int, default=2026)
    s.add_argument("--threads", type=int, default=2)
    s.add_argument("--out", default=str(MODELS_DIR))
    s.add_argument("--checkpoint", default=None, help="file to save the state to after every epoch and resume from")
    s.add_argument(
        "--teacher",
        default="",
        help="a trained model's manifest (e.g. models/resnet_mnist.json): half the loss is matching its soft answers",
    )
    s.set_defaults(func=_train)

    s = sub.add_parser(
        "calibrate",
        help="fit a shipped model's temperature and non-digit cue on the held-out training split (weights unchanged)",
        formatter_class=fmt,
    )
    s.add_argument("--data-dir", required=True, help="directory with the four MNIST IDX .gz files")
    s.add_argument("--model", default="lenet")
    s.add_argument("--models-dir", default=str(MODELS_DIR))
    s.set_defaults(func=_calibrate)

    s = sub.add_parser("evaluate", help="accuracy and confusion matrix on the MNIST test set", formatter_class=fmt)
    s.add_argument("--data-dir", default=str(MNIST_DIR))
    s.add_argument("--model", default=None)
    s.add_argument("--models-dir", default=str(MODELS_DIR))
    s.add_argument(
        "--stress",
        action="store_true",
        help="also the stress suite: per-family and per-class accuracy, calibration error before/after temperature",
    )
    s.set_defaults(func=_evaluate)
    return p


def main(argv: list[str] | None = None) -> int:
    """Entry point."""
    args = parser().parse_args(argv)
    try:
        return int(args.func(args))
    except (DatasetError, WeightsError, GraphError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
