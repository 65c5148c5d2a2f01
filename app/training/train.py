"""Reproducible training of a declared architecture on MNIST, writing weights and a manifest."""

from __future__ import annotations

import copy
import datetime as dt
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from tqdm import tqdm

from app.core import robustness
from app.core.architectures import INPUT_SHAPE, build, count_parameters, describe, logits_part
from app.core.evaluate import evaluate, to_tensor
from app.core.mnist import RAW_MD5, load_split
from app.core.weights import Manifest, load_model, save_density, save_model
from app.training.augment import augment, in_words


@dataclass(frozen=True)
class TrainConfig:
    """Everything that determines a training run."""

    name: str = "lenet"
    architecture: str = "lenet"
    seed: int = 2026
    epochs: int = 50
    batch_size: int = 128
    lr: float = 3e-3
    weight_decay: float = 5e-4
    label_smoothing: float = 0.0  # smoothing caps confidence (a dot read at 94 %); temperature scaling calibrates
    ema_decay: float = 0.999
    threads: int = 2
    bn_recalibration_images: int = 4096
    holdout: int = 5000  # training images kept out for early stopping, temperature and the non-digit threshold
    cue_images_per_kind: int = 400  # generated non-digits of each kind for the cue's figures
    augment_p: float = 0.6  # share of training images distorted (more costs clean accuracy, fewer robustness)
    teacher: str = ""  # a trained model's manifest: the student also learns its softened answers (distillation)
    distill_weight: float = 0.5  # share of the loss that is the teacher's; the rest is cross-entropy on the labels
    distill_temperature: float = 4.0


def _ema_update(ema: torch.nn.Module, model: torch.nn.Module, decay: float) -> None:
    """Exponential moving average of the weights: a cheap ensemble over the last steps.

    Buffers (BatchNorm running statistics) are not averaged but copied, so the EMA copy never keeps its
    initial zeros/ones; `recalibrate_batchnorm` then measures statistics that fit the averaged weights.
    """
    with torch.no_grad():
        for e, p in zip(ema.parameters(), model.parameters(), strict=True):
            e.mul_(decay).add_(p, alpha=1.0 - decay)
        for eb, b in zip(ema.buffers(), model.buffers(), strict=True):
            eb.copy_(b)


def _batchnorms(model: torch.nn.Module) -> list[torch.nn.modules.batchnorm._BatchNorm]:
    """The model's BatchNorm layers."""
    return [m for m in model.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]


@torch.no_grad()
def recalibrate_batchnorm(
    model: torch.nn.Module,
    images: torch.Tensor,
    labels: torch.Tensor,
    gen: torch.Generator,
    count: int,
    batch_size: int,
    augment_p: float = 0.6,
) -> None:
    """Recompute BatchNorm running statistics for the model's current weights on `count` augmented training images.

    EMA weights are an average the trained net never ran with, so the net's running statistics do not fit them;
    this is the standard fix (as torch.optim.swa_utils.update_bn): an exact average over a pass of training batches.
    A model without BatchNorm is left alone and no random numbers are drawn.
    """
    bns = _batchnorms(model)
    if not bns:
        return
    momenta = [bn.momentum for bn in bns]
    for bn in bns:
        bn.reset_running_stats()
        bn.momentum = None  # cumulative average over all batches
    net = logits_part(model).train()
    pick = torch.randperm(len(images), generator=gen)[:count]
    for start in range(0, len(pick), batch_size):
        batch = pick[start : start + batch_size]
        net(augment(images[batch], labels[batch], gen, augment_p))  # (B, 10), only the statistics matter
    for bn, momentum in zip(bns, momenta, strict=True):
        bn.momentum = momentum
    model.eval()


