"""The convolution lab's JSON API: thin routes over app.lab."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from app.core import lab
from app.core.encoding import dumps
from app.web.dependencies import ExecutorDep
from app.web.errors import ApiError
from app.web.responses import ERRORS, json_response
from app.web.schemas.lab import ConvolveRequest, ConvolveResponse, Presets, SoftmaxRequest, SoftmaxResponse

router = APIRouter(prefix="/api/v1/lab", tags=["lab"])


@router.get("/presets", response_model=Presets)
def presets() -> Response:
    """Classic kernels (identity, sharpen, blur, edges, Sobel, emboss) and the worked examples."""
    return json_response({"kernels": lab.KERNELS, "examples": lab.EXAMPLES})


@router.post("/convolve", response_model=ConvolveResponse, responses=ERRORS)
async def convolve(body: ConvolveRequest, executor: ExecutorDep) -> Response:
    """Convolve one channel with a kernel (stride, padding), activate, pool and flatten: every map returned."""
    return Response(await executor.run(_convolve, body), media_type="application/json")


def _convolve(body: ConvolveRequest) -> bytes:
    try:
        result = lab.convolve(
            body.input,
            body.kernel,
            body.bias,
            body.stride,
            body.padding,
            body.activation,
            body.slope,
            lab.Pool(body.pool.type, body.pool.size, body.pool.stride),
        )
    except lab.LabError as exc:
        raise ApiError(422, "invalid_settings", str(exc)) from exc
    return dumps(result)


@router.post("/softmax", response_model=SoftmaxResponse, responses=ERRORS)
async def softmax(body: SoftmaxRequest, executor: ExecutorDep) -> Response:
    """Softmax of the scores, cross-entropy and mean squared error against the label."""
    return Response(await executor.run(_softmax, body), media_type="application/json")


def _softmax(body: SoftmaxRequest) -> bytes:
    try:
        return dumps(lab.softmax_losses(body.scores, body.label))
    except lab.LabError as exc:
        raise ApiError(422, "invalid_settings", str(exc)) from exc
