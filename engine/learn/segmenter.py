"""Finding signs in a continuous recording, and placing keyframes on them (SignSparK's FAST).

A small temporal convolution network tags every frame B (first frames of a sign), I
(inside a sign) or O (transition or rest), from the pose features every learned model
shares (``engine.learn.features``, 6D local rotations) and their frame-to-frame
velocities. ``segment`` turns the tags into sign spans; ``place_keyframes`` pins each
span's onset, midpoint and offset, the selection policy of SignSparK that the sparse
keyframe generators are trained with; ``keyframes_for_recording`` does both with the
shipped checkpoint (``assets/models/segmenter.pt``) for an imported recording.

Differences from FAST, on purpose: FAST reads WiLoR hand features from video through two
streams and a transformer; we read SMPL-X rotations that the fitting already produced,
so one stream of dilated convolutions (receptive field 61 frames, 2.4 s at 25 fps) is
enough at this data size and runs in milliseconds on a CPU.

``velocity_baseline_spans`` is the non-learned comparison: a sign is where the pose
(nearly) holds still, widened by a margin; its threshold and margin are tuned on
training sequences (``fit_velocity_baseline``) so that the comparison is fair.
"""
from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Annotated

import numpy as np
import torch
from pydantic import Field
from torch import nn

from engine.assets import assets_dir
from engine.file_cache import FileCache
from engine.learn.checkpoint import (
    Checkpoint, CheckpointError, build_checked, checked_config, load_checkpoint,
)
from engine.learn.dataset import MODEL_FPS
from engine.learn.features import FEATURE_DIM, motion_to_features
from engine.learn.schema import FORBID_UNKNOWN_FIELDS, Dropout, FrameCount, Kernel, Width
from engine.learn.sequences import B, I, O, Span
from engine.metrics.segmentation import DEFAULT_TOLERANCE, BoundaryCounts, boundary_counts
from engine.motion.motion import ALL_CHANNELS, Channel, Motion
from engine.motion.project import Keyframe
from engine.motion.resample import resample

#: ``Checkpoint.manifest["kind"]`` of segmenter checkpoints.
KIND = "segmenter"
#: Where the shipped checkpoint lives, relative to the assets folder.
CHECKPOINT_ASSET = "models/segmenter.pt"

#: Decoding defaults: a sign shorter than 4 frames (0.16 s at 25 fps) is noise (the
#: shortest lexicon clip played 35 % faster is 4 frames), and a 1-frame O inside a run
#: of I is a flicker, not a pause between two signs.
DEFAULT_MIN_SPAN = 4
DEFAULT_MAX_GAP = 1


@dataclass(frozen=True)
class SegmenterConfig:
    """What a segmenter checkpoint's manifest records (``SegmenterNet.config``); each
    dilation doubles per block, so 16 blocks already see 65,000 frames."""

    __pydantic_config__ = FORBID_UNKNOWN_FIELDS

    width: Width
    blocks: Annotated[int, Field(ge=1, le=16)]
    kernel: Kernel
    dropout: Dropout
    min_span: FrameCount
    max_gap: FrameCount


class _Block(nn.Module):
    """Pre-norm residual dilated convolution over time."""

    def __init__(self, width: int, kernel: int, dilation: int, dropout: float):
        super().__init__()
        self.norm = nn.LayerNorm(width)
        self.conv = nn.Conv1d(width, width, kernel, dilation=dilation,
                              padding=dilation * (kernel - 1) // 2, padding_mode="replicate")
        self.act = nn.GELU()
        self.drop = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, T, C)
        y = self.conv(self.norm(x).transpose(1, 2)).transpose(1, 2)
        return x + self.drop(self.act(y))


