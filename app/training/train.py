"""Reproducible training of a declared architecture on MNIST, writing weights and a manifest."""

from __future__ import annotations

import copy
import datetime as dt
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from tqdm import tqdm

from app.core.architectures import INPUT_SHAPE, build, count_parameters, describe, logits_part
from app.core.evaluate import evaluate, to_tensor
from app.core.mnist import RAW_MD5, load_split
from app.core.weights import Manifest, save_model
from app.training.augment import augment


@dataclass(frozen=True)
class TrainConfig:
    """Everything that determines a training run."""

    name: str = "lenet"
    architecture: str = "lenet"
    seed: int = 2026
    epochs: int = 30
    batch_size: int = 128
    lr: float = 3e-3
    weight_decay: float = 5e-4
    label_smoothing: float = 0.05
    ema_decay: float = 0.999
    threads: int = 2
    bn_recalibration_images: int = 4096


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
    model: torch.nn.Module, images: torch.Tensor, gen: torch.Generator, count: int, batch_size: int
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
        net(augment(images[pick[start : start + batch_size]], gen))  # (B, 10), only the statistics matter
    for bn, momentum in zip(bns, momenta, strict=True):
        bn.momentum = momentum
    model.eval()


def train(config: TrainConfig, data_dir: Path, out_dir: Path, progress: bool = True) -> Manifest:
    """Train, evaluate on the test set and write `<name>.pt` plus `<name>.json` into out_dir."""
    torch.set_num_threads(config.threads)
    torch.manual_seed(config.seed)
    gen = torch.Generator().manual_seed(config.seed)
    train_split = load_split(data_dir, "train")
    test_split = load_split(data_dir, "test")
    x_all = to_tensor(train_split.images)  # (60000, 1, 28, 28)
    y_all = torch.from_numpy(train_split.labels.astype(np.int64))

    model = build(config.architecture)
    net = logits_part(model)  # shares the model's parameters
    ema = copy.deepcopy(model).eval()
    steps_per_epoch = (len(x_all) + config.batch_size - 1) // config.batch_size
    optimizer = torch.optim.AdamW(net.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    schedule = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=config.lr, epochs=config.epochs, steps_per_epoch=steps_per_epoch, pct_start=0.2
    )
    started = time.perf_counter()
    for epoch in range(config.epochs):
        net.train()
        order = torch.randperm(len(x_all), generator=gen)
        bar = tqdm(range(steps_per_epoch), desc=f"epoch {epoch + 1}/{config.epochs}", disable=not progress, leave=False)
        running = 0.0
        for step in bar:
            idx = order[step * config.batch_size : (step + 1) * config.batch_size]
            xb = augment(x_all[idx], gen)
            loss = F.cross_entropy(net(xb), y_all[idx], label_smoothing=config.label_smoothing)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            schedule.step()
            _ema_update(ema, model, config.ema_decay)
            running = 0.98 * running + 0.02 * loss.item() if step else loss.item()
            bar.set_postfix(loss=f"{running:.4f}")
        if progress:
            acc = evaluate(ema, test_split).accuracy
            tqdm.write(f"epoch {epoch + 1}/{config.epochs}: loss {running:.4f}, EMA test accuracy {acc:.4%}")
    final = ema
    recalibrated = bool(_batchnorms(final))
    recalibrate_batchnorm(final, x_all, gen, config.bn_recalibration_images, config.batch_size)
    seconds = time.perf_counter() - started

    result = evaluate(final, test_split)
    manifest = Manifest(
        name=config.name,
        architecture=config.architecture,
        input_shape=list(INPUT_SHAPE),
        layers=describe(final),
        parameters=count_parameters(final),
        test_accuracy=result.accuracy,
        test_errors=result.errors,
        test_total=result.total,
        training=dict(
            asdict(config),
            seconds=round(seconds, 1),
            augmentation="rotation ±12°, scale 0.85–1.12, shift ±2.5 px, stroke thickening/thinning (85 % of samples)",
            optimizer="AdamW + one-cycle LR, EMA of weights"
            + (", BatchNorm statistics recomputed for the EMA weights" if recalibrated else ""),
            dataset_md5=RAW_MD5,
            torch=torch.__version__,
            finished=dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        ),
        weights_file=f"{config.name}.pt",
        sha256="",
    )
    return save_model(final, manifest, out_dir)
