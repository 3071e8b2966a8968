"""Filling the lexicon: the package's fingerspelling clips, and users' own recordings.

Both paths read keypoints, fit them to SMPL-X (``engine.data.fit``) and store the
motion with its source hash (a package clip's includes ``FITTER_VERSION`` and the shipped
hand reader's bytes), so running a
build again skips what is already there (idempotent) and refits, replacing, what an
older fitter made; an interrupted build keeps every entry it finished (each is its own
transaction; see ``engine.data.lexicon``).
"""
from __future__ import annotations

import functools
import hashlib
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from engine.data.fingerspelling import PACKAGE_SOURCE, FingerspellingEntry, load_index
from engine.data.lexicon import LexiconEntry, LexiconStore, file_sha256
from engine.data.pose_reader import KeypointFileError
from engine.file_cache import FileCache
from engine.jobs import CancelToken, Progress, die_with_parent, no_progress
from engine.motion.errors import MotionError, UsageError

PACKAGE_LICENCE = f"fingerspelling clip from {PACKAGE_SOURCE}"

#: fit(sequence, progress=..., cancel=...) -> an object with .motion and .quality
Fitter = Callable[..., object]


#: What the default fitter does, as far as its result is concerned: a change here makes
#: ``lexicon build`` fit the package clips again (and replace their old fits), and only
#: those whose fit it changes. Bump it whenever fitting changes a result.
FITTER_VERSION = ("2026-12-07: a clip fitted badly (median hand error above 0.13) is fitted again "
                  "from a grid with bent and hooked fingers")


def fitted_hash(path) -> str:
    """The source hash of a package clip fitted by this fitter: its bytes,
    ``FITTER_VERSION``, every number the fitter is tuned by (``fitter_numbers_digest``)
    and the shipped hand reader's bytes (a new fitter, setting or reader refits it; the
    same ones skip it)."""
    from engine.data.fit.hand_reader import default_checkpoint_path

    reader = default_checkpoint_path()
    reader_hash = _READER_HASH.get(reader, file_sha256) if reader.is_file() else "no hand reader"
    return hashlib.sha256(f"{file_sha256(path)}\n{FITTER_VERSION}\n{fitter_numbers_digest()}\n"
                          f"{reader_hash}".encode()).hexdigest()


def fitter_numbers_digest() -> str:
    """A digest of ``engine.data.fit.constants``: its named values and the default
    ``FitWeights``, so a retuned weight, range or threshold refits the clips even where
    ``FITTER_VERSION`` was not bumped (it still must be for a change of code); the
    settings that do not change a fit (``constants.NOT_IN_RESULT``) are left out."""
    from engine.data.fit import constants

    values = {name: getattr(constants, name) for name in dir(constants)
              if name.isupper() and name not in constants.NOT_IN_RESULT}
    values["FitWeights"] = constants.FitWeights()
    return hashlib.sha256(repr(sorted(values.items())).encode()).hexdigest()


#: The reader's hash once per version of its file (a build asks for it once per clip).
_READER_HASH: FileCache[str] = FileCache(max_entries=1)


#: Why the package's clips get no fitted face: their producer replaced every signer's
#: face by one mean face that only turns with the head (FACTS.md). Fitted, its
#: proportions (not the avatar's) read as expressions: weights up to 1.0 on 24 clips of
#: 8 languages, where the signers made none we could know.
PACKAGE_FACE = "not fitted: the package's clips carry a mean face, not the signer's"


def _default_fit() -> Fitter:
    """The fitter of the package's clips: body and hands, no face (``PACKAGE_FACE``)."""
    from engine.data.fit import fit_keypoints

    return functools.partial(fit_keypoints, face=PACKAGE_FACE)


def _recording_fit() -> Fitter:
    """The fitter of the user's own recordings: everything, the face too."""
    from engine.data.fit import fit_keypoints

    return fit_keypoints


@dataclass
class BuildReport:
    added: int = 0
    skipped: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)  # (clip, reason)
    #: Notation signs not made: the feature that stopped them -> how many.
    unsupported: dict[str, int] = field(default_factory=dict)

    def summary(self) -> str:
        text = f"{self.added} added, {self.skipped} already present, {len(self.failed)} failed"
        if self.unsupported:
            count = sum(self.unsupported.values())
            text += (f", {count} notation signs not made yet (" + "; ".join(
                f"{feature}: {n}" for feature, n in sorted(
                    self.unsupported.items(), key=lambda item: -item[1])[:8]) + ")")
        return text + "".join(f"\n  failed: {clip}: {reason}" for clip, reason in self.failed)


