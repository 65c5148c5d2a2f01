"""The `convscope` command: serve, predict, train, evaluate."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from app import __version__
from app.core.mnist import DatasetError
from app.core.weights import WeightsError
from app.paths import MNIST_DIR, MODELS_DIR


def _serve(args: argparse.Namespace) -> int:
    from app.web.server import PortInUse, serve
    from app.web.settings import Settings

    # Options given on the command line win over CONVSCOPE_* variables, which win over the defaults.
    given = {"log_level": args.log_level, "models_dir": args.models_dir}
    settings = Settings(**{k: v for k, v in given.items() if v is not None})
    try:
        serve(args.host, args.port, args.workers, settings)
    except PortInUse as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


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
    from app.training.train import TrainConfig, train

    data_dir = Path(args.data_dir)
    if args.download:
        download(data_dir)
    config = TrainConfig(
        name=args.name, architecture=args.architecture, seed=args.seed, epochs=args.epochs, threads=args.threads
    )
    manifest = train(config, data_dir, Path(args.out))
    print(
        f"{manifest.name}: test accuracy {manifest.test_accuracy:.2%} ({manifest.test_errors} errors), "
        f"{manifest.training['seconds']} s, sha256 {manifest.sha256}"
    )
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    from app.core.evaluate import evaluate, format_confusion
    from app.core.mnist import load_split
    from app.core.registry import Registry

    registry = Registry.load(Path(args.models_dir))
    lm = registry.get(args.model)
    result = evaluate(lm.model, load_split(Path(args.data_dir), "test"))
    print(
        f"{lm.name}: accuracy {result.accuracy:.2%} on {result.total} test images ({result.errors} errors); "
        f"manifest says {lm.manifest.test_accuracy:.2%}"
    )
    print(format_confusion(result.confusion))
    return 0


def parser() -> argparse.ArgumentParser:
    """The argument parser with its four subcommands."""
    p = argparse.ArgumentParser(prog="convscope", description="See inside a convolutional neural network.")
    p.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = p.add_subparsers(dest="command", required=True)
    fmt = argparse.ArgumentDefaultsHelpFormatter

    s = sub.add_parser("serve", help="run the web app and JSON API", formatter_class=fmt)
    s.add_argument("--host", default="127.0.0.1", help="address to listen on")
    s.add_argument("--port", type=int, default=8000, help="port to listen on")
    s.add_argument("--workers", type=int, default=1, help="worker processes")
    s.add_argument(
        "--log-level",
        choices=["debug", "info", "warning", "error"],
        default=None,
        help="info logs one JSON line per request (default: CONVSCOPE_LOG_LEVEL, else info)",
    )
    s.add_argument(
        "--models-dir",
        default=None,
        help="where manifests and weights are (default: CONVSCOPE_MODELS_DIR, else the shipped models)",
    )
    s.set_defaults(func=_serve)

    s = sub.add_parser("predict", help="classify an image file", formatter_class=fmt)
    s.add_argument("image")
    s.add_argument("--json", action="store_true", help="print the whole API response")
    s.add_argument("--model", default=None)
    s.add_argument("--models-dir", default=str(MODELS_DIR))
    s.set_defaults(func=_predict)

    s = sub.add_parser("train", help="train a model on MNIST and write weights + manifest", formatter_class=fmt)
    s.add_argument("--data-dir", required=True, help="directory with the four MNIST IDX .gz files")
    s.add_argument("--download", action="store_true", help="fetch the standard files first (needs a network)")
    s.add_argument("--name", default="lenet")
    s.add_argument("--architecture", default="lenet")
    s.add_argument("--epochs", type=int, default=30)
    s.add_argument("--seed", type=int, default=2026)
    s.add_argument("--threads", type=int, default=2)
    s.add_argument("--out", default=str(MODELS_DIR))
    s.set_defaults(func=_train)

    s = sub.add_parser("evaluate", help="accuracy and confusion matrix on the MNIST test set", formatter_class=fmt)
    s.add_argument("--data-dir", default=str(MNIST_DIR))
    s.add_argument("--model", default=None)
    s.add_argument("--models-dir", default=str(MODELS_DIR))
    s.set_defaults(func=_evaluate)
    return p


def main(argv: list[str] | None = None) -> int:
    """Entry point."""
    args = parser().parse_args(argv)
    try:
        return int(args.func(args))
    except (DatasetError, WeightsError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
