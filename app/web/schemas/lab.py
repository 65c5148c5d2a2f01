"""Pydantic models of the convolution lab's requests and responses."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from app.web.schemas.v2 import Box, InputV2

Number = Annotated[float, Field(allow_inf_nan=False, ge=-1e6, le=1e6)]
Grid = Annotated[list[Annotated[list[Number], Field(min_length=1, max_length=64)]], Field(min_length=1, max_length=64)]


class PoolSettings(BaseModel):
    """Pooling after the activation; windows may run past the edge and pool the cells they cover."""

    model_config = ConfigDict(extra="forbid", strict=True)

    type: Literal["none", "max", "avg", "sum"] = "max"
    size: int = Field(2, ge=1, le=5)
    stride: int = Field(2, ge=1, le=5)


class ConvolveRequest(BaseModel):
    """One channel through convolution, activation, pooling and flattening."""

    model_config = ConfigDict(extra="forbid", strict=True)

    input: Grid = Field(description="the image: up to 64×64 numbers, rows of equal length")
    kernel: Grid = Field(description="a square kernel, 1×1 to 7×7")
    bias: Number = 0.0
    stride: int = Field(1, ge=1, le=3)
    padding: Literal["valid", "same"] | Annotated[int, Field(ge=0, le=5)] = "valid"
    activation: Literal["none", "relu", "leaky_relu", "tanh", "sigmoid"] = "none"
    slope: float = Field(0.01, ge=0.0, le=1.0, description="negative slope of the leaky ReLU")
    pool: PoolSettings = PoolSettings(type="max", size=2, stride=2)

    @model_validator(mode="after")
    def _shapes(self) -> ConvolveRequest:
        if len({len(row) for row in self.input}) != 1:
            raise ValueError("input rows must all have the same length")
        size = len(self.kernel)
        if size > 7 or any(len(row) != size for row in self.kernel):
            raise ValueError("the kernel must be square, 1×1 to 7×7")
        return self


class SoftmaxRequest(BaseModel):
    """Scores (logits) and the true label."""

    model_config = ConfigDict(extra="forbid", strict=True)

    scores: list[Annotated[float, Field(allow_inf_nan=False, ge=-100, le=100)]] = Field(min_length=2, max_length=20)
    label: int = Field(ge=0, le=19)


class LabMap(BaseModel):
    """A 2-D map."""

    shape: list[int]
    values: list[list[float]]


class ConvolveResponse(BaseModel):
    """Every stage of the lab's chain."""

    input: LabMap
    padded: LabMap
    padding: int
    stride: int
    kernel: LabMap
    bias: float
    output_size: dict[str, dict[str, Any]]
    feature_map: LabMap
    activation: str
    activated: LabMap
    pooled: dict[str, Any] | None = None
    flattened: dict[str, Any]


class SoftmaxResponse(BaseModel):
    """Softmax, cross-entropy and MSE."""

    scores: list[float]
    label: int
    exponentials: list[float]
    shift: float
    probabilities: list[float]
    one_hot: list[float]
    cross_entropy: float
    mse: float
    gradients: dict[str, list[float]] = Field(description="∂loss/∂score for cross_entropy and mse")
    sweep: dict[str, list[float]]
    note: str


class Presets(BaseModel):
    """Classic kernels and worked examples."""

    kernels: dict[str, list[list[float]]]
    examples: dict[str, dict[str, Any]]


# ---- API v2: the lab in the one coordinate convention ([c, y, x] units; {"rows", "cols"} half-open boxes) ----

Map = list[list[float]]
Maps = list[list[list[float]]]
Cell = Annotated[list[int], Field(min_length=2, max_length=2, description="[y, x] of a cell of the map read")]
Channels = Annotated[list[int], Field(min_length=2, max_length=2, description="[start, stop) of channels")]
Grid3 = Annotated[list[Grid], Field(min_length=1, max_length=4)]


