"""Train the evaluation recognizer (``engine.learn.recognizer``) on real lexicon clips.

Each (language, gloss) has one clip, so every training clip is seen many times under
augmentation (all seeded by the training loop's generator):

- **speed change**: resampled in time by a factor in [0.75, 1.33] (log-uniform), the
  spread of signing tempo between signers;
- **random crop**: a contiguous window of 75-100 % of the frames, so the class cannot
  hinge on an exact onset or offset;
- **noise**: Gaussian noise of ``noise`` (default 0.02) on every 6D entry, a few degrees
  of fitting jitter.

Only the TRAIN split (``RecognizerTrainConfig.split``: whole clips by hash, and every
clip of any held-out language) is used; the held-out accuracy written into the manifest
is measured on clips never seen.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
import torch

from engine.jobs import CancelToken, Progress, no_progress
from engine.learn.checkpoint import build_manifest
from engine.learn.config import SplitConfig, TrainConfig
from engine.learn.dataset import PACKAGE_DATA_LICENCE, data_version, load_records, split_records
from engine.learn.recognizer import (
    KIND, Recognizer, RecognizerConfig, RecognizerNet, gloss_class, pad_clips, vocabulary,
)
from engine.learn.training import TrainResult, train
from engine.metrics.generation import accuracy


@dataclass(frozen=True)
class RecognizerTrainConfig:
    """Everything a recognizer run depends on (the manifest's ``training``): the
    network (``model``; its ``classes`` are set from the data, the glosses shared by
    ``min_languages``), the loop, the split, and the augmentation. The defaults are
    the shipped model's."""

    model: RecognizerConfig = field(default_factory=lambda: RecognizerConfig(
        classes=(), width=128, embed_dim=32, dropout=0.2))
    train: TrainConfig = field(default_factory=lambda: TrainConfig(
        steps=3000, batch_size=32, lr=2e-3, weight_decay=1e-2, checkpoint_every=250))
    split: SplitConfig = field(default_factory=SplitConfig)
    min_languages: int = 8
    max_frames: int = 64
    noise: float = 0.02
    data_licence: str = PACKAGE_DATA_LICENCE


def fit_length(features: torch.Tensor, max_frames: int) -> torch.Tensor:
    """(T, D) -> (min(T, max_frames), D): long clips are time-resampled, not cut, so the
    whole sign (onset to held hand shape) stays in view."""
    if len(features) <= max_frames:
        return features
    return resample_time(features, max_frames)


def resample_time(features: torch.Tensor, length: int) -> torch.Tensor:
    """(T, D) -> (length, D) by linear interpolation in time (ends kept)."""
    if len(features) == 1:
        return features.expand(length, -1).clone()
    return torch.nn.functional.interpolate(features.T[None], size=length, mode="linear",
                                           align_corners=True)[0].T


def augment(features: torch.Tensor, generator: torch.Generator, noise: float) -> torch.Tensor:
    """One random speed change, crop and noise of a (T, D) clip (see the module docstring)."""
    speed = float(torch.exp(torch.empty(1).uniform_(np.log(0.75), np.log(1.33), generator=generator)))
    length = max(4, int(round(len(features) / speed)))
    clip = resample_time(features, length)
    keep = max(4, int(round(length * float(torch.empty(1).uniform_(0.75, 1.0, generator=generator)))))
    start = int(torch.randint(0, length - keep + 1, (1,), generator=generator))
    clip = clip[start:start + keep]
    return clip + noise * torch.randn(clip.shape, generator=generator)


def train_recognizer(source, out_path: str | Path, config: RecognizerTrainConfig = RecognizerTrainConfig(),
                     *, resume: bool = False, progress: Progress = no_progress,
                     cancel: CancelToken | None = None) -> TrainResult:
    """Train a recognizer on the train split of ``source`` and write ``out_path``.

    ``source``: a LexiconStore, a lexicon path or a list of ClipRecords. The manifest's
    ``metrics`` hold ``train_accuracy`` and ``held_out_accuracy`` (clean clips, no
    augmentation; the held-out one over held-out clips whose gloss is in the vocabulary,
    ``held_out_count`` of them). Suggested CLI: ``signstudio-cli train recognizer
    --out assets/models/recognizer.pt [--steps N] [--seed S] [--resume]``.
    """
    records = load_records(source)
    train_records, held = split_records(records, config.split)
    classes = vocabulary(train_records, config.min_languages)
    index = {name: i for i, name in enumerate(classes)}
    train_set = [r for r in train_records if gloss_class(r.gloss) in index]
    held_set = [r for r in held if gloss_class(r.gloss) in index]
    clips = [fit_length(torch.from_numpy(r.features), config.max_frames) for r in train_set]
    targets = torch.tensor([index[gloss_class(r.gloss)] for r in train_set])

    with torch.random.fork_rng(devices=[]):  # the initial weights follow the seed alone
        torch.manual_seed(config.train.seed)
        net = RecognizerNet(replace(config.model, classes=tuple(classes)))
    stacked = torch.cat(clips)
    net.mean.copy_(stacked.mean(dim=0))
    net.std.copy_(stacked.std(dim=0).clamp(min=1e-3))
    loss_fn = torch.nn.CrossEntropyLoss(label_smoothing=0.1)

    def step_loss(model: RecognizerNet, generator: torch.Generator) -> torch.Tensor:
        chosen = torch.randint(0, len(clips), (config.train.batch_size,), generator=generator)
        batch, mask = pad_clips([augment(clips[i], generator, config.noise) for i in chosen.tolist()])
        logits, _ = model(batch, mask)
        return loss_fn(logits, targets[chosen])

    def scores() -> dict:
        recognizer = Recognizer(net)
        out = {"train_accuracy": accuracy(recognizer.predict([r.features for r in train_set]),
                                          targets.numpy()),
               "train_count": len(train_set), "held_out_count": len(held_set)}
        if held_set:
            out["held_out_accuracy"] = accuracy(
                recognizer.predict([r.features for r in held_set]),
                [index[gloss_class(r.gloss)] for r in held_set])
        return out

    def manifest(step: int, losses: list[float]) -> dict:
        final = step >= config.train.steps
        metrics = {"final_loss": float(np.mean(losses[-20:])) if losses else None}
        if final:
            was_training = net.training
            net.eval()
            metrics.update(scores())
            net.train(was_training)
        return build_manifest(
            KIND, net.config.to_dict(), data_version=data_version(train_records),
            data_licence=config.data_licence, metrics=metrics, seed=config.train.seed,
            step=step, extra={"training": {**asdict(replace(config, model=net.config)),
                                           "label_space": (f"gloss shared by >= "
                                                           f"{config.min_languages} sign "
                                                           f"languages (NFC, upper-case)")}})

    return train(net, step_loss, manifest, out_path, config.train, resume=resume,
                 progress=progress, cancel=cancel)
