"""The lexicon, owned by the job lane: generation, handshape presets, video import.

SQLite connections belong to the thread that opened them (``LexiconStore`` is not
thread-safe), so the store is opened lazily by the first job that needs it, on the
JobRunner's single worker thread, and every later use is a job on that same lane.
That also makes it load once and serve many generations (ARCHITECTURE: one worker lane
owns the loaded models). Qt-free: each public method is a job function taking
``progress`` and ``cancel`` keyword arguments.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.motion.project import Project

#: Short names users know the sign languages by (ISO 639-3 -> common abbreviation).
LANGUAGE_NAMES: dict[str, str] = {
    "ase": "ASL", "asq": "ÖGS", "bzs": "Libras", "cse": "ČZJ", "csq": "HZJ", "eso": "EVK",
    "gsg": "DGS", "gss": "GSL", "ise": "LIS", "jos": "LIU", "lls": "LGK", "mfs": "LSM",
    "psr": "LGP", "sgg": "DSGS", "ssp": "LSE", "svk": "SPJ", "swl": "STS", "tsm": "TİD",
    "ukl": "UKL",
}


def language_label(code: str) -> str:
    """'ase' -> 'ASL (ase)'; unknown codes are shown as they are."""
    name = LANGUAGE_NAMES.get(code)
    return f"{name} ({code})" if name else code


@dataclass(frozen=True, eq=False)
class Generation:
    """A generation's result: the project and the coverage report
    (``engine.generate.text.coverage_report``: per-token kind, glosses and notes)."""

    project: Project
    report: dict
    text: str
    language: str


def _notation_timing():
    """The synthesiser's timing at the ``signing_speed`` setting (its default when the
    setting is damaged: the settings dialog reports that)."""
    from engine.notation.synthesis import NotationTiming, timing_for
    from engine.settings import load_settings

    try:
        return timing_for(load_settings())
    except ValueError:
        return NotationTiming()


class LexiconService:
    """Lexicon operations as job functions (run them through ``JobRunner.submit``)."""

    def __init__(self, path: str | Path | None = None):
        self._path = Path(path) if path is not None else None
        self._store = None
        self._thread: int | None = None

    @property
    def path(self) -> Path:
        if self._path is None:
            from engine.data.lexicon import default_lexicon_path

            self._path = default_lexicon_path()
        return self._path

    def _open(self):
        if self._store is None:
            from engine.data.lexicon import LexiconStore

            self._store = LexiconStore(self.path)
            self._thread = threading.get_ident()
        elif self._thread != threading.get_ident():
            raise RuntimeError("the lexicon is owned by the job lane: use it through JobRunner")
        return self._store

    # ------------------------------------------------------------------ jobs
    def languages(self, *, progress, cancel) -> list[str]:
        """Sign languages that have an alphabet (what text can be generated in)."""
        from engine.generate.text import supported_languages

        progress(0, 1, f"opening the lexicon {self.path}")
        languages = supported_languages(self._open())
        progress(1, 1, f"{len(languages)} sign languages")
        return languages

    def generate(self, text: str, language: str, *, fps: float = 30.0, progress,
                 cancel) -> Generation:
        """Text -> tokens -> assembled Project (segments, holds, KF2P transitions).

        Raises ValueError (shown to the user) when nothing in ``text`` can be signed.
        """
        from engine.generate.assemble import Timing, assemble
        from engine.generate.text import coverage_report, text_to_tokens

        store = self._open()
        tokens = list(text_to_tokens(text, language, store))
        report = coverage_report(tokens)
        if not any(t.glosses for t in tokens):
            missing = ", ".join(t.text for t in tokens) or "(no words)"
            raise ValueError(f"nothing to sign in '{text}' for {language_label(language)}: "
                             f"not in the lexicon: {missing}")
        project = assemble(tokens, store, language, Timing(fps=fps), progress=progress,
                           cancel=cancel, title=text)
        return Generation(project, report, text, language)

    def first_lexicon(self, language: str, *, progress, cancel) -> str:
        """Make a lexicon to sign with when it has no alphabet at all (the first
        launch): ``language``'s letters fitted from the package's real recordings and,
        for DSGS (``sgg``), its signs synthesised from notation. Returns what was
        added; an interrupted setup keeps what it finished (every entry is its own
        transaction) and the next launch goes on from there."""
        from engine.data.lexicon_build import build_from_notation, build_from_package
        from engine.generate.text import supported_languages

        store = self._open()
        if supported_languages(store):
            return ""
        with_signs = language == "sgg"
        share = 700 if with_signs else 1000  # of the bar: the letters, then the signs

        def letters(done: int, total: int, message: str = "") -> None:
            progress(share * done // max(total, 1), 1000, f"fitting the alphabet: {message}")

        report = build_from_package(store, [language], progress=letters, cancel=cancel)
        summary = f"{language_label(language)} alphabet: {report.summary()}"
        if with_signs:
            def signs(done: int, total: int, message: str = "") -> None:
                progress(share + (1000 - share) * done // max(total, 1), 1000,
                         f"DSGS signs from notation: {message}")

            notation = build_from_notation(store, timing=_notation_timing(), progress=signs,
                                           cancel=cancel)
            summary += f"; DSGS signs: {notation.added} made from notation"
        return summary

    def list_signs(self, language: str, *, progress, cancel) -> list:
        """The signs (not letters) of ``language``: ``EntrySummary`` by gloss."""
        progress(0, 1, f"signs of {language_label(language)}")
        signs = [s for s in self._open().list(language) if s.kind == "sign"]
        progress(1, 1, f"{len(signs)} signs")
        return signs

    def sign_entry(self, entry_id: int, *, progress, cancel):
        """One lexicon entry with its motion (``LexiconEntry``)."""
        progress(0, 1, f"reading entry {entry_id}")
        return self._open().get(entry_id)

    def handshape_presets(self, language: str, *, progress, cancel) -> dict[str, np.ndarray]:
        """Right-hand shapes of the language's letters: name ('ASL B') -> (15, 3) radians.

        A preset is ``right_hand_pose`` at the middle frame of the letter's lexicon
        entry (the newest one when a letter has several), where the shape is formed.
        """
        store = self._open()
        letters = {}
        for summary in store.list(language):
            if summary.kind == "letter":
                letters[summary.gloss] = summary.id  # list() is ordered by id: newest wins
        presets = {}
        name = LANGUAGE_NAMES.get(language, language)
        for number, (gloss, entry_id) in enumerate(sorted(letters.items()), start=1):
            cancel.raise_if_cancelled()
            motion = store.get(entry_id).motion
            presets[f"{name} {gloss}"] = np.array(motion.right_hand_pose[motion.num_frames // 2])
            progress(number, len(letters), gloss)
        return presets

    def add_video(self, video: str | Path, gloss: str, language: str, *, progress,
                  cancel) -> int:
        """Reconstruct a recorded sign into the lexicon (keypoints, then fitting)."""
        from engine.data.lexicon_build import add_video

        return add_video(self._open(), video, gloss, language, progress=progress, cancel=cancel)

    def match_image(self, image: str | Path, language: str, *, top: int = 5, progress,
                    cancel) -> list:
        """Lexicon entries whose handshape matches the photo, best first.

        The MediaPipe ranking (``ImageMatch``) comes first; when CLIP weights are
        configured (the ``clip_weights`` setting or ``$SIGNSTUDIO_CLIP_WEIGHTS``) the
        CLIP ranking follows (``ClipMatch``, ``route == "clip"``). A photo in which
        MediaPipe finds no hand then still gets the CLIP ranking. A configured but
        unusable weights path fails the job with a message naming it.
        """
        from engine.generate.image_match import HandshapeIndex, ImageQueryError, match_image
        from engine.learn.encoders import configured_clip_encoder

        store = self._open()
        encoder = configured_clip_encoder()  # loaded once per weights file (cached)
        matches: list = []
        try:
            key = (language, len(store))
            if getattr(self, "_handshapes_key", None) != key:  # descriptors: once per lexicon
                self._handshapes = HandshapeIndex(store, language)
                self._handshapes_key = key
            matches += match_image(image, store, language, top=top, index=self._handshapes)
        except ImageQueryError as error:
            if encoder is None or "no hand found" not in error.problem:
                raise
        if encoder is not None:
            matches += self._match_image_clip(store, image, language, encoder, top,
                                              progress, cancel)
        return matches

    def _match_image_clip(self, store, image, language, encoder, top, progress, cancel):
        from engine.generate.clip_match import ClipIndex, match_image_clip
        from engine.generate.image_match import read_query_image

        query = read_query_image(image)
        # Entry ids change whenever an entry is added or replaced: rebuild then (the
        # embeddings cache beside the lexicon makes a rebuild cheap).
        key = (language, encoder.identity, tuple(e.id for e in store.list(language)))
        if getattr(self, "_clip_key", None) != key:
            from engine.export.thumbnails import HandThumbnails

            # Off-screen rendering on the job lane, with its own window, as video
            # export does; closed once the thumbnails are embedded.
            with HandThumbnails() as thumbnails:
                self._clip_index = ClipIndex.build(store, language, encoder, thumbnails,
                                                   progress=progress, cancel=cancel)
            self._clip_key = key
        return match_image_clip(query, language, store, encoder, None, top,
                                index=self._clip_index)

    def close(self, *, progress=None, cancel=None) -> None:
        """Close the store (run it as the lane's last job: it must be the same thread)."""
        if self._store is not None:
            self._store.close()
            self._store = None
