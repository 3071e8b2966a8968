"""The lexicon, owned by the job lane: generation, handshape presets, video import.

SQLite connections belong to the thread that opened them (``LexiconStore`` is not
thread-safe), so the store is opened lazily by the first job that needs it, on the
JobRunner's single worker thread, and every later use is a job on that same lane.
That also makes it load once and serve many generations (one worker lane
owns the loaded models). Qt-free: each public method is a job function taking
``progress`` and ``cancel`` keyword arguments.
"""
from __future__ import annotations

import threading
from pathlib import Path

import numpy as np

from engine.data.languages import LANGUAGE_NAMES, language_label
from engine.workflows.generate import Generation

__all__ = ["Generation", "LANGUAGE_NAMES", "LexiconService", "language_label"]


class LexiconService:
    """Lexicon operations as job functions (run them through ``JobRunner.submit``)."""

    def __init__(self, path: str | Path | None = None):
        self._path = Path(path) if path is not None else None
        self._store = None
        self._thread: int | None = None
        self._finder = None  # a SignFinder on the open store: it keeps its indexes

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
    def languages(self, *, progress, cancel) -> tuple[list[str], bool]:
        """(every sign language text can be signed in, whether the lexicon holds any
        alphabet yet): the package's languages are listed before their letters are
        fitted, since ``generate`` fits what a text needs."""
        from engine.generate.text import supported_languages
        from engine.workflows.lexicon import signable_languages

        progress(0, 1, f"opening the lexicon {self.path}")
        store = self._open()
        languages = signable_languages(store)
        progress(1, 1, f"{len(languages)} sign languages")
        return languages, bool(supported_languages(store))

    def generate(self, text: str, language: str, *, fps: float = 30.0, progress,
                 cancel) -> Generation:
        """Text -> an assembled Project (``engine.workflows.generate``), after fitting the
        package letters the text needs and the lexicon lacks (seconds a letter, once).
        Raises ValueError (shown to the user) when nothing in ``text`` can be signed."""
        from engine.workflows.generate import GenerateOptions, generate_signing

        return generate_signing(self._open(), text, GenerateOptions(language, fps=fps),
                                progress=progress, cancel=cancel)

    def first_lexicon(self, language: str, *, progress, cancel) -> str:
        """Make a lexicon to sign with when it has no alphabet at all (the first
        launch); see ``engine.workflows.lexicon.first_lexicon``."""
        from engine.workflows.lexicon import first_lexicon

        return first_lexicon(self._open(), language, progress=progress, cancel=cancel)

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

    def candidate_thumbnails(self, entry_ids, *, progress, cancel) -> dict[int, bytes]:
        """PNG close-ups of the entries' right hands (find-sign's candidates)."""
        from engine.workflows.find_sign import candidate_thumbnails

        return candidate_thumbnails(self._open(), entry_ids, progress=progress, cancel=cancel)

    def add_video(self, video: str | Path, gloss: str, language: str, *, progress,
                  cancel) -> int:
        """Reconstruct a recorded sign into the lexicon (keypoints, then fitting)."""
        from engine.workflows.lexicon import add_recorded_sign

        return add_recorded_sign(self._open(), video, gloss, language, progress=progress,
                                 cancel=cancel)

    def match_image(self, image: str | Path, language: str, *, top: int = 5, progress,
                    cancel) -> list:
        """Lexicon entries whose handshape matches the photo, best first: the MediaPipe
        ranking, then the CLIP one when CLIP weights are configured (the "auto" route of
        ``engine.workflows.find_sign``; its indexes are kept between photos)."""
        from engine.workflows.find_sign import FindSignOptions, SignFinder

        if self._finder is None:
            self._finder = SignFinder(self._open())
        return self._finder.find(image, FindSignOptions(language, top=top),
                                 progress=progress, cancel=cancel).matches

    def close(self, *, progress=None, cancel=None) -> None:
        """Close the store (run it as the lane's last job: it must be the same thread)."""
        if self._store is not None:
            self._store.close()
            self._store = None
            self._finder = None
