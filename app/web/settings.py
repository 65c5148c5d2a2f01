"""Server settings: one pydantic-settings class, read from CONVSCOPE_* environment variables or passed in."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from app.core.models import ModelSpec
from app.core.preprocess import Limits
from app.paths import MODELS_DIR

LogLevel = Literal["debug", "info", "warning", "error"]


class Settings(BaseSettings):
    """What an operator can tune without touching code; each field is CONVSCOPE_<NAME> in the environment."""

    model_config = SettingsConfigDict(env_prefix="CONVSCOPE_", frozen=True, extra="ignore")

    models_dir: Path = Field(MODELS_DIR, description="where manifests and weights are")
    max_body_bytes: int = Field(8 * 1024 * 1024, gt=0, description="request bodies over this get 413")
    max_image_bytes: int = Field(Limits.max_bytes, gt=0, description="encoded image size limit (413)")
    max_image_pixels: int = Field(Limits.max_pixels, gt=0, description="declared pixel count limit, any format (413)")
    max_image_side: int = Field(Limits.max_side, gt=0, description="longest side limit (413)")
    decode_pixels: int = Field(
        Limits.decode_pixels,
        gt=0,
        description="decoding budget: a larger JPEG is decoded at 1/2, 1/4 or 1/8 scale; "
        "a larger PNG, WebP, GIF or BMP is refused from its header (413)",
    )
    isolate_pixels: int = Field(
        1_000_000,
        ge=0,
        description="images decoding to more pixels than this are decoded in a short-lived helper process "
        "(its memory is given back when it exits, its crash or hang is a 422 or 503); 0: never",
    )
    isolate_timeout: float = Field(
        10.0, gt=0, description="seconds a helper process may take to decode an image: else it is killed and 503"
    )
    request_budget: float = Field(
        9.0,
        gt=0,
        description="seconds from a request's arrival (its last body byte) within which its CPU work must start and "
        "a helper's decode end: else 503 busy or decode_timeout with Retry-After (the rest of 10 s is for the "
        "network's forward and encoding the answer)",
    )
    executor_threads: int = Field(1, gt=0, le=64, description="threads per worker running decoding and the network")
    executor_queue: int = Field(64, ge=0, description="jobs per worker that may wait for a thread; beyond: 503 busy")
    executor_max_wait: float = Field(
        6.0, gt=0, description="a job expected to wait longer than this (jobs ahead × recent mean job time) gets 503"
    )
    malloc_mmap_threshold: int = Field(
        4 * 1024 * 1024,
        ge=0,
        le=32 * 1024 * 1024,
        description="glibc (Linux): memory blocks this large get their own mapping, returned to the system when "
        "freed, so costly uploads do not leave the heap larger; 0: glibc's sliding default",
    )
    malloc_arena_max: int = Field(
        0, ge=0, le=64, description="glibc (Linux): at most this many malloc arenas per worker; 0: glibc's default"
    )
    max_header_bytes: int = Field(
        32 * 1024, ge=1024, description="request line and headers over this: 431 and the connection closed"
    )
    header_timeout: float = Field(10.0, gt=0, description="seconds to send the request line and headers: else 408")
    body_timeout: float = Field(30.0, gt=0, description="seconds to send the body once the headers are in: else 408")
    keep_alive_timeout: float = Field(5.0, gt=0, description="seconds an idle connection is kept open")
    max_requests_per_connection: int = Field(
        100, gt=0, description="the last one is answered with Connection: close, so clients spread over workers again"
    )
    max_connection_age: float = Field(
        5.0, gt=0, description="seconds after which a keep-alive connection's next answer says Connection: close"
    )
    drain_timeout: float = Field(10.0, gt=0, description="on SIGTERM, seconds in-flight requests have to finish")
    allowed_hosts: Annotated[tuple[str, ...], NoDecode] = Field(
        ("localhost", "127.0.0.1", "::1"),
        description="comma-separated Host header names accepted (plus the address served on); '*' accepts any; "
        "others get 400",
    )
    cors_origins: Annotated[tuple[str, ...], NoDecode] = Field(
        (), description="comma-separated origins allowed to call the API from a browser; empty: CORS off"
    )
    log_level: LogLevel = Field("info", description="info writes one JSON access-log line per request")
    models: tuple[ModelSpec, ...] = Field(
        (),
        description="the user's models to serve before the shipped ones "
        "(JSON list of {source, weights, input, labels, preprocess, mean, std, dataset})",
    )
    device: Literal["cpu", "cuda"] = Field("cpu", description="where the user's models run")
    capture_cache_bytes: int = Field(
        256 * 1024 * 1024,
        ge=0,
        description="memory per worker for recent captures (API v2 input_id); least recently used first out",
    )
    job_threads: int = Field(
        default_factory=lambda: os.cpu_count() or 1,
        gt=0,
        le=64,
        description="torch threads of the long-jobs thread (slow attributions, data-set passes); default: every core",
    )
    jobs_kept: int = Field(
        32, gt=0, le=10_000, description="finished long jobs (attribution, data-set passes) kept per worker for polling"
    )
    explain_cache_dir: Path = Field(
        Path.home() / ".cache" / "convscope",
        description="where data-set statistics of units are cached, under each model's SHA-256",
    )
    frame_ancestors: str = Field(
        "'none'",
        pattern=r"^[\w\s'.:/*-]+$",  # CSP source expressions only: no ';' to smuggle in another directive
        max_length=500,
        description="CSP frame-ancestors: who may embed the page (a notebook "
        "server's origin, e.g. http://localhost:8888)",
    )

    @field_validator("cors_origins", "allowed_hosts", mode="before")
    @classmethod
    def _split_list(cls, value: object) -> object:
        """The environment gives one comma-separated string."""
        if isinstance(value, str):
            return tuple(o.strip() for o in value.split(",") if o.strip())
        return value

    @property
    def limits(self) -> Limits:
        """The image limits preprocessing enforces."""
        return Limits(
            max_bytes=self.max_image_bytes,
            max_pixels=self.max_image_pixels,
            max_side=self.max_image_side,
            decode_pixels=self.decode_pixels,
            isolate_pixels=self.isolate_pixels,
            isolate_timeout=self.isolate_timeout,
        )
