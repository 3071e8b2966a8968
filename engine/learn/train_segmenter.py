"""Training and evaluating the sign segmenter (``engine.learn.segmenter``).

Data: continuous sequences assembled from the lexicon's TRAIN clips
(``engine.learn.sequences``), built once before training as a pool; each step crops
random windows from it and adds a little pose noise (fitted recordings jitter). The
loss is per-frame cross-entropy over O/B/I with B weighted up (B frames are rare and
they carry the onsets). Validation and evaluation use sequences built only from
held-out clips (``SegmenterTrainConfig.split``), with their own seeds.

``evaluate_segmenter`` reports boundary precision/recall/F1 at +-2 frames (25 fps) and
frame IoU for the learned model and for the velocity baseline, which is tuned on
training sequences only.
"""
from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from engine.data.lexicon import LexiconStore
from engine.jobs import Cancelled, CancelToken, Progress, no_progress
from engine.learn.checkpoint import build_manifest
from engine.learn.config import SplitConfig, TrainConfig, from_dict
from engine.learn.dataset import (
    MODEL_FPS, ClipRecord, data_version, feature_statistics, load_clips, split_records,
)
from engine.learn.segmenter import (
    DEFAULT_MAX_GAP, DEFAULT_MIN_SPAN, KIND, SegmenterConfig, SegmenterNet, decode_bio,
    fit_velocity_baseline, load_segmenter, predict_tags, velocity_baseline_spans,
)
from engine.learn.sequences import AssembledSequence, SequenceConfig, random_sequences
from engine.learn.training import TrainResult, restores_torch_threads, train
from engine.metrics.segmentation import DEFAULT_TOLERANCE, BoundaryCounts, boundary_counts, frame_iou

#: Seeds of the held-out sequence sets, apart from any training seed.
VALIDATION_SEED = 7_001
EVALUATION_SEED = 7_002


@dataclass(frozen=True)
class SegmenterTrainConfig:
    """Everything a segmenter training run depends on (the manifest's ``training``):
    the network (``model``), the loop, the split, and the sequences below. The
    defaults are the shipped model's.

    ``window``: frames per training crop (5 s at 25 fps); ``pool_sequences``: training
    sequences assembled before the loop; ``validation_sequences``: sequences of
    held-out clips the manifest's validation metrics are measured on; ``noise_std``:
    Gaussian noise added to the 6D features each step; ``onset_weight``: loss weight
    of B frames (O and I weigh 1).
    """

    model: SegmenterConfig = field(default_factory=lambda: SegmenterConfig(
        width=64, blocks=4, kernel=5, dropout=0.1, min_span=DEFAULT_MIN_SPAN,
        max_gap=DEFAULT_MAX_GAP))
    train: TrainConfig = field(default_factory=lambda: TrainConfig(
        steps=2000, batch_size=16, lr=2e-3, warmup=100, checkpoint_every=500))
    split: SplitConfig = field(default_factory=SplitConfig)
    window: int = 128
    pool_sequences: int = 800
    validation_sequences: int = 100
    noise_std: float = 0.02
    onset_weight: float = 3.0
    sequence: SequenceConfig = field(default_factory=SequenceConfig)


def recorded_config(manifest: dict) -> SegmenterTrainConfig:
    """The ``SegmenterTrainConfig`` a segmenter checkpoint was trained with.

    Today's manifests record it under ``training``. Older ones (before
    ``engine.learn.config``) kept the run's settings in ``config`` beside the network's,
    with ``train``, ``batch`` and ``held_out_fraction`` at its top level; they are
    read into today's shape here."""
    if "training" in manifest:
        return from_dict(SegmenterTrainConfig, manifest["training"])
    old = manifest["config"]
    train = {**old["train"], "batch_size": old["batch"]}
    return from_dict(SegmenterTrainConfig, {
        "model": {name: old[name] for name in SegmenterConfig.__dataclass_fields__},
        "train": train, "split": {"held_out_fraction": old["held_out_fraction"]},
        "window": old["window"], "pool_sequences": old["pool_sequences"],
        "noise_std": old["noise_std"], "onset_weight": old["onset_weight"],
        "sequence": old["sequence"]})


