"""Explain (issue 17): attribution on LeNet and a ResNet-18-shaped net at 224×224, and the data-set pass.

Server time of the core functions the routes call (the route adds parsing and encoding). Each figure is the best of
a few runs (least disturbed by other tenants); the long ResNet-18 runs are timed once. Interactive methods run as a
request does (one torch thread); the long ones (precise IG, ResNet-18's IG and occlusion, the data-set pass) as a
background job does, on the jobs thread's `job_threads` (default: every core).
"""

from __future__ import annotations

import sys
import time
import timeit
from collections.abc import Callable
from typing import Any

import torch

from app.core import attribution as A
from app.core import units as U
from app.core.models import builtin, from_module
from app.core.runtime import configure_torch, set_thread_threads
from app.core.samples import pixels
from app.core.samples import test_split as mnist_test
from app.paths import MODELS_DIR
from app.web.settings import Settings
from tests.support import nets

# (label, target in seconds)
TARGETS = {
    "lenet_gradient": 0.020,
    "lenet_gradient_x_input": 0.020,
    "lenet_gradcam": 0.020,
    "lenet_ig_32": 0.050,
    "lenet_ig_precise": 1.0,
    "resnet18_gradient": 0.5,
    "resnet18_gradcam": 0.5,
    "resnet18_ig_32": 6.0,
    "resnet18_occlusion": 30.0,
    "dataset_pass_10000": 30.0,
}


def _report(name: str, seconds: float) -> float:
    """One figure to stderr as soon as it is measured (the ResNet-18 runs take minutes on a busy machine)."""
    print(f"  explain {name}: {seconds:.4f} s", file=sys.stderr, flush=True)
    return seconds


def _best(fn: Callable[[], Any], repeat: int) -> float:
    return min(timeit.repeat(fn, number=1, repeat=repeat))


def _once(fn: Callable[[], Any]) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def bench_explain(quick: bool) -> dict[str, Any]:
    """Seconds per attribution (best of several; ResNet-18's long ones once) and per data-set pass."""
    configure_torch()
    job_threads = Settings().job_threads
    lenet = builtin(MODELS_DIR / "lenet.json").graph
    x = torch.from_numpy(pixels(0))[None, None]
    t = A.class_target(lenet, 7)
    r = 5 if quick else 20
    seconds: dict[str, float] = {
        "lenet_gradient": _report("lenet_gradient", _best(lambda: A.gradient(lenet, x, t), r)),
        "lenet_gradient_x_input": _report("lenet_gradient_x_input", _best(lambda: A.gradient_x_input(lenet, x, t), r)),
        "lenet_gradcam": _report("lenet_gradcam", _best(lambda: A.gradcam(lenet, x, t), r)),
        "lenet_ig_32": _report("lenet_ig_32", _best(lambda: A.integrated_gradients(lenet, x, t, steps=32), r)),
        "lenet_smoothgrad_16": _report("lenet_smoothgrad_16", _best(lambda: A.smoothgrad(lenet, x, t), r)),
        "lenet_occlusion_4_2": _report("lenet_occlusion_4_2", _best(lambda: A.occlusion(lenet, x, t), 3)),
        "lenet_guided_backprop": _report("lenet_guided_backprop", _best(lambda: A.guided_backprop(lenet, x, t), r)),
    }
    set_thread_threads(job_threads)  # from here on, what a background job runs
    seconds["lenet_ig_precise"] = _report(
        "lenet_ig_precise", _best(lambda: A.integrated_gradients(lenet, x, t, precise=True), 2 if quick else 3)
    )
    images = U.mnist_images(mnist_test().images, "mnist-test")
    seconds["dataset_pass_10000"] = _report("dataset_pass_10000", _once(lambda: U.dataset_pass(lenet, images)))
    net, big = nets.build("resnet18")
    resnet = from_module("resnet18", net, big).graph
    tr = A.Target(resnet.output, (3,))
    set_thread_threads(1)  # gradient and Grad-CAM answer a request directly
    seconds["resnet18_gradient"] = _report(
        "resnet18_gradient", _best(lambda: A.gradient(resnet, big, tr), 2 if quick else 3)
    )
    seconds["resnet18_gradcam"] = _report(
        "resnet18_gradcam", _best(lambda: A.gradcam(resnet, big, tr), 2 if quick else 3)
    )
    set_thread_threads(job_threads)
    seconds["resnet18_ig_32"] = _report(
        "resnet18_ig_32", _once(lambda: A.integrated_gradients(resnet, big, tr, steps=32))
    )
    stride = 16 if quick else 8
    seconds["resnet18_occlusion"] = _report(
        "resnet18_occlusion", _once(lambda: A.occlusion(resnet, big, tr, window=16, stride=stride))
    )
    return {
        "seconds": seconds,
        "targets": TARGETS,
        "occlusion": {"window": 16, "stride": stride, "windows": (-(-(224 - 16) // stride) + 1) ** 2},
        "threads": {"request": 1, "job": job_threads},
    }
