"""Train the SignAvatar CVAE (``engine.learn.cvae``) on the lexicon's TRAIN split.

Every train-split clip (``CvaeTrainConfig.split``; all languages, all glosses) is one
example conditioned on its ``"lang:GLOSS"`` label. Clips longer than the model's
``max_frames`` are resampled in time to ``max_frames`` (a few real clips run to 268
frames; the median is 25). The curriculum mask ratio and the KL weight follow the
schedules in ``engine.learn.cvae``; both are a function of the step, which the shared
loop does not pass to ``step_loss``, so the trainer counts steps itself, starting from
the resume file's step when resuming.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
import torch

from engine.jobs import CancelToken, Progress, no_progress
from engine.learn.checkpoint import build_manifest, load_checkpoint
from engine.learn.config import SplitConfig, TrainConfig
from engine.learn.cvae import CVAE, KIND, CvaeConfig, curriculum_mask_ratio, encoder_record
from engine.learn.dataset import PACKAGE_DATA_LICENCE, data_version, load_records, split_records
from engine.learn.encoders import GlossEncoder, TextConditionEncoder, condition_text
from engine.learn.recognizer import pad_clips
from engine.learn.train_recognizer import fit_length
from engine.learn.training import TrainResult, resume_path, train


@dataclass(frozen=True)
class CvaeTrainConfig:
    """Everything a CVAE run depends on (the manifest's ``training``): the network
    (``model``; its ``cond_dim`` is set from the conditioning encoder), the loop, the
    split, and the KL and curriculum schedules. The defaults are the shipped model's."""

    model: CvaeConfig = field(default_factory=lambda: CvaeConfig(
        cond_dim=256, d_model=64, layers=3, heads=4, ff=128, latent=32, dropout=0.1,
        max_frames=64))
    train: TrainConfig = field(default_factory=lambda: TrainConfig(
        steps=1200, batch_size=32, lr=1e-3, weight_decay=1e-4, checkpoint_every=250))
    split: SplitConfig = field(default_factory=SplitConfig)
    kl_weight: float = 0.3
    #: Share of the run over which the KL weight ramps up from 0.
    kl_warmup: float = 0.3
    curriculum: bool = True
    data_licence: str = PACKAGE_DATA_LICENCE

    def kl_at(self, step: int) -> float:
        ramp = max(1.0, self.kl_warmup * self.train.steps)
        return self.kl_weight * min(1.0, step / ramp)


def train_cvae(source, out_path: str | Path, config: CvaeTrainConfig = CvaeTrainConfig(), *,
               encoder: TextConditionEncoder | None = None, resume: bool = False,
               progress: Progress = no_progress, cancel: CancelToken | None = None) -> TrainResult:
    """Train the CVAE on the train split of ``source`` and write ``out_path``.

    ``source``: a LexiconStore, a lexicon path or a list of ClipRecords. ``encoder``:
    the conditioning encoder (default: ``GlossEncoder()``, offline; a ``ClipEncoder``
    for CLIP conditioning). The manifest records the encoder (identity, dim, CLIP
    weights sha256) and the final reconstruction / KL losses. Suggested CLI:
    ``signstudio-cli train cvae --out assets/models/cvae.pt [--steps N] [--seed S]
    [--clip-weights PATH [--clip-model NAME]] [--resume]``.
    """
    encoder = encoder if encoder is not None else GlossEncoder()
    records = load_records(source)
    train_records, _ = split_records(records, config.split)
    if not train_records:
        raise ValueError("no training clips after the split")
    model_config = replace(config.model, cond_dim=encoder.dim)
    clips = [fit_length(torch.from_numpy(r.features), model_config.max_frames)
             for r in train_records]
    labels = [condition_text(r.gloss, r.language) for r in train_records]

    with torch.random.fork_rng(devices=[]):  # the initial weights follow the seed alone
        torch.manual_seed(config.train.seed)
        model = CVAE(model_config, encoder)
    stacked = torch.cat(clips)
    model.mean.copy_(stacked.mean(dim=0))
    model.std.copy_(stacked.std(dim=0).clamp(min=1e-3))
    conditions = model.condition(labels)
    normalised = [model.normalise(c) for c in clips]

    start = 0
    if resume and resume_path(out_path).exists():
        saved = load_checkpoint(resume_path(out_path))
        if saved.training_state is not None:
            start = int(saved.training_state["step"])
    counter = {"step": start}
    parts: dict[str, list[float]] = {"rec": [], "kl": []}

    def step_loss(net: CVAE, generator: torch.Generator) -> torch.Tensor:
        step = counter["step"]
        counter["step"] += 1
        chosen = torch.randint(0, len(clips), (config.train.batch_size,),
                               generator=generator).tolist()
        batch, valid = pad_clips([normalised[i] for i in chosen])
        ratio = curriculum_mask_ratio(step, config.train.steps) if config.curriculum else 0.0
        visible = valid.clone()
        if ratio > 0:
            hide = torch.rand(valid.shape, generator=generator) < ratio
            visible &= ~hide
            # Keep at least one frame of each clip in the encoder's view.
            empty = ~visible.any(dim=1)
            visible[empty, 0] = True
        loss, terms = net.loss(batch, valid, visible, conditions[chosen], config.kl_at(step), generator)
        for name, value in terms.items():
            parts[name].append(value)
        return loss

    def manifest(step: int, losses: list[float]) -> dict:
        recent = {name: float(np.mean(values[-50:])) for name, values in parts.items() if values}
        return build_manifest(
            KIND, model.config.to_dict(), data_version=data_version(train_records),
            data_licence=config.data_licence, seed=config.train.seed, step=step,
            metrics={"final_loss": float(np.mean(losses[-50:])) if losses else None,
                     **{f"final_{k}": v for k, v in recent.items()}},
            extra={"encoder": encoder_record(encoder),
                   "training": asdict(replace(config, model=model_config))})

    return train(model, step_loss, manifest, out_path, config.train, resume=resume,
                 progress=progress, cancel=cancel)
