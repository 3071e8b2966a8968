"""Benchmark: how fluent assembled fingerspelling is.

    python bench/fluency.py --db LEXICON [--lang ase] [--text "..."]

For one sentence (default: "my name is anna, nice to meet you", fingerspelled in ASL)
it prints:

- the clip's length in seconds at the default tempo and letters per second;
- the longest run of full-stop frames inside a word: consecutive frames in which no
  joint rotation changes by more than ``STOP_RAD`` (a frozen avatar), outside the
  rises from and drops to rest;
- the mean joint jerk (m/s^3, all 55 joints of the default avatar) within 2 frames of
  every join between a letter and a transition, beside the jerk inside the signs
  (sped up, jerk grows with the cube of the speed) and the recordings' own (the same
  letters' clips, whole, at the same fps);
- the DTW-JPE (mm, right hand relative to its wrist, and body relative to the pelvis)
  of each fingerspelled word against the recordings of its letters played one after
  another: whole (rise, letter, drop: what the old assembly played), and only their
  articulation spans (the letter as signed, ``assemble.articulation_span``).

Last line: ``fluency_clip_seconds: <s> s``. The lexicon needs the language's letters
(``signstudio-cli lexicon build --lang ase --db LEXICON``).
"""
from __future__ import annotations

import argparse
import os
import time

import numpy as np

from engine.body.default_avatar import default_avatar
from engine.data.lexicon import LexiconStore
from engine.generate.assemble import assemble, clip_articulation_span
from engine.generate.text import TokenKind, text_to_tokens
from engine.metrics.joint_error import dtw_jpe, jerk, jerk_at_joins
from engine.motion.motion import Motion
from engine.motion.resample import resample

SENTENCE = "my name is anna, nice to meet you"
#: Radians: a frame whose every joint rotation changed less than this is a full stop.
STOP_RAD = 1e-3


def longest_stop(motion: Motion, ranges: list[tuple[int, int]]) -> int:
    """Longest run of full-stop frames inside ``ranges`` (frame ``[start, stop)``)."""
    change = np.abs(np.diff(motion.full_pose(), axis=0)).max(axis=(1, 2))
    longest = 0
    for start, stop in ranges:
        run = 0
        for frame in range(max(1, start), stop):
            run = run + 1 if change[frame - 1] < STOP_RAD else 0
            longest = max(longest, run)
    return longest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True)
    parser.add_argument("--lang", default="ase")
    parser.add_argument("--text", default=SENTENCE)
    args = parser.parse_args()
    print(f"load average: {os.getloadavg()[0]:.2f} ({os.cpu_count()} cores)")
    avatar = default_avatar()
    with LexiconStore(args.db, read_only=True) as store:
        tokens = list(text_to_tokens(args.text, args.lang, store))
        started = time.perf_counter()
        project = assemble(tokens, store, args.lang)
        seconds = time.perf_counter() - started
        motion, fps = project.motion, project.motion.fps
        letters = sum(len(t.glosses) for t in tokens if t.kind is TokenKind.FINGERSPELLED)
        print(f"'{args.text}' ({args.lang}): {motion.num_frames} frames, "
              f"{motion.num_frames / fps:.2f} s, {letters} letters, "
              f"{letters / (motion.num_frames / fps):.2f} letters/s (assembled in {seconds:.2f} s)")

        segments = project.segments
        words, cursor = [], 0
        for token in tokens:
            count = len(token.glosses)
            if count:
                words.append((token, segments[cursor:cursor + count]))
            cursor += count
        inside = [(group[0].start, group[-1].end) for _, group in words]
        spelled = [(len(group), group[-1].end - group[0].start) for token, group in words
                   if token.kind is TokenKind.FINGERSPELLED and len(group) > 1]
        if spelled:
            # A word of n letters spans n - 1 letter-to-letter steps (first onset to
            # last onset) plus its last letter.
            steps = sum(n - 1 for n, _ in spelled)
            onsets = sum(group[-1].start - group[0].start for token, group in words
                         if token.kind is TokenKind.FINGERSPELLED and len(group) > 1)
            print(f"inside words: {steps / (onsets / fps):.2f} letters/s (onset to onset)")
        print(f"longest full stop inside a word: {longest_stop(motion, inside)} frames "
              f"(a frame whose joints all change < {STOP_RAD} rad)")

        joints = avatar.joints(motion)
        joins = sorted({s.end for s in segments[:-1]} | {s.start for s in segments[1:]})
        generated_jerk = jerk_at_joins(joints, fps, joins)
        clips = {entry_id: resample(store.get(entry_id).motion, fps)
                 for token, _ in words for entry_id in token.entry_ids}
        real_jerk = np.mean([jerk(avatar.joints(clip), fps).mean() for clip in clips.values()])
        inner = [frame for s in segments for frame in range(s.start + 3, s.end - 3)]
        inner_jerk = jerk(joints, fps)[np.array(inner, np.intp) - 3].mean() if inner else 0.0
        print(f"jerk at joins: {generated_jerk:.0f} m/s^3; inside the signs, 3 frames or "
              f"more from a join: {inner_jerk:.0f} m/s^3; the recordings' own: "
              f"{real_jerk:.0f} m/s^3")

        for what, cut in (("whole recordings", False), ("articulation spans", True)):
            errors = {"right_hand": [], "body": []}
            for token, group in words:
                if token.kind is not TokenKind.FINGERSPELLED:
                    continue
                letters = [clips[entry_id] for entry_id in token.entry_ids]
                if cut:
                    letters = [clip.slice(*clip_articulation_span(clip)) for clip in letters]
                reference = avatar.joints(Motion.concatenate(letters))
                generated = joints[group[0].start:group[-1].end]
                for part in errors:
                    errors[part].append(dtw_jpe(generated, reference, part))
            print(f"DTW-JPE of the spelled words against their letters' {what}: " + ", ".join(
                f"{part} {np.mean(values):.1f} mm" for part, values in errors.items()))
    print(f"fluency_clip_seconds: {motion.num_frames / fps:.2f} s")


if __name__ == "__main__":
    main()
