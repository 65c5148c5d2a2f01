"""Pydantic models for every request and response of the JSON API."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from app.core.layers import LayerKind, Role

Pixel = Annotated[float, Field(ge=0.0, le=1.0, allow_inf_nan=False, strict=True)]
Row = Annotated[list[Pixel], Field(min_length=28, max_length=28)]
Pixels = Annotated[
    list[Row],
    Field(
        min_length=28, max_length=28, description="28 rows of 28 numbers in 0..1, light ink on dark, MNIST-normalised"
    ),
]
ImageString = Annotated[
    str, Field(min_length=1, description="base64 image bytes or a data URL (data:image/png;base64,…)")
]


class InputBody(BaseModel):
    """An input given either as an encoded image or as ready 28×28 pixels."""

    model_config = ConfigDict(extra="forbid")

    image: ImageString | None = None
    pixels: Pixels | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> InputBody:
        if (self.image is None) == (self.pixels is None):
            raise ValueError("give exactly one of 'image' or 'pixels'")
        return self


class PredictRequest(InputBody):
    """Body of POST /api/v1/predict as JSON."""


class TraceRequest(InputBody):
    """Body of POST /api/v1/trace as JSON: an input and the unit to explain."""

    layer: str = Field(min_length=1, max_length=64, description="layer name, e.g. conv2")
    index: list[Annotated[int, Field(strict=True)]] = Field(
        min_length=1, max_length=3, description="[c, y, x] on maps, [i] on vectors"
    )
    top: int = Field(10, ge=1, le=1000, strict=True, description="how many dense contributions to list")


class ErrorDetail(BaseModel):
    """What went wrong."""

    code: str
    message: str


class ErrorResponse(BaseModel):
    """Every error answer."""

    error: ErrorDetail


class Health(BaseModel):
    """Liveness and what is loaded."""

    status: Literal["ok"]
    models: list[str]
    version: str
    pid: int = Field(description="the worker process that answered")


class ReceptiveFieldGeometry(BaseModel):
    """Unit i covers input pixels start + i·jump … start + i·jump + size − 1 along each axis (before clipping)."""

    size: int
    jump: int
    start: int
    unflatten: list[int] | None = Field(
        None, description="flatten only: unit i is cell unravel(i, shape) of the previous map, whose geometry applies"
    )


class LayerInfo(BaseModel):
    """One layer of a served network."""

    name: str
    kind: LayerKind
    role: Role = Field(
        description="what the layer is to a reader: the input, a hidden layer, the logits or the probabilities"
    )
    shape: list[int]
    channelwise: bool = Field(
        description="true when output channel c reads only input channel c (activations, "
        "pooling); false for layers that mix channels (conv, linear, flatten)"
    )
    hyper: dict[str, int | str]
    parameters: int
    weight_shape: list[int] | None = None
    weights: list[float] | None = Field(None, description="flat, row-major in weight_shape order")
    bias: list[float] | None = None
    receptive_field: ReceptiveFieldGeometry


class ModelSummary(BaseModel):
    """A served model in the list."""

    name: str
    architecture: str
    description: str = Field("", description="what the architecture is, and how it differs from any original")
    default: bool
    input_shape: list[int]
    test_accuracy: float
    parameters: int


class ModelList(BaseModel):
    """GET /api/v1/models."""

    default: str
    models: list[ModelSummary]


class ModelInfo(ModelSummary):
    """GET /api/v1/model: a model with all its layers."""

    test_errors: int
    test_total: int
    sha256: str
    layers: list[LayerInfo]


class EncodedArray(BaseModel):
    """Compact values: little-endian float32, base64."""

    dtype: Literal["float32"]
    shape: list[int]
    data: str


class LayerValues(BaseModel):
    """A layer's output for the input: values flat in row-major (C, H, W) order."""

    name: str
    kind: LayerKind
    shape: list[int]
    values: list[float] | EncodedArray


class PreprocessStep(BaseModel):
    """One preprocessing stage as an image."""

    name: str
    description: str
    shape: list[int] = Field(description="[height, width] of the stage's image")
    png: str = Field(description="data URL of the stage's image (light ink on dark)")


class RunnerUp(BaseModel):
    """The second most probable class, named when the model is unsure."""

    index: int = Field(description="the runner-up class")
    probability: float = Field(description="its calibrated probability")


class Confidence(BaseModel):
    """Calibrated probabilities and the "does this look like a digit" cue of a shipped digit model."""

    temperature: float = Field(description="T of the manifest: probabilities are softmax(logits / T)")
    probabilities: list[float] = Field(description="calibrated class probabilities, softmax(logits / T)")
    confidence: float = Field(description="the calibrated probability of the predicted class")
    score: float = Field(description="energy score logsumexp(logits): lower means less like a digit")
    threshold: float = Field(description="the manifest's threshold: score ≥ threshold looks like a digit")
    looks_like_digit: bool = Field(description="score ≥ threshold")
    unsure: bool = Field(description="confidence below 0.9, or the input does not look like a digit")
    runner_up: RunnerUp | None = Field(description="the second most probable class when unsure, else null")


class PredictResponse(BaseModel):
    """POST /api/v1/predict."""

    model: str
    prediction: int
    probabilities: list[float] = Field(description="the network's own softmax layer (T = 1), as the layers show it")
    confidence: Confidence | None = Field(
        default=None, description="calibrated probabilities and the non-digit cue (shipped digit models)"
    )
    input: list[list[float]] = Field(description="the 28×28 input actually fed to the network")
    inverted: bool = Field(description="whether preprocessing inverted dark-on-light ink")
    steps: list[PreprocessStep]
    layers: list[LayerValues]


class Region(BaseModel):
    """A unit's receptive field in one earlier layer."""

    layer: str
    box: list[int] | None = Field(description="inclusive [x0, y0, x1, y1] on maps; null on vectors")
    rows: list[int] | None = Field(None, description="the same box in API v2's convention: half-open [start, stop)")
    cols: list[int] | None = Field(None, description="the same box in API v2's convention: half-open [start, stop)")
    channels: list[int] | None = Field(description="channels (maps) or units (vectors) involved; null for all")


class TraceResponse(BaseModel):
    """POST /api/v1/trace."""

    model: str
    layer: str
    kind: LayerKind
    index: list[int]
    value: float
    prediction: int
    receptive_field: list[Region]
    computation: dict[str, Any] = Field(description="the unit's direct arithmetic; fields depend on the kind")
    gradient: list[list[float]] = Field(description="d unit / d input pixel, 28×28")


class Sample(BaseModel):
    """One gallery digit from the MNIST test set."""

    id: int
    label: int
    predicted: int
    correct: bool
    png: str = Field(description="URL of the PNG")
    pixels: list[list[float]] | None = None


class SampleList(BaseModel):
    """GET /api/v1/samples."""

    samples: list[Sample]
