"""Text -> sign tokens for one sign language, with a per-token coverage report.

Rules, in order, for each word of the text:
1. A lexicon sign whose words include the word -> LEXICON. Tried in order: a phrase
   of up to ``MAX_PHRASE_WORDS`` words starting here (DSGS GUTEN_MORGEN is "guten
   morgen"), the word itself (NFC, lower-case), the word folded (ß as ss, umlauts as
   ae/oe/ue: glosses and keyboards drop them), then its lemma in the spoken language
   (simplemma: "heisse" -> "heißen") and the lemma folded; the token's note says
   when the sign was found by its lemma. A word with no sign of its own that splits
   into two words that have one (a German compound, "Wasserflasche") is signed as
   those two signs, and the note says so.
2. Otherwise the word is fingerspelled in that language's alphabet -> FINGERSPELLED.
   The alphabet is the set of letter entries in the lexicon, which includes the
   language's multi-letter signs (German SCH, Spanish CH/LL/RR, Italian double
   letters ...); spelling takes the longest match first, so "Schule" in asq is
   SCH-U-L-E, not S-C-H-U-L-E.
   A character with no letter sign falls back, and the token's note says so: its
   upper/lower-case twin (Greek final sigma -> sigma), then its base letter without
   diacritics (é -> e), then German ß -> ss. A character that still has no sign is
   skipped and named in the note.
3. Numbers are written out as words in the spoken language paired with the sign
   language (num2words) and spelled: this lexicon has no number signs. Where
   num2words lacks the language, the number is MISSING with that reason.
4. A word with nothing spellable -> MISSING.
Punctuation separates words and is otherwise dropped.
"""
from __future__ import annotations

import enum
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

from engine.data.lexicon import LexiconStore, word_key

#: Words: letters (any script, with combining marks and inner apostrophes/hyphens)
#: or runs of digits. Everything else separates words.
_WORD = re.compile(r"\d+|(?:[^\W\d_]|\u0640)[\w\u0640'’\-]*", re.UNICODE)


#: Longest text signed at once. Generation is linear in the text (bench/hostile.py
#: measures it), and this keeps a pasted book from tying up the machine for hours.
MAX_TEXT_CHARACTERS = 20_000
#: Longest number written out as words: num2words reads up to 10^15 in most
#: languages, and nobody fingerspells a longer number word by word.
MAX_NUMBER_DIGITS = 15


class TokenKind(str, enum.Enum):
    LEXICON = "lexicon"
    FINGERSPELLED = "fingerspelled"
    MISSING = "missing"


@dataclass(frozen=True)
class Token:
    """One word of the input and how it will be signed.

    ``glosses``: the lexicon gloss, or the letters spelled, in order.
    ``entry_ids``: the lexicon entry for each gloss (same length as ``glosses``).
    """

    text: str
    kind: TokenKind
    glosses: tuple[str, ...] = ()
    entry_ids: tuple[int, ...] = ()
    note: str = ""

    def as_dict(self) -> dict:
        return {"text": self.text, "kind": self.kind.value, "glosses": list(self.glosses),
                "note": self.note}


class UnsupportedLanguage(ValueError):
    """The lexicon has no letters for the requested sign language."""


@lru_cache(maxsize=1)
def spoken_language_of() -> dict[str, str]:
    """Sign language -> the spoken language its fingerspelling spells (ase -> en)."""
    from engine.data.fingerspelling import load_index

    return {e.signed_language: e.spoken_language for e in load_index()}