@contextmanager
def _open_store(store_or_path: LexiconStore | str | Path) -> Iterator[LexiconStore]:
    if isinstance(store_or_path, LexiconStore):
        yield store_or_path
        return
    path = Path(store_or_path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such lexicon file")
    store = LexiconStore(path)
    try:
        yield store
    finally:
        store.close()


def _licence(store: LexiconStore, records: Sequence[ClipRecord]) -> str:
    """The licence notes of exactly the entries used, joined."""
    ids = {r.entry_id for r in records}
    return "; ".join(sorted({s.licence for s in store.list() if s.id in ids}))


def _load_split(store_or_path, split: SplitConfig):
    with _open_store(store_or_path) as store:
        records = load_clips(store)
        if not records:
            raise ValueError(f"{getattr(store, 'path', store_or_path)}: "
                             "the lexicon holds no clips to train on")
        train_records, held_out = split_records(records, split)
        if not train_records:
            raise ValueError("every clip fell in the held-out split; add clips, lower "
                             "held_out_fraction or hold out fewer languages")
        return train_records, held_out, _licence(store, train_records)


def _windows(pool: list[tuple[torch.Tensor, torch.Tensor]], batch: int, window: int,
             generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """A batch of random crops: features (N, W, D), labels (N, W), mask (N, W).

    Sequences shorter than the window are padded by repeating their last frame; the
    padding is masked out of the loss.
    """
    picks = torch.randint(len(pool), (batch,), generator=generator).tolist()
    feats, labels, mask = [], [], []
    for index in picks:
        x, y = pool[index]
        length = x.shape[0]
        if length > window:
            start = int(torch.randint(length - window + 1, (1,), generator=generator))
            x, y, valid = x[start:start + window], y[start:start + window], torch.ones(window)
        else:
            pad = window - length
            x = torch.cat([x, x[-1:].expand(pad, -1)])
            y = torch.cat([y, y.new_zeros(pad)])
            valid = torch.cat([torch.ones(length), torch.zeros(pad)])
        feats.append(x)
        labels.append(y)
        mask.append(valid)
    return torch.stack(feats), torch.stack(labels), torch.stack(mask)


def _assemble(records, count, seed, config, progress, cancel, what):
    """random_sequences in chunks, reporting progress and honouring cancel."""
    sequences: list[AssembledSequence] = []
    chunk = 50
    for done in range(0, count, chunk):
        if cancel is not None and cancel.cancelled:
            raise Cancelled()
        sequences += random_sequences(records, min(chunk, count - done), seed + done, config)
        progress(len(sequences), count, f"assembling {what} sequences")
    return sequences


def score_spans(predicted: Sequence[Sequence], sequences: Sequence[AssembledSequence],
                tolerances: Sequence[int] = (DEFAULT_TOLERANCE,)) -> dict:
    """Micro-averaged boundary scores per tolerance and mean frame IoU."""
    out: dict = {}
    for tolerance in tolerances:
        counts = BoundaryCounts()
        for spans, seq in zip(predicted, sequences):
            counts += boundary_counts(spans, seq.spans, tolerance)
        out[f"boundary_tol{tolerance}"] = counts.as_dict()
    out["frame_iou"] = float(np.mean([frame_iou(spans, seq.spans, seq.num_frames)
                                      for spans, seq in zip(predicted, sequences)]))
    out["spans_predicted"] = int(sum(len(p) for p in predicted))
    out["spans_reference"] = int(sum(len(s.spans) for s in sequences))
    return out


def model_spans(model: SegmenterNet, sequences: Sequence[AssembledSequence]) -> list[list]:
    return [decode_bio(predict_tags(model, seq.features), model.min_span, model.max_gap)
            for seq in sequences]


@restores_torch_threads
def train_segmenter(store_or_path: LexiconStore | str | Path, out_path: str | Path,
                    config: SegmenterTrainConfig = SegmenterTrainConfig(), *, resume: bool = False,
                    progress: Progress = no_progress, cancel: CancelToken | None = None
                    ) -> TrainResult:
    """Train a segmenter on the lexicon's TRAIN split and write the checkpoint ``out_path``.

    ``store_or_path``: an open LexiconStore or the path of a lexicon SQLite file. The
    manifest records the config, the training data's version and licence, the seed, and
    validation metrics on sequences of held-out clips (boundary F1 at +-2 frames, frame
    IoU, loss) when the split has held-out clips. Resumable (``resume=True`` continues
    from ``<out>.resume.pt``); ``progress(done, total, message)`` is called while the
    sequences are assembled and then every 10 steps; ``cancel`` stops it (a resume file
    is kept).
    """
    torch.set_num_threads(min(2, torch.get_num_threads()))
    train_records, held_out, licence = _load_split(store_or_path, config.split)
    seed = config.train.seed
    pool_sequences = _assemble(train_records, config.pool_sequences, seed, config.sequence,
                               progress, cancel, "training")
    validation = (_assemble(held_out, config.validation_sequences, VALIDATION_SEED, config.sequence,
                            progress, cancel, "validation") if held_out else [])

    model = SegmenterNet(**asdict(config.model))
    mean, std = feature_statistics(train_records)
    # Floor the scale: a rotation entry that barely moves in the lexicon would otherwise
    # turn fitting noise into huge normalised inputs.
    model.set_statistics(mean, np.maximum(std, 0.05))
    pool = [(torch.from_numpy(s.features), torch.from_numpy(s.labels.astype(np.int64)))
            for s in pool_sequences]
    class_weight = torch.tensor([1.0, config.onset_weight, 1.0])

    def step_loss(net: SegmenterNet, generator: torch.Generator) -> torch.Tensor:
        x, y, mask = _windows(pool, config.train.batch_size, config.window, generator)
        x = x + config.noise_std * torch.randn(x.shape, generator=generator)
        logits = net(x)
        loss = F.cross_entropy(logits.reshape(-1, 3), y.reshape(-1), weight=class_weight,
                               reduction="none")
        weights = class_weight[y.reshape(-1)] * mask.reshape(-1)
        return (loss * mask.reshape(-1)).sum() / weights.sum()

    final_metrics: dict = {}

    def manifest(step: int, losses: list[float]) -> dict:
        metrics = {"train_loss_last100": float(np.mean(losses[-100:])) if losses else None}
        if step == config.train.steps and validation:
            if not final_metrics:
                final_metrics.update(_validate(model, validation, class_weight))
            metrics.update(final_metrics)
        network = {**model.config, "fps": MODEL_FPS, "tolerance_frames": DEFAULT_TOLERANCE}
        return build_manifest(KIND, network, data_version=data_version(train_records),
                              data_licence=licence, metrics=metrics, seed=seed, step=step,
                              extra={"training": asdict(config), "held_out_clips": len(held_out)})

    return train(model, step_loss, manifest, out_path, config.train, resume=resume,
                 progress=progress, cancel=cancel)


@torch.no_grad()
def _validate(model: SegmenterNet, sequences: Sequence[AssembledSequence],
              class_weight: torch.Tensor) -> dict:
    model.eval()
    losses = []
    for seq in sequences:
        logits = model(torch.from_numpy(seq.features)[None])[0]
        losses.append(float(F.cross_entropy(logits, torch.from_numpy(seq.labels.astype(np.int64)),
                                            weight=class_weight)))
    scores = score_spans(model_spans(model, sequences), sequences)
    return {"validation_loss": float(np.mean(losses)),
            "validation_sequences": len(sequences),
            "validation_boundary_f1": scores[f"boundary_tol{DEFAULT_TOLERANCE}"]["f1"],
            "validation_frame_iou": scores["frame_iou"]}


def evaluate_segmenter(store_or_path: LexiconStore | str | Path, checkpoint_path: str | Path, *,
                       sequences: int = 200, baseline_sequences: int = 150,
                       unseen_join_sequences: int = 100,
                       tolerances: Sequence[int] = (DEFAULT_TOLERANCE, 4),
                       progress: Progress = no_progress, cancel: CancelToken | None = None) -> dict:
    """Boundary F1 of a segmenter checkpoint on held-out sequences, against the baseline.

    Held-out sequences are assembled from the clips the checkpoint's recorded split
    holds out (``recorded_config``), seed ``EVALUATION_SEED``; the
    velocity baseline's parameters are tuned on ``baseline_sequences`` sequences of
    TRAIN clips. Returns a JSON-ready dict::

        {"task": "segmentation", "fps": 25, "tolerance_frames": 2,
         "held_out_clips": n, "sequences": n, "checkpoint": path, "data_version": ...,
         "learned": {"boundary_tol2": {precision, recall, f1, ...}, "boundary_tol4": ...,
                     "frame_iou": x, "spans_predicted": n, "spans_reference": n},
         "velocity_baseline": {same keys, "params": {...}},
         "slerp_joins": {"sequences": n, "learned": {...}, "velocity_baseline": {...}}}

    ``slerp_joins`` (left out when ``unseen_join_sequences`` is 0) scores the same
    held-out clips joined by plain slerp, a transition the model never trained on.
    """
    model = load_segmenter(checkpoint_path)
    recorded = recorded_config(model.manifest)
    sequence_config = recorded.sequence
    train_records, held_out, _ = _load_split(store_or_path, recorded.split)
    if not held_out:
        raise ValueError("the split holds out no clips: nothing to evaluate on")
    test = _assemble(held_out, sequences, EVALUATION_SEED, sequence_config, progress, cancel,
                     "held-out")
    tuning = _assemble(train_records, baseline_sequences, EVALUATION_SEED + 1, sequence_config,
                       progress, cancel, "baseline-tuning")
    params = fit_velocity_baseline(tuning)

    def baseline(seqs):
        return [velocity_baseline_spans(s.features, params["threshold"], params["margin"],
                                        params["min_hold"]) for s in seqs]

    result = {
        "task": "segmentation", "fps": MODEL_FPS, "tolerance_frames": DEFAULT_TOLERANCE,
        "held_out_clips": len(held_out), "sequences": len(test),
        "checkpoint": str(checkpoint_path), "data_version": model.manifest["data_version"],
        "learned": score_spans(model_spans(model, test), test, tolerances),
        "velocity_baseline": {**score_spans(baseline(test), test, tolerances), "params": params},
    }
    if unseen_join_sequences:
        # The same held-out clips joined by plain slerp, a transition shape never seen in
        # training: if the model had only learned our join's signature, this would show.
        unseen = _assemble(held_out, unseen_join_sequences, EVALUATION_SEED + 2,
                           replace(sequence_config, join="slerp"), progress, cancel,
                           "held-out (slerp joins)")
        result["slerp_joins"] = {
            "sequences": len(unseen),
            "learned": score_spans(model_spans(model, unseen), unseen, tolerances),
            "velocity_baseline": score_spans(baseline(unseen), unseen, tolerances)}
    return result
