"""Train the evaluation recognizer (``engine.learn.recognizer``) on real lexicon clips.

Each (language, gloss) has one clip, so every training clip is seen many times under
augmentation (all seeded by the training loop's generator):

- **speed change**: resampled in time by a factor in [0.75, 1.33] (log-uniform), the
  spread of signing tempo between signers;
- **random crop**: a contiguous window of 75-100 % of the frames, so the class cannot
  hinge on an exact onset or offset;
- **noise**: Gaussian noise of ``noise`` (default 0.02) on every 6D entry, a few degrees
  of fitting jitter.

Only the TRAIN split (``split_clips``, whole clips by hash; or ``split_languages``) is
used; the held-out accuracy written into the manifest is measured on clips never seen.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch

from engine.jobs import CancelToken, Progress, no_progress
from engine.learn.checkpoint import build_manifest
from engine.learn.dataset import PACKAGE_DATA_LICENCE, data_version, load_records, split_records
from engine.learn.recognizer import (KIND, Recognizer, RecognizerConfig, RecognizerNet,
                                     gloss_class, pad_clips, vocabulary)
from engine.learn.training import TrainConfig, TrainResult, train
from engine.metrics.generation import accuracy

@dataclass(frozen=True)
class RecognizerTrainConfig:
    """Everything a recognizer run depends on (recorded in the manifest)."""

    steps: int = 3000
    lr: float = 2e-3
    weight_decay: float = 1e-2
    batch_size: int = 32
    width: int = 128
    embed_dim: int = 32
    dropout: float = 0.2
    min_languages: int = 8
    held_out_fraction: float = 0.15
    held_out_langs: tuple[str, ...] = ()
    max_frames: int = 64
    noise: float = 0.02
    seed: int = 0
    checkpoint_every: int = 250
    data_licence: str = PACKAGE_DATA_LICENCE

    def train_config(self) -> TrainConfig:
        return TrainConfig.short_warmup(self.steps, self.lr, self.weight_decay, self.seed,
                                        self.checkpoint_every)


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
    --lexicon PATH --out assets/models/recognizer.pt [--steps N] [--seed S] [--resume]``.
    """
    records = load_records(source)
    train_records, held = split_records(records, config.held_out_fraction, config.held_out_langs)
    classes = vocabulary(train_records, config.min_languages)
    index = {name: i for i, name in enumerate(classes)}
    train_set = [r for r in train_records if gloss_class(r.gloss) in index]
    held_set = [r for r in held if gloss_class(r.gloss) in index]
    clips = [fit_length(torch.from_numpy(r.features), config.max_frames) for r in train_set]
    targets = torch.tensor([index[gloss_class(r.gloss)] for r in train_set])

    with torch.random.fork_rng(devices=[]):  # the initial weights follow the seed alone
        torch.manual_seed(config.seed)
        net = RecognizerNet(RecognizerConfig(classes=tuple(classes), width=config.width,
                                             embed_dim=config.embed_dim, dropout=config.dropout))
    stacked = torch.cat(clips)
    net.mean.copy_(stacked.mean(dim=0))
    net.std.copy_(stacked.std(dim=0).clamp(min=1e-3))
    loss_fn = torch.nn.CrossEntropyLoss(label_smoothing=0.1)

    def step_loss(model: RecognizerNet, generator: torch.Generator) -> torch.Tensor:
        chosen = torch.randint(0, len(clips), (config.batch_size,), generator=generator)
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
        final = step >= config.steps
        metrics = {"final_loss": float(np.mean(losses[-20:])) if losses else None}
        if final:
            was_training = net.training
            net.eval()
            metrics.update(scores())
            net.train(was_training)
        return build_manifest(
            KIND, net.config.to_dict(), data_version=data_version(train_records),
            data_licence=config.data_licence, metrics=metrics, seed=config.seed, step=step,
            extra={"training": {**asdict(config), "label_space": (
                f"gloss shared by >= {config.min_languages} sign languages (NFC, upper-case)")}})

    return train(net, step_loss, manifest, out_path, config.train_config(), resume=resume,
                 progress=progress, cancel=cancel)