class Speller:
    """Fingerspells words with one language's letter entries (longest match first)."""

    def __init__(self, store: LexiconStore, language: str):
        self.language = language
        self._letters: dict[str, tuple[str, int]] = {}
        for summary in store.list(language):
            if summary.kind == "letter":
                for key in summary.words:
                    # Keep the first (lowest id) entry per letter: stable choices.
                    self._letters.setdefault(key, (summary.gloss, summary.id))
        self._longest = max((len(k) for k in self._letters), default=0)

    def __bool__(self) -> bool:
        return bool(self._letters)

    def _fallback(self, char: str) -> tuple[str, str] | None:
        """(replacement text, reason) for a character with no letter sign."""
        twin = char.upper().lower()
        if twin != char and twin in self._letters:
            return twin, f"{char} as {twin}"
        base = "".join(c for c in unicodedata.normalize("NFKD", char)
                       if not unicodedata.combining(c))
        if base and base != char and all(c in self._letters for c in base):
            return base, f"{char} as {base}"
        if char == "ß" and "s" in self._letters:
            return "ss", "ß as ss"
        return None

    def spell(self, word: str) -> tuple[list[tuple[str, int]], list[str]]:
        """([(gloss, entry id), ...], notes) for ``word``; unspellable chars noted."""
        text = word_key(word).replace("\u0640", "")  # tatweel is only a stretch mark
        letters: list[tuple[str, int]] = []
        notes: list[str] = []
        i = 0
        while i < len(text):
            for size in range(min(self._longest, len(text) - i), 0, -1):
                piece = text[i:i + size]
                if piece in self._letters:
                    letters.append(self._letters[piece])
                    i += size
                    break
            else:
                char = text[i]
                i += 1
                if char in "'’-":
                    continue
                fallback = self._fallback(char)
                if fallback is None:
                    notes.append(f"no sign for '{char}'")
                    continue
                replacement, reason = fallback
                letters.extend(self._letters[c] for c in replacement)
                notes.append(reason)
        return letters, notes


def words_of(text: str) -> Iterator[str]:
    """The words and numbers of ``text`` in order (a generator: bounded memory)."""
    for match in _WORD.finditer(unicodedata.normalize("NFC", text)):
        yield match.group(0).strip("-'’")


def supported_languages(store: LexiconStore) -> list[str]:
    """Sign languages that have an alphabet in the lexicon."""
    return sorted({s.language for s in store.list() if s.kind == "letter"})


def text_to_tokens(text: str, language: str, store: LexiconStore) -> Iterator[Token]:
    """Tokens for ``text`` in sign language ``language`` (see the module docstring).

    Raises ``UnsupportedLanguage`` listing the supported languages when the lexicon
    has no alphabet for ``language``.
    """
    if len(text) > MAX_TEXT_CHARACTERS:
        raise ValueError(f"text: {len(text):,} characters; at most {MAX_TEXT_CHARACTERS:,} "
                         "are signed at once (about 3,500 words): split the text")
    speller = Speller(store, language)
    if not speller:
        supported = supported_languages(store)
        raise UnsupportedLanguage(
            f"sign language '{language}' is not in the lexicon ({store.path}); supported: "
            + (", ".join(supported) if supported else
               "none yet - run `signstudio-cli lexicon build`"))
    words = [w for w in words_of(text) if w]
    spoken = spoken_language_of().get(language)
    index = 0
    while index < len(words):
        word = words[index]
        if word.isdecimal():  # not isdigit(): "²" is a digit int() cannot read
            yield _number_token(word, speller)
            index += 1
            continue
        found = _find_sign(store, language, spoken, words, index)
        if found is not None:
            best, used, note = found
            yield Token(" ".join(words[index:index + used]), TokenKind.LEXICON, (best.gloss,),
                        (best.id,), note)
            index += used
            continue
        parts = (compound_signs(store, language, spoken, word)
                 if spoken in COMPOUNDING_LANGUAGES and len(word) >= 6 else None)
        if parts is not None:
            yield Token(word, TokenKind.LEXICON, tuple(s.gloss for s, _ in parts),
                        tuple(s.id for s, _ in parts),
                        "compound: " + " + ".join(part for _, part in parts))
            index += 1
            continue
        yield _spelled_token(word, speller)
        index += 1


#: Longest phrase looked up as one sign.
MAX_PHRASE_WORDS = 3


def _fold(word: str) -> str:
    from engine.notation.dsgs import fold

    return fold(word_key(word))


def lemma_of(word: str, spoken: str | None) -> str | None:
    """The dictionary form of ``word`` in spoken language ``spoken`` (simplemma's
    tables, offline), or None when it has none or the language is not covered."""
    if not spoken:
        return None
    try:
        import simplemma

        lemma = simplemma.lemmatize(word, lang=spoken)
    except (ValueError, KeyError, LookupError):
        return None
    return lemma if word_key(lemma) != word_key(word) else None


