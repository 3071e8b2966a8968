"""Benchmark: notation to signing.

1. Synthesise every DSGS entry of the ``signwriting`` package (its first HamNoSys
   string; 1,364 entries) once after a warm-up: the per-sign wall time of those that
   synthesise (median, 90th percentile), the coverage, and the count of each
   unsupported feature.
2. A 10-sign DSGS sentence end to end: text -> tokens -> lexicon motions -> assembled
   project with generated transitions, against a temporary lexicon holding those
   signs (built first, not timed), median of ``--repeats`` runs.

Prints the machine's load before and after; the LAST line is
``notation_sentence: <median ms> ms`` (the line before it ``notation_sign: <median ms>
ms``).

Run from the repository root: ``python bench/notation.py [--repeats 5]``.
"""
from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run without installing

from engine.data.lexicon import LexiconEntry, LexiconStore
from engine.data.lexicon_build import build_from_notation
from engine.generate.assemble import assemble
from engine.generate.text import text_to_tokens
from engine.motion.motion import Motion
from engine.notation.dsgs import notation_entries
from engine.notation.hamnosys import NotationError
from engine.notation.synthesis import UnsupportedNotation, synthesise

SENTENCE = "Guten Morgen, heute trinkt das Kind Wasser im Haus und der Vater schläft"
SENTENCE_GLOSSES = ["GUTEN_MORGEN", "HEUTE", "TRINKEN", "KIND", "WASSER", "IM", "HAUS", "UND",
                    "VATER", "SCHLAFEN", "DU"]


def synthesise_all() -> tuple[list[float], Counter, int]:
    times: list[float] = []
    unsupported: Counter = Counter()
    entries = notation_entries()
    synthesise("\ue001\ue020\ue03c\ue052")  # warm-up (avatar, anchors): flathand extfingeru palmd chest
    for entry in entries:
        started = time.perf_counter()
        try:
            synthesise(entry.hamnosys[0])
        except UnsupportedNotation as error:
            unsupported[error.feature] += 1
            continue
        except NotationError as error:
            unsupported[f"invalid: {error.expected}"] += 1
            continue
        times.append(time.perf_counter() - started)
    return times, unsupported, len(entries)


def sentence_times(repeats: int) -> tuple[list[float], int, int]:
    with tempfile.TemporaryDirectory() as folder:
        with LexiconStore(Path(folder) / "bench.sqlite") as store:
            build_from_notation(store, glosses=SENTENCE_GLOSSES)
            for letter in "abcdefghijklmnopqrstuvwxyz":  # stand-in letters for "das", "der"
                store.add(LexiconEntry(
                    gloss=letter.upper(), language="sgg", words=(letter,),
                    motion=Motion.zeros(12), source_kind="manual", source=f"bench {letter}",
                    source_hash=letter, licence="bench", kind="letter"))
            times = []
            for _ in range(repeats):
                started = time.perf_counter()
                tokens = list(text_to_tokens(SENTENCE, "sgg", store))
                project = assemble(tokens, store, "sgg")
                times.append(time.perf_counter() - started)
            signs = sum(1 for s in project.segments if s.kind.value == "lexicon")
            return times, signs, project.motion.num_frames


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    print(f"{platform.node()}: {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"load {os.getloadavg()[0]:.2f} (1 min)")
    times, unsupported, total = synthesise_all()
    ms = np.array(times) * 1000
    print(f"synthesised {len(times)} of {total} DSGS entries ({len(times) / total:.1%}); "
          f"per sign median {np.median(ms):.1f} ms, p90 {np.percentile(ms, 90):.1f} ms, "
          f"max {ms.max():.1f} ms")
    for feature, count in unsupported.most_common():
        print(f"  not made: {count:4d}  {feature}")
    sentence, signs, frames = sentence_times(args.repeats)
    print(f"sentence ({signs} signs, {frames} frames, {args.repeats} runs): median "
          f"{np.median(sentence) * 1000:.0f} ms, min {min(sentence) * 1000:.0f} ms")
    print(f"load after: {os.getloadavg()[0]:.2f}")
    print(f"notation_sign: {np.median(ms):.1f} ms")
    print(f"notation_sentence: {np.median(sentence) * 1000:.0f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
