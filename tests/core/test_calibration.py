"""Calibration measures and the non-digit cue, each against a direct or brute-force computation."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

from app.core import calibration as cal
from app.core import nondigits


def test_ece_equals_a_direct_computation() -> None:
    rng = np.random.default_rng(0)
    logits = rng.normal(0, 3, (500, 10))
    labels = rng.integers(0, 10, 500)
    p = cal.softmax(logits)
    bins: dict[int, list[tuple[float, bool]]] = {}
    for row, label in zip(p, labels, strict=True):
        conf = float(row.max())
        b = next(i for i in range(15) if conf <= (i + 1) / 15)  # bin i holds (i/15, (i+1)/15]
        bins.setdefault(b, []).append((conf, int(row.argmax()) == int(label)))
    direct = sum(
        len(v) / 500 * abs(sum(c for _, c in v) / len(v) - sum(f for f, _ in v) / len(v)) for v in bins.values()
    )
    assert cal.expected_calibration_error(p, labels) == pytest.approx(direct, abs=1e-12)


def test_softmax_energy_and_nll_match_torch() -> None:
    z = np.random.default_rng(1).normal(0, 5, (20, 10))
    t = torch.from_numpy(z)
    np.testing.assert_allclose(cal.softmax(z, 1.7), torch.softmax(t / 1.7, 1).numpy(), atol=1e-12)
    np.testing.assert_allclose(cal.energy(z), torch.logsumexp(t, 1).numpy(), atol=1e-12)
    y = np.arange(20) % 10
    expected = torch.nn.functional.cross_entropy(t / 0.6, torch.from_numpy(y)).item()
    assert cal.nll(z, y, 0.6) == pytest.approx(expected, abs=1e-10)


def test_fitted_temperature_minimises_nll_on_held_out_logits() -> None:
    """Overconfident logits (true scale × 3) get T ≈ 3, and the NLL drops to the grid's minimum."""
    rng = np.random.default_rng(2)
    base = rng.normal(0, 1, (4000, 10))
    labels = np.array([rng.choice(10, p=row) for row in cal.softmax(base)])
    logits = base * 3
    fit, held = slice(0, 2000), slice(2000, 4000)
    t = cal.fit_temperature(logits[fit], labels[fit])
    assert t == pytest.approx(3.0, rel=0.15)
    assert cal.nll(logits[held], labels[held], t) < cal.nll(logits[held], labels[held]) - 0.1
    grid = min(cal.nll(logits[fit], labels[fit], g) for g in np.linspace(0.5, 6, 400))
    assert cal.nll(logits[fit], labels[fit], t) <= grid + 1e-9


def brute_auroc(pos: np.ndarray, neg: np.ndarray) -> float:
    wins = sum(1.0 if p > n else 0.5 if p == n else 0.0 for p, n in itertools.product(pos, neg))
    return wins / (len(pos) * len(neg))


def test_auroc_and_fpr_against_brute_force() -> None:
    rng = np.random.default_rng(3)
    for _ in range(5):
        pos = rng.integers(0, 30, 60).astype(float)  # integers: many ties
        neg = rng.integers(-10, 20, 45).astype(float)
        assert cal.auroc(pos, neg) == pytest.approx(brute_auroc(pos, neg), abs=1e-12)
        # Brute force: the largest candidate threshold that keeps ≥ 95 % of the positives.
        t = max(c for c in np.unique(pos) if (pos >= c).mean() >= 0.95)
        assert cal.threshold_at_tpr(pos) == t
        assert cal.fpr_at_tpr(pos, neg) == pytest.approx((neg >= t).mean())


def test_cue_names_the_runner_up_only_when_unsure() -> None:
    c = cal.Calibration(temperature=2.0, threshold=5.0)
    sure = cal.cue(np.array([20.0, 0, 0, 0, 0, 0, 0, 0, 0, 0]), c)
    assert sure["looks_like_digit"] and not sure["unsure"] and sure["runner_up"] is None
    assert sure["score"] == pytest.approx(float(torch.logsumexp(torch.tensor([20.0] + [0.0] * 9), 0)))
    close = cal.cue(np.array([6.0, 5.5, 0, 0, 0, 0, 0, 0, 0, 0]), c)
    assert close["unsure"] and close["runner_up"]["index"] == 1
    np.testing.assert_allclose(close["probabilities"], cal.softmax(np.array([6.0, 5.5] + [0.0] * 8), 2.0))
    faint = cal.cue(np.full(10, 0.1), c)
    assert not faint["looks_like_digit"] and faint["unsure"] and faint["runner_up"] is not None


def test_non_digits_are_deterministic_and_framed() -> None:
    a, b = nondigits.generate(6, seed=5), nondigits.generate(6, seed=5)
    assert list(a) == list(nondigits.KINDS)
    for kind in nondigits.KINDS:
        np.testing.assert_array_equal(a[kind], b[kind])
        assert a[kind].shape == (6, 28, 28) and a[kind].max() > 0.5
        rows, cols = np.nonzero(a[kind].max(0) > 0.05)
        assert rows.min() >= 1 and rows.max() <= 26 and cols.min() >= 1 and cols.max() <= 26
    assert not set(nondigits.LETTERS) & set("OoQDIiljJLTZzSsbGBgq"), "no letter that passes for a digit"
