"""A sign recognizer trained apart from the generators, for Acc / FID / Diversity / MM.

SignAvatar and its protocol (ACTOR, MDM) score generated motion with a
classifier trained separately on real data; its penultimate layer is the feature space
of FID, Diversity and Multimodality (``engine.metrics.generation``).

**Label space.** Each (sign language, gloss) pair of the lexicon has exactly ONE clip, so
a classifier over "lang:GLOSS" labels could never be tested on a clip it did not train
on: a held-out clip's label would be unseen. The class here is the *gloss shared across
sign languages*: the Latin letters A..Z are spelled in 14-16 of the 19 languages, mostly
of the French-derived one-handed family, with related hand shapes. ``vocabulary`` keeps
the glosses (Unicode NFC, upper-cased: gsg's "ä" is "Ä") that at least
``min_languages`` languages share in the training clips; on the real lexicon with the
default 8 that is exactly A..Z. Acc then asks "does this clip look like an 'A' as the
other languages sign it?", which a held-out clip (or a clip generated for a held-out
label) can answer; languages whose letter differs (Turkish two-handed, Swedish) make it
hard, and the real held-out clips' own accuracy is the reference a generator is compared
with. Clips of other glosses (Greek, Cyrillic, Arabic letters, digraphs) are outside
this closed vocabulary and are not scored.

**Network.** Input: (B, T, 264) sign6d features (``engine.learn.features``), normalised
by the training set's per-dimension mean/std (stored as buffers, so they travel with the
checkpoint). Three dilated temporal convolutions (receptive field 29 frames, ~1.2 s at
25 fps) -> masked mean and max pooling over time -> a ``embed_dim`` layer (the metric
feature, after GELU) -> class logits. Small on purpose: ~350 training clips.
"""
from __future__ import annotations

import unicodedata
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Annotated

import numpy as np
import torch
from pydantic import Field
from torch import nn

from engine.learn.checkpoint import build_checked, checked_config, load_checkpoint
from engine.learn.dataset import ClipRecord
from engine.learn.features import FEATURE_DIM
from engine.learn.schema import FORBID_UNKNOWN_FIELDS, Dropout, Kernel, Names, Width

KIND = "recognizer"


def gloss_class(gloss: str) -> str:
    """The recognizer's class name of a gloss: Unicode NFC, upper-cased, stripped."""
    return unicodedata.normalize("NFC", gloss).strip().upper()


def label_gloss(label: str) -> str:
    """The gloss part of a ``"lang:GLOSS"`` label (the whole string if there is no ':')."""
    return label.split(":", 1)[1] if ":" in label else label


def vocabulary(records: Sequence[ClipRecord], min_languages: int = 8) -> list[str]:
    """Sorted class names: glosses (``gloss_class``) found in >= ``min_languages`` languages."""
    languages: dict[str, set[str]] = defaultdict(set)
    for record in records:
        languages[gloss_class(record.gloss)].add(record.language)
    classes = sorted(c for c, langs in languages.items() if len(langs) >= min_languages)
    if len(classes) < 2:
        raise ValueError(f"recognizer vocabulary: fewer than 2 glosses are shared by "
                         f"{min_languages} or more languages in these {len(records)} clips; "
                         f"lower min_languages or add data")
    return classes


@dataclass(frozen=True)
class RecognizerConfig:
    """Network shape. ``classes``: the class names, in logit order."""

    __pydantic_config__ = FORBID_UNKNOWN_FIELDS

    classes: Annotated[Names, Field(min_length=1)]
    width: Width = 128
    embed_dim: Width = 32
    dropout: Dropout = 0.2
    kernel: Kernel = 5

    def to_dict(self) -> dict:
        return {**asdict(self), "classes": list(self.classes)}


