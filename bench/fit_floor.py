"""What limits the fitter's known-truth figure: the letters' exact 2D, and starts.

    python bench/fit_floor.py --db LEXICON [--letters ABC...] [--hand-reader none|shipped]

Each letter's truth is taken as ``bench/known_truth.py`` takes it (the steadiest frame
of its lexicon entry). Instead of a render read by MediaPipe, the fitter gets the
truth's exact 2D projection (every model point seen from the front, as the fitting
tests make it), so what is left is the fit itself: the single view and the optimiser.
Each letter is fitted twice, from the fitter's own start (the arm inverse kinematics
and the hand grid) and from the truth's own pose. Where the second ends at a lower
loss, the first stopped in a local minimum the loss does not prefer; where it does
not, the loss itself prefers another pose (an ambiguity of the view or the priors).
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

#: The 24 ASL letters held still (J and Z move).
STATIC_LETTERS = "ABCDEFGHIKLMNOPQRSTUVWXY"


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True)
    parser.add_argument("--letters", default=STATIC_LETTERS)
    parser.add_argument("--hand-reader", default="none", choices=("none", "shipped"),
                        help="none (default): the 2D points alone; the shipped reader was "
                             "trained on MediaPipe's readings, not on exact points")
    args = parser.parse_args()
    os.environ.setdefault("GLOG_minloglevel", "2")
    import torch

    import engine.data.fit.fitter as fitter
    from bench.known_truth import truths
    from engine.body import default_avatar
    from engine.data.fit.skeleton import skeleton_for
    from engine.data.lexicon import LexiconStore
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
    rows = []
    for letter, truth in cases.items():
        sequence = keypoints_from_motion(truth, skeleton, avatar)
        row = []
        for start in ("own", "truth"):
            if start == "truth":
                pose = truth_start(skeleton, truth)
                fitter.initial_pose = lambda *_args, pose=pose: (pose[0].copy(), pose[1].copy())
            try:
                fit = fitter.fit_keypoints(sequence, face=False, hand_reader=reader)
            finally:
                fitter.initial_pose = own_start
            error = rotation_angle_deg(truth.right_hand_pose[3], fit.motion.right_hand_pose[3])
            row += [float(error.mean()), float(fit.quality["loss"])]
        rows.append(row)
        trapped = "  (own start: a local minimum)" if row[3] < row[1] - 1e-4 else ""
        print(f"{letter}: own start {row[0]:5.1f} deg (loss {row[1]:.4f}), truth start "
              f"{row[2]:5.1f} deg (loss {row[3]:.4f}){trapped}", flush=True)
    table = np.array(rows)
    trapped = int((table[:, 3] < table[:, 1] - 1e-4).sum())
    print(f"{len(rows)} letters, hand reader {args.hand_reader}: mean {table[:, 0].mean():.2f} deg "
          f"from the fitter's own start, {table[:, 2].mean():.2f} from the truth's; the truth's "
          f"start ends at a lower loss on {trapped} of {len(rows)}")
    print(f"fit_floor: {table[:, 0].mean():.2f} deg")


if __name__ == "__main__":
    main()
