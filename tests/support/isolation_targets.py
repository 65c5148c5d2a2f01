"""Functions a helper process runs in tests (module-level, so they pickle by name): a crash, a hang, a refusal."""

from __future__ import annotations

import os
import signal
import time

from app.core.preprocess import Limits, Preprocessed, PreprocessError, TooCostly


def crash(*_: object) -> Preprocessed:
    """Die the way a decoder bug would: a segmentation fault."""
    os.kill(os.getpid(), signal.SIGSEGV)
    raise AssertionError("unreachable")


def hang(*_: object) -> Preprocessed:
    """Never answer (a decoder stuck in a loop)."""
    time.sleep(3600)
    raise AssertionError("unreachable")


def refuse(data: bytes, limits: Limits) -> Preprocessed:
    """Refuse as preprocessing does, with a status and code of its own."""
    raise PreprocessError("too_many_pixels", f"{len(data)} bytes refused under {limits.decode_pixels}", 413)


def fail(*_: object) -> Preprocessed:
    """Raise something that is not a PreprocessError."""
    raise ValueError("not a refusal")


def pid(*_: object) -> int:
    """The process it runs in."""
    return os.getpid()


def crash_in_helper(data: bytes, limits: Limits) -> Preprocessed:
    """Like preprocess_image on a large image: too costly for the worker, and then the decoder crashes in the helper."""
    if limits.isolate_pixels:
        raise TooCostly(f"{len(data)} bytes")
    return crash()


def hang_in_helper(data: bytes, limits: Limits) -> Preprocessed:
    """Like preprocess_image on a large image: too costly for the worker, and then the decoder hangs in the helper."""
    if limits.isolate_pixels:
        raise TooCostly(f"{len(data)} bytes")
    return hang()
