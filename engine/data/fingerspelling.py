"""Index of the fingerspelling clips shipped in the ``spoken-to-signed`` package.

The clips live in the installed package (``spoken_to_signed/assets/
fingerspelling_lexicon/<lang>/*.pose``) and are located through
``importlib.resources``; nothing is copied into this repository (the data's licence is
not stated, so we depend on the package instead of redistributing it).

The package has two tables with the columns path, spoken_language, signed_language,
start, end, words, glosses, priority:

* ``data.csv``: the 600 clips, one row each, 19 sign languages. This is our index.
* ``index.csv``: the same 600 rows plus 26 aliases that reuse the ASL (ase) clips for
  French Sign Language (fsl, spoken fr). ``load_index(include_aliases=True)`` reads it.

``start`` / ``end`` are milliseconds in the ORIGINAL recording, before the package
trimmed and re-timed the clip, so they do not give the clip's duration; read the clip.
"""
from __future__ import annotations

import csv
import importlib.resources
import unicodedata
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from engine.data.keypoints import KeypointSequence
from engine.data.pose_reader import KeypointFileError, read_pose_file

PACKAGE = "spoken_to_signed"
#: Where the clips come from and under what terms, as every licence note quotes it (the
#: lexicon's per-entry note, the trained models' manifests).
PACKAGE_SOURCE = ("the spoken-to-signed 0.4.0 package (package licence MIT; the clips' own "
                  "licence is not stated)")
LEXICON_PARTS = ("assets", "fingerspelling_lexicon")
COLUMNS = ("path", "spoken_language", "signed_language", "start", "end", "words", "glosses")


@dataclass(frozen=True)
class FingerspellingEntry:
    """One row of the lexicon table.

    ``path``: the clip, relative to the lexicon folder (e.g. ``"ase/fs-....pose"``).
    ``spoken_language`` / ``signed_language``: ISO 639 codes (e.g. ``"en"``, ``"ase"``).
    ``start_ms`` / ``end_ms``: span in the original recording (see the module docstring).
    ``words``: the written letter(s), ``glosses``: the sign's gloss; digraphs such as
    ``"SCH"``, ``"CH"``, ``"LL"`` occur. Both are NFC-normalised: the package stores
    sgg's "Ä" decomposed (A + combining diaeresis), which would not equal a typed "Ä".
    ``priority``: the package's preference order
    when several clips spell the same thing (0 first).
    """

    path: str
    spoken_language: str
    signed_language: str
    start_ms: int
    end_ms: int
    words: str
    glosses: str
    priority: int = 0


def lexicon_dir() -> Path:
    """The installed package's ``fingerspelling_lexicon`` folder, as a real path.

    Raises ``FileNotFoundError`` with an install hint when the package is missing or
    installed in a form (e.g. a zip) whose files are not on disk.
    """
    try:
        root = importlib.resources.files(PACKAGE)
    except ModuleNotFoundError as exc:
        raise FileNotFoundError(
            f"the fingerspelling lexicon needs the {PACKAGE!r} package: pip install spoken-to-signed"
        ) from exc
    folder = root.joinpath(*LEXICON_PARTS)
    # .pose clips are read by path (pose-format reads bytes from a file we open), so the
    # package must be installed as plain files, which pip does.
    path = Path(str(folder))
    if not path.is_dir():
        raise FileNotFoundError(
            f"{PACKAGE} is installed but has no {'/'.join(LEXICON_PARTS)} folder at {path}"
        )
    return path


def _parse_int(value: str, column: str, csv_path: Path, line: int) -> int:
    try:
        return int(value)
    except ValueError:
        raise KeypointFileError(
            csv_path, f"line {line}: column {column!r} is not an integer: {value!r}"
        ) from None


def parse_index(csv_path: Path) -> tuple[FingerspellingEntry, ...]:
    """Parse one lexicon table into entries, in file order.

    Raises ``KeypointFileError`` naming the file and the missing column or bad line.
    """
    try:
        text = csv_path.read_text(encoding="utf-8")
    except OSError as exc:
        raise KeypointFileError(csv_path, f"cannot read the index: {exc}") from exc
    reader = csv.DictReader(text.splitlines())
    missing = [c for c in COLUMNS if c not in (reader.fieldnames or ())]
    if missing:
        raise KeypointFileError(csv_path, f"index lacks column(s) {', '.join(missing)}")
    entries = []
    for line, row in enumerate(reader, start=2):
        entries.append(FingerspellingEntry(
            path=row["path"],
            spoken_language=row["spoken_language"],
            signed_language=row["signed_language"],
            start_ms=_parse_int(row["start"], "start", csv_path, line),
            end_ms=_parse_int(row["end"], "end", csv_path, line),
            words=unicodedata.normalize("NFC", row["words"]),
            glosses=unicodedata.normalize("NFC", row["glosses"]),
            priority=_parse_int(row.get("priority") or "0", "priority", csv_path, line),
        ))
    return tuple(entries)


class FingerspellingIndex:
    """The lexicon's entries, with look-ups by language and gloss and a clip reader."""

    def __init__(self, entries: tuple[FingerspellingEntry, ...], root: Path):
        self.entries = entries
        self.root = root

    def __len__(self) -> int:
        return len(self.entries)

    def __iter__(self):
        return iter(self.entries)

    def languages(self) -> list[str]:
        """Sign language codes, sorted."""
        return sorted({e.signed_language for e in self.entries})

    def counts(self) -> dict[str, int]:
        """Number of clips per sign language, sorted by code."""
        counted = Counter(e.signed_language for e in self.entries)
        return {lang: counted[lang] for lang in sorted(counted)}

    def for_language(self, signed_language: str) -> list[FingerspellingEntry]:
        """Entries of one sign language, in file order (empty when unknown)."""
        return [e for e in self.entries if e.signed_language == signed_language]

    def find(self, signed_language: str, gloss: str) -> FingerspellingEntry:
        """The preferred (lowest priority number) entry with this gloss (case-insensitive,
        Unicode-normalised)."""
        wanted = unicodedata.normalize("NFC", gloss).casefold()
        hits = [e for e in self.for_language(signed_language) if e.glosses.casefold() == wanted]
        if not hits:
            raise KeyError(f"no fingerspelling clip for {gloss!r} in {signed_language!r}")
        return min(hits, key=lambda e: e.priority)

    def path_of(self, entry: FingerspellingEntry) -> Path:
        """Absolute path of the entry's ``.pose`` clip inside the installed package."""
        return self.root / entry.path

    def read(self, entry: FingerspellingEntry, *, mirror_left_dominant: bool = True) -> KeypointSequence:
        """The entry's clip as a normalised ``KeypointSequence`` with the per-language
        rules applied (see ``engine.data.pose_reader``); the sign language is the
        clip's folder, which is the language of its recording (for an fsl alias: ase)."""
        return read_pose_file(
            self.path_of(entry), sign_language=Path(entry.path).parts[0], gloss=entry.glosses,
            mirror_left_dominant=mirror_left_dominant,
        )


def load_index(*, include_aliases: bool = False) -> FingerspellingIndex:
    """The lexicon index from the installed package: ``data.csv`` (600 clips), or
    ``index.csv`` with ``include_aliases`` (adds 26 fsl rows reusing ase clips)."""
    root = lexicon_dir()
    entries = parse_index(root / ("index.csv" if include_aliases else "data.csv"))
    return FingerspellingIndex(entries, root)