def _fit_on_one_thread(sequence, **options):
    """The default fitter on one torch thread, as the workers run it
    (``_fit_package_clip``): 4 clips fitted in-process under load took 8.7 s against
    76 s on torch's default thread count. The caller's thread count is restored."""
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return _default_fit()(sequence, **options)
    finally:
        torch.set_num_threads(previous)


def _fit_package_clip(clip: FingerspellingEntry) -> tuple[object, dict]:
    """Worker-process job: read and fit one clip with the default fitter.

    One torch thread per process: two processes on two cores beat one process with
    two threads for these small per-clip problems (measured in the issue note).
    """
    import torch

    torch.set_num_threads(1)
    result = _default_fit()(load_index().read(clip))
    return result.motion, dict(result.quality)


def build_from_package(store: LexiconStore, languages: Iterable[str] | None = None, *,
                       glosses: Iterable[str] | None = None,
                       fit: Fitter | None = None, progress: Progress = no_progress,
                       cancel: CancelToken | None = None, workers: int = 1) -> BuildReport:
    """Fit and store every fingerspelling clip (of ``languages``, default all 19;
    only ``glosses`` when given).

    A clip whose (language, gloss, content hash) is already stored is skipped. A clip
    that cannot be read or fitted is reported in ``BuildReport.failed`` and the build
    goes on. Raises ValueError for an unknown language code (listing the known ones).

    ``workers > 1`` fits clips in that many processes (default fitter only); this
    process alone writes to the database, so each entry is still one transaction.
    """
    if workers > 1 and fit is not None:
        raise ValueError("build_from_package: a custom fit runs in-process; use workers=1")
    index = load_index()
    known = index.languages()
    wanted = list(languages) if languages else known
    unknown = sorted(set(wanted) - set(known))
    if unknown:
        raise UsageError(f"unknown sign language(s) {unknown}; the package has: {', '.join(known)}")
    clips = [c for c in index if c.signed_language in wanted]
    if glosses:
        wanted_glosses = set(glosses)
        clips = [c for c in clips if c.glosses in wanted_glosses]
    report = BuildReport()
    todo = []
    for clip in clips:
        digest = fitted_hash(index.path_of(clip))
        if store.has_source(clip.signed_language, clip.glosses, digest):
            report.skipped += 1
        else:
            todo.append((clip, digest))
    done = report.skipped
    progress(done, len(clips), "")

    def store_result(clip, digest, motion, quality) -> None:
        store.add(LexiconEntry(
            gloss=clip.glosses, language=clip.signed_language, words=(clip.words,),
            motion=motion, source_kind="package", source=clip.path, source_hash=digest,
            licence=PACKAGE_LICENCE, kind="letter", quality=quality), replace_source=True)
        report.added += 1

    if workers <= 1:
        fit = fit or _fit_on_one_thread
        for clip, digest in todo:
            if cancel is not None:
                cancel.raise_if_cancelled()
            try:
                result = fit(index.read(clip), cancel=cancel)
            except (KeypointFileError, MotionError) as error:
                report.failed.append((clip.path, str(error)))
            else:
                store_result(clip, digest, result.motion, dict(result.quality))
            done += 1
            progress(done, len(clips), f"{clip.signed_language} {clip.glosses}")
        return report

    import multiprocessing
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

    # "spawn": a fresh interpreter per worker (forking a process that holds torch
    # threads and an open SQLite handle is unsafe).
    context = multiprocessing.get_context("spawn")
    # Workers end with this process even when it is killed outright (kill -9), so a
    # killed build never leaves fitting processes behind.
    with ProcessPoolExecutor(max_workers=workers, mp_context=context,
                             initializer=die_with_parent, initargs=(os.getpid(),)) as pool:
        pending = {pool.submit(_fit_package_clip, clip): (clip, digest) for clip, digest in todo}
        try:
            while pending:
                finished, _ = wait(pending, timeout=0.5, return_when=FIRST_COMPLETED)
                if cancel is not None:
                    cancel.raise_if_cancelled()
                for future in finished:
                    clip, digest = pending.pop(future)
                    try:
                        motion, quality = future.result()
                    except (KeypointFileError, MotionError) as error:
                        report.failed.append((clip.path, str(error)))
                    else:
                        store_result(clip, digest, motion, quality)
                    done += 1
                    progress(done, len(clips), f"{clip.signed_language} {clip.glosses}")
        except BaseException:
            for future in pending:
                future.cancel()
            raise
    return report


