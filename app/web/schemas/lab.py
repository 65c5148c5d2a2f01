"""Pydantic models of the convolution lab's requests and responses."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

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
    sweep: dict[str, list[float]]
    note: str


class Presets(BaseModel):
    """Classic kernels and worked examples."""

    kernels: dict[str, list[list[float]]]
    examples: dict[str, dict[str, Any]]
