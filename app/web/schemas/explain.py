"""Pydantic models of the explain part of API v2: attribution, knock-outs, comparisons, jobs."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue, model_validator

from app.core.attribution import Method
from app.web.schemas.v2 import Box, InputV2, LayerName, Nested, Ranked

Index = list[Annotated[int, Field(strict=True)]]
_BLANK: list[JsonValue] = [[0.0] * 28 for _ in range(28)]


class TargetV2(BaseModel):
    """What to explain: a class (default: the predicted one) as logit or probability, or any unit of any layer."""

    model_config = ConfigDict(extra="forbid")

    class_index: int | None = Field(None, ge=0, le=100_000, strict=True, description="a class; default: predicted")
    kind: Literal["logit", "probability"] = Field("logit", description="for a class: its logit or its probability")
    layer: LayerName | None = Field(None, description="instead of a class: a layer ...")
    index: Index | None = Field(None, min_length=1, max_length=3, description="... and its unit, [c, y, x] or [i]")

    @model_validator(mode="after")
    def _one_kind(self) -> TargetV2:
        if self.layer is not None and self.class_index is not None:
            raise ValueError("give a class_index or a layer and index, not both")
        if (self.layer is None) != (self.index is None):
            raise ValueError("a layer target needs both 'layer' and 'index'")
        return self


class AttributeRequest(InputV2):
    """Body of POST /api/v2/attribute: an input, a method, a target and the method's options."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"pixels": _BLANK, "method": "gradcam", "target": {"class_index": 7}}]}
    )

    method: Method
    target: TargetV2 = Field(default_factory=lambda: TargetV2())
    layer: LayerName | None = Field(None, description="Grad-CAM's map layer; default: the last convolution")
    steps: int = Field(32, ge=1, le=1024, strict=True, description="integrated gradients: integration points")
    precise: bool = Field(False, strict=True, description="integrated gradients: 512 points (completeness < 1 %)")
    baseline: Literal["black", "blurred", "given"] = Field("black", description="integrated gradients' reference")
    baseline_pixels: Nested | None = Field(None, description="the given baseline, [C][H][W] in the input space")
    samples: int = Field(16, ge=1, le=256, strict=True, description="SmoothGrad: noisy copies")
    noise: float = Field(0.15, ge=0, le=10, description="SmoothGrad: σ as a fraction of the input's range")
    seed: int = Field(0, ge=0, le=2**31 - 1, strict=True, description="SmoothGrad: noise seed (reproducible)")
    window: int = Field(4, ge=1, le=1024, strict=True, description="occlusion: square window side")
    stride: int = Field(2, ge=1, le=1024, strict=True, description="occlusion: step between windows (≤ window)")
    background: bool = Field(
        False,
        strict=True,
        description="run as a job: 202 with its id; poll GET /api/v2/jobs/{id}; POST …/cancel stops it",
    )

    @model_validator(mode="after")
    def _baseline_given(self) -> AttributeRequest:
        if (self.baseline == "given") != (self.baseline_pixels is not None):
            raise ValueError("baseline 'given' goes with baseline_pixels (and only then)")
        return self


class AttributionTarget(BaseModel):
    """What was explained and its value for this input."""

    layer: str
    index: list[int]
    softmax: bool = Field(description="true when the value is the softmax of the layer (a logits model's probability)")
    quantity: Literal["logit", "probability", "unit"]
    label: str | None
    value: float


class ValueRange(BaseModel):
    """The extremes of an attribution, for a signed colour scale."""

    min: float
    max: float
    abs_max: float


class Completeness(BaseModel):
    """Integrated gradients: Σ attribution against f(x) − f(baseline)."""

    sum: float
    difference: float
    error: float = Field(description="|sum − difference| / |difference|")
    delta: float = Field(description="Captum's convergence delta (sum − difference)")


class AttributeResponse(BaseModel):
    """POST /api/v2/attribute."""

    model: str
    input_id: str
    method: Method
    target: AttributionTarget
    shape: list[int] = Field(description="[C, H, W] of `channels` (Grad-CAM: [1, H, W])")
    channels: list[list[list[float]]] = Field(description="per input channel, [C][H][W]")
    combined: list[list[float]] = Field(description="summed over channels, [H][W]")
    range: ValueRange
    layer: str | None = Field(description="the layer of Grad-CAM / Grad-CAM++")
    layer_map: list[list[float]] | None = Field(description="Grad-CAM at the layer's own resolution, [h][w]")
    layer_reason: str | None = Field(description="why the default layer was chosen (when it was)")
    completeness: Completeness | None
    details: dict[str, Any]


