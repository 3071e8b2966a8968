"""Benchmark: the learned hand reader alone, the fitter without it, and the fitter with
it, on the 24 static ASL letters (issue 16).

    python bench/hand_reader.py --db LEXICON [--reader CHECKPOINT] [--letters ABC...]

Each letter's truth is its lexicon entry's steadiest frame (as ``bench/known_truth.py``
takes it), rendered from the front and read by MediaPipe Holistic. The reader (default:
the shipped one, trained on other languages' letters; ``signstudio-cli train
hand_reader`` makes one) guesses the right hand's fingers from that reading; the fitter
fits the reading with no reader and with this one. Mean geodesic error over the 15
right-hand finger joints, degrees, per letter and overall.
Last line: ``hand_reader: <the fitter's mean error with the reader> deg``.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

#: The 24 ASL letters held still (J and Z move).
STATIC_LETTERS = "ABCDEFGHIKLMNOPQRSTUVWXY"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True)
    parser.add_argument("--reader", help="a hand reader checkpoint (default: the shipped one)")
    parser.add_argument("--letters", default=STATIC_LETTERS)
    args = parser.parse_args()
    os.environ.setdefault("GLOG_minloglevel", "2")
    import torch

    from bench.known_truth import read_render, truths
    from engine.body.default_avatar import default_avatar
    from engine.data.fit import fit_keypoints
    from engine.data.fit.hand_reader import load_hand_reader, shipped_hand_reader
    from engine.data.lexicon import LexiconStore
    from engine.export.render import OffscreenRenderer
    from engine.metrics.joint_error import rotation_angle_deg

    torch.set_num_threads(2)
    print(f"load average: {os.getloadavg()[0]:.2f} ({os.cpu_count()} cores)")
    reader = load_hand_reader(args.reader) if args.reader else shipped_hand_reader()
    if reader is None:
        raise SystemExit("hand_reader: no shipped hand reader; pass --reader")
    avatar = default_avatar()
    rows = []
    started = time.perf_counter()
    with LexiconStore(args.db, read_only=True) as store, tempfile.TemporaryDirectory() as folder, \
            OffscreenRenderer(avatar, 640, 640) as renderer:
        for letter, truth in truths(store, avatar, args.letters, []).items():
            sequence, _ = read_render(renderer, avatar, truth, Path(folder) / f"{letter}.mp4")
            if not (sequence.confidence["right_hand"][3] > 0).all():
                print(f"{letter}: MediaPipe found no right hand")
                continue
            true_fingers = truth.right_hand_pose[3]
            guessed = reader.read(sequence.right_hand[3:4])[0]
            alone = fit_keypoints(sequence, hand_reader=None).motion.right_hand_pose[3]
            guided = fit_keypoints(sequence, hand_reader=reader).motion.right_hand_pose[3]
            rows.append((letter, *(float(rotation_angle_deg(true_fingers, pose).mean())
                                   for pose in (guessed, alone, guided))))
            print(f"{letter:3s} reader {rows[-1][1]:5.1f}  fitter {rows[-1][2]:5.1f}  "
                  f"fitter+reader {rows[-1][3]:5.1f}", flush=True)
    if not rows:
        raise SystemExit("hand_reader: MediaPipe found no right hand in any render")
    table = np.array([row[1:] for row in rows])
    print(f"{len(rows)} letters in {time.perf_counter() - started:.0f} s; mean reader "
          f"{table[:, 0].mean():.2f}, fitter {table[:, 1].mean():.2f}, fitter+reader "
          f"{table[:, 2].mean():.2f} deg; worst with the reader: "
          f"{rows[int(table[:, 2].argmax())][0]} {table[:, 2].max():.1f} deg")
    print(f"hand_reader: {table[:, 2].mean():.2f} deg")


if __name__ == "__main__":
    main()