class SegmenterNet(nn.Module):
    """Per-frame BIO logits from pose features.

    ``forward(features)``: (N, T, FEATURE_DIM) float32 6D features at MODEL_FPS ->
    (N, T, 3) logits for O, B, I. The feature mean and std (FEATURE_DIM,) of the training
    frames are buffers, so they travel (and are digest-checked) with the weights.
    ``min_span`` and ``max_gap`` (frames) are the decoding settings ``segment`` uses.
    """

    def __init__(self, width: int = 64, blocks: int = 4, kernel: int = 5, dropout: float = 0.1,
                 min_span: int = DEFAULT_MIN_SPAN, max_gap: int = DEFAULT_MAX_GAP):
        super().__init__()
        if kernel % 2 == 0:
            raise ValueError(f"kernel: expected an odd size so frames stay centred, got {kernel}")
        self.config = {"width": width, "blocks": blocks, "kernel": kernel, "dropout": dropout,
                       "min_span": min_span, "max_gap": max_gap}
        self.min_span, self.max_gap = min_span, max_gap
        self.register_buffer("feature_mean", torch.zeros(FEATURE_DIM))
        self.register_buffer("feature_std", torch.ones(FEATURE_DIM))
        self.inp = nn.Linear(2 * FEATURE_DIM, width)
        self.blocks = nn.ModuleList(_Block(width, kernel, 2 ** i, dropout) for i in range(blocks))
        self.norm = nn.LayerNorm(width)
        self.out = nn.Linear(width, 3)

    def set_statistics(self, mean: np.ndarray, std: np.ndarray) -> None:
        self.feature_mean.copy_(torch.as_tensor(mean, dtype=torch.float32))
        self.feature_std.copy_(torch.as_tensor(std, dtype=torch.float32))

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        x = (features - self.feature_mean) / self.feature_std
        velocity = torch.diff(x, dim=1, prepend=x[:, :1])
        h = self.inp(torch.cat([x, velocity], dim=-1))
        for block in self.blocks:
            h = block(h)
        return self.out(self.norm(h))


# ------------------------------------------------------------------------ decoding
def decode_bio(tags: Sequence[int] | np.ndarray, min_span: int = DEFAULT_MIN_SPAN,
               max_gap: int = DEFAULT_MAX_GAP) -> list[Span]:
    """Sign spans ``[(start, stop), ...]`` (frames, stop exclusive) from per-frame tags.

    A span opens at a B that follows a non-B (a run of B is one onset) or at an I that
    follows O or the start; it runs through I and closes at O, at the end, or where the
    next B opens another sign. A span followed by at most ``max_gap`` O frames and then
    an I (not a B: a B says a new sign begins) is merged with what follows, so a brief
    flicker does not split a sign. Spans shorter than ``min_span`` frames are dropped.
    """
    tags = np.asarray(tags)
    if tags.ndim != 1 or (tags.size and not np.isin(tags, (O, B, I)).all()):
        raise ValueError(f"tags: expected a 1-D sequence of {O} (O), {B} (B), {I} (I)")
    spans: list[list[int]] = []
    open_start = None
    for frame, tag in enumerate(tags.tolist()):
        previous = tags[frame - 1] if frame else O
        if tag == B and previous != B or tag == I and previous == O:
            if open_start is not None:
                spans.append([open_start, frame])
            open_start = frame
        elif tag == O and open_start is not None:
            spans.append([open_start, frame])
            open_start = None
    if open_start is not None:
        spans.append([open_start, len(tags)])
    merged: list[list[int]] = []
    for span in spans:
        if merged and 0 < span[0] - merged[-1][1] <= max_gap and tags[span[0]] == I:
            merged[-1][1] = span[1]
        else:
            merged.append(span)
    return [(s, e) for s, e in merged if e - s >= min_span]


@torch.no_grad()
def predict_tags(model: SegmenterNet, features: np.ndarray) -> np.ndarray:
    """(F,) int8 tags for (F, FEATURE_DIM) features at MODEL_FPS."""
    features = np.asarray(features, np.float32)
    if features.ndim != 2 or features.shape[1] != FEATURE_DIM:
        raise ValueError(f"features: expected shape (F, {FEATURE_DIM}), got {features.shape}")
    was_training = model.training
    model.eval()
    logits = model(torch.from_numpy(features)[None])[0]
    model.train(was_training)
    return logits.argmax(-1).numpy().astype(np.int8)


