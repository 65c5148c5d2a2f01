"""API v2's engine: capture vs the eager model, a ResNet-18 prediction vs forward + decode, memory over uploads."""

from __future__ import annotations

import io
import json
import sys
import time
from typing import Any

import httpx2 as httpx
import numpy as np
import torch
from PIL import Image

from app.core import answers
from app.core.captures import CaptureCache
from app.core.models import builtin, builtins, from_module
from app.core.preprocess import preprocess_colour
from app.core.runtime import configure_torch
from app.core.weights import load_model
from app.paths import MODELS_DIR
from tests.support import nets
from tests.support.live_server import rss_kib, server_process


def _best(fn: Any, number: int, repeat: int = 7) -> float:
    """Seconds per call: the minimum over repeats."""
    import timeit

    return min(timeit.repeat(fn, number=number, repeat=repeat)) / number


def _photo(seed: int, side: int = 256) -> bytes:
    """A distinct colour JPEG, like a user's upload."""
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 255, (8, 8, 3), dtype=np.uint8)
    image = Image.fromarray(base).resize((side, side), Image.Resampling.BICUBIC)
    buf = io.BytesIO()
    image.save(buf, format="JPEG", quality=90)
    return buf.getvalue()


def _ratios(model: torch.nn.Module, graph_capture: Any, x: torch.Tensor, number: int) -> dict[str, float]:
    def plain() -> None:
        with torch.inference_mode():
            model(x)

    plain(), graph_capture(x)  # warm-up
    forward, capture = _best(plain, number), _best(lambda: graph_capture(x), number)
    return {"forward_ms": forward * 1e3, "capture_ms": capture * 1e3, "ratio": capture / forward}


def bench_graph(quick: bool) -> dict[str, Any]:
    """Capture ratios (LeNet, ResNet-18 at 3×224×224), full predict vs forward + decode, RSS over uploads."""
    configure_torch()
    lenet = builtin(builtins(MODELS_DIR)[0])
    eager_lenet, _ = load_model(builtins(MODELS_DIR)[0])
    out: dict[str, Any] = {
        "lenet": _ratios(eager_lenet, lenet.graph.capture, torch.rand(1, 1, 28, 28), 300 if quick else 3000)
    }
    net, x = nets.build("resnet18")
    resnet = from_module("resnet18", net, x)
    out["resnet18"] = _ratios(net, resnet.graph.capture, x, 3 if quick else 10)
    cache = CaptureCache(256 * 1024 * 1024)
    n = 3 if quick else 10
    photos = [_photo(i) for i in range(8 * n + 2)]  # every call a new upload: no capture is found in the cache
    counter = iter(range(10**9))

    def eager_path() -> None:
        pre = preprocess_colour(photos[next(counter) % len(photos)], (3, 224, 224))
        with torch.inference_mode():
            net(torch.from_numpy(pre.input)[None])

    def full_path() -> None:
        pre = preprocess_colour(photos[next(counter) % len(photos)], (3, 224, 224))
        key, capture = answers.run(resnet, torch.from_numpy(pre.input)[None], cache)
        answers.predict(resnet, pre, key, capture, [], None, False)

    eager_path(), full_path()
    plain = _best(eager_path, n)
    counter = iter(range(2, 10**9))  # the same uploads as the eager path, each new to the full path
    full = _best(full_path, n)
    out["resnet18_predict"] = {"forward_decode_ms": plain * 1e3, "predict_ms": full * 1e3, "ratio": full / plain}
    out["memory"] = _memory(150 if quick else 1000)
    return out


def _memory(uploads: int) -> dict[str, Any]:
    """RSS of a server looking inside ResNet-18 over distinct uploads (the capture cache fills, then holds)."""
    args = ("--model", "tests.support.nets:resnet18", "--input", "3x224x224", "--name", "resnet18")
    with server_process(args=args, timeout=180) as (url, proc), httpx.Client(base_url=url, timeout=120) as api:
        rss = []
        started = time.perf_counter()
        for i in range(uploads):
            r = api.post(
                "/api/v2/predict?model=resnet18&layers=",
                content=_photo(10_000 + i),
                headers={"content-type": "image/jpeg"},
            )
            if r.status_code != 200:
                raise RuntimeError(r.text)
            if i in (uploads // 5, uploads - 1):
                rss.append(rss_kib(proc.pid))
        seconds = time.perf_counter() - started
    return {
        "uploads": uploads,
        "rss_after_fifth_kib": rss[0],
        "rss_end_kib": rss[1],
        "growth": (rss[1] - rss[0]) / rss[0],
        "seconds": seconds,
    }


if __name__ == "__main__":
    print(json.dumps(bench_graph("--quick" in sys.argv), indent=2))
