"""Measure a trained digit model beyond MNIST test: calibration, the non-digit cue and the stress suite."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

from app.core import calibration, nondigits, stress
from app.core.architectures import logits_part
from app.core.evaluate import to_tensor
from app.core.mnist import Split


def cue_layer(model: nn.Module) -> str | None:
    """The layer whose features the cue models: the activation after fc1, or a residual net's pooled vector."""
    if isinstance(model, nn.Sequential):
        names = [name for name, _ in model.named_children()]
        if "fc1" in names:
            return names[names.index("fc1") + 1]
        return None
    return "flatten" if isinstance(getattr(model, "flatten", None), nn.Flatten) else None


@torch.inference_mode()
def features_of(model: nn.Module, layer: str, images: torch.Tensor, batch_size: int = 1000) -> np.ndarray:
    """The named submodule's output (N, F) for images (N, 1, 28, 28)."""
    net = logits_part(model).eval()
    seen: list[torch.Tensor] = []  # local to this call: the hook is removed before returning
    handle = model.get_submodule(layer).register_forward_hook(lambda _m, _i, out: seen.append(out.flatten(1)))
    try:
        for i in range(0, len(images), batch_size):
            net(images[i : i + batch_size])
    finally:
        handle.remove()
    return torch.cat(seen).numpy()


def scores_of(model: nn.Module, cal: calibration.Calibration, images: torch.Tensor) -> np.ndarray:
    """The cue's score for images (N, 1, 28, 28)."""
    logits = stress.logits_of(model, images)
    features = features_of(model, cal.density.layer, images) if cal.density is not None else None
    return calibration.digit_score(logits, features, cal)


def calibrate(model: nn.Module, images: torch.Tensor, labels: np.ndarray) -> tuple[calibration.Calibration, dict]:
    """Temperature and cue from held-out training images (N, 1, 28, 28) with labels (N,), and their figures."""
    logits = stress.logits_of(model, images)
    temperature = calibration.fit_temperature(logits, labels)
    layer = cue_layer(model)
    if layer is None:
        e = calibration.energy(logits)
        spread = (float(e.mean()), float(e.std()), 0.0, 1.0)
        base = calibration.Calibration(temperature, 0.0, None, spread)
        cal = calibration.Calibration(
            temperature, calibration.threshold_at_tpr(calibration.digit_score(logits, None, base)), None, spread
        )
    else:
        cal = calibration.fit_cue(logits, features_of(model, layer, images), labels, layer, temperature)
    figures = {
        "holdout_nll_before": calibration.nll(logits, labels),
        "holdout_nll_after": calibration.nll(logits, labels, temperature),
        "holdout_images": len(labels),
    }
    return cal, figures


def cue_report(model: nn.Module, test: Split, cal: calibration.Calibration, per_kind: int = 400) -> dict[str, Any]:
    """AUROC and false-positive rates of the cue's score, MNIST test digits against generated non-digits."""
    threshold = cal.threshold
    digits = scores_of(model, cal, to_tensor(test.images))
    generated = nondigits.generate(per_kind)
    scores = {kind: scores_of(model, cal, torch.from_numpy(images).unsqueeze(1)) for kind, images in generated.items()}
    others = np.concatenate(list(scores.values()))
    return {
        "score": "standardised energy logsumexp(logits) + standardised Mahalanobis score of "
        + (cal.density.layer if cal.density else "(none)"),
        "layer": cal.density.layer if cal.density else None,
        "spread": list(cal.spread),
        "threshold": threshold,
        "auroc": calibration.auroc(digits, others),
        "fpr_at_95_tpr": calibration.fpr_at_tpr(digits, others),
        "tpr_at_threshold": float((digits >= threshold).mean()),
        "fpr_at_threshold": float((others >= threshold).mean()),
        "fpr_at_threshold_by_kind": {kind: float((s >= threshold).mean()) for kind, s in scores.items()},
        "non_digits": len(others),
    }


def stress_report(model: nn.Module, test: Split, temperature: float) -> dict[str, Any]:
    """Per-family and per-class accuracy, and ECE before/after temperature scaling, on MNIST test and the suite."""
    x = to_tensor(test.images)  # (10000, 1, 28, 28)
    labels = test.labels.astype(np.int64)
    clean = stress.logits_of(model, x)
    results = stress.run(model, x, labels)
    all_logits = np.concatenate([r.logits for r in results])
    all_labels = np.concatenate([r.labels for r in results])
    overall_class = stress.per_class_accuracy(all_logits.argmax(1), all_labels)

    def ece(logits: np.ndarray, y: np.ndarray, t: float) -> float:
        return calibration.expected_calibration_error(calibration.softmax(logits, t), y)

    return {
        "seed": stress.SEED,
        "held_out": stress.HELD_OUT,
        "families": {
            r.family: {
                "description": stress.DESCRIPTIONS[r.family],
                "accuracy": r.accuracy,
                "per_class": r.per_class,
                "ece_before": ece(r.logits, r.labels, 1.0),
                "ece_after": ece(r.logits, r.labels, temperature),
            }
            for r in results
        },
        "overall_accuracy": float((all_logits.argmax(1) == all_labels).mean()),
        "overall_per_class": overall_class,
        "ece_before": ece(all_logits, all_labels, 1.0),
        "ece_after": ece(all_logits, all_labels, temperature),
        "test_ece_before": ece(clean, labels, 1.0),
        "test_ece_after": ece(clean, labels, temperature),
    }
