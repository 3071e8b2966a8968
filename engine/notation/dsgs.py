"""The DSGS (Swiss German Sign Language, ``sgg``) notation data shipped in the
``signwriting`` package, read in place from the installed package (never copied).

``signwriting/hamnosys/parallel.json`` (signwriting 0.1.19, MIT as distributed by its
repackager) holds 3,772 entries, 1,364 of them with HamNoSys (1,404 strings: some list
alternatives). The original lexicon holders' terms are not stated; ``PROVENANCE`` is
recorded on everything derived from it (see ../shared/NOTATION.md).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

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


@lru_cache(maxsize=1)
def notation_entries() -> tuple[NotationEntry, ...]:
    """Every entry of the package's data that carries HamNoSys."""
    source = resources.files("signwriting") / "hamnosys" / "parallel.json"
    entries = json.loads(source.read_text(encoding="utf-8"))
    return tuple(NotationEntry(entry["sign_id"], tuple(entry.get("hns_gloss") or ()),
                               tuple(entry["hamnosys"]), entry.get("signwriting") or "")
                 for entry in entries if entry.get("hamnosys"))
