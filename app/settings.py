"""Server settings, read from CONVSCOPE_* environment variables."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from app.preprocess import Limits
from app.weights import MODELS_DIR


def _int(name: str, default: int) -> int:
    """An integer environment variable, or the default."""
    raw = os.environ.get(name)
    return int(raw) if raw else default


@dataclass(frozen=True)
class Settings:
    """What an operator can tune without touching code."""

    models_dir: Path = MODELS_DIR
    max_body_bytes: int = 8 * 1024 * 1024
    limits: Limits = field(default_factory=Limits)
    cors_origins: tuple[str, ...] = ()
    log_level: str = "warning"
    freeze_gc: bool = False  # a serving process freezes its start-up objects; tests building many apps do not

    @classmethod
    def from_env(cls) -> Settings:
        """Settings from the environment (CONVSCOPE_MODELS_DIR, CONVSCOPE_MAX_BODY_BYTES, …)."""
        limits = Limits(
            max_bytes=_int("CONVSCOPE_MAX_IMAGE_BYTES", Limits.max_bytes),
            max_pixels=_int("CONVSCOPE_MAX_IMAGE_PIXELS", Limits.max_pixels),
            max_side=_int("CONVSCOPE_MAX_IMAGE_SIDE", Limits.max_side),
        )
        origins = tuple(o.strip() for o in os.environ.get("CONVSCOPE_CORS_ORIGINS", "").split(",") if o.strip())
        return cls(
            models_dir=Path(os.environ.get("CONVSCOPE_MODELS_DIR", str(MODELS_DIR))),
            max_body_bytes=_int("CONVSCOPE_MAX_BODY_BYTES", cls.max_body_bytes),
            limits=limits,
            cors_origins=origins,
            log_level=os.environ.get("CONVSCOPE_LOG_LEVEL", "info"),
            freeze_gc=os.environ.get("CONVSCOPE_FREEZE_GC", "1") != "0",
        )
