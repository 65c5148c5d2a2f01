"""The `convscope` command: serve, predict, train, evaluate."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from app.mnist import BUNDLED_DIR, DatasetError
from app.weights import MODELS_DIR, WeightsError


def _serve(args: argparse.Namespace) -> int:
    from app.serve import serve

    # Workers are separate processes that build the app from the environment.
    os.environ["CONVSCOPE_LOG_LEVEL"] = args.log_level
    serve(args.host, args.port, args.workers, args.log_level)
    return 0


def _predict(args: argparse.Namespace) -> int:
    from app import inspection
    from app.encoding import dumps
    from app.main import configure_torch
    from app.preprocess import PreprocessError, preprocess_image
    from app.registry import Registry

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
    from app.mnist import download
    from app.train import TrainConfig, train

    data_dir = Path(args.data_dir)
    if args.download:
        download(data_dir)
    config = TrainConfig(name=args.name, architecture=args.architecture, seed=args.seed, epochs=args.epochs,
                         threads=args.threads)
    manifest = train(config, data_dir, Path(args.out))
    print(f"{manifest.name}: test accuracy {manifest.test_accuracy:.2%} ({manifest.test_errors} errors), "
          f"{manifest.training['seconds']} s, sha256 {manifest.sha256}")
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    from app.evaluate import evaluate, format_confusion
    from app.mnist import load_split
    from app.registry import Registry

    registry = Registry.load(Path(args.models_dir))
    lm = registry.get(args.model)
    result = evaluate(lm.model, load_split(Path(args.data_dir), "test"))
    print(f"{lm.name}: accuracy {result.accuracy:.2%} on {result.total} test images ({result.errors} errors); "
          f"manifest says {lm.manifest.test_accuracy:.2%}")
    print(format_confusion(result.confusion))
    return 0


def parser() -> argparse.ArgumentParser:
    """The argument parser with its four subcommands."""
    p = argparse.ArgumentParser(prog="convscope", description="See inside a convolutional neural network.")
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("serve", help="run the web app and JSON API")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=8000)
    s.add_argument("--workers", type=int, default=1, help="worker processes")
    s.add_argument("--log-level", default="info")
    s.set_defaults(func=_serve)

    s = sub.add_parser("predict", help="classify an image file")
    s.add_argument("image")
    s.add_argument("--json", action="store_true", help="print the whole API response")
    s.add_argument("--model", default=None)
    s.add_argument("--models-dir", default=str(MODELS_DIR))
    s.set_defaults(func=_predict)

    s = sub.add_parser("train", help="train a model on MNIST and write weights + manifest")
    s.add_argument("--data-dir", required=True, help="directory with the four MNIST IDX .gz files")
    s.add_argument("--download", action="store_true", help="fetch the standard files first (needs a network)")
    s.add_argument("--name", default="lenet")
    s.add_argument("--architecture", default="lenet")
    s.add_argument("--epochs", type=int, default=30)
    s.add_argument("--seed", type=int, default=2026)
    s.add_argument("--threads", type=int, default=2)
    s.add_argument("--out", default=str(MODELS_DIR))
    s.set_defaults(func=_train)

    s = sub.add_parser("evaluate", help="accuracy and confusion matrix on the MNIST test set")
    s.add_argument("--data-dir", default=str(BUNDLED_DIR))
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
