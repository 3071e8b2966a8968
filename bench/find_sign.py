"""Benchmark: find-sign on the studio's own renders of every letter.

    python bench/find_sign.py --db LEXICON [--langs ase,gsg,bzs] [--camera hands]

For each letter of each language in the lexicon: the letter's clip is rendered by the
export renderer (the default avatar, the hands close-up, 512 x 512) at the middle of
its articulation span, and the PNG is given to find-sign (MediaPipe route, the studio's
image drop) against the same language. Prints, per language, how often the letter is
first and how often it is among the first three, and the letters that were not, with
what came first. Last line: ``find_sign_top3: <percent> %`` over all letters.
"""
from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from engine.data.lexicon import LexiconStore
from engine.generate.assemble import clip_articulation_span
from engine.generate.image_match import ImageQueryError
from engine.motion.project import Project
from engine.workflows.export import ExportOptions, render_frame
from engine.workflows.find_sign import FindSignOptions, SignFinder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True)
    parser.add_argument("--langs", default="ase,gsg,bzs")
    parser.add_argument("--camera", default="hands")
    args = parser.parse_args()
    print(f"load average: {os.getloadavg()[0]:.2f} ({os.cpu_count()} cores)")
    total = first_total = top3_total = 0
    started = time.perf_counter()
    with LexiconStore(args.db, read_only=True) as store, tempfile.TemporaryDirectory() as tmp:
        finder = SignFinder(store)
        for language in args.langs.split(","):
            letters = [e for e in store.list(language) if e.kind == "letter"]
            first = top3 = 0
            misses = []
            for summary in letters:
                entry = store.get(summary.id)
                start, stop = clip_articulation_span(entry.motion)
                path = Path(tmp) / f"{language}_{summary.id}.png"
                render_frame(Project(motion=entry.motion), (start + stop - 1) // 2, path,
                             ExportOptions(camera=args.camera, width=512, height=512))
                try:
                    found = finder.find(path, FindSignOptions(language, top=3,
                                                              route="mediapipe"))
                    ranked = [m.entry.gloss for m in found.rankings.get("mediapipe", [])]
                except ImageQueryError as error:
                    ranked = [f"({error.problem})"]
                first += bool(ranked) and ranked[0] == entry.gloss
                top3 += entry.gloss in ranked
                if entry.gloss not in ranked[:1]:
                    misses.append(f"{entry.gloss}->{'/'.join(ranked)}")
            total += len(letters)
            first_total += first
            top3_total += top3
            if letters:
                print(f"{language}: {len(letters)} letters, first {first} "
                      f"({100 * first / len(letters):.0f} %), top 3 {top3} "
                      f"({100 * top3 / len(letters):.0f} %); not first: {', '.join(misses)}")
    print(f"{total} letters in {time.perf_counter() - started:.0f} s; first "
          f"{100 * first_total / max(total, 1):.0f} %")
    print(f"find_sign_top3: {100 * top3_total / max(total, 1):.1f} %")


if __name__ == "__main__":
    main()
