"""The lexicon: one SQLite file of signs (and letters) as fitted SMPL-X motion.

One recording per sign (the signer-independent lexicon of Motion is the Choreographer): each entry holds a
gloss, its sign language, the spoken-language word(s) it translates, the fitted Motion,
where it came from (a package clip, or a user's video with its path and content hash),
a licence note and the fit quality.

Why SQLite: a single file the user can copy, safe against interruption (every entry is
written in its own transaction, so a killed build leaves only whole entries), readable
by the studio while the CLI adds to it (WAL journal), and queryable by word.

Schema (``LEXICON_SCHEMA_VERSION`` = 2)::

    meta(key TEXT PRIMARY KEY, value TEXT)             -- schema_version, created_by
    entries(id INTEGER PRIMARY KEY, gloss, language, kind, source_kind, source,
            source_hash, licence, quality_json, fps, num_frames, motion BLOB,
            created_at, notation, signwriting, UNIQUE(language, gloss, source_hash))

Version 2 added ``notation`` (the sign's HamNoSys, "" for a recording) and
``signwriting`` (its SignWriting FSW, "" when none); a version 1 file is upgraded in
place when opened for writing, and read as it is when opened read-only.
    entry_words(entry_id -> entries.id ON DELETE CASCADE, word_key)  -- NFC lower-case

``motion`` is ``engine.motion.project_io.motion_to_bytes`` (an npz, no pickle).
"""
from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
import sqlite3
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import engine
from engine.motion.errors import ProjectFileError
from engine.motion.motion import Motion
from engine.motion.project_io import motion_from_bytes, motion_to_bytes

