"""Acc / FID / Diversity / Multimodality of label-to-sign generators against real data.

SignAvatar's protocol (``engine.metrics.generation``), on the clips a generator never saw:

1. Split the lexicon as the generators were trained (``SplitConfig``: whole clips by
   hash, and every clip of any held-out language) and keep the held-out clips whose gloss
   is in the recognizer's closed vocabulary (``engine.learn.recognizer``: glosses shared
   across sign languages, A..Z on the real lexicon).
2. For every such clip, ask each generator for ``num_candidates`` signs of the clip's
   label (``"lang:GLOSS"``) and length (as ACTOR/MDM generate at the real durations).
3. Embed real and generated clips with the recognizer; report per row: ``acc``
   (recognizer top-1 on the clip's gloss class), ``fid`` (against the real held-out
   clips), ``diversity`` (S_d = 200 random pairs over the whole set) and
   ``multimodality`` (S_t = 20 random pairs within each gloss class, averaged over the
   classes). Pairs are redrawn ``repeats`` times and averaged (ACTOR repeats its
   evaluation 20 times).

The ``real`` row is the reference, as Raw_test in SignAvatar's Table I: FID 0 by
definition; ``fid_train_vs_held_out`` gives the FID between the real train and held-out
clips, the figure a perfect generator could hope for with this few samples. Generated
rows also give ``multimodality_within_label``: the spread of one label's candidates,
which the real data cannot show (one clip per label).

A generator is any callable ``(label, num_frames, num_candidates, seed) -> list of
(num_frames, 264) sign6d feature arrays`` (an array (num_candidates, F, 264) is fine).
``cvae_generator`` adapts the CVAE; a flow-matching text-to-pose model plugs in the same
way.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import numpy as np

from engine.jobs import Cancelled, CancelToken, Progress, no_progress
from engine.learn.config import SplitConfig
from engine.learn.dataset import load_records, split_records
from engine.learn.features import FEATURE_DIM
from engine.learn.recognizer import Recognizer, load_recognizer
from engine.metrics.generation import (
    DIVERSITY_PAIRS, MULTIMODALITY_PAIRS, accuracy, diversity, fid, multimodality,
)

Generator = Callable[[str, int, int, int], Sequence[np.ndarray]]


def cvae_generator(model) -> Generator:
    """A CVAE (``engine.learn.cvae.CVAE``) as a Generator for ``evaluate_generation``."""
    from engine.learn.cvae import sample_cvae

    def generate(label: str, num_frames: int, num_candidates: int, seed: int) -> list[np.ndarray]:
        return list(sample_cvae(model, [label], num_frames, num_candidates, seed)[0])

    return generate


def _checked_outputs(name: str, label: str, outputs, num_frames: int,
                     num_candidates: int) -> list[np.ndarray]:
    outputs = [np.asarray(o, dtype=np.float32) for o in outputs]
    if len(outputs) != num_candidates:
        raise ValueError(f"generator {name!r}: asked for {num_candidates} candidates of "
                         f"{label!r}, got {len(outputs)}")
    for i, output in enumerate(outputs):
        if output.shape != (num_frames, FEATURE_DIM) or not np.isfinite(output).all():
            raise ValueError(f"generator {name!r}: candidate {i} of {label!r}: expected finite "
                             f"features of shape ({num_frames}, {FEATURE_DIM}), got {output.shape}")
    return outputs


def _spread(features: np.ndarray, classes: np.ndarray, repeats: int, seed: int,
            diversity_pairs: int, multimodality_pairs: int) -> dict:
    out = {"diversity": float(np.mean([diversity(features, diversity_pairs, seed + r)
                                       for r in range(repeats)]))}
    try:
        out["multimodality"] = float(np.mean([multimodality(features, classes, multimodality_pairs,
                                                            seed + r) for r in range(repeats)]))
    except ValueError:  # no class with two samples: nothing to measure
        out["multimodality"] = None
    return out


def evaluate_generation(store_or_records, generators: Mapping[str, Generator],
                        recognizer: Recognizer | str | Path, *,
                        split: SplitConfig = SplitConfig(), num_candidates: int = 10, seed: int = 0,
                        repeats: int = 20, diversity_pairs: int = DIVERSITY_PAIRS,
                        multimodality_pairs: int = MULTIMODALITY_PAIRS,
                        progress: Progress = no_progress, cancel: CancelToken | None = None) -> dict:
    """Score each generator on the held-out split against the real clips (module docstring).

    ``store_or_records``: a LexiconStore, a lexicon path or a list of ClipRecords (ALL
    clips: the split is made here by ``split``, as the models were trained).
    ``recognizer``: a Recognizer or the path of its checkpoint. Returns a JSON-ready
    dict: ``rows`` {"real": {...}, name: {...}} each with acc, fid, diversity,
    multimodality and count, plus ``protocol`` and ``split`` describing what was done.
    The CLI: ``signstudio-cli eval --only generation [--cvae PATH] [--recognizer PATH]
    [--json OUT]``.
    """
    if not isinstance(recognizer, Recognizer):
        recognizer = load_recognizer(recognizer)
    records = load_records(store_or_records)
    train_records, held = split_records(records, split)
    evaluated = [r for r in held if recognizer.class_index(r.label) is not None]
    reference = [r for r in train_records if recognizer.class_index(r.label) is not None]
    if len(evaluated) < 2:
        raise ValueError(f"only {len(evaluated)} held-out clips have a gloss in the recognizer's "
                         f"vocabulary ({len(recognizer.classes)} classes); need at least 2")
    classes = np.array([recognizer.class_index(r.label) for r in evaluated])
    spread_args = dict(repeats=repeats, seed=seed, diversity_pairs=diversity_pairs,
                       multimodality_pairs=multimodality_pairs)

    real_features, real_predicted = recognizer.features_and_predictions([r.features for r in evaluated])
    rows: dict[str, dict] = {"real": {
        "count": len(evaluated), "acc": accuracy(real_predicted, classes), "fid": 0.0,
        "fid_train_vs_held_out": (fid(recognizer.features([r.features for r in reference]),
                                      real_features) if len(reference) >= 2 else None),
        **_spread(real_features, classes, **spread_args)}}

    total = len(generators) * len(evaluated)
    done = 0
    for name, generate in generators.items():
        clips, clip_classes, clip_labels = [], [], []
        for index, record in enumerate(evaluated):
            if cancel is not None and cancel.cancelled:
                raise Cancelled()
            outputs = _checked_outputs(name, record.label, generate(
                record.label, record.num_frames, num_candidates, seed + index),
                record.num_frames, num_candidates)
            clips.extend(outputs)
            clip_classes.extend([classes[index]] * num_candidates)
            clip_labels.extend([index] * num_candidates)
            done += 1
            progress(done, total, f"{name}: {record.label}")
        features, predicted = recognizer.features_and_predictions(clips)
        clip_classes = np.array(clip_classes)
        row = {"count": len(clips), "acc": accuracy(predicted, clip_classes),
               "fid": fid(real_features, features), **_spread(features, clip_classes, **spread_args)}
        if num_candidates >= 2:
            row["multimodality_within_label"] = float(np.mean([
                multimodality(features, np.array(clip_labels), multimodality_pairs, seed + r)
                for r in range(repeats)]))
        rows[name] = row

    return {
        "rows": rows,
        "protocol": {"source": "SignAvatar / ACTOR", "feature": "recognizer penultimate layer",
                     "recognizer_classes": list(recognizer.classes),
                     "recognizer_data_version": recognizer.manifest.get("data_version"),
                     "diversity_pairs": diversity_pairs, "multimodality_pairs": multimodality_pairs,
                     "repeats": repeats, "num_candidates": num_candidates, "seed": seed},
        "split": {"held_out_languages": list(split.held_out_languages),
                  "held_out_fraction": split.held_out_fraction,
                  "held_out_clips": len(held), "evaluated_clips": len(evaluated),
                  "evaluated_classes": int(len(set(classes.tolist())))},
    }


def format_generation_table(result: dict) -> str:
    """The rows of ``evaluate_generation`` as a plain-text table (Acc up, FID down,
    Div and MM closer to real is better)."""
    def cell(value, digits=3):
        return "-" if value is None else f"{value:.{digits}f}"

    lines = [f"{'model':<12} {'n':>5} {'Acc':>6} {'FID':>8} {'Div':>7} {'MM':>7} {'MM/label':>8}"]
    for name, row in result["rows"].items():
        lines.append(f"{name:<12} {row['count']:>5} {cell(row['acc']):>6} {cell(row['fid'], 2):>8} "
                     f"{cell(row['diversity']):>7} {cell(row['multimodality']):>7} "
                     f"{cell(row.get('multimodality_within_label')):>8}")
    real = result["rows"]["real"]
    if real.get("fid_train_vs_held_out") is not None:
        lines.append(f"(real train vs held-out FID: {real['fid_train_vs_held_out']:.2f})")
    return "\n".join(lines)
