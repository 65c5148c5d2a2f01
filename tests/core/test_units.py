"""Unit cards checked by brute force: every image through the eager model, then argsort; the disk cache; feature
visualisation reproducible and effective."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from app.core import units as U
from app.core.fields import fields
from app.core.graph import CapturedGraph
from app.core.models import builtin, from_module
from app.core.samples import test_split as mnist_test
from app.core.weights import load_model
from app.paths import MODELS_DIR
from tests.support import nets

N = 600  # a slice of the test set keeps the brute force quick; the full pass is timed in bench/


@cache
def lenet_case() -> tuple[nn.Sequential, U.TensorImages, U.Statistics, dict[str, np.ndarray]]:
    module, _ = load_model(MODELS_DIR / "lenet.json")
    assert isinstance(module, nn.Sequential)
    images = U.mnist_images(mnist_test().images[:N], "mnist-test-600")
    stats = U.dataset_pass(builtin(MODELS_DIR / "lenet.json").graph, images, batch=128)
    brute: dict[str, np.ndarray] = {}
    with torch.no_grad():
        x = images.tensor
        for name, child in module.named_children():
            x = child(x)
            brute[name] = x.numpy()  # (N, *shape)
    return module, images, stats, brute


def graph() -> CapturedGraph:
    return builtin(MODELS_DIR / "lenet.json").graph


def test_peaks_positions_and_moments_equal_brute_force() -> None:
    _, _, stats, brute = lenet_case()
    assert stats.count == N
    for name, values in brute.items():
        if values.ndim == 4:
            flat = values.reshape(N, values.shape[1], -1)
            np.testing.assert_allclose(stats.peak[name], flat.max(axis=2), rtol=1e-5, atol=1e-6)
            at = np.take_along_axis(flat, stats.where[name][..., None].astype(np.int64), axis=2)[..., 0]
            np.testing.assert_allclose(at, flat.max(axis=2), rtol=1e-5, atol=1e-6)  # the peak is where it says
        else:
            np.testing.assert_allclose(stats.peak[name], values, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(stats.mean[name], values.mean(0), rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(stats.std[name], values.std(0), rtol=1e-3, atol=1e-4)
        np.testing.assert_allclose(stats.low[name], values.min(0), rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(stats.high[name], values.max(0), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(("layer", "channel"), [("conv2", 3), ("relu1", 5), ("fc1", 17)])
def test_top_k_equals_a_brute_force_argsort_and_crops_to_the_field(layer: str, channel: int) -> None:
    _, images, stats, brute = lenet_case()
    values = brute[layer]
    score = values.reshape(N, values.shape[1], -1).max(axis=2)[:, channel] if values.ndim == 4 else values[:, channel]
    expected = np.argsort(-score, kind="stable")[:9]
    top = U.top_images(graph(), stats, images, layer, channel, k=9)
    assert [t["index"] for t in top] == expected.tolist()
    for t in top:
        unit = tuple(t["unit"])
        assert values[(t["index"], *unit)] == pytest.approx(t["value"], rel=1e-5)
        box = fields(graph(), layer, unit)[0].box()
        assert box is not None and t["box"] == {"rows": list(box[0]), "cols": list(box[1])}
        (r0, r1), (c0, c1) = box
        np.testing.assert_array_equal(t["crop"], images[t["index"]][:, r0:r1, c0:c1].numpy())


def test_per_unit_ranking_equals_a_brute_force_argsort() -> None:
    _, images, _, brute = lenet_case()
    top = U.top_images_for_unit(graph(), images, "conv2", (3, 2, 7), k=5)
    expected = np.argsort(-brute["conv2"][:, 3, 2, 7], kind="stable")[:5]
    assert [t["index"] for t in top] == expected.tolist()


def test_card_reports_the_value_the_distribution_and_the_top_images() -> None:
    _, images, stats, brute = lenet_case()
    card = U.card(graph(), stats, images, "fc3", (7,), value=2.0, k=4)
    assert card["count"] == N and card["distribution"]["counts"].sum() == N
    assert card["percentile"] == pytest.approx(float((brute["fc3"][:, 7] < 2.0).mean() * 100))
    assert card["unit_statistics"]["mean"] == pytest.approx(float(brute["fc3"][:, 7].mean()), rel=1e-4)
    assert len(card["top"]) == 4
    with pytest.raises(U.UnitsError, match="outside"):
        U.card(graph(), stats, images, "conv2", (16, 0, 0))


def test_statistics_are_cached_on_disk_under_the_model_hash(tmp_path: Path) -> None:
    images = U.mnist_images(mnist_test().images[:50], "mnist-test-50")
    seen: list[int] = []
    first = U.statistics(
        graph(), images, sha256="ab" * 32, dataset=images.name, cache_dir=tmp_path, progress=lambda d, t: seen.append(d)
    )
    assert seen[-1] == 50
    assert U.cache_path(tmp_path, "ab" * 32, images.name).is_file()

    def must_not_run(done: int, total: int) -> None:
        raise AssertionError("recomputed instead of read from the cache")

    again = U.statistics(
        graph(), images, sha256="ab" * 32, dataset=images.name, cache_dir=tmp_path, progress=must_not_run
    )
    for name in first.peak:
        np.testing.assert_array_equal(first.peak[name], again.peak[name])


def test_a_plain_iterable_gives_the_same_statistics() -> None:
    net, x = nets.build("colour_lenet")
    g = from_module("colour", net, x).graph
    data = torch.rand(40, 3, 24, 40, generator=torch.Generator().manual_seed(0))
    from_tensor = U.dataset_pass(g, U.TensorImages("t", data), batch=16)
    from_iterable = U.dataset_pass(g, iter(list(data.split(7))), batch=16)  # uneven batches of (B, C, H, W)
    with torch.no_grad():
        out = net(data).numpy()
    np.testing.assert_allclose(from_iterable.peak[g.output], out, rtol=1e-5, atol=1e-6)
    for name in from_tensor.peak:
        np.testing.assert_allclose(from_iterable.peak[name], from_tensor.peak[name], rtol=1e-6, atol=1e-6)


def test_feature_visualisation_is_reproducible_and_excites_the_unit() -> None:
    module, _ = load_model(MODELS_DIR / "lenet.json")
    g = graph()
    a = U.feature_visualisation(g, "conv2", 3, steps=48, seed=1)
    b = U.feature_visualisation(g, "conv2", 3, steps=48, seed=1)
    np.testing.assert_array_equal(a["pixels"], b["pixels"])
    assert a["pixels"].shape == (1, 28, 28) and a["pixels"].min() >= 0 and a["pixels"].max() <= 1
    with torch.no_grad():  # the reported value is the channel's mean on the returned image, by a plain forward
        expected = float(module[:4](torch.from_numpy(a["pixels"])[None])[0, 3].mean())  # type: ignore[index]
    assert a["value"] == pytest.approx(expected, rel=1e-4, abs=1e-5)
    assert a["value"] > a["history"][0] + 0.2
    assert all(p.grad is None for p in g.module.parameters())  # no weight's gradient written
    colour_net, x = nets.build("colour_lenet")
    colour = U.feature_visualisation(from_module("c", colour_net, x).graph, "3", 2, (2, 3, 4), steps=16)
    assert colour["pixels"].shape == (3, 24, 40)
