"""Training data for the learned models: the lexicon's fitted clips, and honest splits.

Every model trains on ``ClipRecord``s read from a ``LexiconStore`` (the real fitted
fingerspelling clips, plus users' own recordings), resampled to one frame rate so a
frame means the same time everywhere.

Splits hold out WHOLE clips, never frames of a clip seen in training, because a clip's
frames are nearly copies of each other and a frame-level split would flatter any model.
``split_clips`` decides by a hash of the clip's source (stable across runs, machines,
database orderings and refits; adding a clip never moves another across the split).
``split_languages`` holds out whole sign languages, to see what transfers;
``split_records`` applies both as a trainer's ``SplitConfig`` says.
"""
from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.data.fingerspelling import PACKAGE_SOURCE, lexicon_dir
from engine.data.lexicon import LexiconStore, file_sha256
from engine.learn.config import SplitConfig
from engine.learn.features import FEATURE_VERSION, motion_to_features
from engine.motion.motion import Motion
from engine.motion.resample import resample

#: The frame rate models are trained and sampled at (most package clips are 25 fps).
#: The licence of the spoken-to-signed package's fingerspelling clips, as its
#: package states it; every model trained on the package's lexicon records it in its manifest.
PACKAGE_DATA_LICENCE = f"fingerspelling clips from {PACKAGE_SOURCE}"

MODEL_FPS = 25.0


@dataclass(frozen=True)
class ClipRecord:
    """One lexicon clip ready for training.

    ``features``: (F, FEATURE_DIM) float32 at MODEL_FPS (``engine.learn.features``);
    ``motion``: the same clip as a Motion at MODEL_FPS (for metrics on joints).
    """

    entry_id: int
    gloss: str
    language: str
    kind: str
    source_hash: str
    motion: Motion
    features: np.ndarray
    #: What ``split_clips`` hashes (``split_key``; "" means ``source_hash``).
    split_key: str = ""

    @property
    def num_frames(self) -> int:
        return int(self.features.shape[0])

    @property
    def label(self) -> str:
        """The class a model conditions on: ``"<language>:<gloss>"``."""
        return f"{self.language}:{self.gloss}"


def split_key(entry) -> str:
    """What decides which side of the train/held-out split a lexicon entry falls on:
    the recording or notation itself, never how it was fitted or made. A package
    clip's source hash includes the fitter's version (so that a new fitter refits it)
    and a notation sign's the synthesiser's, so keyed on those every fitter change
    moved clips across the split, and a model trained before was scored on clips it
    had trained on. A package clip's key is its file's hash, what its source hash was
    when the shipped models were trained, so their held-out clips are those again."""
    if entry.source_kind == "package":
        path = lexicon_dir() / entry.source
        if path.is_file():
            return file_sha256(path)
    if entry.source_kind == "notation":
        return f"notation:{entry.language}:{entry.gloss}:{entry.notation}"
    return entry.source_hash


def load_clips(store: LexiconStore, languages: Iterable[str] | None = None,
               min_frames: int = 4) -> list[ClipRecord]:
    """All entries of ``languages`` (None: every language) as ClipRecords, ordered by id.

    Clips shorter than ``min_frames`` after resampling are skipped: they carry no
    motion to learn from (a few gss clips are 6 frames at 24 fps).
    """
    wanted = None if languages is None else set(languages)
    records = []
    for summary in store.list():
        if wanted is not None and summary.language not in wanted:
            continue
        entry = store.get(summary.id)
        motion = resample(entry.motion, MODEL_FPS)
        if motion.num_frames < min_frames:
            continue
        records.append(ClipRecord(
            entry_id=summary.id, gloss=entry.gloss, language=entry.language, kind=entry.kind,
            source_hash=entry.source_hash, motion=motion, features=motion_to_features(motion),
            split_key=split_key(entry)))
    return records


def load_records(source: LexiconStore | str | Path | Sequence[ClipRecord]) -> list[ClipRecord]:
    """ClipRecords from an open LexiconStore, a lexicon file path, or a list of records.

    A path that does not exist is an error, never a new empty database (opening a
    LexiconStore on a missing path would create one).
    """
    if isinstance(source, LexiconStore):
        return load_clips(source)
    if isinstance(source, (str, Path)):
        path = Path(source)
        if not path.is_file():
            raise FileNotFoundError(f"{path}: no such lexicon file")
        with LexiconStore(path) as store:
            return load_clips(store)
    records = list(source)
    if not all(isinstance(r, ClipRecord) for r in records):
        raise TypeError("expected a LexiconStore, a lexicon path, or a list of ClipRecord")
    return records


def _unit_hash(text: str) -> float:
    """A stable number in [0, 1) from ``text`` (sha256; Python's hash() is salted)."""
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big") / 2.0 ** 64


def split_clips(records: Sequence[ClipRecord], held_out_fraction: float = 0.15,
                salt: str = "split-v1") -> tuple[list[ClipRecord], list[ClipRecord]]:
    """(train, held_out): whole clips, chosen by a hash of each clip's ``split_key``
    (its source, not its fit) and ``salt``."""
    if not 0.0 < held_out_fraction < 1.0:
        raise ValueError(f"held_out_fraction: expected a value in (0, 1), got {held_out_fraction}")
    train, held = [], []
    for record in records:
        key = record.split_key or record.source_hash
        (held if _unit_hash(salt + key) < held_out_fraction else train).append(record)
    return train, held


def split_languages(records: Sequence[ClipRecord], held_out: Iterable[str]
                    ) -> tuple[list[ClipRecord], list[ClipRecord]]:
    """(train, held_out): every clip of the ``held_out`` languages goes to the second list."""
    held_out = set(held_out)
    missing = held_out - {r.language for r in records}
    if missing:
        raise ValueError(f"held-out languages {sorted(missing)} have no clips in the data")
    return ([r for r in records if r.language not in held_out],
            [r for r in records if r.language in held_out])


def split_records(records: Sequence[ClipRecord], split: SplitConfig
                  ) -> tuple[list[ClipRecord], list[ClipRecord]]:
    """(train, held_out) as ``split`` says (``SplitConfig``, the one meaning every
    trainer and evaluation uses): every clip of ``split.held_out_languages`` is held
    out, and of the other languages the clips ``split_clips`` holds out at
    ``split.held_out_fraction`` (none at 0). Both lists keep the records' order."""
    held_languages = set(split.held_out_languages)
    if held_languages:
        split_languages(records, held_languages)  # refuses a language without clips
    held_clips: set[int] = set()
    if split.held_out_fraction > 0:
        kept = [r for r in records if r.language not in held_languages]
        held_clips = {id(r) for r in split_clips(kept, split.held_out_fraction)[1]}
    train, held = [], []
    for record in records:
        out = record.language in held_languages or id(record) in held_clips
        (held if out else train).append(record)
    return train, held


def data_version(records: Sequence[ClipRecord]) -> str:
    """A short fingerprint of exactly which clips (and representation) a model saw."""
    digest = hashlib.sha256(FEATURE_VERSION.encode())
    for source in sorted(r.source_hash + r.language + r.gloss for r in records):
        digest.update(source.encode())
    return f"{len(records)}clips-{digest.hexdigest()[:16]}"


def feature_statistics(records: Sequence[ClipRecord]) -> tuple[np.ndarray, np.ndarray]:
    """Per-dimension mean and std (FEATURE_DIM,) over every training frame (std >= 1e-3)."""
    stacked = np.concatenate([r.features for r in records], axis=0)
    return stacked.mean(axis=0), np.maximum(stacked.std(axis=0), 1e-3)