def _to_model_rate(motion: Motion) -> Motion:
    return motion if math.isclose(motion.fps, MODEL_FPS) else resample(motion, MODEL_FPS)


def _spans_to_source_frames(spans: Iterable[Span], source_fps: float, num_frames: int) -> list[Span]:
    """Map spans at MODEL_FPS back to frames of a motion at ``source_fps``."""
    if math.isclose(source_fps, MODEL_FPS):
        return [(int(s), int(e)) for s, e in spans]
    scale = source_fps / MODEL_FPS
    out = []
    for start, stop in spans:
        s = min(num_frames - 1, int(round(start * scale)))
        e = min(num_frames, max(s + 1, int(round(stop * scale))))
        out.append((s, e))
    return out


def segment(model: SegmenterNet, motion: Motion, min_span: int | None = None,
            max_gap: int | None = None) -> list[Span]:
    """Sign spans ``[(start, stop), ...]`` in ``motion``'s own frames (stop exclusive).

    The motion is resampled to MODEL_FPS for the network and the spans mapped back, so
    a 30 fps recording gets 30 fps frame numbers. ``min_span``/``max_gap`` (frames at
    MODEL_FPS) default to the model's decoding settings.
    """
    tags = predict_tags(model, motion_to_features(_to_model_rate(motion)))
    spans = decode_bio(tags, model.min_span if min_span is None else min_span,
                       model.max_gap if max_gap is None else max_gap)
    return _spans_to_source_frames(spans, motion.fps, motion.num_frames)


