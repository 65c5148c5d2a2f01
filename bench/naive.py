"""The naive reference: forward hooks, tensor.tolist() and FastAPI's default JSON response.

What a straightforward implementation looks like; kept only to measure convscope against. The route returns a
plain dict with no response model, so FastAPI takes its default path: jsonable_encoder, then stdlib json.
Serve with: uvicorn bench.naive:app --port 8001
"""

from __future__ import annotations

import torch
from fastapi import FastAPI
from pydantic import BaseModel

from app.core.registry import Registry

registry = Registry.load()
model = registry.get(None).model
app = FastAPI()


class Body(BaseModel):
    pixels: list[list[float]]


@app.post("/api/v1/predict")
def predict(body: Body):  # type: ignore[no-untyped-def]  # unannotated on purpose: FastAPI's default encoding
    captured: dict[str, torch.Tensor] = {}
    hooks = [
        m.register_forward_hook(lambda _m, _i, out, name=name: captured.__setitem__(name, out.detach()))
        for name, m in model.named_children()
    ]
    try:
        x = torch.tensor(body.pixels, dtype=torch.float32).view(1, 1, 28, 28)
        with torch.no_grad():
            probs = model(x)[0]
    finally:
        for h in hooks:
            h.remove()
    return {
        "prediction": int(probs.argmax()),
        "probabilities": probs.tolist(),
        "layers": [
            {"name": n, "shape": list(t.shape[1:]), "values": t[0].flatten().tolist()} for n, t in captured.items()
        ],
    }
