"""Spoken words -> IPA phonemes, offline, with espeak-ng through ``phonemizer``.

espeak-ng comes as a shared library with its voice data inside the ``espeakng-loader``
wheel, so nothing is installed system-wide and nothing is downloaded. Each sign language
is mouthed in the spoken language of its community (the voice below).
"""
from __future__ import annotations

import threading
from functools import cache

from engine.motion.errors import UsageError
from engine.motion.markers import MAX_MOUTHED_CHARACTERS as MAX_WORD_CHARACTERS

#: sign language (ISO 639-3) -> espeak-ng voice of the spoken language it pairs with.
#: DSGS is mouthed in (Swiss) German: espeak has no Swiss German voice, so Standard German.
SPOKEN_VOICE: dict[str, str] = {
    "ase": "en-us", "asq": "de", "bzs": "pt-br", "cse": "cs", "csq": "hr", "eso": "et",
    "gsg": "de", "gss": "el", "ise": "it", "jos": "ar", "lls": "lt", "mfs": "es-419",
    "psr": "pt", "sgg": "de", "ssp": "es", "svk": "sk", "swl": "sv", "tsm": "tr",
    "ukl": "uk",
}
_lock = threading.Lock()  # espeak-ng is one global C state: one caller at a time


class PhonemizerUnavailable(UsageError):
    """No phonemizer voice for the asked language (or espeak-ng cannot be loaded)."""


def voice_for(language: str) -> str:
    """The espeak voice a sign language's mouthing is spoken in ('sgg' -> 'de')."""
    try:
        return SPOKEN_VOICE[language]
    except KeyError:
        raise PhonemizerUnavailable(
            f"mouthing: no spoken language is known for sign language '{language}'; "
            f"known: {', '.join(sorted(SPOKEN_VOICE))}") from None


@cache
def _backend(voice: str):
    import espeakng_loader
    from phonemizer.backend import EspeakBackend
    from phonemizer.backend.espeak.wrapper import EspeakWrapper

    EspeakWrapper.set_library(espeakng_loader.get_library_path())
    EspeakWrapper.set_data_path(espeakng_loader.get_data_path())
    try:
        # remove-flags: a word espeak reads as another language ("(en)haus(el)") keeps
        # its phonemes without the language tags.
        return EspeakBackend(voice, with_stress=False, language_switch="remove-flags")
    except RuntimeError as error:
        raise PhonemizerUnavailable(f"mouthing: espeak-ng has no voice '{voice}' ({error})") from None


def phonemize(word: str, voice: str) -> tuple[str, ...]:
    """IPA phonemes of ``word`` spoken with ``voice``, e.g. ('h', 'aʊ', 's') for 'Haus'.

    Raises ``UsageError`` for an empty or over-long word and ``PhonemizerUnavailable``
    for a voice espeak-ng does not have."""
    from phonemizer.separator import Separator

    word = " ".join(word.split())
    if not word:
        raise UsageError("mouthing: expected a word, got nothing")
    if len(word) > MAX_WORD_CHARACTERS:
        raise UsageError(f"mouthing: expected a word or short phrase of at most "
                         f"{MAX_WORD_CHARACTERS} characters, got {len(word)}")
    with _lock:
        backend = _backend(voice)
        text = backend.phonemize([word], separator=Separator(phone=" ", word=" | ", syllable=""),
                                 strip=True)[0]
    return tuple(p for p in text.split() if p != "|")