def place_keyframes(motion: Motion, spans: Sequence[Span],
                    channels: Iterable[Channel] = ALL_CHANNELS) -> list[Keyframe]:
    """Keyframes at each span's onset (first frame), midpoint and offset (last frame),
    pinning ``channels`` to the motion's own pose there (SignSparK's selection policy).

    Sorted by frame, one per frame (a 1- or 2-frame span gives 1 or 2 keyframes).
    """
    channels = frozenset(channels)
    frames: set[int] = set()
    for index, span in enumerate(spans):
        start, stop = int(span[0]), int(span[1])
        if not 0 <= start < stop <= motion.num_frames:
            raise ValueError(f"spans[{index}]: expected 0 <= start < stop <= {motion.num_frames}, "
                             f"got {tuple(span)}")
        frames.update((start, (start + stop - 1) // 2, stop - 1))
    return [Keyframe.from_motion(motion, frame, channels, generated=True)
            for frame in sorted(frames)]


# ---------------------------------------------------------------- loading / using
def load_segmenter(path: str | Path) -> SegmenterNet:
    """A SegmenterNet from a checkpoint (verified, ``weights_only``); CheckpointError
    naming the file if it is missing, tampered, foreign, or of another kind."""
    checkpoint: Checkpoint = load_checkpoint(path, kind=KIND)
    # The manifest's config also records the training settings; only the network's
    # fields build anything, so only they are checked and used.
    network_fields = {name: value for name, value in checkpoint.config.items()
                      if name in SegmenterConfig.__dataclass_fields__}
    config = checked_config(checkpoint, SegmenterConfig, network_fields)
    model = build_checked(checkpoint, lambda: SegmenterNet(**asdict(config)))
    model.eval()
    model.manifest = checkpoint.manifest
    return model


def default_checkpoint_path() -> Path:
    """Where the shipped segmenter checkpoint is looked for."""
    return assets_dir() / CHECKPOINT_ASSET


#: One model at a time, per file version: repeated imports reuse it.
_cache: FileCache[SegmenterNet] = FileCache(max_entries=1)


def keyframes_for_recording(motion: Motion, checkpoint_path: str | Path | None = None
                            ) -> list[Keyframe]:
    """Onset, midpoint and offset keyframes of every sign found in an imported recording.

    ``checkpoint_path`` None uses the shipped ``assets/models/segmenter.pt``; when that is
    absent (a build without the models), or when the model finds no sign at all, the
    whole recording is treated as one sign. An explicitly given checkpoint that is
    missing, and any checkpoint that is damaged or foreign, raises CheckpointError
    rather than silently falling back. Keyframes pin all channels, frames are in
    ``motion``'s own frame rate.
    """
    whole = [(0, motion.num_frames)]
    path = default_checkpoint_path() if checkpoint_path is None else Path(checkpoint_path)
    if checkpoint_path is None and not path.is_file():
        return place_keyframes(motion, whole)
    if not path.is_file():
        raise CheckpointError(path, "no such checkpoint file")
    spans = segment(_cache.get(path, load_segmenter), motion)
    return place_keyframes(motion, spans or whole)


# -------------------------------------------------------------------- baseline
def smoothed_speed(features: np.ndarray) -> np.ndarray:
    """(F,) pose speed per frame: the norm of the central difference of the (F, D)
    features (feature units per frame), smoothed over 3 frames."""
    features = np.asarray(features, np.float64)
    if len(features) < 2:
        return np.zeros(len(features))
    speed = np.linalg.norm(np.gradient(features, axis=0), axis=1)
    padded = np.pad(speed, 1, mode="edge")
    return (padded[:-2] + padded[1:-1] + padded[2:]) / 3.0


def _holds(slow: np.ndarray, min_hold: int) -> list[Span]:
    """Runs of True at least ``min_hold`` frames long."""
    edges = np.flatnonzero(np.diff(np.concatenate([[0], slow.astype(np.int8), [0]])))
    return [(int(a), int(b)) for a, b in zip(edges[::2], edges[1::2]) if b - a >= min_hold]


def _widen(holds: list[Span], margin: int, num_frames: int) -> list[Span]:
    spans = []
    for index, (start, stop) in enumerate(holds):
        lo, hi = max(0, start - margin), min(num_frames, stop + margin)
        if index:  # never reach past the middle of the gap to the neighbouring hold
            lo = max(lo, (holds[index - 1][1] + start) // 2)
        if index + 1 < len(holds):
            hi = min(hi, (stop + holds[index + 1][0]) // 2)
        if hi > lo:
            spans.append((lo, hi))
    return spans


def velocity_baseline_spans(features: np.ndarray, threshold: float, margin: int,
                            min_hold: int) -> list[Span]:
    """Non-learned spans: runs of at least ``min_hold`` frames whose smoothed speed is
    below ``threshold`` (a sign's hold), widened by ``margin`` frames each side; where
    two widened spans would overlap they are cut at the middle of the gap between holds."""
    return _widen(_holds(smoothed_speed(features) < threshold, min_hold), margin, len(features))


def fit_velocity_baseline(sequences: Sequence, tolerance: int = DEFAULT_TOLERANCE) -> dict:
    """Grid-search the baseline's threshold (a quantile of the training speeds), margin
    and minimum hold for the best boundary F1 on ``sequences`` (AssembledSequence,
    training clips only). Returns {"threshold", "margin", "min_hold", "train_f1"}."""
    if not sequences:
        raise ValueError("fit_velocity_baseline: expected training sequences, got none")
    speeds = [smoothed_speed(s.features) for s in sequences]
    thresholds = np.quantile(np.concatenate(speeds), np.linspace(0.05, 0.6, 12))
    best: dict | None = None
    for threshold in thresholds:
        for min_hold in (2, 3, 5):
            holds = [_holds(speed < threshold, min_hold) for speed in speeds]
            for margin in range(0, 16):
                counts = BoundaryCounts()
                for seq, seq_holds in zip(sequences, holds):
                    counts += boundary_counts(_widen(seq_holds, margin, seq.num_frames), seq.spans,
                                              tolerance)
                if best is None or counts.f1 > best["train_f1"]:
                    best = {"threshold": float(threshold), "margin": margin,
                            "min_hold": min_hold, "train_f1": counts.f1}
    return best
