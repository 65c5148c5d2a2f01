"""Pydantic models of API v2: any CNN, one coordinate convention ([c, y, x]; boxes {"rows", "cols"}, half-open)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue, model_validator

from app.web.schemas.visualiser import Confidence, EncodedArray

Number = Annotated[float, Field(allow_inf_nan=False, strict=True, ge=-1e6, le=1e6)]
Nested = list[Number] | list[list[Number]] | list[list[list[Number]]]
LayerName = Annotated[str, Field(min_length=1, max_length=300)]


class TensorInput(BaseModel):
    """Numbers already in the model's input space (after normalisation), fed as they are."""

    model_config = ConfigDict(extra="forbid")

    dtype: Literal["float32"]
    shape: list[Annotated[int, Field(ge=1, le=100_000)]] = Field(min_length=3, max_length=3, description="[C, H, W]")
    data: str = Field(min_length=1, description="base64 of the little-endian float32 values, row-major")


class InputV2(BaseModel):
    """Exactly one input: an encoded image, a tensor, nested pixel lists, or the id of a recent capture."""

    model_config = ConfigDict(extra="forbid")

    image: str | None = Field(None, min_length=1, description="base64 image bytes or a data URL")
    tensor: TensorInput | None = None
    pixels: Nested | None = Field(None, description="[C][H][W] numbers in the model's input space ([H][W] if C = 1)")
    input_id: str | None = Field(
        None, min_length=1, max_length=64, description="from an earlier answer; 409 capture_expired if no longer held"
    )

    @model_validator(mode="after")
    def _exactly_one(self) -> InputV2:
        given = [k for k in ("image", "tensor", "pixels", "input_id") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of 'image', 'tensor', 'pixels' or 'input_id'")
        return self


# A blank 28×28 digit: valid for the shipped LeNets (?model=lenet), whose input is 1×28×28.
_BLANK: list[JsonValue] = [[0.0] * 28 for _ in range(28)]


class PredictRequestV2(InputV2):
    """Body of POST /api/v2/predict as JSON."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"pixels": _BLANK, "layers": ["conv1", "softmax"]}]})

    layers: list[LayerName] | None = Field(
        None, max_length=10_000, description="layer names; ['*'] for all; [] for none; default by size"
    )


class TraceRequestV2(InputV2):
    """Body of POST /api/v2/trace as JSON: an input and the unit to explain."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"pixels": _BLANK, "layer": "conv2", "index": [3, 4, 5]}]}
    )

    layer: LayerName
    index: list[Annotated[int, Field(strict=True)]] = Field(
        min_length=1, max_length=3, description="[c, y, x] on maps, [i] on vectors"
    )
    top: int = Field(10, ge=1, le=1000, strict=True, description="how many linear contributions to list")
    mask: bool = Field(False, strict=True, description="include each field's exact cell mask")


class InputInfo(BaseModel):
    """What a model takes and how an image becomes it."""

    shape: list[int]
    preprocess: Literal["mnist", "image"]
    mean: list[float] | None
    std: list[float] | None


class ModelSummaryV2(BaseModel):
    """A served model."""

    name: str
    title: str
    source: Literal["builtin", "export", "factory", "python"]
    default: bool
    input: InputInfo
    labels: list[str] | None
    layers: int
    values: int = Field(description="values one input produces across all layers")
    parameters: int
    accuracy: float | None
    sha256: str | None
    gallery: int = Field(0, description="images in the model's gallery (GET /api/v2/gallery)")


class ModelListV2(BaseModel):
    """GET /api/v2/models."""

    default: str
    models: list[ModelSummaryV2]


class WeightInfo(BaseModel):
    """A tensor a layer reads."""

    name: str
    key: str
    shape: list[int]


