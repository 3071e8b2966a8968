"""Benchmark: text -> assembled motion for a 10-word sentence.

    python bench/text_to_motion.py [--db PATH] [--lang ase]

With ``--db`` (or when the default lexicon has the language's letters) it uses that
lexicon; otherwise it builds a temporary one whose 26 letters are 25-frame clips at 25 fps (the size of the
real fingerspelling clips) so the figure reflects the real amount of work.
Last line: ``text_to_motion: <ms> ms`` (median of 10 runs). Target: < 200 ms on 2 cores.
"""
from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from engine.data.lexicon import LexiconEntry, LexiconStore, default_lexicon_path
from engine.generate.assemble import assemble
from engine.generate.text import text_to_tokens
from engine.motion import Motion

SENTENCE = "the quick brown fox jumps over the lazy dog today"


def synthetic_store(folder: Path) -> LexiconStore:
    rng = np.random.default_rng(0)
    store = LexiconStore(folder / "lexicon.sqlite")
    for letter in "ABCDEFGHIJKLMNOPQRSTUVWXYZ":
        base = Motion.zeros(25, fps=25)
        motion = base.replace(**{
            name: rng.uniform(-0.3, 0.3, value.shape).astype(np.float32).cumsum(axis=0) * 0.05
            for name, value in base.frame_arrays().items()
            if name not in ("face_blendshapes", "transl")})
        store.add(LexiconEntry(gloss=letter, language="ase", words=(letter,), motion=motion,
                               source_kind="manual", source="bench", source_hash=letter,
                               licence="synthetic", kind="letter"))
    return store


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db")
    parser.add_argument("--lang", default="ase")
    args = parser.parse_args()
    path = Path(args.db) if args.db else default_lexicon_path()
    with tempfile.TemporaryDirectory() as tmp:
        store = LexiconStore(path) if path.exists() else None
        if store is None or args.lang not in store.languages():
            if args.db:
                parser.error(f"{path} has no letters of {args.lang}")
            store = synthetic_store(Path(tmp))
        print(f"load average: {os.getloadavg()[0]:.2f} ({os.cpu_count()} cores)")
        print(f"lexicon: {store.path} ({len(store)} entries)")
        times = []
        for _ in range(10):
            start = time.perf_counter()
            project = assemble(text_to_tokens(SENTENCE, args.lang, store), store, args.lang)
            times.append((time.perf_counter() - start) * 1000)
        store.close()
    print(f"'{SENTENCE}': {len(project.segments)} segments, {project.motion}")
    print(f"runs (ms): {', '.join(f'{t:.0f}' for t in times)}")
    print(f"text_to_motion: {statistics.median(times):.0f} ms")


if __name__ == "__main__":
    main()
