"""Signs from notation in a real SQLite lexicon: the DSGS vocabulary read from the
installed ``signwriting`` package, the user's own HamNoSys and SiGML, and text lookup
that finds German words by their glosses and lemmas."""
from __future__ import annotations

import sqlite3

import numpy as np
import pytest

from engine.data.lexicon import LexiconEntry, LexiconStore
from engine.data.lexicon_build import add_notation, add_sigml, build_from_notation
from engine.generate.assemble import assemble
from engine.generate.text import TokenKind, text_to_tokens
from engine.motion.motion import Motion
from engine.notation.dsgs import PROVENANCE, fold, gloss_words, is_variant
from engine.notation.hamnosys import NotationError
from engine.notation.symbols import from_names
from engine.notation.synthesis import UnsupportedNotation

GLOSSES = ["HAUS", "HAUS_2", "KIND", "GUTEN_MORGEN", "TRINKEN", "WASSER", "FLASCHE"]


@pytest.fixture(scope="module")
def dsgs(tmp_path_factory):
    path = tmp_path_factory.mktemp("lexicon") / "lexicon.sqlite"
    with LexiconStore(path) as store:
        report = build_from_notation(store, glosses=GLOSSES)
        # letters, so the rest of a sentence is fingerspelled
        for letter in "abcdefghijklmnopqrstuvwxyz":
            store.add(LexiconEntry(gloss=letter.upper(), language="sgg", words=(letter,),
                                   motion=Motion.zeros(3), source_kind="manual",
                                   source=f"test letter {letter}", source_hash=letter,
                                   licence="test", kind="letter"))
    return path, report


def test_gloss_words_normalise_the_data_glosses():
    assert gloss_words("GUTEN_MORGEN_1") == ("guten morgen",)
    assert gloss_words("BÖSE_1") == ("böse", "boese")
    assert gloss_words("FREIBURG--DEUTSCHLAND-") == ("freiburg",)
    assert gloss_words("MEINST_DU?") == ("meinst du",)
    assert gloss_words("") == ()
    assert is_variant("KENIA_INT") and is_variant("JAHR_B") and not is_variant("HAUS")
    assert fold("Schläft") == "schlaeft" and fold("heißen") == "heissen"


def test_dsgs_entries_carry_notation_signwriting_and_provenance(dsgs):
    path, report = dsgs
    assert report.added >= 5 and not report.failed
    with LexiconStore(path) as store:
        signs = [s for s in store.list("sgg") if s.kind == "sign"]
        house = [s for s in signs if s.gloss == "HAUS"]
        assert len(house) == 1
        entry = store.get(house[0].id)
        assert entry.source_kind == "notation" and entry.licence == PROVENANCE
        assert entry.notation.startswith(from_names("symmlr flathand"))
        assert entry.signwriting.startswith("M")
        assert entry.motion.num_frames > 20 and np.abs(entry.motion.body_pose).max() > 0.5


def test_rebuilding_skips_what_is_there(dsgs):
    path, _ = dsgs
    with LexiconStore(path) as store:
        before = len(store)
        report = build_from_notation(store, glosses=GLOSSES)
        assert report.added == 0 and report.skipped >= 5 and len(store) == before


def test_text_finds_words_by_gloss_phrase_and_lemma(dsgs):
    path, _ = dsgs
    with LexiconStore(path, read_only=True) as store:
        tokens = list(text_to_tokens("Guten Morgen, er trinkt Wasser im Haus", "sgg", store))
    kinds = [(t.text, t.kind, t.glosses) for t in tokens]
    assert kinds[0] == ("Guten Morgen", TokenKind.LEXICON, ("GUTEN_MORGEN",))
    assert kinds[1][1] is TokenKind.FINGERSPELLED  # "er": no sign, spelled
    assert kinds[2][:2] == ("trinkt", TokenKind.LEXICON) and kinds[2][2] == ("TRINKEN",)
    assert "trinken" in tokens[2].note  # found by its lemma, and the note says so
    assert kinds[3][2] == ("WASSER",)
    assert kinds[-1][2] == ("HAUS",)  # the plain sign, not the variant HAUS_2


