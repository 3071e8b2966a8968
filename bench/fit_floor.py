"""What limits the fitter's known-truth figure: the points it is given, and its starts.

    python bench/fit_floor.py --db LEXICON [--letters ABC...] [--hand-reader none|shipped]
                              [--points exact|mediapipe] [--size 640]

Each letter's truth is taken as ``bench/known_truth.py`` takes it (the steadiest frame
of its lexicon entry). With ``--points exact`` (default) the fitter gets the truth's
exact 2D projection (every model point seen from the front, as the fitting tests make
it), so what is left is the fit itself: the single view and the optimiser. With
``--points mediapipe`` it gets what ``bench/known_truth.py`` gives it: the truth
rendered from the front (``--size`` pixels square) and read by MediaPipe Holistic.
Each letter is fitted three times: from the fitter's own start (the arm inverse
kinematics and the hand grid), from the truth's own pose, and from the truth's finger
angles with the fitter's own arm and wrist. Where a truth start ends at a lower loss,
the own start stopped in a local minimum the loss does not prefer; the error a truth
start ends at is what no better start can beat with these points and this loss.
Mean geodesic error over the 15 right-hand finger joints, degrees, on the fourth of
the 6 frames, and each fit's final loss.
Last line: ``fit_floor: <the error from the fitter's own start> deg``.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run without installing

from bench.hand_reader import STATIC_LETTERS

def truth_start(skeleton, truth):
    """The fitter's parameters (rotvec (F, Nr, 3), Euler angles (F, E, 3), radians)
    reproducing ``truth``'s pose, Euler angles clipped to their ranges."""
    from engine.body.skeleton import JOINT_INDEX
    from engine.data.fit.ranges import joint_angles

    local = np.zeros((truth.num_frames, 55, 3))
    local[:, 1:22] = truth.body_pose
    for side in ("left", "right"):
        first = JOINT_INDEX[f"{side}_index1"]
        local[:, first:first + 15] = getattr(truth, f"{side}_hand_pose")
    euler = np.stack([np.clip(joint_angles(skeleton, slot, local[:, joint]),
                              skeleton.euler_limits[slot, :, 0], skeleton.euler_limits[slot, :, 1])
                      for slot, joint in enumerate(skeleton.euler_joints)], 1)
    return local[:, skeleton.rotvec_joints], np.where(skeleton.euler_free, euler, 0.0)


def _start_from(pose, own_start, slots):
    """An ``initial_pose`` replacement: the truth's ``pose`` (rotvec, Euler) on every
    frame, or with ``slots`` only those Euler slots of it over the fitter's own start.
    The truth's frame count may differ from the reading's: its first frame is used."""
    def start(sequence, *args, **kwargs):
        frames = sequence.num_frames
        truth_rotvec = np.repeat(pose[0][:1], frames, 0)
        truth_euler = np.repeat(pose[1][:1], frames, 0)
        if slots is None:
            return truth_rotvec, truth_euler
        rotvec, euler = own_start(sequence, *args, **kwargs)
        euler[:, slots] = truth_euler[:, slots]
        return rotvec, euler
    return start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True)
    parser.add_argument("--letters", default=STATIC_LETTERS)
    parser.add_argument("--hand-reader", default="none", choices=("none", "shipped"),
                        help="none (default): the 2D points alone; the shipped reader was "
                             "trained on MediaPipe's readings, not on exact points")
    parser.add_argument("--points", default="exact", choices=("exact", "mediapipe"))
    parser.add_argument("--size", type=int, default=640,
                        help="render size in pixels with --points mediapipe")
    args = parser.parse_args()
    os.environ.setdefault("GLOG_minloglevel", "2")
    import contextlib
    import tempfile

    import torch

    import engine.data.fit.fitter as fitter
    from bench.known_truth import read_render, truths
    from engine.body import default_avatar
    from engine.data.fit.skeleton import skeleton_for
    from engine.data.lexicon import LexiconStore
    from engine.export.render import OffscreenRenderer
    from engine.metrics.joint_error import rotation_angle_deg
    from tests.engine.test_fitting import keypoints_from_motion

    torch.set_num_threads(1)
    print(f"load average: {os.getloadavg()[0]:.2f} ({os.cpu_count()} cores)")
    avatar = default_avatar()
    skeleton = skeleton_for(avatar)
    reader = None if args.hand_reader == "none" else "shipped"
    own_start = fitter.initial_pose
    with LexiconStore(args.db, read_only=True) as store:
        cases = truths(store, avatar, args.letters, [])
    finger_slots = np.array([slot for slot, kind in enumerate(skeleton.euler_kinds)
                             if kind == "finger"])
    starts = ("own", "truth", "truth's fingers")
    rows = []
    reading = args.points == "mediapipe"
    # Exact points need no render: the renderer (and its display) only for MediaPipe's.
    with tempfile.TemporaryDirectory() as folder, \
            (OffscreenRenderer(avatar, args.size, args.size) if reading
             else contextlib.nullcontext()) as renderer:
        for letter, truth in cases.items():
            if reading:
                sequence = read_render(renderer, avatar, truth, Path(folder) / f"{letter}.mp4")[0]
            else:
                sequence = keypoints_from_motion(truth, skeleton, avatar)
            truth_pose = truth_start(skeleton, truth)
            row = []
            for start in starts:
                if start != "own":
                    fitter.initial_pose = _start_from(truth_pose, own_start,
                                                      None if start == "truth" else finger_slots)
                try:
                    fit = fitter.fit_keypoints(sequence, face=False, hand_reader=reader)
                finally:
                    fitter.initial_pose = own_start
                error = rotation_angle_deg(truth.right_hand_pose[3], fit.motion.right_hand_pose[3])
                row += [float(error.mean()), float(fit.quality["loss"])]
            rows.append(row)
            trapped = "  (own start: a local minimum)" if min(row[3], row[5]) < row[1] - 1e-4 else ""
            print(f"{letter}: " + ", ".join(f"{start} start {row[2 * n]:5.1f} deg (loss "
                                            f"{row[2 * n + 1]:.4f})" for n, start in enumerate(starts))
                  + trapped, flush=True)
    table = np.array(rows)
    trapped = int((np.minimum(table[:, 3], table[:, 5]) < table[:, 1] - 1e-4).sum())
    above = ", ".join(f"{start} {int((table[:, 2 * n] > 12).sum())}"
                      for n, start in enumerate(starts))
    print(f"{len(rows)} letters, {args.points} points"
          f"{f' ({args.size} px)' if reading else ''}, hand reader "
          f"{args.hand_reader}: mean {table[:, 0].mean():.2f} deg from the fitter's own start, "
          f"{table[:, 2].mean():.2f} from the truth's, {table[:, 4].mean():.2f} from the truth's "
          f"fingers; a truth start ends at a lower loss on {trapped} of {len(rows)}; letters "
          f"above 12 deg by start ({above})")
    print(f"fit_floor: {table[:, 0].mean():.2f} deg")


if __name__ == "__main__":
    main()
