"""The SQLite lexicon: entries round-trip, re-adding is idempotent, damage is reported."""
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time

import pytest

from engine.data.lexicon import LexiconEntry, LexiconStore
from engine.motion import ProjectFileError
from tests.conftest import random_motion


def entry(rng, gloss="HELLO", language="ase", words=("hello", "hi"), source_hash="h1", **kw):
    return LexiconEntry(gloss=gloss, language=language, words=words,
                        motion=random_motion(rng, num_frames=8), source_kind="video",
                        source="/videos/hello.mp4", source_hash=source_hash,
                        licence="own recording", quality={"hand_error_median": 0.05}, **kw)


def test_entry_round_trips(tmp_path, rng):
    with LexiconStore(tmp_path / "lex.sqlite") as store:
        original = entry(rng)
        entry_id = store.add(original)
        loaded = store.get(entry_id)
    assert loaded.motion.equals(original.motion)
    assert loaded.words == ("hello", "hi") and loaded.quality == {"hand_error_median": 0.05}
    assert (loaded.gloss, loaded.language, loaded.source_hash) == ("HELLO", "ase", "h1")


def test_re_adding_the_same_recording_replaces_it(tmp_path, rng):
    with LexiconStore(tmp_path / "lex.sqlite") as store:
        store.add(entry(rng))
        store.add(entry(rng))  # same language, gloss and source hash
        store.add(entry(rng, source_hash="h2"))  # a second recording of the sign
        assert len(store) == 2
        assert store.has_source("ase", "HELLO", "h1")
        assert len(store.find_gloss("ase", "HELLO")) == 2
        assert not store.has_source("ase", "HELLO", "h3")


def test_word_lookup_is_unicode_aware(tmp_path, rng):
    with LexiconStore(tmp_path / "lex.sqlite") as store:
        store.add(entry(rng, gloss="STRASSE", language="gsg", words=("Straße",)))
        store.add(entry(rng, gloss="ß", language="gsg", words=("ß",), kind="letter"))
        store.add(entry(rng, gloss="Ä", language="sgg", words=("A\u0308",), kind="letter"))
        assert [e.gloss for e in store.lookup_word("gsg", "STRAßE")] == ["STRASSE"]
        assert store.lookup_word("gsg", "ß", kinds=["letter"])[0].gloss == "ß"
        assert store.lookup_word("sgg", "ä")[0].gloss == "Ä"  # composed vs decomposed
        assert store.lookup_word("ase", "Straße") == []
        assert store.languages() == {"gsg": 2, "sgg": 1}
        assert store.word_keys("gsg", "letter") == {"ß"}


def test_failed_add_leaves_nothing_behind(tmp_path, rng, monkeypatch):
    with LexiconStore(tmp_path / "lex.sqlite") as store:
        store.add(entry(rng))
        import engine.data.lexicon as lexicon

        def boom(motion):
            raise RuntimeError("interrupted")

        monkeypatch.setattr(lexicon, "motion_to_bytes", boom)
        with pytest.raises(RuntimeError):
            store.add(entry(rng, gloss="BYE", source_hash="h9"))
        assert len(store) == 1 and store.find_gloss("ase", "BYE") == []


@pytest.mark.slow
def test_killed_writer_leaves_a_consistent_database(tmp_path):
    db = tmp_path / "lex.sqlite"
    script = textwrap.dedent(f"""
        import numpy as np
        from engine.data.lexicon import LexiconEntry, LexiconStore
        from engine.motion import Motion
        store = LexiconStore({str(db)!r})
        i = 0
        while True:
            store.add(LexiconEntry(gloss=f"G{{i}}", language="ase", words=(f"w{{i}}",),
                      motion=Motion.zeros(200), source_kind="manual", source="-",
                      source_hash=str(i), licence="-"))
            i += 1
            if i == 3:
                print("ready", flush=True)
    """)
    process = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert process.stdout.readline().strip() == "ready"
    time.sleep(0.3)
    process.send_signal(signal.SIGKILL)
    process.wait()
    with LexiconStore(db) as store:
        assert store._db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert len(store) >= 3
        for summary in store.list():
            assert store.get(summary.id).motion.num_frames == 200
            assert summary.words == (f"w{summary.gloss[1:]}",)


def test_newer_schema_and_damaged_file_are_reported(tmp_path):
    path = tmp_path / "lex.sqlite"
    LexiconStore(path).close()
    with sqlite3.connect(path) as db:
        db.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    with pytest.raises(ProjectFileError, match="schema 99 is newer"):
        LexiconStore(path)
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(ProjectFileError, match="not a readable Sign Studio lexicon") as error:
        LexiconStore(junk)
    assert str(junk) in str(error.value)


def test_bad_entries_are_refused(rng):
    with pytest.raises(ValueError, match="LexiconEntry.kind"):
        entry(rng, kind="word")
    with pytest.raises(ValueError, match="LexiconEntry.gloss"):
        entry(rng, gloss=" ")
