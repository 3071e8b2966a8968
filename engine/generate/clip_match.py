"""Image -> sign through CLIP image embeddings: the second image route (SignAvatar).

SignAvatar conditions on CLIP's joint space so that "an image reflecting a
label" can drive generation. Here that space finds the lexicon entries a picture looks
like: every entry of a language is rendered as one or a few thumbnails of its
steadiest frames (the held handshape), each thumbnail is embedded with the user's CLIP
weights, and a query photo is ranked against them by cosine similarity. Unlike the
MediaPipe route (``image_match``) it needs no detected hand, so it also answers for
pictures MediaPipe cannot read; how well it ranks depends entirely on the weights.

Rendering needs VTK, which only ``engine.export`` may import, so the caller injects a
``render_frames(motion, frames) -> list of (H, W, 3) uint8`` callable
(``engine.export.thumbnails.HandThumbnails``).

Embeddings are cached in a small SQLite file beside the lexicon
(``lexicon.sqlite`` -> ``lexicon.clip-cache.sqlite``), one row per entry::

    clip_embeddings(entry_id, motion_hash, model_name, weights_sha256, render_key,
                    frames TEXT (JSON list), dim, embeddings BLOB (K x dim float32 LE),
                    created_at, PRIMARY KEY (entry_id, motion_hash, model_name,
                    weights_sha256, render_key))

A row is reused only while the entry's motion (its hash), the model, the weights' sha256
and the renderer's ``cache_key`` are all unchanged; anything else is a miss and is
rendered and embedded again. Rows of entries the lexicon no longer holds are dropped,
so a cache file belongs to one lexicon. Rows of other weights are kept (switching
back is free; ~2 KB per entry and weight set at 512 dimensions). Rows are written one
transaction per batch, so an interrupted build keeps the entries it finished and a
cancelled one resumes there.
"""
from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from engine.data.lexicon import EntrySummary, LexiconStore
from engine.generate.image_match import read_query_image, steadiest_frame
from engine.jobs import CancelToken, no_progress
from engine.learn.encoders import ClipEncoder
from engine.motion.errors import ProjectFileError
from engine.motion.motion import Motion

#: ``render_frames(motion, frame_indices) -> one (H, W, 3) uint8 RGB image per index``.
#: Give the callable a ``cache_key`` string attribute that changes whenever its pixels
#: would (view, size, body); otherwise its qualified name is used.
RenderFrames = Callable[[Motion, Sequence[int]], list]