class PoolSettingsV2(BaseModel):
    """Pooling after the activation: floor mode drops partial windows (as nn.MaxPool2d does), ceil mode keeps them."""

    model_config = ConfigDict(extra="forbid", strict=True)

    type: Literal["none", "max", "avg", "sum"] = "max"
    size: int = Field(2, ge=1, le=5, description="window F (F × F)")
    stride: int = Field(2, ge=1, le=5)
    padding: int = Field(0, ge=0, le=2, description="at most half the window, as PyTorch requires")
    mode: Literal["floor", "ceil"] = Field("floor", description="floor: ⌊(N + 2P − F) / S⌋ + 1; ceil: ⌈…⌉ + 1")
    divisor: Literal["covered", "padded", "window"] = Field(
        "covered",
        description="average pooling divides by the input cells a window covers, those plus the zero padding it "
        "covers (PyTorch's count_include_pad=True), or always F × F",
    )


class ConvolveRequestV2(BaseModel):
    """Input [C][H][W] (or [H][W]) through one kernel [C][F][F] (or [F][F]), activation, pooling, flattening."""

    model_config = ConfigDict(extra="forbid", strict=True)

    input: Grid3 | Grid = Field(description="up to 4 channels of up to 64×64 numbers")
    kernel: Grid3 | Grid = Field(description="one square slice per input channel, 1×1 to 7×7")
    bias: Number = 0.0
    stride: int = Field(1, ge=1, le=3)
    padding: Literal["valid", "same"] | Annotated[int, Field(ge=0, le=5)] = "valid"
    dilation: int = Field(1, ge=1, le=3)
    activation: Literal["none", "relu", "leaky_relu", "tanh", "sigmoid"] = "relu"
    slope: float = Field(0.01, ge=0.0, le=1.0, description="negative slope of the leaky ReLU")
    pool: PoolSettingsV2 = PoolSettingsV2()
    dropout: float = Field(0.5, ge=0.0, le=0.9, description="dropout probability p shown on the flattened vector")
    seed: int = Field(0, ge=0, le=2**31 - 1, description="seed of the dropout mask")

    @model_validator(mode="after")
    def _shapes(self) -> ConvolveRequestV2:
        image = self.input if isinstance(self.input[0][0], list) else [self.input]
        kernel = self.kernel if isinstance(self.kernel[0][0], list) else [self.kernel]
        if any(len(row) != len(image[0][0]) for c in image for row in c) or any(len(c) != len(image[0]) for c in image):
            raise ValueError("input channels must all be the same size, with rows of equal length")
        size = len(kernel[0])
        if size > 7 or any(len(c) != size or any(len(row) != size for row in c) for c in kernel):
            raise ValueError("every kernel slice must be square, 1×1 to 7×7, and the same size")
        if len(kernel) != len(image):
            raise ValueError(f"the kernel has {len(kernel)} slices but the input has {len(image)} channels")
        self.input, self.kernel = image, kernel
        return self


class SizeV2(BaseModel):
    """An output size along one axis, with its formula for these numbers."""

    n: int
    f: int
    p: int
    s: int
    d: int
    exact: bool
    value: int
    formula: str


class Rounded(BaseModel):
    """One rounding of a pool's output size."""

    value: int
    formula: str


class PoolSizeV2(BaseModel):
    """A pool's output size along one axis, in floor and ceil mode."""

    n: int
    f: int
    p: int
    s: int
    d: int
    mode: Literal["floor", "ceil"]
    value: int
    floor: Rounded
    ceil: Rounded
    formula: str


class AxisSizes(BaseModel):
    """Rows and columns."""

    rows: SizeV2
    cols: SizeV2


class PoolAxisSizes(BaseModel):
    """Rows and columns of a pooled map."""

    rows: PoolSizeV2
    cols: PoolSizeV2


class PooledV2(BaseModel):
    """A pooled map with every window (half-open, clipped to the map pooled), its winner and its divisor."""

    type: Literal["max", "avg", "sum"]
    size: int
    stride: int
    padding: int
    dilation: int
    mode: Literal["floor", "ceil"]
    divisor: Literal["covered", "padded", "window"] | None
    shape: list[int]
    values: Map
    output_size: PoolAxisSizes
    windows: list[Box] = Field(description="row-major over the pooled cells")
    winners: list[Cell] | None = Field(description="max pooling: each window's largest cell, [y, x] in the map pooled")
    divisors: list[int] | None = Field(description="average pooling: what each window's sum is divided by")


class FlattenedV2(BaseModel):
    """The pooled (or activated) map as one vector, row-major."""

    values: list[float]
    source: Literal["pooled", "activated"]
    shape: list[int] = Field(description="[C, H, W] of the map flattened")
    order: str