def split_holdout(count: int, holdout: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Indices of the training part and the held-out part of the training set (a fixed random split)."""
    order = torch.randperm(count, generator=torch.Generator().manual_seed(seed + 1))
    return order[holdout:], order[:holdout]


def distillation_loss(student: torch.Tensor, teacher: torch.Tensor, temperature: float) -> torch.Tensor:
    """Hinton et al. (2015): KL(teacher ‖ student) of logits (B, 10) softened by the temperature, scaled by T²."""
    return (
        F.kl_div(
            F.log_softmax(student / temperature, 1),
            F.log_softmax(teacher / temperature, 1),
            reduction="batchmean",
            log_target=True,
        )
        * temperature**2
    )


def _teacher(config: TrainConfig) -> torch.nn.Module | None:
    """The teacher's class-score part in eval mode, loaded only if its weights match its manifest (or None)."""
    if not config.teacher:
        return None
    model, _ = load_model(Path(config.teacher))
    net = logits_part(model).eval()
    for p in net.parameters():
        p.requires_grad_(False)
    return net


@torch.no_grad()
def _holdout_accuracy(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    net = logits_part(model).eval()
    hits = sum(int((net(x[i : i + 1000]).argmax(1) == y[i : i + 1000]).sum()) for i in range(0, len(x), 1000))
    return hits / max(1, len(x))


def fit(
    config: TrainConfig, x_all: torch.Tensor, y_all: torch.Tensor, checkpoint: Path | None, progress: bool = True
) -> tuple[torch.nn.Module, dict[str, Any]]:
    """Train on all but the held-out images; return the EMA model of the best held-out epoch and a log.

    With a checkpoint path the state is saved after every epoch and a run resumes from it.
    """
    torch.set_num_threads(config.threads)
    torch.manual_seed(config.seed)
    gen = torch.Generator().manual_seed(config.seed)
    train_idx, hold_idx = split_holdout(len(x_all), config.holdout, config.seed)
    x_train, y_train = x_all[train_idx], y_all[train_idx]  # (N, 1, 28, 28), (N,)
    x_hold, y_hold = x_all[hold_idx], y_all[hold_idx]

    model = build(config.architecture)
    net = logits_part(model)  # shares the model's parameters
    teacher = _teacher(config)
    ema = copy.deepcopy(model).eval()
    steps_per_epoch = (len(x_train) + config.batch_size - 1) // config.batch_size
    optimizer = torch.optim.AdamW(net.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    schedule = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=config.lr, epochs=config.epochs, steps_per_epoch=steps_per_epoch, pct_start=0.2
    )
    log: dict[str, Any] = {"epochs": [], "best_epoch": 0, "seconds": 0.0}
    best_state = copy.deepcopy(ema.state_dict())
    best = -1.0
    start_epoch = 0
    if checkpoint is not None and checkpoint.is_file():
        state = torch.load(checkpoint, map_location="cpu", weights_only=True)
        if state["config"] == asdict(config):
            model.load_state_dict(state["model"])
            ema.load_state_dict(state["ema"])
            optimizer.load_state_dict(state["optimizer"])
            schedule.load_state_dict(state["schedule"])
            gen.set_state(state["gen"])
            best_state, best, log, start_epoch = state["best_state"], state["best"], state["log"], state["epoch"]
    started = time.perf_counter() - log["seconds"]
    for epoch in range(start_epoch, config.epochs):
        net.train()
        order = torch.randperm(len(x_train), generator=gen)
        bar = tqdm(range(steps_per_epoch), desc=f"epoch {epoch + 1}/{config.epochs}", disable=not progress, leave=False)
        running = 0.0
        for step in bar:
            idx = order[step * config.batch_size : (step + 1) * config.batch_size]
            xb = augment(x_train[idx], y_train[idx], gen, config.augment_p)  # (B, 1, 28, 28)
            logits = net(xb)  # (B, 10)
            loss = F.cross_entropy(logits, y_train[idx], label_smoothing=config.label_smoothing)
            if teacher is not None:
                with torch.no_grad():
                    taught = teacher(xb)  # (B, 10), the teacher's answer to the same distorted batch
                soft = distillation_loss(logits, taught, config.distill_temperature)
                loss = (1 - config.distill_weight) * loss + config.distill_weight * soft
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            schedule.step()
            _ema_update(ema, model, config.ema_decay)
            running = 0.98 * running + 0.02 * loss.item() if step else loss.item()
            bar.set_postfix(loss=f"{running:.4f}")
        probe = copy.deepcopy(ema)
        recalibrate_batchnorm(
            probe, x_train, y_train, gen, config.bn_recalibration_images, config.batch_size, config.augment_p
        )
        acc = _holdout_accuracy(probe, x_hold, y_hold)
        if acc >= best:  # ties go to the later, better-averaged epoch
            best, best_state, log["best_epoch"] = acc, copy.deepcopy(probe.state_dict()), epoch + 1
        log["seconds"] = round(time.perf_counter() - started, 1)
        log["epochs"].append({"epoch": epoch + 1, "loss": round(running, 5), "holdout_accuracy": acc})
        if progress:
            tqdm.write(f"epoch {epoch + 1}/{config.epochs}: loss {running:.4f}, held-out accuracy {acc:.4%}")
        if checkpoint is not None:
            checkpoint.parent.mkdir(parents=True, exist_ok=True)
            state = {
                "config": asdict(config),
                "model": model.state_dict(),
                "ema": ema.state_dict(),
                "optimizer": optimizer.state_dict(),
                "schedule": schedule.state_dict(),
                "gen": gen.get_state(),
                "best_state": best_state,
                "best": best,
                "log": log,
                "epoch": epoch + 1,
            }
            torch.save(state, checkpoint.with_suffix(".tmp"))
            checkpoint.with_suffix(".tmp").replace(checkpoint)
    final = build(config.architecture)
    final.load_state_dict(best_state)
    return final.eval(), log


def _taught_by(config: TrainConfig) -> str:
    """The teacher's name and SHA-256 for the manifest, read once from its manifest ("" without a teacher)."""
    if not config.teacher:
        return ""
    teacher = Manifest.read(Path(config.teacher))
    return f", distilled from {teacher.name} (SHA-256 {teacher.sha256}) on the same distorted batches"


def finalize(
    model: torch.nn.Module,
    config: TrainConfig,
    log: dict[str, Any],
    x_hold: torch.Tensor,
    y_hold: torch.Tensor,
    test_split: Any,
    out_dir: Path,
) -> Manifest:
    """Calibrate on the held-out images, measure test, stress suite and cue, and write weights plus manifest."""
    result = evaluate(model, test_split)
    cal, held = robustness.calibrate(model, x_hold, y_hold.numpy())
    stress_figures = robustness.stress_report(model, test_split, cal.temperature)
    cue = robustness.cue_report(model, test_split, cal, config.cue_images_per_kind)
    if cal.density is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
        cue["density_file"], cue["density_sha256"] = save_density(cal.density, out_dir, config.name)
    recalibrated = bool(_batchnorms(model))
    manifest = Manifest(
        name=config.name,
        architecture=config.architecture,
        input_shape=list(INPUT_SHAPE),
        layers=describe(model),
        parameters=count_parameters(model),
        test_accuracy=result.accuracy,
        test_errors=result.errors,
        test_total=result.total,
        training=dict(
            asdict(config),
            seconds=log["seconds"],
            best_epoch=log["best_epoch"],
            holdout_accuracy=[e["holdout_accuracy"] for e in log["epochs"]],
            augmentation=in_words(config.augment_p),
            optimizer="AdamW + one-cycle LR, EMA of weights, the EMA of the best held-out epoch kept"
            + (", BatchNorm statistics recomputed for the EMA weights" if recalibrated else "")
            + _taught_by(config),
            dataset_md5=RAW_MD5,
            torch=torch.__version__,
            finished=dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        ),
        weights_file=f"{config.name}.pt",
        sha256="",
        temperature=cal.temperature,
        cue=cue,
        calibration={
            "method": "temperature scaling, NLL on the held-out training images",
            **held,
            "test_ece_before": stress_figures["test_ece_before"],
            "test_ece_after": stress_figures["test_ece_after"],
            "stress_ece_before": stress_figures["ece_before"],
            "stress_ece_after": stress_figures["ece_after"],
        },
        stress=stress_figures,
    )
    return save_model(model, manifest, out_dir)


def train(
    config: TrainConfig, data_dir: Path, out_dir: Path, progress: bool = True, checkpoint: Path | None = None
) -> Manifest:
    """Train on MNIST's training set minus a held-out split, calibrate, measure and write `<name>.pt` + `.json`."""
    train_split = load_split(data_dir, "train")
    test_split = load_split(data_dir, "test")
    x_all = to_tensor(train_split.images)  # (60000, 1, 28, 28)
    y_all = torch.from_numpy(train_split.labels.astype(np.int64))
    model, log = fit(config, x_all, y_all, checkpoint, progress)
    _, hold_idx = split_holdout(len(x_all), config.holdout, config.seed)
    return finalize(model, config, log, x_all[hold_idx], y_all[hold_idx], test_split, out_dir)


def calibrate_shipped(manifest_path: Path, data_dir: Path, config: TrainConfig | None = None) -> Manifest:
    """Give an existing model (weights unchanged) a temperature, the non-digit cue and stress figures.

    For weights trained before the held-out split existed, the split's images were seen in training: the manifest
    says so, and every figure it reports (ECE, stress, cue AUROC/FPR) is still measured on MNIST test.
    """
    model, manifest = load_model(manifest_path)
    config = config or TrainConfig(name=manifest.name, architecture=manifest.architecture)
    train_split = load_split(data_dir, "train")
    test_split = load_split(data_dir, "test")
    _, hold_idx = split_holdout(len(train_split.labels), config.holdout, config.seed)
    x_hold = to_tensor(train_split.images[hold_idx.numpy()])  # (5000, 1, 28, 28)
    y_hold = train_split.labels[hold_idx.numpy()].astype(np.int64)
    cal, held = robustness.calibrate(model, x_hold, y_hold)
    figures = robustness.stress_report(model, test_split, cal.temperature)
    manifest.cue = robustness.cue_report(model, test_split, cal, config.cue_images_per_kind)
    if cal.density is not None:
        manifest.cue["density_file"], manifest.cue["density_sha256"] = save_density(
            cal.density, manifest_path.parent, manifest.name
        )
    manifest.temperature = cal.temperature
    seen = manifest.training.get("holdout") is None
    manifest.calibration = {
        "method": "temperature scaling, NLL on the held-out training images"
        + (" (seen in training: these weights predate the split)" if seen else ""),
        "holdout_seen_in_training": seen,
        **held,
        "test_ece_before": figures["test_ece_before"],
        "test_ece_after": figures["test_ece_after"],
        "stress_ece_before": figures["ece_before"],
        "stress_ece_after": figures["ece_after"],
    }
    manifest.stress = figures
    manifest.write(manifest_path)
    return manifest