class KnockoutRequest(InputV2):
    """Body of POST /api/v2/knockout: switch off a channel or a unit of a layer."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"pixels": _BLANK, "layer": "conv2", "channel": 3, "mode": "zero"}]}
    )

    layer: LayerName
    channel: int | None = Field(None, ge=0, strict=True, description="a whole channel of a map layer ...")
    index: Index | None = Field(None, min_length=1, max_length=3, description="... or one unit, [c, y, x] or [i]")
    mode: Literal["zero", "mean", "value"] = Field(
        "zero",
        description="replace by 0; by the mean (each unit's data-set mean once statistics are computed, else the "
        "channel's mean over this input — a vector: the layer's); or by value",
    )
    value: float | None = Field(None, allow_inf_nan=False, ge=-1e6, le=1e6, description="for mode 'value'")
    layers: list[LayerName] | None = Field(
        None, max_length=10_000, description="layers whose difference values to return; default: every later one"
    )

    @model_validator(mode="after")
    def _one_target(self) -> KnockoutRequest:
        if (self.channel is None) == (self.index is None):
            raise ValueError("give exactly one of 'channel' or 'index'")
        if (self.mode == "value") != (self.value is not None):
            raise ValueError("mode 'value' goes with 'value' (and only then)")
        return self


class PredictionSummary(BaseModel):
    """A prediction: the top class, the top five and every probability."""

    prediction: Ranked | None
    top: list[Ranked]
    probabilities: list[float] | None


class KnockedLayer(BaseModel):
    """One layer from the knocked-out one on: how much it changed."""

    name: str
    shape: list[int]
    changed: int = Field(description="units whose value changed")
    max_abs_difference: float
    difference: list[float] | None = Field(description="after − before, flat row-major (for the layers asked)")
    after: list[float] | None = Field(description="the values after the knock-out, flat row-major")


class KnockoutResponse(BaseModel):
    """POST /api/v2/knockout."""

    model: str
    input_id: str
    layer: str
    fill: float = Field(description="the value the cells were set to (their average if each got its own mean)")
    fill_source: Literal["zero", "value", "data set", "this input"] = Field(
        description="where the fill came from: mean ablation uses each unit's data-set mean once the model's "
        "statistics are computed (POST /api/v2/statistics/compute), else the mean over this input"
    )
    cells: int = Field(description="how many units were replaced")
    before: PredictionSummary
    after: PredictionSummary
    layers: list[KnockedLayer]


class CompareRequest(InputV2):
    """Body of POST /api/v2/compare?model=A&other=B: one input through two models."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"pixels": _BLANK, "values": False}]})

    values: bool = Field(False, strict=True, description="include both models' values of every shared layer")


class ComparedLayer(BaseModel):
    """A layer both models have (same name and shape)."""

    name: str
    shape: list[int]
    max_abs_difference: float
    mean_abs_difference: float
    cosine: float | None
    a: list[float] | None
    b: list[float] | None


class ComparedModel(PredictionSummary):
    """One side of a comparison."""

    model: str


class CompareResponse(BaseModel):
    """POST /api/v2/compare."""

    a: ComparedModel
    b: ComparedModel
    layers: list[ComparedLayer]
    only_a: list[str]
    only_b: list[str]


class JobStarted(BaseModel):
    """202: a job was started; poll its URL."""

    id: str
    kind: str
    url: str


class JobV2(BaseModel):
    """GET /api/v2/jobs/{id}: progress, then the result (or the error)."""

    id: str
    kind: str
    status: Literal["running", "done", "failed", "cancelled"]
    done: int
    total: int
    fraction: float
    seconds: float
    result: dict[str, Any] | None
    error: dict[str, str] | None


class StatisticsState(BaseModel):
    """GET/POST /api/v2/statistics: whether a model's data-set statistics are ready, or the job computing them."""

    model: str
    dataset: str | None = Field(description="the data set's name; null when the model has none")
    ready: bool
    count: int | None = Field(description="images in the data set, once ready")
    job: JobStarted | None = Field(description="the job computing them, while it runs")


class UnitRequest(InputV2):
    """Body of POST /api/v2/unit: the unit card of one unit for this input."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"pixels": _BLANK, "layer": "conv2", "index": [3, 4, 4], "k": 9}]}
    )

    layer: LayerName
    index: Index = Field(min_length=1, max_length=3, description="[c, y, x] on maps, [i] on vectors")
    k: int = Field(9, ge=1, le=64, strict=True, description="how many top images")
    per_unit: bool = Field(
        False,
        strict=True,
        description="rank images by this unit's own value (one more pass) instead of its channel's peak",
    )


class TopImage(BaseModel):
    """One of the images that excite a channel (or unit) most, cropped to the field of the peak's position."""

    index: int = Field(description="position in the data set")
    value: float
    unit: list[int] = Field(description="the unit where the peak is, [c, y, x] or [i]")
    box: Box = Field(description="the crop: {rows, cols}, half-open, in input pixels")
    crop: list[list[list[float]]] = Field(description="[C][h][w] in the model's input space")


class Histogram(BaseModel):
    """Counts over equal bins."""

    of: str
    counts: list[int]
    edges: list[float]


class UnitCard(BaseModel):
    """POST /api/v2/unit."""

    model: str
    input_id: str
    dataset: str
    layer: str
    unit: list[int]
    value: float = Field(description="the unit's value for this input")
    count: int = Field(description="images in the data set")
    unit_statistics: dict[str, float] | None = Field(description="mean, std, low, high of this unit over the data set")
    distribution: Histogram
    percentile: float | None = Field(description="vectors: share of the data set below this value, in %")
    ranking: Literal["channel", "unit"]
    top: list[TopImage]


class VisualiseRequest(BaseModel):
    """Body of POST /api/v2/visualise: an image optimised to excite a channel or a unit."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"layer": "conv2", "index": [3]}]})

    layer: LayerName
    index: Index = Field(
        min_length=1, max_length=3, description="[c]: a channel (its mean); [c, y, x] or [i]: one unit"
    )
    steps: int = Field(128, ge=1, le=2048, strict=True)
    seed: int = Field(0, ge=0, le=2**31 - 1, strict=True)
    jitter: int = Field(2, ge=0, le=64, strict=True, description="random shift per step, in pixels")
    background: bool = Field(False, strict=True, description="run as a job (202)")


class Visualisation(BaseModel):
    """POST /api/v2/visualise: the optimised image, in pixels 0..1, and how the objective rose."""

    model: str
    layer: str
    index: list[int]
    pixels: list[list[list[float]]] = Field(description="[C][H][W] in 0..1")
    value: float = Field(description="the objective on the final image")
    history: list[float]
    steps: int
    seed: int
