"""Text -> tokens on the real alphabets of the 19 sign languages."""
import time
import tracemalloc

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.data.fingerspelling import load_index
from engine.data.lexicon import LexiconEntry, LexiconStore
from engine.generate.text import (
    TokenKind, UnsupportedLanguage, coverage_report, supported_languages, text_to_tokens,
)
from engine.motion import Motion


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """Every real letter of the package's 19 alphabets (motions are placeholders here:
    tokenising reads only glosses and words), plus one lexicon sign."""
    store = LexiconStore(tmp_path_factory.mktemp("lex") / "lex.sqlite")
    still = Motion.zeros(2)
    for clip in load_index():
        store.add(LexiconEntry(gloss=clip.glosses, language=clip.signed_language,
                               words=(clip.words,), motion=still, source_kind="package",
                               source=clip.path, source_hash=clip.path, licence="test",
                               kind="letter"))
    store.add(LexiconEntry(gloss="HELLO", language="ase", words=("hello", "hi"), motion=still,
                           source_kind="manual", source="-", source_hash="x", licence="test"))
    yield store
    store.close()


def tokens(text, language, store):
    return list(text_to_tokens(text, language, store))


def test_lexicon_words_use_their_entry_and_others_are_spelled(store):
    result = tokens("Hello, world!", "ase", store)
    assert [t.kind for t in result] == [TokenKind.LEXICON, TokenKind.FINGERSPELLED]
    assert result[0].glosses == ("HELLO",)
    assert result[1].glosses == tuple("WORLD")
    assert len(result[1].entry_ids) == 5


@pytest.mark.parametrize("language, word, expected", [
    ("asq", "Schule", ("SCH", "U", "L", "E")),
    ("sgg", "Schach", ("SCH", "A", "CH")),
    ("ssp", "llama", ("LL", "A", "M", "A")),
    ("ssp", "carro", ("C", "A", "RR", "O")),
    ("ise", "bello", ("B", "E", "ll", "O")),
    ("gsg", "Straße", ("S", "T", "R", "A", "ß", "E")),
    ("ukl", "Привіт", ("П", "Р", "И", "В", "І", "Т")),
    ("jos", "الم", ("ال", "م")),
])
def test_digraphs_and_scripts(store, language, word, expected):
    (token,) = tokens(word, language, store)
    assert token.kind is TokenKind.FINGERSPELLED and token.glosses == expected, token


def test_fallbacks_are_named_in_the_note(store):
    (sharp,) = tokens("Straße", "ase", store)
    assert sharp.glosses == tuple("STRASSE") and "ß as ss" in sharp.note
    (greek,) = tokens("λόγος", "gss", store)
    assert greek.glosses == ("Λ", "Ο", "Γ", "Ο", "Σ")
    assert "ό as ο" in greek.note and "ς as σ" in greek.note
    (cafe,) = tokens("café", "ase", store)
    assert cafe.glosses == tuple("CAFE") and "é as e" in cafe.note


def test_numbers(store):
    (number,) = tokens("42", "ase", store)
    assert number.kind is TokenKind.FINGERSPELLED
    assert "".join(number.glosses) == "FORTYTWO" and "forty-two" in number.note
    (greek,) = tokens("42", "gss", store)
    assert greek.kind is TokenKind.MISSING and "'el'" in greek.note


def test_unspellable_words_are_missing(store):
    (chinese,) = tokens("你好", "ase", store)
    assert chinese.kind is TokenKind.MISSING and "no sign for '你'" in chinese.note
    report = coverage_report(tokens("hi 你好 yo", "ase", store))
    assert report["counts"] == {"lexicon": 1, "fingerspelled": 1, "missing": 1}
    assert report["tokens"][1]["note"].startswith("no sign")


@pytest.mark.parametrize("text", ["", "   ", "?!.,;:", "— … «»"])
def test_empty_text_gives_no_tokens(store, text):
    assert tokens(text, "ase", store) == []


def test_unsupported_language_lists_the_supported_ones(store):
    with pytest.raises(UnsupportedLanguage) as error:
        tokens("hello", "xyz", store)
    assert "'xyz'" in str(error.value) and "ase, asq, bzs" in str(error.value)
    assert len(supported_languages(store)) == 19


def test_long_text_completes_in_bounded_memory(store):
    text = ("The quick brown fox jumps over the lazy dog 1984. " * 200)[:10_000]
    tracemalloc.start()
    start = time.perf_counter()
    count = sum(1 for _ in text_to_tokens(text, "ase", store))
    elapsed = time.perf_counter() - start
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert count == len(text.split())
    assert elapsed < 10 and peak < 20 * 1024 * 1024


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=60))
def test_any_text_is_tokenised_without_error(store, text):
    for token in text_to_tokens(text, "ase", store):
        assert token.text
        assert len(token.glosses) == len(token.entry_ids)
        assert (token.kind is TokenKind.MISSING) == (not token.glosses)
