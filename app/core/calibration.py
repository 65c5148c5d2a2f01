"""Honest confidence: temperature scaling, expected calibration error and the "looks like a digit" score.

The network's logits stay raw; calibrated probabilities are softmax(logits / T) with T fitted on training images
held out of training. The non-digit cue adds two standardised scores: the energy logsumexp(logits) (Liu et al.
2020; digits the model knows give large logits) and the Mahalanobis score of a hidden layer's features under
class-conditional Gaussians with one shared covariance (Lee et al. 2018; strokes and dots give features no digit
class has). Each is standardised by its mean and spread on held-out training digits, and the threshold keeps 95 %
of those digits, so no non-digit is used to fit or threshold the cue.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

UNSURE_BELOW = 0.9  # calibrated top probability under which an answer names the runner-up
TPR = 0.95  # share of real digits the non-digit threshold keeps


def log_softmax(logits: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    """log softmax(logits / T) along the last axis, in float64."""
    z = np.asarray(logits, dtype=np.float64) / temperature
    z = z - z.max(-1, keepdims=True)
    return z - np.log(np.exp(z).sum(-1, keepdims=True))


def softmax(logits: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    """softmax(logits / T) along the last axis."""
    return np.exp(log_softmax(logits, temperature))


def nll(logits: np.ndarray, labels: np.ndarray, temperature: float = 1.0) -> float:
    """Mean negative log-likelihood of the labels under softmax(logits / T)."""
    lp = log_softmax(logits, temperature)
    return float(-lp[np.arange(len(labels)), labels].mean())


def fit_temperature(logits: np.ndarray, labels: np.ndarray, low: float = 0.05, high: float = 20.0) -> float:
    """The T in [low, high] that minimises the NLL (golden-section search on log T; NLL is unimodal in T)."""
    a, b = math.log(low), math.log(high)
    ratio = (math.sqrt(5) - 1) / 2
    c, d = b - ratio * (b - a), a + ratio * (b - a)
    fc, fd = nll(logits, labels, math.exp(c)), nll(logits, labels, math.exp(d))
    for _ in range(80):
        if fc < fd:
            b, d, fd = d, c, fc
            c = b - ratio * (b - a)
            fc = nll(logits, labels, math.exp(c))
        else:
            a, c, fc = c, d, fd
            d = a + ratio * (b - a)
            fd = nll(logits, labels, math.exp(d))
    return math.exp((a + b) / 2)


def expected_calibration_error(probabilities: np.ndarray, labels: np.ndarray, bins: int = 15) -> float:
    """ECE: over equal-width confidence bins, the share-weighted |accuracy − mean confidence| of the top class."""
    confidence = probabilities.max(1)
    correct = probabilities.argmax(1) == labels
    edges = np.linspace(0.0, 1.0, bins + 1)
    # Bin i holds confidences in (edges[i], edges[i + 1]]; confidence is never 0 for a softmax.
    which = np.clip(np.searchsorted(edges, confidence, side="left") - 1, 0, bins - 1)
    total = 0.0
    for i in range(bins):
        inside = which == i
        if inside.any():
            total += inside.mean() * abs(correct[inside].mean() - confidence[inside].mean())
    return float(total)


def energy(logits: np.ndarray) -> np.ndarray:
    """Negative free energy logsumexp(logits) per row: higher means more like the digits the model learned."""
    z = np.asarray(logits, dtype=np.float64)
    top = z.max(-1)
    return top + np.log(np.exp(z - top[..., None]).sum(-1))


def auroc(positives: np.ndarray, negatives: np.ndarray) -> float:
    """Area under the ROC curve: P(score of a positive > score of a negative), ties counting half (Mann–Whitney)."""
    scores = np.concatenate([positives, negatives])
    order = scores.argsort(kind="mergesort")
    ranks = np.empty(len(scores), dtype=np.float64)
    ranks[order] = np.arange(1, len(scores) + 1)
    # Tied scores share the mean of their ranks.
    _, inverse, counts = np.unique(scores, return_inverse=True, return_counts=True)
    sums = np.zeros(len(counts))
    np.add.at(sums, inverse, ranks)
    ranks = (sums / counts)[inverse]
    n_pos, n_neg = len(positives), len(negatives)
    return float((ranks[:n_pos].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def threshold_at_tpr(positives: np.ndarray, tpr: float = TPR) -> float:
    """The largest threshold t with at least `tpr` of the positives scoring ≥ t."""
    ordered = np.sort(positives)[::-1]
    return float(ordered[math.ceil(tpr * len(ordered)) - 1])


def fpr_at_tpr(positives: np.ndarray, negatives: np.ndarray, tpr: float = TPR) -> float:
    """Share of negatives scoring ≥ the threshold that keeps `tpr` of the positives."""
    return float((negatives >= threshold_at_tpr(positives, tpr)).mean())


@dataclass(frozen=True)
class Density:
    """Class-conditional Gaussians with one shared covariance over a hidden layer's features (N, F)."""

    layer: str
    means: np.ndarray  # (10, F)
    precision: np.ndarray  # (F, F), inverse of the shared covariance

    @classmethod
    def fit(cls, layer: str, features: np.ndarray, labels: np.ndarray, ridge: float = 1e-2) -> Density:
        """Class means and the pooled covariance (plus ridge·I: dead ReLU units make it singular)."""
        f = np.asarray(features, dtype=np.float64)
        means = np.stack([f[labels == c].mean(0) for c in range(10)])
        centred = f - means[labels]
        covariance = centred.T @ centred / len(f) + ridge * np.eye(f.shape[1])
        return cls(layer, means, np.linalg.inv(covariance))

    def score(self, features: np.ndarray) -> np.ndarray:
        """−(smallest squared Mahalanobis distance to a class mean) per row: higher is more digit-like."""
        d = np.asarray(features, dtype=np.float64).reshape(len(features), 1, -1) - self.means[None]  # (N, 10, F)
        return -np.einsum("nci,ij,ncj->nc", d, self.precision, d).min(1)


