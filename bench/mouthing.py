"""Benchmark: mouthing a sentence, and performing a project's face layers.

    python bench/mouthing.py [--lang ase] [--text "..."] [--repeats 20]

Times, for a sentence of ten words (default: "my name is anna nice to meet you thank
you" in American English):

- turning every word into phonemes with espeak-ng (``mouthing_of``, a warm voice: the
  first call per voice loads it, about 0.1 s, timed on its own);
- the whole mouthing: phonemes, then the face the project performs with every sign
  mouthed (``performed_motion`` on a fresh project, 1 s of frames per word), and
- the same project with a grammatical preset over every sign as well.

Last line: ``mouthing_10_words: <ms> ms`` (phonemes + performed face, median).
"""
from __future__ import annotations

import argparse
import os
import statistics
import time

from engine.face.perform import performed_motion
from engine.motion.motion import Motion
from engine.motion.project import Project, Segment
from engine.workflows.face import apply_preset, mouthing_of

SENTENCE = "my name is anna nice to meet you thank you"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lang", default="ase")
    parser.add_argument("--text", default=SENTENCE)
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()
    words = args.text.split()
    print(f"load average: {os.getloadavg()[0]:.2f} ({os.cpu_count()} cores)")
    start = time.perf_counter()
    mouthing_of(words[0], args.lang)
    print(f"first word (loads the voice): {1000 * (time.perf_counter() - start):.1f} ms")
    fps, per_word = 30.0, 30
    motion = Motion.zeros(per_word * len(words), fps=fps)
    phonemes, whole, with_preset = [], [], []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        mouthings = [mouthing_of(word, args.lang)[0] for word in words]
        t1 = time.perf_counter()
        project = Project(motion, segments=tuple(
            Segment(word.upper(), args.lang, i * per_word, (i + 1) * per_word, mouthing=m)
            for i, (word, m) in enumerate(zip(words, mouthings))))
        performed_motion(project)
        t2 = time.perf_counter()
        marked = project
        for segment in project.segments:
            marked = apply_preset(marked, "yes_no_question", segment.start, segment.end)
        performed_motion(marked)
        t3 = time.perf_counter()
        phonemes.append(t1 - t0)
        whole.append(t2 - t0)
        with_preset.append(t3 - t2)
    print(f"{len(words)} words, {motion.num_frames} frames, {args.repeats} repeats (median)")
    print(f"phonemes: {1000 * statistics.median(phonemes):.2f} ms")
    print(f"markers: a preset over each sign, performed: "
          f"{1000 * statistics.median(with_preset):.2f} ms")
    print(f"mouthing_{len(words)}_words: {1000 * statistics.median(whole):.2f} ms")


if __name__ == "__main__":
    main()