class RecognizerNet(nn.Module):
    """(B, T, 264) features + (B, T) valid mask -> (logits (B, C), embedding (B, embed_dim))."""

    def __init__(self, config: RecognizerConfig):
        super().__init__()
        self.config = config
        self.register_buffer("mean", torch.zeros(FEATURE_DIM))
        self.register_buffer("std", torch.ones(FEATURE_DIM))
        width, k = config.width, config.kernel
        self.input_dropout = nn.Dropout(config.dropout)
        self.convs = nn.ModuleList([
            nn.Conv1d(FEATURE_DIM, width, k, padding=k // 2),
            nn.Conv1d(width, width, k, padding=2 * (k // 2), dilation=2),
            nn.Conv1d(width, width, k, padding=4 * (k // 2), dilation=4)])
        self.norms = nn.ModuleList([nn.GroupNorm(8, width) for _ in self.convs])
        self.embed = nn.Sequential(nn.Linear(2 * width, config.embed_dim), nn.GELU())
        self.head = nn.Sequential(nn.Dropout(config.dropout),
                                  nn.Linear(config.embed_dim, len(config.classes)))

    def forward(self, features: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = (features - self.mean) / self.std
        x = self.input_dropout(x).transpose(1, 2)  # (B, D, T)
        valid = mask[:, None, :].to(x.dtype)
        for index, (conv, norm) in enumerate(zip(self.convs, self.norms)):
            # Zero the padding before every convolution so padded frames never leak in.
            y = torch.nn.functional.gelu(norm(conv(x * valid)))
            x = y if index == 0 else x + y
        count = valid.sum(dim=2).clamp(min=1.0)
        mean = (x * valid).sum(dim=2) / count
        peak = x.masked_fill(valid == 0, float("-inf")).amax(dim=2)
        embedding = self.embed(torch.cat([mean, peak], dim=1))
        return self.head(embedding), embedding


def pad_clips(clips: Sequence[np.ndarray | torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
    """List of (T_i, D) -> padded (B, max T, D) float32 and (B, max T) bool valid mask."""
    if not len(clips):
        raise ValueError("expected at least one clip")
    tensors = [torch.as_tensor(np.asarray(c) if not isinstance(c, torch.Tensor) else c,
                               dtype=torch.float32) for c in clips]
    for i, tensor in enumerate(tensors):
        if tensor.ndim != 2 or tensor.shape[1] != FEATURE_DIM or len(tensor) == 0:
            raise ValueError(f"clip {i}: expected features of shape (F>=1, {FEATURE_DIM}), "
                             f"got {tuple(tensor.shape)}")
    longest = max(len(t) for t in tensors)
    batch = torch.zeros(len(tensors), longest, FEATURE_DIM)
    mask = torch.zeros(len(tensors), longest, dtype=torch.bool)
    for i, tensor in enumerate(tensors):
        batch[i, :len(tensor)] = tensor
        mask[i, :len(tensor)] = True
    return batch, mask


class Recognizer:
    """A trained recognizer: class names, metric features and predictions for clips.

    Every method takes a list of (F, 264) sign6d feature arrays at 25 fps (any F >= 1).
    """

    def __init__(self, net: RecognizerNet, manifest: dict | None = None):
        self.net = net.eval()
        self.manifest = manifest or {}
        self.classes: tuple[str, ...] = net.config.classes
        self._index = {name: i for i, name in enumerate(self.classes)}

    def class_index(self, label_or_gloss: str) -> int | None:
        """Class index of a ``"lang:GLOSS"`` label or a gloss; None when out of vocabulary."""
        return self._index.get(gloss_class(label_gloss(label_or_gloss)))

    @torch.no_grad()
    def _run(self, clips: Sequence[np.ndarray], batch_size: int = 64) -> tuple[np.ndarray, np.ndarray]:
        logits, embeddings = [], []
        for start in range(0, len(clips), batch_size):
            batch, mask = pad_clips(clips[start:start + batch_size])
            out, embedding = self.net(batch, mask)
            logits.append(out.numpy())
            embeddings.append(embedding.numpy())
        return np.concatenate(logits), np.concatenate(embeddings)

    def features(self, clips: Sequence[np.ndarray]) -> np.ndarray:
        """(N, embed_dim) float32 penultimate-layer features (the FID / Div / MM space)."""
        return self._run(list(clips))[1]

    def predict(self, clips: Sequence[np.ndarray]) -> np.ndarray:
        """(N,) int class indices into ``classes``."""
        return self._run(list(clips))[0].argmax(axis=1)

    def features_and_predictions(self, clips: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        logits, embeddings = self._run(list(clips))
        return embeddings, logits.argmax(axis=1)


def load_recognizer(path: str | Path) -> Recognizer:
    """Read a ``kind="recognizer"`` checkpoint (verified, weights_only) as a Recognizer.

    Raises CheckpointError naming the file for a missing, foreign, tampered or
    mismatched checkpoint, or a config that does not describe a recognizer.
    """
    checkpoint = load_checkpoint(path, kind=KIND)
    config = checked_config(checkpoint, RecognizerConfig, checkpoint.config)
    return Recognizer(build_checked(checkpoint, lambda: RecognizerNet(config)), checkpoint.manifest)