@dataclass(frozen=True)
class Calibration:
    """A shipped model's temperature and non-digit cue, as its manifest states them."""

    temperature: float
    threshold: float
    density: Density | None = None
    # Mean and standard deviation of the energy and the density score on held-out training digits.
    spread: tuple[float, float, float, float] = (0.0, 1.0, 0.0, 1.0)


def digit_score(logits: np.ndarray, features: np.ndarray | None, cal: Calibration) -> np.ndarray:
    """The cue's score per row: standardised energy plus standardised density score (energy alone without one)."""
    e_mean, e_std, d_mean, d_std = cal.spread
    score = (energy(logits) - e_mean) / e_std
    if cal.density is not None and features is not None:
        score = score + (cal.density.score(features) - d_mean) / d_std
    return np.asarray(score)


def fit_cue(
    logits: np.ndarray, features: np.ndarray, labels: np.ndarray, layer: str, temperature: float
) -> Calibration:
    """Fit the density and the standardisation on held-out digits; threshold at 95 % of them."""
    density = Density.fit(layer, features, labels)
    e, d = energy(logits), density.score(features)
    spread = (float(e.mean()), float(e.std()), float(d.mean()), float(d.std()))
    unthresholded = Calibration(temperature, 0.0, density, spread)
    threshold = threshold_at_tpr(digit_score(logits, features, unthresholded))
    return Calibration(temperature, threshold, density, spread)


def of_manifest(temperature: float, cue: dict[str, Any], density: Density | None) -> Calibration | None:
    """The calibration a manifest carries, or None for a manifest from before calibration."""
    threshold = cue.get("threshold")
    if threshold is None:
        return None
    spread = [float(v) for v in cue.get("spread", (0.0, 1.0, 0.0, 1.0))]
    return Calibration(float(temperature), float(threshold), density, (spread[0], spread[1], spread[2], spread[3]))


def cue(logits: np.ndarray, cal: Calibration, features: np.ndarray | None = None) -> dict[str, Any]:
    """What an answer says about one input's logits (10,) and cue-layer features: calibrated probabilities, the cue
    and the runner-up."""
    temperature, threshold = cal.temperature, cal.threshold
    logits = np.asarray(logits, dtype=np.float64).reshape(1, -1)
    probabilities = softmax(logits, temperature)[0]
    order = np.argsort(-probabilities)
    feats = None if features is None else np.asarray(features, dtype=np.float64).reshape(1, -1)
    score = float(digit_score(logits, feats, cal)[0])
    looks = score >= threshold
    unsure = bool(probabilities[order[0]] < UNSURE_BELOW or not looks)
    runner = {"index": int(order[1]), "probability": float(probabilities[order[1]])} if unsure else None
    return {
        "temperature": temperature,
        "probabilities": [float(p) for p in probabilities],
        "confidence": float(probabilities[order[0]]),
        "score": score,
        "threshold": threshold,
        "looks_like_digit": bool(looks),
        "unsure": unsure,
        "runner_up": runner,
    }
