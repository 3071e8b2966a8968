"""The KF2P baseline table on real data (issue 4): how well do the in-betweeners
reconstruct real signing between the clip's own keyframes?

    python bench/kf2p_baselines.py [--db LEXICON] [--lang ase ...] [--json out.json]

For every lexicon entry (real fingerspelling clips fitted to SMPL-X): keep the clip's
keyframes at onset, midpoint and offset (seed 003's policy), drop every frame between
them, regenerate them with each baseline, and compare with the real frames:
DTW-JPE (mm) for body, left hand, right hand; the error at the keyframes (should be 0);
and the mean jerk (m/s^3) within 2 frames of the joins, next to the real clip's jerk
there. Joint positions come from the default avatar. A learned backend must beat this.
Last line: ``kf2p_baselines: <smooth right-hand DTW-JPE> mm``.
"""
from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path

import numpy as np

from engine.body import default_avatar
from engine.data.lexicon import LexiconStore
from engine.generate.kf2p import regenerate
from engine.metrics.joint_error import dtw_jpe_parts, jerk_at_joins
from engine.motion import Keyframe


def evaluate(motion, backend: str, avatar) -> dict[str, float]:
    frames = motion.num_frames
    onset, middle, offset = 0, (frames - 1) // 2, frames - 1
    keys = [Keyframe.from_motion(motion, middle)]
    # Frames onset+1 .. offset-1 are regenerated; onset and offset anchor the borders.
    generated = regenerate(motion, keys, (onset + 1, offset), backend=backend)[0]
    real = avatar.forward(motion).joints
    fake = avatar.forward(generated).joints
    scores = dtw_jpe_parts(fake, real)
    key_frames = [onset, middle, offset]
    scores["keyframe_error"] = float(
        np.linalg.norm(fake[key_frames] - real[key_frames], axis=-1).mean() * 1000)
    scores["join_jerk"] = jerk_at_joins(fake, motion.fps, [onset + 1, offset])
    scores["real_join_jerk"] = jerk_at_joins(real, motion.fps, [onset + 1, offset])
    return scores


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db")
    parser.add_argument("--lang", action="append")
    parser.add_argument("--json")
    args = parser.parse_args()
    avatar = default_avatar()
    # The baselines only: the learned model is scored on held-out clips by `signstudio-cli eval`.
    results: dict[str, list[dict[str, float]]] = {name: [] for name in ("smooth", "slerp")}
    with LexiconStore(args.db) as store:
        entries = [e for lang in (args.lang or [None]) for e in store.list(lang)]
        if not entries:
            raise SystemExit(f"{store.path} has no entries: run `signstudio-cli lexicon build`")
        for summary in entries:
            motion = store.get(summary.id).motion
            if motion.num_frames < 5:
                continue
            for backend in results:
                results[backend].append(evaluate(motion, backend, avatar))
    columns = ["body", "left_hand", "right_hand", "keyframe_error", "join_jerk", "real_join_jerk"]
    print(f"{len(results['smooth'])} real clips from {store.path}")
    print(f"{'backend':8s} " + " ".join(f"{c:>15s}" for c in columns) + "   (median; mm, m/s^3)")
    table = {}
    for backend, rows in results.items():
        table[backend] = {c: statistics.median(r[c] for r in rows) for c in columns}
        print(f"{backend:8s} " + " ".join(f"{table[backend][c]:15.2f}" for c in columns))
    if args.json:
        Path(args.json).write_text(json.dumps({"clips": len(results["smooth"]), "median": table},
                                              indent=2))
    print(f"kf2p_baselines: {table['smooth']['right_hand']:.2f} mm")


if __name__ == "__main__":
    main()