def test_compounds_and_dropped_umlauts(dsgs, tmp_path):
    path, _ = dsgs
    with LexiconStore(path) as store:
        add_notation(store, from_names("flathand extfingero palmd chest moved"), "MADCHEN",
                     "sgg", words=("madchen",))  # a gloss that lost its umlaut's dots
        tokens = list(text_to_tokens("Wasserflasche Mädchen Kindskopf", "sgg", store))
    assert tokens[0].kind is TokenKind.LEXICON and tokens[0].glosses == ("WASSER", "FLASCHE")
    assert tokens[0].note == "compound: wasser + flasche"
    assert tokens[1].glosses == ("MADCHEN",)
    # "kindskopf": KIND + linking s, but no sign for "kopf" in this lexicon: spelled
    assert tokens[2].kind is TokenKind.FINGERSPELLED


def test_a_dsgs_sentence_assembles_with_notation_on_its_segments(dsgs):
    path, _ = dsgs
    with LexiconStore(path, read_only=True) as store:
        tokens = list(text_to_tokens("Kind trinkt Wasser", "sgg", store))
        project = assemble(tokens, store, "sgg")
    assert [s.gloss for s in project.segments] == ["KIND", "TRINKEN", "WASSER"]
    assert all(s.notation for s in project.segments)


def test_user_notation_in_any_language(tmp_path):
    with LexiconStore(tmp_path / "l.sqlite") as store:
        entry_id = add_notation(store, from_names("finger2 extfingero palmd chest moveo"),
                                "ZEIGEN", "gsg", words=("zeigen",))
        assert store.lookup_word("gsg", "zeigen")[0].id == entry_id
        # the same gloss again, edited: replaced, not doubled
        add_notation(store, from_names("finger2 extfingero palmd chest movel"), "ZEIGEN", "gsg",
                     words=("zeigen",))
        assert len(store.find_gloss("gsg", "ZEIGEN")) == 1


@pytest.mark.parametrize("text,error", [
    (from_names("flathand palmd chest"), NotationError),
    (from_names("flathand extfingero palmd orirelative chest"), UnsupportedNotation),
])
def test_bad_notation_changes_nothing(tmp_path, text, error):
    with LexiconStore(tmp_path / "l.sqlite") as store:
        with pytest.raises(error):
            add_notation(store, text, "X", "sgg")
        assert len(store) == 0


def test_sigml_import_is_all_or_nothing(tmp_path):
    good = "".join(f"<ham{n}/>" for n in "flathand extfingero palmd chest moved".split())
    bad = "".join(f"<ham{n}/>" for n in "flathand extfingero palmd orirelative chest".split())
    sigml = tmp_path / "signs.sigml"
    sigml.write_text(f'<sigml><hns_sign gloss="EINS"><hamnosys_manual>{good}</hamnosys_manual>'
                     f'</hns_sign><hns_sign gloss="ZWEI"><hamnosys_manual>{bad}'
                     '</hamnosys_manual></hns_sign></sigml>', encoding="utf-8")
    with LexiconStore(tmp_path / "l.sqlite") as store:
        with pytest.raises(ValueError, match=r"sign 2 \('ZWEI'\).*relative orientation.*nothing was added"):
            add_sigml(store, sigml, "sgg")
        assert len(store) == 0
        sigml.write_text(sigml.read_text(encoding="utf-8").replace(bad, good), encoding="utf-8")
        ids = add_sigml(store, sigml, "sgg")
        assert len(ids) == 2 and store.get(ids[1]).notation == from_names(
            "flathand extfingero palmd chest moved")