class LayerInfoV2(BaseModel):
    """One layer of a graph."""

    name: str
    op: str
    kind: str
    role: Literal["input", "hidden", "logits", "probabilities"]
    module: str = Field(description="path of the module whose call produced the layer")
    module_type: str
    inputs: list[str]
    shape: list[int] = Field(description="[C, H, W] for maps, [N] for vectors; no batch dimension")
    params: dict[str, Any]
    parameters: int
    weights: list[WeightInfo]


class ModelInfoV2(ModelSummaryV2):
    """GET /api/v2/model: the layers in graph order and the edges between them."""

    output: str
    layers: list[LayerInfoV2]  # type: ignore[assignment]
    edges: list[list[str]] = Field(description="[from, to] layer names")


class Box(BaseModel):
    """Half-open rows and columns, clipped to the layer: a[rows[0]:rows[1], cols[0]:cols[1]]."""

    rows: list[int] = Field(min_length=2, max_length=2)
    cols: list[int] = Field(min_length=2, max_length=2)


class FieldV2(BaseModel):
    """A unit's receptive field in one earlier layer."""

    layer: str
    known: bool = Field(description="false where an op without a rule hides the field")
    box: Box | None = Field(description="bounding box on maps; null on vectors or when unknown")
    channels: list[int] | None = Field(description="channels (maps) or units (vectors) reached; null for all")
    dense: bool | None = Field(description="whether the field fills its box (strided or dilated ops leave holes)")
    mask: list[list[int]] | None = Field(None, description="on request: 1 where a cell is reached, any channel")


class Ranked(BaseModel):
    """A class with its probability."""

    index: int
    label: str
    probability: float


class StepV2(BaseModel):
    """One preprocessing stage as an image."""

    name: str
    description: str
    shape: list[int]
    png: str


class LayerValuesV2(BaseModel):
    """A layer's values for the input, flat in row-major order of `shape`."""

    name: str
    kind: str
    shape: list[int]
    channels: list[int] = Field(description="[start, stop) of the channels returned")
    values: list[float] | EncodedArray


class PredictResponseV2(BaseModel):
    """POST /api/v2/predict."""

    model: str
    input_id: str
    input: InputInfo
    output: str
    prediction: Ranked | None
    top: list[Ranked]
    probabilities: list[float] | None
    confidence: Confidence | None = Field(
        default=None, description="calibrated probabilities and the non-digit cue (shipped digit models)"
    )
    steps: list[StepV2]
    layers: list[LayerValuesV2]


class GradientV2(BaseModel):
    """d unit / d input."""

    shape: list[int]
    channels: list[list[list[float]]] = Field(description="per input channel, [C][H][W]")
    combined: list[list[float]] = Field(description="summed over channels, [H][W]")


class TraceResponseV2(BaseModel):
    """POST /api/v2/trace."""

    model: str
    input_id: str
    layer: str
    kind: str
    op: str
    index: list[int]
    value: float
    inputs: list[str]
    fields: list[FieldV2]
    computation: dict[str, Any] = Field(description="the unit's arithmetic; fields depend on the kind")
    gradient: GradientV2


class LayerWeights(BaseModel):
    """GET /api/v2/weights: the tensors one layer reads."""

    model: str
    layer: str
    weights: list[dict[str, Any]]


class GalleryImage(BaseModel):
    """One image of a model's gallery."""

    id: int = Field(description="its place in the gallery; GET /api/v2/gallery/{id}.png?model= fetches it")
    label: str | None = Field(description="its class (a folder's subfolder name), if known")
    label_index: int | None = Field(description="that class's index among the model's labels, if it is one")
    name: str = Field(description="a folder image's path inside the folder; otherwise where it comes from")
    png: str = Field(description="URL of the image as the model receives it (resized and cropped, before mean/std)")


class GalleryV2(BaseModel):
    """A model's demo images: generated held-out shapes, MNIST test digits, or the --dataset folder."""

    model: str
    source: Literal["folder", "shapes", "mnist"] | None = Field(description="where the images come from; null: none")
    images: list[GalleryImage]