CACHE_SCHEMA_VERSION = 1
_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS clip_embeddings (
    entry_id INTEGER NOT NULL,
    motion_hash TEXT NOT NULL,
    model_name TEXT NOT NULL,
    weights_sha256 TEXT NOT NULL,
    render_key TEXT NOT NULL,
    frames TEXT NOT NULL,
    dim INTEGER NOT NULL,
    embeddings BLOB NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (entry_id, motion_hash, model_name, weights_sha256, render_key)
);
"""


@dataclass(frozen=True)
class ClipMatch:
    """A lexicon entry ranked by CLIP. Same ``entry``/``distance``/``score`` fields as
    ``image_match.ImageMatch``; ``score`` is the cosine similarity (-1..1, 1 = the same
    embedding) of the query to the entry's best-matching thumbnail, ``distance`` is
    ``1 - score``, ``frame`` that thumbnail's frame index in the entry's motion."""

    entry: EntrySummary
    distance: float
    score: float
    frame: int
    route: str = "clip"


def motion_hash(motion: Motion) -> str:
    """sha256 over every array of the motion (name, dtype, shape, bytes) and its fps."""
    digest = hashlib.sha256(f"fps={float(motion.fps)!r}".encode())
    arrays = dict(motion.frame_arrays())
    arrays["betas"] = motion.betas
    for name in sorted(arrays):
        array = np.ascontiguousarray(arrays[name])
        digest.update(f"|{name}|{array.dtype.str}|{array.shape}|".encode())
        digest.update(array.tobytes())
    return digest.hexdigest()


def representative_frames(motion: Motion, count: int = 1, body=None) -> list[int]:
    """``count`` frame indices that show the entry's handshape, most telling first.

    The first is where the right hand moves least in the middle half of the clip (the
    held shape, as the MediaPipe route picks it); more are spread evenly over that
    middle half. Fewer come back when the clip has fewer distinct frames.
    """
    from engine.body.tips import hand_points

    if count < 1:
        raise ValueError(f"representative_frames: expected count >= 1, got {count}")
    if body is None:
        from engine.body import default_avatar

        body = default_avatar()
    frames = motion.num_frames
    chosen = [steadiest_frame(hand_points(body, motion, "right"))]
    if count > 1:
        lo, hi = frames // 4, max(frames // 4, 3 * frames // 4 - 1)
        for frame in np.linspace(lo, hi, count).round().astype(int):
            if int(frame) not in chosen and len(chosen) < count:
                chosen.append(int(frame))
    return chosen


def default_cache_path(store: LexiconStore) -> Path:
    """``<lexicon folder>/<lexicon stem>.clip-cache.sqlite``."""
    return store.path.with_name(store.path.stem + ".clip-cache.sqlite")


def _render_key(render_frames: RenderFrames, frames_per_entry: int) -> str:
    key = getattr(render_frames, "cache_key", None)
    if not key:
        key = f"{getattr(render_frames, '__module__', '?')}." \
              f"{getattr(render_frames, '__qualname__', type(render_frames).__qualname__)}"
    return f"{key}|frames={frames_per_entry}"


class _EmbeddingCache:
    """The cache file: one connection, opened and closed by the index build."""

    def __init__(self, path: Path):
        self.path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(path)
            with self._db:
                self._db.executescript(_SCHEMA)
                version = self._db.execute(
                    "SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
                if version is None:
                    self._db.execute("INSERT INTO meta VALUES ('schema_version', ?)",
                                     (str(CACHE_SCHEMA_VERSION),))
                elif version[0] != str(CACHE_SCHEMA_VERSION):
                    raise ProjectFileError(path, f"CLIP embedding cache schema {version[0]}, "
                                                 f"this Sign Studio writes "
                                                 f"{CACHE_SCHEMA_VERSION}; delete the file "
                                                 "(it is rebuilt from the lexicon)")
        except sqlite3.DatabaseError as error:
            raise ProjectFileError(path, f"not a CLIP embedding cache ({error}); delete the "
                                         "file (it is rebuilt from the lexicon)") from None

    def get(self, entry_id: int, digest: str, key: tuple[str, str, str],
            dim: int) -> tuple[list[int], np.ndarray] | None:
        row = self._db.execute(
            "SELECT frames, dim, embeddings FROM clip_embeddings WHERE entry_id = ? AND "
            "motion_hash = ? AND model_name = ? AND weights_sha256 = ? AND render_key = ?",
            (entry_id, digest, *key)).fetchone()
        if row is None or row[1] != dim:
            return None
        frames = json.loads(row[0])
        vectors = np.frombuffer(row[2], dtype="<f4")
        if vectors.size != len(frames) * dim or not frames:
            return None  # damaged row: treat as a miss, it is rewritten
        return frames, vectors.reshape(len(frames), dim).astype(np.float32)

    def put_many(self, rows: list[tuple[int, str, list[int], np.ndarray]],
                 key: tuple[str, str, str]) -> None:
        created = datetime.now(UTC).isoformat(timespec="seconds")
        with self._db:
            for entry_id, digest, frames, vectors in rows:
                # An entry whose motion changed leaves its old row behind: drop it.
                self._db.execute(
                    "DELETE FROM clip_embeddings WHERE entry_id = ? AND model_name = ? AND "
                    "weights_sha256 = ? AND render_key = ?", (entry_id, *key))
                self._db.execute(
                    "INSERT INTO clip_embeddings VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (entry_id, digest, *key, json.dumps(frames), vectors.shape[1],
                     np.ascontiguousarray(vectors, dtype="<f4").tobytes(), created))

    def prune(self, entry_ids: set[int]) -> None:
        """Forget entries the lexicon no longer has (removed, or replaced: a replaced
        entry comes back under a new id)."""
        with self._db:
            self._db.execute("CREATE TEMP TABLE IF NOT EXISTS live (id INTEGER PRIMARY KEY)")
            self._db.execute("DELETE FROM live")
            self._db.executemany("INSERT INTO live VALUES (?)", [(i,) for i in entry_ids])
            self._db.execute("DELETE FROM clip_embeddings WHERE entry_id NOT IN "
                             "(SELECT id FROM live)")

    def close(self) -> None:
        self._db.close()


@dataclass(eq=False)
class ClipIndex:
    """CLIP embeddings of one language's lexicon entries; build once, query many.

    ``entries[i]`` has thumbnails ``frames[i]`` embedded as rows of ``vectors`` where
    ``owners == i``. ``vectors``: (M, dim) float32 unit rows. ``rendered``: how many
    entries this build had to render and embed (0 when all came from the cache).
    """

    language: str
    encoder_identity: str
    entries: list[EntrySummary]
    frames: list[list[int]]
    vectors: np.ndarray
    owners: np.ndarray
    rendered: int
    cache_path: Path

    @classmethod
    def build(cls, store: LexiconStore, language: str, encoder: ClipEncoder,
              render_frames: RenderFrames, *, frames_per_entry: int = 1,
              cache_path: str | Path | None = None, batch_entries: int = 8,
              progress=no_progress, cancel: CancelToken | None = None) -> ClipIndex:
        """Embed every entry of ``language`` (cached ones are read, not rendered).

        Progress counts the entries; ``cancel`` is honoured between batches, and the
        batches already embedded stay in the cache. Raises ValueError when the lexicon
        has no entries for ``language``.
        """
        cancel = cancel or CancelToken()
        entries = store.list(language)
        if not entries:
            raise ValueError(f"the lexicon ({store.path}) has no entries for '{language}'; "
                             "run `signstudio-cli lexicon build` first")
        cache_path = Path(cache_path) if cache_path is not None else default_cache_path(store)
        key = (encoder.model_name, encoder.weights_sha256,
               _render_key(render_frames, frames_per_entry))
        cache = _EmbeddingCache(cache_path)
        try:
            found: dict[int, tuple[list[int], np.ndarray]] = {}
            missing: list[tuple[int, str, Motion]] = []
            for number, summary in enumerate(entries):
                motion = store.get(summary.id).motion
                digest = motion_hash(motion)
                hit = cache.get(summary.id, digest, key, encoder.dim)
                if hit is None:
                    missing.append((number, digest, motion))
                else:
                    found[number] = hit
            total = len(entries)
            progress(len(found), total, f"{len(found)} of {total} signs from the CLIP cache")
            for start in range(0, len(missing), batch_entries):
                cancel.raise_if_cancelled()
                batch = missing[start:start + batch_entries]
                images, counts, batch_frames = [], [], []
                for number, _, motion in batch:
                    frames = representative_frames(motion, frames_per_entry)
                    rendered = list(render_frames(motion, frames))
                    if len(rendered) != len(frames):
                        raise ValueError(f"render_frames returned {len(rendered)} images for "
                                         f"{len(frames)} frames of '{entries[number].gloss}'")
                    images += rendered
                    counts.append(len(frames))
                    batch_frames.append(frames)
                vectors = encoder.encode_images(images)
                rows, offset = [], 0
                for (number, digest, _), frames, count in zip(batch, batch_frames, counts):
                    block = vectors[offset:offset + count]
                    offset += count
                    found[number] = (frames, block)
                    rows.append((entries[number].id, digest, frames, block))
                cache.put_many(rows, key)
                done = len(found)
                progress(done, total, f"embedded {entries[batch[-1][0]].gloss}")
            if missing:
                cache.prune({summary.id for summary in store.list()})
        finally:
            cache.close()
        frames = [found[i][0] for i in range(len(entries))]
        blocks = [found[i][1] for i in range(len(entries))]
        owners = np.concatenate([np.full(len(b), i) for i, b in enumerate(blocks)])
        return cls(language, encoder.identity, entries, frames,
                   np.concatenate(blocks).astype(np.float32), owners, len(missing),
                   cache_path)

    def match(self, query: np.ndarray, top: int = 5) -> list[ClipMatch]:
        """(dim,) unit query embedding -> the ``top`` entries by best cosine, best first."""
        query = np.asarray(query, np.float32).reshape(-1)
        if query.shape[0] != self.vectors.shape[1]:
            raise ValueError(f"ClipIndex.match: expected a ({self.vectors.shape[1]},) "
                             f"embedding, got {query.shape}")
        cosine = self.vectors @ query
        best = np.full(len(self.entries), -np.inf)
        best_row = np.zeros(len(self.entries), int)
        for row, (owner, value) in enumerate(zip(self.owners, cosine)):
            if value > best[owner]:
                best[owner], best_row[owner] = value, row
        order = np.argsort(-best, kind="stable")[:top]
        matches = []
        for i in order:
            first_row = int(np.flatnonzero(self.owners == i)[0])
            frame = self.frames[i][int(best_row[i]) - first_row]
            score = float(best[i])
            matches.append(ClipMatch(self.entries[i], 1.0 - score, score, frame))
        return matches


def match_image_clip(image: str | Path | np.ndarray, language: str, store: LexiconStore,
                     encoder: ClipEncoder, render_frames: RenderFrames | None,
                     top_k: int = 5, *,
                     index: ClipIndex | None = None, frames_per_entry: int = 1,
                     cache_path: str | Path | None = None, progress=no_progress,
                     cancel: CancelToken | None = None) -> list[ClipMatch]:
    """The ``top_k`` lexicon entries of ``language`` whose thumbnails look most like
    ``image`` (a path or an (H, W, 3) uint8 array) to CLIP, best first.

    Builds (or reads from the cache) the language's ``ClipIndex`` unless ``index`` is
    given (``render_frames`` may then be None); ``progress``/``cancel`` apply to that
    build.
    """
    query = read_query_image(image)
    if index is None:
        if render_frames is None:
            raise ValueError("match_image_clip: expected render_frames (or a built index)")
        index = ClipIndex.build(store, language, encoder, render_frames,
                                frames_per_entry=frames_per_entry, cache_path=cache_path,
                                progress=progress, cancel=cancel)
    elif index.language != language or index.encoder_identity != encoder.identity:
        raise ValueError(f"match_image_clip: the index is for '{index.language}' with "
                         f"{index.encoder_identity}, not '{language}' with {encoder.identity}")
    return index.match(encoder.encode_images([query])[0], top_k)