def _find_sign(store: LexiconStore, language: str, spoken: str | None, words: list[str],
               index: int):
    """(newest matching sign, words used, note) for the words from ``index`` on, or
    None (see the module docstring for the order of tries)."""
    for size in range(min(MAX_PHRASE_WORDS, len(words) - index), 1, -1):
        phrase = " ".join(words[index:index + size])
        if any(w.isdecimal() for w in words[index:index + size]):
            continue
        signs = store.lookup_word(language, phrase, kinds=["sign"])
        if signs:
            return _preferred(signs), size, ""
    found = _find_word(store, language, spoken, words[index])
    return None if found is None else (found[0], 1, found[1])


def _find_word(store: LexiconStore, language: str, spoken: str | None, word: str):
    """(newest sign for one word, note) or None: the word as written, folded, without
    its umlauts' dots (glosses sometimes drop them), then its lemma the same ways."""
    tries = [(word, ""), (_fold(word), ""), (_undotted(word), "")]
    lemma = lemma_of(word, spoken)
    if lemma:
        note = f"found as '{lemma}'"
        tries += [(lemma, note), (_fold(lemma), note), (_undotted(lemma), note)]
    seen = set()
    for candidate, note in tries:
        key = word_key(candidate)
        if key in seen:
            continue
        seen.add(key)
        signs = store.lookup_word(language, candidate, kinds=["sign"])
        if signs:
            return _preferred(signs), note
    return None


def _preferred(signs: list) -> object:
    """Of the entries for a word, the newest one that is not a variant of another
    (``quality["variant"]``, set for HAUS_2 beside HAUS), else the newest."""
    plain = [s for s in signs if not s.quality.get("variant")]
    return (plain or signs)[-1]


def _undotted(word: str) -> str:
    return word_key(word).replace("ä", "a").replace("ö", "o").replace("ü", "u")


#: Spoken languages whose words are split into compounds (German writes them as one
#: word; English "carpet" is not CAR PET).
COMPOUNDING_LANGUAGES = frozenset({"de"})
#: Shortest part of a compound word looked up on its own.
MIN_COMPOUND_PART = 3
#: Linking letters German puts between the parts of a compound (Arbeit-s-zimmer).
_LINKS = ("", "s", "es", "n", "en", "e")


def compound_signs(store: LexiconStore, language: str, spoken: str | None, word: str):
    """A compound word no sign has, as two signs: [(sign, part), (sign, part)] for the
    split with the longest first part whose parts both have a sign (a linking s, n, en
    or e may join them: "Wasserflasche" -> WASSER FLASCHE), or None."""
    key = word_key(word)
    for cut in range(len(key) - MIN_COMPOUND_PART, MIN_COMPOUND_PART - 1, -1):
        head, tail = key[:cut], key[cut:]
        second = _find_word(store, language, spoken, tail)
        if second is None:
            continue
        for link in _LINKS:
            if link and not head.endswith(link):
                continue
            stem = head[:len(head) - len(link)] if link else head
            if len(stem) < MIN_COMPOUND_PART:
                continue
            first = _find_word(store, language, spoken, stem)
            if first is not None:
                return [(first[0], stem), (second[0], tail)]
    return None


def _spelled_token(word: str, speller: Speller, note_prefix: str = "") -> Token:
    letters, notes = speller.spell(word)
    note = "; ".join(([note_prefix] if note_prefix else []) + notes)
    if not letters:
        return Token(word, TokenKind.MISSING, note=note or "nothing to spell")
    return Token(word, TokenKind.FINGERSPELLED, tuple(g for g, _ in letters),
                 tuple(i for _, i in letters), note)


def _number_token(digits: str, speller: Speller) -> Token:
    spoken = spoken_language_of().get(speller.language)
    if len(digits) > MAX_NUMBER_DIGITS:
        return Token(digits, TokenKind.MISSING,
                     note=f"a number of {len(digits)} digits; numbers of up to "
                          f"{MAX_NUMBER_DIGITS} digits are written out and spelled")
    try:
        from num2words import num2words

        words = num2words(int(digits), lang=spoken)
    except (NotImplementedError, OverflowError, TypeError):
        return Token(digits, TokenKind.MISSING,
                     note=f"no number signs, and numbers cannot be written out in '{spoken}'")
    return _spelled_token(words, speller, note_prefix=f"number written as '{words}'")


def coverage_report(tokens: list[Token]) -> dict:
    """What the CLI's ``--json`` prints and the studio shows: per token and totals."""
    counts = {kind.value: 0 for kind in TokenKind}
    for token in tokens:
        counts[token.kind.value] += 1
    return {"tokens": [t.as_dict() for t in tokens], "counts": counts}