class DropoutV2(BaseModel):
    """Dropout on the flattened vector, in training and in evaluation."""

    p: float
    seed: int
    scale: float = Field(description="1 / (1 − p): what a kept value is multiplied by in training")
    kept: list[int] = Field(description="1 where the value is kept in this training step")
    train: list[float]
    eval: list[float] = Field(description="evaluation: nothing dropped, nothing scaled")


class ConvolveResponseV2(BaseModel):
    """POST /api/v2/lab/convolve: every stage, one output channel."""

    input: Maps
    padded: Maps
    padding: int
    stride: int
    dilation: int
    kernel: Maps
    bias: float
    output_size: AxisSizes
    per_channel: Maps = Field(description="each input channel's products summed under its kernel slice")
    feature_map: Map = Field(description="the per-channel maps added, plus the bias")
    activation: str
    activated: Map
    activations: dict[str, Map] = Field(description="ReLU, leaky ReLU, tanh and sigmoid of the feature map")
    slope: float
    pooled: PooledV2 | None = None
    flattened: FlattenedV2
    dropout: DropoutV2


class Gradients(BaseModel):
    """Each loss's gradient with respect to each score."""

    cross_entropy: list[float] = Field(description="∂CE/∂zᵢ = pᵢ − yᵢ")
    mse: list[float] = Field(description="∂MSE/∂zⱼ through the softmax")


class SoftmaxResponseV2(SoftmaxResponse):
    """POST /api/v2/lab/softmax: softmax, both losses and both gradients."""

    gradients: Gradients  # type: ignore[assignment]


class ExampleV2(BaseModel):
    """A worked example: its input, kernel, settings and what it teaches."""

    title: str
    teaches: str
    input: Maps
    kernel: Maps
    bias: float
    stride: int
    padding: int
    dilation: int
    activation: str
    pool: dict[str, Any]


class PresetsV2(BaseModel):
    """GET /api/v2/lab/presets."""

    kernels: dict[str, list[list[float]]]
    examples: dict[str, ExampleV2]


class LayerRequest(InputV2):
    """Body of POST /api/v2/lab/layer: an input, a convolution or pooling layer, a channel, and what to change."""

    layer: Annotated[str, Field(min_length=1, max_length=300)]
    channel: int = Field(0, ge=0, le=100_000, description="output channel (conv) or channel (pool)")
    stride: int | None = Field(None, ge=1, le=8, description="instead of the layer's own")
    padding: int | None = Field(None, ge=0, le=10, description="instead of the layer's own (same on every side)")
    dilation: int | None = Field(None, ge=1, le=5, description="instead of the layer's own")
    mode: Literal["floor", "ceil"] | None = Field(None, description="pools: instead of the layer's own")
    divisor: Literal["covered", "padded", "window"] | None = Field(None, description="average pools")
    shown: Channels | None = Field(None, description="input channels to return maps of (conv; default the first 16)")


class LayerResponse(BaseModel):
    """POST /api/v2/lab/layer: the layer's real kernels on the real input it got, with the settings used."""

    model: str
    input_id: str
    layer: str
    kind: Literal["conv", "pool"]
    op: str
    source: str = Field(description="the layer whose output this layer reads")
    channel: int
    input_channels: Channels = Field(description="the input channels this output channel reads")
    shown: Channels = Field(description="the input channels whose maps are returned")
    input: Maps
    kernel: Maps | None = None
    per_channel: Maps | None = Field(None, description="conv: each shown input channel's products, summed per cell")
    channel_totals: list[float] | None = Field(None, description="conv: every input channel's map summed")
    bias: float | None = None
    pooled: PooledV2 | None = None
    feature_map: Map = Field(description="the output channel with the settings used")
    kernel_size: list[int]
    layer_settings: dict[str, Any] = Field(description="the layer's own stride, padding, dilation (and pool mode)")
    settings: dict[str, Any] = Field(description="the settings used here")
    output_size: dict[str, Any] = Field(description="rows and columns with their formulas")
    as_network: bool = Field(description="whether the settings are the layer's own")
    network: Map | None = Field(description="the network's own output channel (when the settings are its own)")
