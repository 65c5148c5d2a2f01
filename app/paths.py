"""Where the shipped files are: the one place that knows, for a checkout and for an installed wheel alike."""

from __future__ import annotations

from pathlib import Path

PACKAGE = Path(__file__).resolve().parent
# A wheel carries the top-level folders inside the package (pyproject's force-include maps them there);
# a checkout (and an editable install) has them beside the package.
BUNDLED = PACKAGE / "bundled"


def _home(name: str) -> Path:
    """The installed copy of a top-level folder if there is one, else the checkout's."""
    installed = BUNDLED / name
    return installed if installed.is_dir() else PACKAGE.parent / name


MODELS_DIR = _home("models")
STATIC_DIR = _home("static")
TEMPLATES_DIR = _home("templates")
MNIST_DIR = _home("data") / "mnist"