LEXICON_SCHEMA_VERSION = 2
LEXICON_PATH_ENV = "SIGNSTUDIO_LEXICON"
ENTRY_KINDS = ("sign", "letter")
_NOTATION_COLUMNS = frozenset({"notation", "signwriting"})
#: package: a clip shipped in a package; video: the user's recording; manual: made by
#: hand; notation: synthesised from HamNoSys (the package's DSGS data or the user's).
SOURCE_KINDS = ("package", "video", "manual", "notation")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS entries (
    id INTEGER PRIMARY KEY,
    gloss TEXT NOT NULL,
    language TEXT NOT NULL,
    kind TEXT NOT NULL,
    source_kind TEXT NOT NULL,
    source TEXT NOT NULL,
    source_hash TEXT NOT NULL,
    licence TEXT NOT NULL,
    quality_json TEXT NOT NULL,
    fps REAL NOT NULL,
    num_frames INTEGER NOT NULL,
    motion BLOB NOT NULL,
    created_at TEXT NOT NULL,
    notation TEXT NOT NULL DEFAULT '',
    signwriting TEXT NOT NULL DEFAULT '',
    UNIQUE (language, gloss, source_hash)
);
CREATE TABLE IF NOT EXISTS entry_words (
    entry_id INTEGER NOT NULL REFERENCES entries(id) ON DELETE CASCADE,
    word_key TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS entry_words_key ON entry_words (word_key);
CREATE INDEX IF NOT EXISTS entries_language ON entries (language, gloss);
"""


def word_key(word: str) -> str:
    """How words are matched: NFC, lower-case (not casefold: that turns ß into ss)."""
    return unicodedata.normalize("NFC", word).strip().lower()


def file_sha256(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def default_lexicon_path() -> Path:
    """$SIGNSTUDIO_LEXICON, else the ``lexicon_path`` setting, else the user data folder."""
    override = os.environ.get(LEXICON_PATH_ENV)
    if override:
        return Path(override)
    from engine.settings import load_settings

    configured = load_settings().lexicon_path
    if configured:
        return Path(configured)
    from platformdirs import user_data_dir

    return Path(user_data_dir("signstudio")) / "lexicon.sqlite"


@dataclass(frozen=True)
class LexiconEntry:
    """One sign or letter. ``motion`` is the fitted SMPL-X motion at its own fps.

    ``source``: the package clip path (relative to its lexicon folder) or the user's
    video path; ``source_hash``: sha256 of that file's bytes, so re-adding the same
    recording is recognised however it is named. ``quality``: fit metrics (e.g.
    normalised 2D hand error median/p95).
    """

    gloss: str
    language: str
    words: tuple[str, ...]
    motion: Motion
    source_kind: str
    source: str
    source_hash: str
    licence: str
    kind: str = "sign"
    quality: dict = field(default_factory=dict)
    id: int | None = None
    #: HamNoSys the motion was synthesised from ("" for a recording).
    notation: str = ""
    #: SignWriting (FSW) of the sign, when its source has one.
    signwriting: str = ""

    def __post_init__(self) -> None:
        if not self.gloss.strip():
            raise ValueError("LexiconEntry.gloss: expected a non-empty gloss")
        if not self.language:
            raise ValueError("LexiconEntry.language: expected a sign-language code like 'ase'")
        if self.kind not in ENTRY_KINDS:
            raise ValueError(f"LexiconEntry.kind: expected one of {ENTRY_KINDS}, got {self.kind!r}")
        if self.source_kind not in SOURCE_KINDS:
            raise ValueError(
                f"LexiconEntry.source_kind: expected one of {SOURCE_KINDS}, got {self.source_kind!r}")


@dataclass(frozen=True)
class EntrySummary:
    """An entry without its motion (cheap to list)."""

    id: int
    gloss: str
    language: str
    kind: str
    words: tuple[str, ...]
    source_kind: str
    source: str
    licence: str
    quality: dict
    fps: float
    num_frames: int
    #: What is wrong with the row ("" for a sound one): fields that are NULL or not
    #: of their type were replaced by empty values here.
    problem: str = ""
    notation: str = ""
    signwriting: str = ""


def _quality_dict(stored: object) -> dict | None:
    """The fit-quality JSON of a row as a dict, or None when it is NULL or malformed."""
    try:
        value = json.loads(stored) if isinstance(stored, (str, bytes)) else None
    except (ValueError, RecursionError):
        return None
    return value if isinstance(value, dict) else None


class LexiconDamaged(ProjectFileError):
    """The database file is corrupt (SQLite's quick_check fails); ``set_aside`` moves it
    away so a rebuild can start afresh without losing it."""


class LexiconBusy(ProjectFileError):
    """Another process held the database locked for longer than ``BUSY_TIMEOUT_S``."""


#: How long a command waits for another process's write to finish before giving up.
BUSY_TIMEOUT_S = 10.0


def processes_holding(path: Path) -> list[str]:
    """``"pid (command)"`` of the other processes that have ``path`` open (Linux /proc;
    an empty list elsewhere or when they cannot be seen)."""
    target = str(Path(path).resolve())
    found = []
    for proc in Path("/proc").glob("[0-9]*"):
        if proc.name == str(os.getpid()):
            continue
        try:
            if any(os.readlink(fd) == target for fd in (proc / "fd").iterdir()):
                command = " ".join((proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(
                    "utf-8", "replace").split())
                found.append(f"process {proc.name}: {command[:80]}")
        except OSError:
            continue
    return found


def _is_busy(error: sqlite3.OperationalError) -> bool:
    return "locked" in str(error) or "busy" in str(error)


#: SQLite's result codes for a damaged file (SQLITE_CORRUPT, SQLITE_NOTADB).
_CORRUPT_CODES = {11, 26}


def _is_corrupt(error: sqlite3.DatabaseError) -> bool:
    """Whether ``error`` says the file itself is damaged (what a rebuild repairs), as
    opposed to permissions, a full disk or a lock."""
    code = getattr(error, "sqlite_errorcode", None)
    return code is not None and code & 0xFF in _CORRUPT_CODES


def _connect_read_only(path: Path) -> sqlite3.Connection:
    """A read-only connection. The path goes in a ``file:`` URI properly escaped (a
    ``#`` or ``?`` in a folder name would otherwise cut it short). A WAL database in a
    folder we cannot write needs ``immutable``: read-only mode still wants to create its
    shared-memory file."""
    uri = path.resolve().as_uri()
    try:
        db = sqlite3.connect(f"{uri}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_S)
        db.execute("SELECT count(*) FROM sqlite_master").fetchone()
        return db
    except sqlite3.OperationalError as error:
        if _is_busy(error):
            raise
        return sqlite3.connect(f"{uri}?mode=ro&immutable=1", uri=True, timeout=BUSY_TIMEOUT_S)


def set_aside(path: str | Path) -> Path:
    """Move a damaged lexicon (and its WAL files) to ``<name>.damaged-<UTC time>``;
    returns the new path of the database. Never deletes anything."""
    path = Path(path)
    if not path.is_file():
        raise ProjectFileError(path, "is not a file; nothing was set aside")
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
    target = path.with_name(f"{path.name}.damaged-{stamp}")
    for suffix in ("", "-wal", "-shm"):
        source = Path(f"{path}{suffix}")
        if source.exists():
            os.replace(source, Path(f"{target}{suffix}"))
    return target


class LexiconStore:
    """The lexicon database at ``path`` (created on first use).

    Opening checks the file (``PRAGMA quick_check``): a corrupt one raises
    ``LexiconDamaged``. A database another process is writing is waited for up to
    ``BUSY_TIMEOUT_S``, then ``LexiconBusy`` names the processes that hold it. A file
    or folder we may not write opens read-only (``read_only`` says why): listing and
    generating work, adding raises ``ProjectFileError`` saying so.

    Not thread-safe: open one store per thread (SQLite connections are cheap).
    """

    def __init__(self, path: str | Path | None = None, *, read_only: bool | None = None):
        self.path = Path(path) if path is not None else default_lexicon_path()
        if read_only is None:
            read_only = self.path.exists() and not (
                os.access(self.path, os.W_OK) and os.access(self.path.parent, os.W_OK))
        #: Why the store is read-only ("" when it is writable).
        self.read_only = (f"{self.path} cannot be written by this user (its file or folder "
                          "is read-only)") if read_only else ""
        if self.path.exists() and not self.path.is_file():
            raise ProjectFileError(self.path, "is not a file; expected a lexicon database "
                                              "(.sqlite)")
        try:
            if self.read_only:
                self._db = _connect_read_only(self.path)
            else:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._db = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S)
            self._db.execute("PRAGMA foreign_keys = ON")
            check = self._db.execute("PRAGMA quick_check").fetchone()
            if check is None or check[0] != "ok":
                raise self._damaged(f"quick_check: {check[0] if check else 'no answer'}")
            if not self.read_only:
                self._db.execute("PRAGMA journal_mode = WAL")
                with self._db:
                    self._db.executescript(_SCHEMA)
            version = self._db.execute(
                "SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
            if version is None and not self.read_only:
                with self._db:
                    self._db.executemany("INSERT INTO meta VALUES (?, ?)", [
                        ("schema_version", str(LEXICON_SCHEMA_VERSION)),
                        ("created_by", f"Sign Studio {engine.__version__}")])
            elif version is not None and int(version[0]) > LEXICON_SCHEMA_VERSION:
                raise ProjectFileError(
                    self.path, f"lexicon schema {version[0]} is newer than this Sign "
                    f"Studio reads ({LEXICON_SCHEMA_VERSION}); update Sign Studio")
            columns = self._columns_of_entries()
            if not _NOTATION_COLUMNS <= columns and not self.read_only:
                self._upgrade_to_2()
                columns = self._columns_of_entries()
            # A version 1 file opened read-only has no notation columns: read them as "".
            self._notation_columns = ("notation, signwriting" if _NOTATION_COLUMNS <= columns
                                      else "'' AS notation, '' AS signwriting")
        except sqlite3.DatabaseError as error:
            if isinstance(error, sqlite3.OperationalError) and _is_busy(error):
                raise self._busy() from None
            if _is_corrupt(error):
                raise self._damaged(error) from None
            # Not damage (permissions, a full disk, an I/O error): never set anything aside.
            raise ProjectFileError(self.path, f"the lexicon cannot be opened ({error})") from None
        # Decoded motions by entry id: generation reads the same letters again and
        # again, and Motions are immutable, so sharing them is safe.
        self._motions: dict[int, Motion] = {}

    def _columns_of_entries(self) -> set[str]:
        return {row[1] for row in self._db.execute("PRAGMA table_info(entries)")}

    def _upgrade_to_2(self) -> None:
        """Version 1 -> 2: the notation columns, empty. One exclusive transaction (the
        sqlite3 module would commit each ALTER on its own), re-checked inside it, so an
        interrupted upgrade leaves version 1 and two processes opening the file at once
        upgrade it once."""
        self._db.execute("BEGIN IMMEDIATE")
        try:
            for column in sorted(_NOTATION_COLUMNS - self._columns_of_entries()):
                self._db.execute(f"ALTER TABLE entries ADD COLUMN {column} TEXT NOT NULL "
                                 "DEFAULT ''")
            self._db.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'",
                             (str(LEXICON_SCHEMA_VERSION),))
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise

    def _busy(self) -> LexiconBusy:
        holders = ", ".join(processes_holding(self.path)) or "not visible from here"
        return LexiconBusy(self.path, f"the lexicon is locked by another process ({holders})"
                                      f" and stayed locked for {BUSY_TIMEOUT_S:g} s; try again "
                                      "when it has finished")

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[None]:
        """One write transaction (all of it or nothing); another process's lock past the
        busy timeout becomes ``LexiconBusy`` naming it, a full disk a ProjectFileError."""
        try:
            with self._db:
                yield
        except sqlite3.OperationalError as error:
            if _is_busy(error):
                raise self._busy() from None
            raise ProjectFileError(self.path, f"the lexicon could not be written ({error}); "
                                              "what was there before is unchanged") from None

    def _damaged(self, error: Exception | str) -> LexiconDamaged:
        return LexiconDamaged(self.path, f"not a readable Sign Studio lexicon database ({error}); "
                                         "`signstudio-cli lexicon build` starts a new one and "
                                         "keeps this file beside it as a backup")

    def _writable(self, what: str) -> None:
        if self.read_only:
            raise ProjectFileError(self.path, f"{what} refused: the lexicon is open read-only "
                                              f"({self.read_only})")

    # ------------------------------------------------------------------ writing
    def add(self, entry: LexiconEntry, *, replace_source: bool = False) -> int:
        """Insert or replace the entry with the same (language, gloss, source_hash);
        ``replace_source``: also replace the entries of that language from the same
        ``source`` (a sign re-made from edited notation, or by a newer synthesiser;
        sources name one sign each).

        One transaction: after a crash the entry is either fully there or absent.
        Returns the entry id.
        """
        return self.add_many([entry], replace_source=replace_source)[0]

    def add_many(self, entries: Iterable[LexiconEntry], *,
                 replace_source: bool = False) -> list[int]:
        """``add`` for several entries in one transaction: all of them or none."""
        self._writable("adding an entry")
        created = datetime.now(UTC).isoformat(timespec="seconds")
        ids = []
        with self._transaction():
            for entry in entries:
                ids.append(self._insert(entry, created, replace_source))
        self._motions.clear()
        return ids

    def _insert(self, entry: LexiconEntry, created: str, replace_source: bool) -> int:
        self._db.execute(
            "DELETE FROM entries WHERE language = ? AND gloss = ? AND source_hash = ?",
            (entry.language, entry.gloss, entry.source_hash))
        if replace_source:
            self._db.execute("DELETE FROM entries WHERE language = ? AND source = ?",
                             (entry.language, entry.source))
        cursor = self._db.execute(
            "INSERT INTO entries (gloss, language, kind, source_kind, source, source_hash,"
            " licence, quality_json, fps, num_frames, motion, created_at, notation,"
            " signwriting) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (entry.gloss, entry.language, entry.kind, entry.source_kind, entry.source,
             entry.source_hash, entry.licence, json.dumps(entry.quality), entry.motion.fps,
             entry.motion.num_frames, motion_to_bytes(entry.motion), created,
             entry.notation, entry.signwriting))
        entry_id = int(cursor.lastrowid)
        keys = {word_key(w) for w in entry.words if word_key(w)}
        self._db.executemany("INSERT INTO entry_words VALUES (?, ?)",
                             [(entry_id, k) for k in sorted(keys)])
        return entry_id

    def remove(self, entry_id: int) -> None:
        self._writable("removing an entry")
        with self._transaction():
            self._db.execute("DELETE FROM entries WHERE id = ?", (entry_id,))
        self._motions.pop(entry_id, None)

    # ------------------------------------------------------------------ reading
    def has_source(self, language: str, gloss: str, source_hash: str) -> bool:
        row = self._db.execute(
            "SELECT 1 FROM entries WHERE language = ? AND gloss = ? AND source_hash = ?",
            (language, gloss, source_hash)).fetchone()
        return row is not None

    def __len__(self) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM entries").fetchone()[0])

    def languages(self) -> dict[str, int]:
        """Sign-language code -> number of entries."""
        return dict(self._db.execute(
            "SELECT language, COUNT(*) FROM entries GROUP BY language ORDER BY language"))

    def _words(self, entry_id: int) -> tuple[str, ...]:
        return tuple(r[0] for r in self._db.execute(
            "SELECT word_key FROM entry_words WHERE entry_id = ? ORDER BY word_key", (entry_id,)))

    _SUMMARY_COLUMNS = ("id", "gloss", "language", "kind", "source_kind", "source", "licence",
                        "quality_json", "fps", "num_frames")

    def _columns(self, prefix: str = "") -> str:
        """The summary columns for a SELECT (``prefix``: a table alias with its dot)."""
        notation = (f"{prefix}notation, {prefix}signwriting"
                    if not self._notation_columns.startswith("''") else self._notation_columns)
        return ", ".join(prefix + c for c in self._SUMMARY_COLUMNS) + ", " + notation

    def _summary(self, row) -> EntrySummary:
        """A row as an EntrySummary; NULL or malformed fields (a database edited by hand
        or by another tool) are replaced and named in ``problem``, so one bad row never
        stops a listing."""
        (entry_id, gloss, language, kind, source_kind, source, licence, quality, fps,
         num_frames, notation, signwriting) = row
        problems = []

        def text(name: str, value) -> str:
            if isinstance(value, str):
                return value
            problems.append(f"{name} is {'NULL' if value is None else repr(value)[:20]}")
            return "" if value is None else str(value)

        quality_dict = _quality_dict(quality)
        if quality_dict is None:
            problems.append("quality_json is NULL" if quality is None else
                            "quality_json is not a JSON object")
            quality_dict = {}
        if not isinstance(fps, (int, float)) or not fps > 0:
            problems.append(f"fps is {'NULL' if fps is None else repr(fps)[:20]}")
            fps = 0.0
        if not isinstance(num_frames, int):
            shown = "NULL" if num_frames is None else repr(num_frames)[:20]
            problems.append(f"num_frames is {shown}")
            num_frames = 0
        summary = EntrySummary(entry_id, text("gloss", gloss), text("language", language),
                               text("kind", kind), self._words(entry_id),
                               text("source_kind", source_kind), text("source", source),
                               text("licence", licence), quality_dict, float(fps), num_frames)
        summary = dataclasses.replace(summary, notation=notation if isinstance(notation, str)
                                      else "", signwriting=signwriting
                                      if isinstance(signwriting, str) else "")
        return dataclasses.replace(summary, problem="; ".join(problems)) if problems else summary

    def list(self, language: str | None = None) -> list[EntrySummary]:
        """Entries (without motion), by language then gloss."""
        query = f"SELECT {self._columns()} FROM entries"
        args: tuple = ()
        if language:
            query += " WHERE language = ?"
            args = (language,)
        rows = self._db.execute(query + " ORDER BY language, gloss, id", args).fetchall()
        return [self._summary(r) for r in rows]

    def get(self, entry_id: int) -> LexiconEntry:
        row = self._db.execute(
            "SELECT id, gloss, language, kind, source_kind, source, source_hash, licence, "
            f"quality_json, motion, {self._notation_columns} FROM entries WHERE id = ?",
            (entry_id,)).fetchone()
        if row is None:
            raise KeyError(f"lexicon {self.path}: no entry with id {entry_id}")
        (entry_id, gloss, language, kind, source_kind, source, source_hash, licence,
         quality, blob, notation, signwriting) = row
        motion = self._motions.get(entry_id)
        if motion is None:
            where = f"{self.path} (entry {entry_id} '{gloss}')"
            if not isinstance(blob, bytes):
                raise ProjectFileError(where, "motion is NULL" if blob is None else
                                       "motion is not a blob")
            motion = motion_from_bytes(blob, where)
            self._motions[entry_id] = motion
        return LexiconEntry(gloss=gloss, language=language, words=self._words(entry_id),
                            motion=motion, source_kind=source_kind, source=source,
                            source_hash=source_hash, licence=licence, kind=kind,
                            quality=_quality_dict(quality) or {}, id=entry_id,
                            notation=notation if isinstance(notation, str) else "",
                            signwriting=signwriting if isinstance(signwriting, str) else "")

    def find_gloss(self, language: str, gloss: str) -> list[EntrySummary]:
        rows = self._db.execute(
            f"SELECT {self._columns()} FROM entries WHERE language = ? AND gloss = ? "
            "ORDER BY id", (language, gloss)).fetchall()
        return [self._summary(r) for r in rows]

    def lookup_word(self, language: str, word: str,
                    kinds: Iterable[str] = ENTRY_KINDS) -> list[EntrySummary]:
        """Entries whose words include ``word`` (NFC, lower-case match), newest last."""
        kinds = tuple(kinds)
        marks = ",".join("?" * len(kinds))
        rows = self._db.execute(
            f"SELECT DISTINCT {self._columns('e.')} "
            f"FROM entries e JOIN entry_words w ON w.entry_id = e.id "
            f"WHERE e.language = ? AND w.word_key = ? AND e.kind IN ({marks}) ORDER BY e.id",
            (language, word_key(word), *kinds)).fetchall()
        return [self._summary(r) for r in rows]

    def word_keys(self, language: str, kind: str) -> set[str]:
        """All word keys of one kind in a language (e.g. the letters for spelling)."""
        return {r[0] for r in self._db.execute(
            "SELECT DISTINCT w.word_key FROM entry_words w JOIN entries e ON e.id = w.entry_id "
            "WHERE e.language = ? AND e.kind = ?", (language, kind))}

    def __iter__(self) -> Iterator[EntrySummary]:
        return iter(self.list())

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> LexiconStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
