"""The DSGS (Swiss German Sign Language, ``sgg``) notation data shipped in the
``signwriting`` package, read in place from the installed package (never copied).

``signwriting/hamnosys/parallel.json`` (signwriting 0.1.19, MIT as distributed by its
repackager) holds 3,772 entries, 1,364 of them with HamNoSys (1,404 strings: some list
alternatives). The original lexicon holders' terms are not stated; ``PROVENANCE`` is
recorded on everything derived from it.
"""
from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import numpy as np

PROVENANCE = ("DSGS lexicon (Ebling, Boyes Braem, c. 2012) as repackaged in the signwriting "
              "Python package's hamnosys/parallel.json (MIT notice of the repackager; the "
              "original holders' terms are not stated)")


@dataclass(frozen=True)
class NotationEntry:
    """One entry: ``sign_id``, its glosses (``hns_gloss``, may be empty), the HamNoSys
    strings (alternatives) and the SignWriting FSW string ("" when absent)."""

    sign_id: str
    glosses: tuple[str, ...]
    hamnosys: tuple[str, ...]
    signwriting: str
    #: Where it is in the data, unique for every entry (105 entries have no sign_id):
    #: "DSGS sign 00582", or "DSGS entry 17 of parallel.json" without one.
    source: str = ""


@lru_cache(maxsize=1)
def notation_entries() -> tuple[NotationEntry, ...]:
    """Every entry of the package's data that carries HamNoSys."""
    source = resources.files("signwriting") / "hamnosys" / "parallel.json"
    entries = json.loads(source.read_text(encoding="utf-8"))
    return tuple(NotationEntry(entry["sign_id"] or "", tuple(entry.get("hns_gloss") or ()),
                               tuple(entry["hamnosys"]), entry.get("signwriting") or "",
                               f"DSGS sign {entry['sign_id']}" if entry["sign_id"]
                               else f"DSGS entry {number} of parallel.json")
                 for number, entry in enumerate(entries) if entry.get("hamnosys"))


_VARIANT = re.compile(r"(?:_(?:[A-Z]|\d+|INT))+$")


def fold(word: str) -> str:
    """A word as German glosses and typed text can both be matched: lower case, with
    ß as ss and umlauts as ae, oe, ue (glosses and keyboards drop them either way)."""
    word = unicodedata.normalize("NFC", word).lower()
    return word.replace("ß", "ss").replace("ä", "ae").replace("ö", "oe").replace("ü", "ue")


def gloss_words(gloss: str) -> tuple[str, ...]:
    """The German word (or phrase, words joined by a space) a DSGS gloss stands for,
    as written and folded: ``GUTEN_MORGEN_1`` -> ("guten morgen",), ``BÖSE_1`` ->
    ("böse", "boese"). Variant markers (``_1``, ``_B``, ``_INT``), brackets and
    punctuation are dropped; "" glosses give ()."""
    # FREIBURG--DEUTSCHLAND-: the word, then what it is told apart by
    text = re.sub(r"\(.*?\)|[!?.,]", "", gloss).split("--")[0].strip("-_ ")
    text = _VARIANT.sub("", text)
    words = " ".join(part for part in re.split(r"[_\s]+|-{1,2}", text) if part).lower()
    if not words:
        return ()
    folded = fold(words)
    return (words,) if folded == words else (words, folded)


def is_variant(gloss: str) -> bool:
    """Whether a gloss is a numbered, lettered or international variant (``HAUS_2``,
    ``JAHR_B``, ``KENIA_INT``): the plain gloss is preferred when both exist."""
    return bool(_VARIANT.search(re.sub(r"\(.*?\)|[!?.,]", "", gloss)))


@lru_cache(maxsize=1)
def _signwriting_by_hamnosys() -> dict[str, str]:
    return {text: entry.signwriting for entry in notation_entries() if entry.signwriting
            for text in entry.hamnosys}


def signwriting_for(hamnosys: str) -> str:
    """The SignWriting (FSW) the DSGS data gives for exactly this HamNoSys, or ""."""
    return _signwriting_by_hamnosys().get(hamnosys, "")


def signwriting_picture(fsw: str, size: int) -> np.ndarray | None:
    """(size, size, 3) uint8 SignWriting drawing of ``fsw`` on white, or None when the
    string cannot be drawn."""
    from PIL import Image
    from signwriting.visualizer.visualize import signwriting_to_image

    try:
        drawing = signwriting_to_image(fsw, trust_box=False).convert("RGBA")
    except (ValueError, KeyError, IndexError, TypeError):
        return None
    drawing.thumbnail((size - 12, size - 12))
    canvas = Image.new("RGB", (size, size), "white")
    canvas.paste(drawing, ((size - drawing.width) // 2, (size - drawing.height) // 2), drawing)
    return np.asarray(canvas)