def test_version_1_lexicon_is_upgraded_in_place(tmp_path):
    path = tmp_path / "old.sqlite"
    db = sqlite3.connect(path)
    db.executescript("""
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        INSERT INTO meta VALUES ('schema_version', '1');
        CREATE TABLE entries (id INTEGER PRIMARY KEY, gloss TEXT NOT NULL,
            language TEXT NOT NULL, kind TEXT NOT NULL, source_kind TEXT NOT NULL,
            source TEXT NOT NULL, source_hash TEXT NOT NULL, licence TEXT NOT NULL,
            quality_json TEXT NOT NULL, fps REAL NOT NULL, num_frames INTEGER NOT NULL,
            motion BLOB NOT NULL, created_at TEXT NOT NULL,
            UNIQUE (language, gloss, source_hash));
        CREATE TABLE entry_words (entry_id INTEGER NOT NULL REFERENCES entries(id)
            ON DELETE CASCADE, word_key TEXT NOT NULL);
    """)
    from engine.motion.project_io import motion_to_bytes

    db.execute("INSERT INTO entries VALUES (1, 'A', 'sgg', 'letter', 'manual', 'test', 'a', "
               "'test', '{}', 30.0, 3, ?, '2026-01-01')", (motion_to_bytes(Motion.zeros(3)),))
    db.execute("INSERT INTO entry_words VALUES (1, 'a')")
    db.commit()
    db.close()
    with LexiconStore(path, read_only=True) as store:  # read as it is, notation ""
        (summary,) = store.list()
        assert summary.gloss == "A" and summary.notation == "" and summary.signwriting == ""
        assert store.get(1).notation == "" and store.lookup_word("sgg", "a")[0].id == 1
        assert store.find_gloss("sgg", "A")[0].notation == ""
    with LexiconStore(path) as store:
        add_notation(store, from_names("fist extfingero palmd chest"), "FAUST", "sgg")
        faust = [s for s in store.list() if s.gloss == "FAUST"][0]
        assert faust.notation == from_names("fist extfingero palmd chest")
        assert store.get(1).gloss == "A"  # the old row survived the upgrade
    version = sqlite3.connect(path).execute(
        "SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0]
    assert version == "2"


def test_every_dsgs_entry_has_its_own_source():
    from engine.notation.dsgs import notation_entries

    entries = notation_entries()
    assert len(entries) == 1364
    assert len({e.source for e in entries}) == len(entries)  # 105 have no sign_id


def test_sigml_without_a_gloss_or_with_a_gloss_twice_changes_nothing(tmp_path):
    sign = "".join(f"<ham{n}/>" for n in "flathand extfingero palmd chest moved".split())

    def sigml(*glosses: str) -> str:
        return "<sigml>" + "".join(f'<hns_sign gloss="{g}"><hamnosys_manual>{sign}'
                                   "</hamnosys_manual></hns_sign>" for g in glosses) + "</sigml>"

    path = tmp_path / "signs.sigml"
    with LexiconStore(tmp_path / "l.sqlite") as store:
        path.write_text(sigml("EINS", ""), encoding="utf-8")
        with pytest.raises(ValueError, match="sign 2: expected a gloss"):
            add_sigml(store, path, "sgg")
        path.write_text(sigml("EINS", "EINS"), encoding="utf-8")
        with pytest.raises(ValueError, match="'EINS' is already an earlier sign"):
            add_sigml(store, path, "sgg")
        assert len(store) == 0


def test_a_failed_store_keeps_nothing_of_the_batch(tmp_path, monkeypatch):
    import engine.data.lexicon as lexicon

    entries = [LexiconEntry(gloss=g, language="sgg", words=(g.lower(),), motion=Motion.zeros(3),
                            source_kind="manual", source=g, source_hash=g, licence="test")
               for g in ("EINS", "ZWEI")]
    calls = []

    def fail_on_second(motion):
        calls.append(motion)
        if len(calls) == 2:
            raise sqlite3.OperationalError("database or disk is full")
        return real(motion)

    real = lexicon.motion_to_bytes
    monkeypatch.setattr(lexicon, "motion_to_bytes", fail_on_second)
    with LexiconStore(tmp_path / "l.sqlite") as store:
        with pytest.raises(Exception, match="could not be written"):
            store.add_many(entries)
        assert len(store) == 0


def test_compounds_are_split_only_in_german(tmp_path):
    with LexiconStore(tmp_path / "l.sqlite") as store:
        for language in ("ase", "sgg"):
            for gloss in ("CAR", "PET", "A", "E", "C", "R", "P", "T"):
                kind = "letter" if len(gloss) == 1 else "sign"
                store.add(LexiconEntry(gloss=gloss, language=language, words=(gloss.lower(),),
                                       motion=Motion.zeros(3), source_kind="manual",
                                       source=f"{language} {gloss}", source_hash=gloss,
                                       licence="test", kind=kind))
        english = list(text_to_tokens("carpet", "ase", store))
        german = list(text_to_tokens("carpet", "sgg", store))
    assert english[0].kind is TokenKind.FINGERSPELLED
    assert german[0].glosses == ("CAR", "PET")


def test_the_plain_sign_wins_over_a_variant_built_later(dsgs):
    path, _ = dsgs
    with LexiconStore(path) as store:
        build_from_notation(store, glosses=["SPRACHE"])
        build_from_notation(store, glosses=["SPRACHE_B"])  # the variant is the newest
        assert [s.gloss for s in store.lookup_word("sgg", "sprache")] == ["SPRACHE",
                                                                         "SPRACHE_B"]
        tokens = list(text_to_tokens("Sprache", "sgg", store))
    assert tokens[0].glosses == ("SPRACHE",)