def add_video(store: LexiconStore, video: str | Path, gloss: str, language: str, *,
              words: Iterable[str] = (), kind: str = "sign",
              licence: str = "user's own recording", fit: Fitter | None = None,
              progress: Progress = no_progress, cancel: CancelToken | None = None) -> int:
    """Reconstruct a user's recording of one sign and store it; returns the entry id.

    ``words``: the spoken-language word(s) it translates (default: the gloss in lower
    case). Progress runs over two phases, keypoints then fitting, reported as one bar.
    Nothing is written unless both phases succeed.
    """
    from engine.data.video_import import read_video_keypoints

    fit = fit or _recording_fit()
    video = Path(video).resolve()
    if not gloss.strip():
        raise ValueError("--gloss: expected a non-empty gloss, e.g. HELLO")

    # One bar over both phases, in thousandths: keypoints 0-500, fitting 500-1000.
    def keypoint_progress(done: int, total: int, message: str = "") -> None:
        progress(min(500, 500 * done // max(total, done, 1)), 1000, f"keypoints, {message}")

    sequence = read_video_keypoints(video, sign_language=language, gloss=gloss,
                                    progress=keypoint_progress, cancel=cancel)

    def fit_progress(done: int, total: int, message: str = "") -> None:
        progress(500 + 500 * done // max(total, done, 1), 1000, f"fitting, {message}")

    result = fit(sequence, progress=fit_progress, cancel=cancel)
    return store.add(LexiconEntry(
        gloss=gloss, language=language, words=tuple(words) or (gloss.lower(),),
        motion=result.motion, source_kind="video", source=str(video),
        source_hash=file_sha256(video), licence=licence, kind=kind,
        quality=dict(result.quality)))


# ------------------------------------------------------------------ notation
def _notation_hash(hamnosys: str, timing=None) -> str:
    """The source hash of a sign made from ``hamnosys``: the notation, the timing and
    the synthesiser's own code, so a rebuild after any of them changed re-makes the
    sign instead of keeping a stale one."""
    from engine.notation.synthesis import NotationTiming, synthesiser_version

    made_by = f"{synthesiser_version()}\n{timing or NotationTiming()!r}\n{hamnosys}"
    return hashlib.sha256(made_by.encode("utf-8")).hexdigest()


def _made_at(timing=None) -> dict:
    """The quality field a notation entry records its tempo in (``signing_speed``):
    assembly plays it at the asked tempo relative to this, not on top of it."""
    from engine.notation.synthesis import NotationTiming

    return {"signing_speed": float((timing or NotationTiming()).speed)}


def _synthesised(hamnosys: str, timing=None):
    from engine.notation.synthesis import NotationTiming, synthesise

    return synthesise(hamnosys, timing=timing or NotationTiming()).motion


def build_from_notation(store: LexiconStore, *, glosses: Iterable[str] | None = None,
                        timing=None, progress: Progress = no_progress,
                        cancel: CancelToken | None = None) -> BuildReport:
    """Synthesise the DSGS signs of the ``signwriting`` package (read in place) into
    the lexicon as language ``sgg``; ``glosses``: only these.

    Each entry is stored under its first gloss with the German words of all its
    glosses (``gloss_words``), its HamNoSys and SignWriting, and the data's
    provenance as its licence note. Of alternative HamNoSys strings the first that
    can be made is used. An entry no string of which can be made is counted in
    ``BuildReport.unsupported`` by the feature that stopped its first string. Variants
    (``HAUS_2`` beside ``HAUS``) are marked ``quality["variant"]``: text generation
    prefers the plain sign of a word. ``timing``: the
    synthesiser's ``NotationTiming`` (default: its defaults).
    """
    from engine.notation.dsgs import PROVENANCE, gloss_words, is_variant, notation_entries
    from engine.notation.hamnosys import NotationError
    from engine.notation.synthesis import UnsupportedNotation

    entries = [e for e in notation_entries() if e.glosses]
    if glosses is not None:
        wanted = set(glosses)
        entries = [e for e in entries if wanted & set(e.glosses)]
    def main_gloss(entry) -> str:  # the plainest of its glosses: WIE, not WIE_GEHT'S?
        return min(entry.glosses, key=lambda g: (is_variant(g), len(g), g))

    entries.sort(key=lambda e: not is_variant(main_gloss(e)))  # stable: variants first
    report = BuildReport()
    for done, entry in enumerate(entries, start=1):
        if cancel is not None:
            cancel.raise_if_cancelled()
        gloss = main_gloss(entry)
        words = tuple(dict.fromkeys(w for g in entry.glosses for w in gloss_words(g)))
        problem = ""
        for hamnosys in entry.hamnosys:
            digest = _notation_hash(hamnosys, timing)
            if store.has_source("sgg", gloss, digest):
                report.skipped += 1
                break
            try:
                motion = _synthesised(hamnosys, timing)
            except UnsupportedNotation as error:
                problem = problem or error.feature
                continue
            except NotationError as error:
                problem = problem or f"invalid HamNoSys: {error.expected}"
                continue
            store.add(LexiconEntry(
                gloss=gloss, language="sgg", words=words, motion=motion, source_kind="notation",
                source=f"signwriting package, {entry.source}", source_hash=digest,
                licence=PROVENANCE, notation=hamnosys, signwriting=entry.signwriting,
                quality={"variant": is_variant(gloss), **_made_at(timing)}),
                replace_source=True)
            report.added += 1
            break
        else:
            report.unsupported[problem] = report.unsupported.get(problem, 0) + 1
        progress(done, len(entries), gloss)
    return report


def add_notation(store: LexiconStore, hamnosys: str, gloss: str, language: str, *,
                 words: Iterable[str] = (), signwriting: str = "",
                 licence: str = "user's own notation", timing=None) -> int:
    """Synthesise ``hamnosys`` and store it as the sign ``gloss`` of ``language``
    (replacing that gloss's earlier notation); returns the entry id. Raises
    ``NotationError`` (position, symbol, what was expected) or ``UnsupportedNotation``
    (the feature) and stores nothing then."""
    if not gloss.strip():
        raise ValueError("--gloss: expected a non-empty gloss, e.g. HAUS")
    if not language.strip():
        raise ValueError("--lang: expected a sign-language code, e.g. sgg")
    motion = _synthesised(hamnosys, timing)
    return store.add(LexiconEntry(
        gloss=gloss, language=language, words=tuple(words) or (gloss.lower(),), motion=motion,
        source_kind="notation", source=f"the user's own notation of {gloss}",
        source_hash=_notation_hash(hamnosys, timing),
        licence=licence, notation=hamnosys, signwriting=signwriting, quality=_made_at(timing)),
        replace_source=True)


def add_sigml(store: LexiconStore, path: str | Path, language: str, *,
              timing=None) -> list[int]:
    """Every sign of a SiGML file (``hns_sign``) into the lexicon as ``language``, all
    or nothing: each sign is checked and synthesised first, then all are stored in one
    transaction, so a file with one sign that cannot be made (or a full disk) changes
    nothing; the error names the sign."""
    from engine.notation.hamnosys import NotationError
    from engine.notation.sigml import read_sigml
    from engine.notation.synthesis import UnsupportedNotation

    path = Path(path)
    signs = read_sigml(path)
    if not signs:
        raise ValueError(f"{path}: no hns_sign elements with HamNoSys")
    entries, seen = [], set()
    for number, sign in enumerate(signs, start=1):
        where = f"{path}: sign {number}"
        if not sign.gloss.strip():
            raise ValueError(f"{where}: expected a gloss (the hns_sign element's gloss "
                             "attribute is empty); nothing was added")
        if sign.gloss in seen:
            raise ValueError(f"{where}: the gloss '{sign.gloss}' is already an earlier sign "
                             "of this file; nothing was added")
        seen.add(sign.gloss)
        try:
            motion = _synthesised(sign.hamnosys, timing)
        except (NotationError, UnsupportedNotation) as error:
            raise ValueError(f"{where} ('{sign.gloss}'): {error}; nothing was added") from None
        entries.append(LexiconEntry(
            gloss=sign.gloss, language=language, words=(sign.gloss.lower(),), motion=motion,
            source_kind="notation", source=f"{path.resolve()} ({sign.gloss})",
            source_hash=_notation_hash(sign.hamnosys, timing),
            licence="user's own notation (SiGML)", notation=sign.hamnosys,
            quality=_made_at(timing)))
    return store.add_many(entries, replace_source=True)
