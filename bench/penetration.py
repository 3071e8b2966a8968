"""Benchmark: hands inside the body over a fixed test set, with and without the keep-out
step (``engine.body.penetration``).

    python bench/penetration.py --db LEXICON [--langs ase,gsg,bzs,ise,csq] [--signs N]

The test set: ``SENTENCES`` (20) fingerspelled in each of the languages (100 clips with
the default 5; the lexicon needs their letters: ``signstudio-cli lexicon build --lang
L --db LEXICON``), and every DSGS notation sign of the ``signwriting`` package that
synthesises (or the first ``--signs``). For each it counts the frames in which a palm
or finger capsule is more than 5 mm inside the head, neck or trunk capsules, once as
the product makes them and once with the keep-out step switched off; and, beside it,
the frames in which a forearm is more than 5 mm inside them, and the frames in which
the two arms are more than 5 mm further inside each other than the contacts written
there allow (``engine.body.hands_apart``: a notation sign's hands placed together, a
recorded sign's own frames).

Last line: ``penetrating_frames: <count> frames``.
"""
from __future__ import annotations

import argparse
import contextlib
import os
import time

import numpy as np

from engine.body import penetration as keep_out
from engine.body.capsules import penetration
from engine.body.default_avatar import default_avatar
from engine.body.hands_apart import count_passing_through
from engine.body.penetration import count_penetrating_frames
from engine.data.lexicon import LexiconStore
from engine.generate import assemble as assembly
from engine.generate.text import UnsupportedLanguage, text_to_tokens
from engine.notation import sign_motion
from engine.notation.dsgs import notation_entries
from engine.notation.hamnosys import NotationError
from engine.notation.synthesis import UnsupportedNotation, synthesise

SENTENCES = (
    "my name is anna", "nice to meet you", "where is the station", "the quick brown fox",
    "good morning", "see you later", "thank you very much", "how are you today",
    "the train is late", "i like green tea", "open the window", "we play chess",
    "her dog is small", "call me tomorrow", "the book is on the table", "happy birthday",
    "it is raining", "please sit down", "my brother works here", "what time is it",
)


@contextlib.contextmanager
def keep_out_switched_off():
    """Assembly, KF2P and the synthesiser as they were before the keep-out step."""
    from engine.generate import kf2p

    def unchanged(motion, *args, **kwargs):
        return motion

    saved = (assembly.resolve_penetration, sign_motion.resolve_penetration, kf2p._kept_out,
             assembly.kept_apart, sign_motion.keep_hands_apart, sign_motion.swing_out)
    assembly.resolve_penetration = unchanged
    sign_motion.resolve_penetration = unchanged
    kf2p._kept_out = lambda candidate, *args: candidate
    assembly.kept_apart = unchanged
    sign_motion.keep_hands_apart = unchanged
    sign_motion.swing_out = unchanged
    try:
        yield
    finally:
        (assembly.resolve_penetration, sign_motion.resolve_penetration, kf2p._kept_out,
         assembly.kept_apart, sign_motion.keep_hands_apart, sign_motion.swing_out) = saved


def _arm_counts(avatar, motion, written) -> tuple[int, int]:
    """(frames with a forearm more than 5 mm inside the body, frames with the arms more
    than 5 mm further inside each other than ``written`` allows)."""
    found = penetration(avatar, motion)
    forearms = [i for i, name in enumerate(found.limb_names) if name.endswith("forearm")]
    forearm_frames = int(np.count_nonzero(
        (found.depth[:, forearms] > keep_out.COUNT_DEPTH_M).any(axis=1)))
    return forearm_frames, count_passing_through(avatar, motion, written)


def measure(store: LexiconStore, languages: list[str], signs: int) -> dict[str, int]:
    avatar = default_avatar()
    counts = {"sentences": 0, "sentence_frames": 0, "signs": 0, "sign_frames": 0,
              "penetrating_sentence_frames": 0, "penetrating_sign_frames": 0,
              "forearm_frames": 0, "arms_through_each_other": 0}
    for language in languages:
        for sentence in SENTENCES:
            try:
                tokens = list(text_to_tokens(sentence, language, store))
                project = assembly.assemble(tokens, store, language)
            except (UnsupportedLanguage, ValueError):
                continue
            counts["sentences"] += 1
            counts["sentence_frames"] += project.motion.num_frames
            counts["penetrating_sentence_frames"] += count_penetrating_frames(avatar, project.motion)
            recorded = np.ones(project.motion.num_frames, bool)
            for start, stop in assembly.transition_ranges(project):
                recorded[start:stop] = False
            forearm, through = _arm_counts(avatar, project.motion, recorded)
            counts["forearm_frames"] += forearm
            counts["arms_through_each_other"] += through
    for entry in notation_entries()[:signs]:
        try:
            sign = synthesise(entry.hamnosys[0])
        except (UnsupportedNotation, NotationError):
            continue
        motion = sign.motion
        counts["signs"] += 1
        counts["sign_frames"] += motion.num_frames
        counts["penetrating_sign_frames"] += count_penetrating_frames(avatar, motion)
        forearm, through = _arm_counts(avatar, motion, sign.hands_together)
        counts["forearm_frames"] += forearm
        counts["arms_through_each_other"] += through
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True)
    parser.add_argument("--langs", default="ase,gsg,bzs,ise,csq")
    parser.add_argument("--signs", type=int, default=None, help="only the first N DSGS signs")
    args = parser.parse_args()
    print(f"load average: {os.getloadavg()[0]:.2f} ({os.cpu_count()} cores)")
    languages = args.langs.split(",")
    with LexiconStore(args.db, read_only=True) as store:
        results = {}
        for label, switch in (("without the keep-out step", keep_out_switched_off),
                              ("with it (the product)", contextlib.nullcontext)):
            started = time.perf_counter()
            with switch():
                results[label] = measure(store, languages, args.signs)
            counts = results[label]
            print(f"{label} ({time.perf_counter() - started:.0f} s): "
                  f"{counts['sentences']} sentences, {counts['sentence_frames']} frames, "
                  f"{counts['penetrating_sentence_frames']} more than "
                  f"{keep_out.COUNT_DEPTH_M * 1000:.0f} mm inside; {counts['signs']} notation "
                  f"signs, {counts['sign_frames']} frames, "
                  f"{counts['penetrating_sign_frames']} inside; forearms inside in "
                  f"{counts['forearm_frames']} frames; arms through each other in "
                  f"{counts['arms_through_each_other']}")
    final = results["with it (the product)"]
    print(f"penetrating_frames: "
          f"{final['penetrating_sentence_frames'] + final['penetrating_sign_frames']} frames")


if __name__ == "__main__":
    main()
