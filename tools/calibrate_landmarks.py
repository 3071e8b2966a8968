"""Calibrate where MediaPipe puts its 21 hand landmarks on the avatar (issue 3).

    python tools/calibrate_landmarks.py [--out assets/mediapipe_hand_offsets.json]
        [--poses 48] [--test-poses 12] [--cache /tmp/landmark_renders.npz] [--seed 3]

MediaPipe does not put its hand landmarks at the joint centres the skeleton has: on a
rendered fist its MCP landmarks sit on the back of the knuckles and its fingertips at
the pads. As marker-based motion capture does with skin markers, we model each landmark
as a point rigidly attached to one bone, at a LOCAL OFFSET in that bone's frame, and
calibrate the offsets from data we make ourselves:

1. random anatomically valid right-hand poses (each finger's joints inside the fitter's
   joint limits, curls drawn so that fists and half-fists are common; random thumb;
   random wrist twist/flexion) on the raised signing arm of
   ``engine.body.reference_poses.signing_pose``;
2. rendered with ``OffscreenRenderer`` (640 x 640, SSAA, as bench/known_truth.py and the
   video-import tests do) from 4 views: front, three-quarter from either side, and
   the signer's right side;
3. read by MediaPipe Holistic (static image mode, model_complexity 1, the shipped
   model, as ``engine.data.video_import`` uses it);
4. solved per landmark by robust least squares (scipy ``least_squares``, soft-L1, in
   hand sizes) on the 2D reprojection through the renderer's exact perspective
   camera (computed from ``OffscreenRenderer.look_at``'s parameters and checked
   against VTK's own projection matrix). Each landmark may ride on its own joint or
   on that joint's parent (e.g. an MCP landmark on the proximal phalanx or on the
   palm); the bone with the lower training error is kept.

The first ``--poses`` poses calibrate; the last ``--test-poses`` are held out and only
measured. The asset (JSON) lists, per MediaPipe landmark of the RIGHT hand, the bone
and the offset in metres in that bone's rest frame (the avatar's rest frames are
world-aligned, so it is also a world T-pose offset); the left hand is the mirror image
(x -> -x). Deterministic: seeded poses, deterministic renders and MediaPipe on CPU.
Takes ~3 minutes on 2 shared cores; ``--cache`` keeps MediaPipe's readings so that the
solve can be rerun without rendering.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import numpy as np
from scipy.optimize import least_squares
from scipy.spatial.transform import Rotation

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run without installing

from engine.atomic import atomic_output
from engine.body import default_avatar
from engine.body.reference_poses import signing_pose
from engine.body.skeleton import JOINT_INDEX, JOINT_NAMES, PARENTS
from engine.data.fit import FINGERS, FitSkeleton
from engine.data.fit.constants import D
from engine.motion import Motion

#: MediaPipe's 21 hand landmarks and the joint whose centre the fitter used to put them
#: at (tips: the last phalanx's joint; the tip itself is an offset from it).
LANDMARKS: tuple[tuple[str, str], ...] = (("WRIST", "wrist"),) + tuple(
    (name, f"{finger}{k}")
    for finger, names in (
        ("thumb", ("THUMB_CMC", "THUMB_MCP", "THUMB_IP", "THUMB_TIP")),
        ("index", ("INDEX_FINGER_MCP", "INDEX_FINGER_PIP", "INDEX_FINGER_DIP", "INDEX_FINGER_TIP")),
        ("middle", ("MIDDLE_FINGER_MCP", "MIDDLE_FINGER_PIP", "MIDDLE_FINGER_DIP", "MIDDLE_FINGER_TIP")),
        ("ring", ("RING_FINGER_MCP", "RING_FINGER_PIP", "RING_FINGER_DIP", "RING_FINGER_TIP")),
        ("pinky", ("PINKY_MCP", "PINKY_PIP", "PINKY_DIP", "PINKY_TIP")))
    for name, k in zip(names, (1, 2, 3, 3)))
#: Camera views (direction from the focus point toward the camera, framing height m).
VIEWS: dict[str, tuple[tuple[float, float, float], float]] = {
    "front": ((0.0, 0.0, 1.0), 1.05),
    "three_quarter_right": ((-0.6, 0.1, 0.8), 1.05),
    "three_quarter_left": ((0.6, 0.1, 0.8), 1.05),
    "side_right": ((-1.0, 0.05, 0.2), 1.05),
}
SIZE = 640


def random_right_hand(rng: np.random.Generator, skeleton: FitSkeleton) -> np.ndarray:
    """(15, 3) right-hand axis-angles inside the fitter's joint limits.

    Each long finger gets a curl level (a third of draws near a fist), split over MCP,
    PIP and DIP with jitter and the DIP ~2/3 of the PIP as real fingers do; spread
    shrinks as the finger curls; the thumb's three Euler angles are uniform in 70% of
    its ranges.
    """
    pose = np.zeros((15, 3), np.float32)
    order = ("index", "middle", "pinky", "ring", "thumb")  # SMPL-X hand order
    for finger in FINGERS:
        curl = rng.uniform(0.75, 1.0) if rng.random() < 0.35 else rng.uniform(0.0, 1.0)
        for k in (1, 2, 3):
            joint = JOINT_INDEX[f"right_{finger}{k}"]
            slot = int(np.flatnonzero(skeleton.euler_joints == joint)[0])
            lo, hi = skeleton.euler_limits[slot, :, 0], skeleton.euler_limits[slot, :, 1]
            if finger == "thumb":
                mid, half = (lo + hi) / 2, 0.7 * (hi - lo) / 2
                angles = rng.uniform(mid - half, mid + half)
            else:
                flex = {1: 90.0, 2: 105.0, 3: 70.0}[k] * D * curl * rng.uniform(0.75, 1.1)
                angles = np.array([rng.uniform(-12, 12) * D * (1 - curl) if k == 1 else 0.0, flex, 0.0])
            angles = np.clip(angles, lo, hi)
            axes = skeleton.euler_axes[slot]
            rot = (Rotation.from_rotvec(axes[0] * angles[0]) * Rotation.from_rotvec(axes[1] * angles[1])
                   * Rotation.from_rotvec(axes[2] * angles[2]))
            pose[3 * order.index(finger) + k - 1] = rot.as_rotvec()
    return pose


def random_motion(rng: np.random.Generator, skeleton: FitSkeleton) -> Motion:
    """A 1-frame signing pose with a random right hand and a random wrist turn."""
    motion = signing_pose("flat")
    body = motion.body_pose.copy()
    wrist = JOINT_INDEX["right_wrist"]
    slot = int(np.flatnonzero(skeleton.euler_joints == wrist)[0])
    axes = skeleton.euler_axes[slot]
    twist, flex, dev = rng.uniform(-100, 80) * D, rng.uniform(-40, 40) * D, rng.uniform(-15, 15) * D
    turn = (Rotation.from_rotvec(axes[0] * twist) * Rotation.from_rotvec(axes[1] * flex)
            * Rotation.from_rotvec(axes[2] * dev))
    body[0, wrist - 1] = (Rotation.from_rotvec(body[0, wrist - 1]) * turn).as_rotvec()
    return motion.replace(body_pose=body, right_hand_pose=random_right_hand(rng, skeleton)[None])


def render_and_read(num_poses: int, seed: int) -> dict[str, np.ndarray]:
    """Render ``num_poses`` random poses from every view and read them with MediaPipe.

    Returns hand_pose (N, 15, 3), wrist (N, 3) right-wrist axis-angle, view (N,) index
    into VIEWS, landmarks (N, 21, 2) pixels, found (N,) bool; N = poses x views.
    """
    os.environ.setdefault("GLOG_minloglevel", "2")
    import mediapipe as mp

    from engine.export.render import OffscreenRenderer, focus_point, pinhole_camera

    avatar = default_avatar()
    skeleton = FitSkeleton(avatar)
    rng = np.random.default_rng(seed)
    motions = [random_motion(rng, skeleton) for _ in range(num_poses)]
    out = {"hand_pose": [], "wrist": [], "view": [], "pose_id": [], "landmarks": [], "found": []}
    with OffscreenRenderer(avatar, SIZE, SIZE) as renderer, mp.solutions.holistic.Holistic(
            static_image_mode=True, model_complexity=1) as holistic:
        for i, motion in enumerate(motions):
            posed = avatar.forward(motion)
            focus = focus_point(posed.joints, "upper_body")
            for v, (direction, height) in enumerate(VIEWS.values()):
                renderer.look_at(focus, direction, height)
                if i == 0 and v == 0:
                    gap = renderer.camera_gap(pinhole_camera(focus, direction, height, SIZE, SIZE),
                                              posed.joints[0])
                    if gap > 0.5:
                        raise RuntimeError(f"projection disagrees with VTK's by {gap:.2f} px")
                image = renderer.render(posed.vertices[0])
                result = holistic.process(image)
                hand = result.right_hand_landmarks
                marks = (np.array([[m.x * SIZE, m.y * SIZE] for m in hand.landmark])
                         if hand is not None else np.zeros((21, 2)))
                out["hand_pose"].append(motion.right_hand_pose[0])
                out["wrist"].append(motion.body_pose[0, JOINT_INDEX["right_wrist"] - 1])
                out["view"].append(v)
                out["pose_id"].append(i)
                out["landmarks"].append(marks)
                out["found"].append(hand is not None)
            print(f"pose {i + 1}/{num_poses}: right hand found in "
                  f"{sum(out['found'][-len(VIEWS):])}/{len(VIEWS)} views", flush=True)
    return {k: np.asarray(v) for k, v in out.items()}


def posed_frames(data: dict[str, np.ndarray]):
    """World joints (N, 55, 3), rotations (N, 55, 3, 3) and cameras for the readings."""
    avatar = default_avatar()
    from engine.export.render import focus_point, pinhole_camera

    motion = signing_pose("flat")
    body = np.repeat(motion.body_pose, len(data["view"]), 0)
    body[:, JOINT_INDEX["right_wrist"] - 1] = data["wrist"]
    motions = Motion.zeros(len(body)).replace(body_pose=body, right_hand_pose=data["hand_pose"])
    posed = avatar.forward(motions)
    views = list(VIEWS.values())
    cams = [pinhole_camera(focus_point(posed.joints[n], "upper_body"), *views[data["view"][n]],
                           SIZE, SIZE) for n in range(len(body))]
    return np.asarray(posed.joints, np.float64), np.asarray(posed.joint_rotations, np.float64), cams


def _predict(offset: np.ndarray, joints, rotations, cams, parent: int) -> np.ndarray:
    points = joints[:, parent] + np.einsum("nab,b->na", rotations[:, parent], offset)
    return np.stack([cams[n].project(points[n]) for n in range(len(points))])


def solve(data, joints, rotations, cams, train: np.ndarray, hand_size: np.ndarray,
          rest_offsets: dict[str, np.ndarray], parent_bones: bool = False) -> dict[str, dict]:
    """Per landmark: the bone (its own joint or that joint's parent) and the offset (m)
    minimising the robust 2D reprojection error over ``train`` readings."""
    rest = np.asarray(default_avatar().rest_joints, np.float64)
    result = {}
    for k, (name, joint) in enumerate(LANDMARKS):
        own = JOINT_INDEX[f"right_{joint}"]
        best = None
        for parent in ((own, int(PARENTS[own])) if parent_bones else (own,)):
            start = rest[own] - rest[parent] + rest_offsets.get(name, np.zeros(3))

            def residual(offset, parent=parent, k=k, start=start):
                err = _predict(offset, joints[train], rotations[train],
                               [cams[n] for n in np.flatnonzero(train)], parent)
                err = (err - data["landmarks"][train, k]) / hand_size[train, None]
                # A weak pull toward the start (joint centre, or the old tip) keeps an
                # offset that no view pins down from wandering: 1 cm away costs what a
                # 0.01 hand-size error on a single reading does.
                return np.r_[err.ravel(), offset - start]

            fit = least_squares(residual, start, loss="soft_l1", f_scale=0.05)
            cost = float(np.median(np.linalg.norm(
                (_predict(fit.x, joints[train], rotations[train],
                          [cams[n] for n in np.flatnonzero(train)], parent)
                 - data["landmarks"][train, k]) / hand_size[train, None], axis=-1)))
            if best is None or cost < best[0] - 0.002:
                best = (cost, parent, fit.x)
        cost, parent, offset = best
        result[name] = {"bone": JOINT_NAMES[parent].removeprefix("right_"),
                        "offset_m": [round(float(x), 4) for x in offset],
                        "train_median_error": round(cost, 4)}
        print(f"{name:18s} on {result[name]['bone']:8s} offset {np.round(offset * 100, 2)} cm, "
              f"train median {cost:.3f} hand sizes", flush=True)
    return result


def evaluate(calibration, data, joints, rotations, cams, rows: np.ndarray, hand_size, tip_offsets):
    """Median and mean 2D error (hand sizes) over ``rows`` of joint centres (old model)
    and calibrated landmarks, per view and overall."""
    report = {}
    for label, use in (("joint_centres", False), ("calibrated", True)):
        errors = []
        for k, (name, joint) in enumerate(LANDMARKS):
            own = JOINT_INDEX[f"right_{joint}"]
            if use:
                parent = JOINT_INDEX["right_" + calibration[name]["bone"]]
                offset = np.array(calibration[name]["offset_m"])
            else:
                parent, offset = own, tip_offsets.get(name, np.zeros(3))
            pred = _predict(offset, joints[rows], rotations[rows],
                            [cams[n] for n in np.flatnonzero(rows)], parent)
            errors.append(np.linalg.norm(pred - data["landmarks"][rows, k], axis=-1) / hand_size[rows])
        errors = np.stack(errors, 1)  # (n, 21)
        views = data["view"][rows]
        report[label] = {"all": (float(np.median(errors)), float(errors.mean()))}
        for v, view in enumerate(VIEWS):
            if (views == v).any():
                report[label][view] = (float(np.median(errors[views == v])), float(errors[views == v].mean()))
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(Path(__file__).resolve().parent.parent
                                             / "assets" / "mediapipe_hand_offsets.json"))
    parser.add_argument("--poses", type=int, default=48, help="calibration poses")
    parser.add_argument("--test-poses", type=int, default=12, help="held-out poses")
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--parent-bones", action="store_true",
                        help="let a landmark ride on its joint's parent bone when that fits better")
    parser.add_argument("--cache", help="npz of MediaPipe readings: reused if present, else written")
    args = parser.parse_args()
    total = args.poses + args.test_poses
    if args.cache and Path(args.cache).is_file():
        data = dict(np.load(args.cache))
    else:
        data = render_and_read(total, args.seed)
        if args.cache:
            with atomic_output(args.cache) as tmp:
                with open(tmp, "wb") as handle:
                    np.savez(handle, **data)
    joints, rotations, cams = posed_frames(data)
    # Hand size per reading: the projected avatar's wrist -> middle knuckle distance (px),
    # the same measure the fitter normalises by, but free of MediaPipe's noise.
    wrist = np.stack([cams[n].project(joints[n, JOINT_INDEX["right_wrist"]]) for n in range(len(cams))])
    middle = np.stack([cams[n].project(joints[n, JOINT_INDEX["right_middle1"]])
                       for n in range(len(cams))])
    hand_size = np.linalg.norm(wrist - middle, axis=-1)
    # Discard readings where MediaPipe missed the hand or read something else (its wrist
    # more than half a hand from ours), and foreshortened hands (edge-on, size tiny).
    found = data["found"].astype(bool) & (hand_size > 15)
    wrist_gap = np.linalg.norm(data["landmarks"][:, 0] - wrist, axis=-1) / hand_size
    good = found & (wrist_gap < 0.5)
    train = good & (data["pose_id"] < args.poses)
    test = good & (data["pose_id"] >= args.poses)
    print(f"readings: {len(good)}, usable {good.sum()} (train {train.sum()}, held out {test.sum()})")
    # The old model's tips: the fitter's tip point (last joint + bone x tip length).
    skeleton = FitSkeleton(default_avatar())
    tip_offsets = {}
    for finger in FINGERS:
        label = [n for n, j in LANDMARKS if n.endswith("TIP") and j == f"{finger}3"][0]
        tip_offsets[label] = skeleton.extra_offset[skeleton.tip_index[("right", finger)] - 55]
    calibration = solve(data, joints, rotations, cams, train, hand_size, tip_offsets, args.parent_bones)
    report = {"train": evaluate(calibration, data, joints, rotations, cams, train, hand_size, tip_offsets),
              "held_out": evaluate(calibration, data, joints, rotations, cams, test, hand_size, tip_offsets)}
    for split, rows in report.items():
        for label, by_view in rows.items():
            print(f"{split:8s} {label:13s} " + ", ".join(
                f"{view} median {m:.3f} mean {a:.3f}" for view, (m, a) in by_view.items()))
    rest = np.asarray(default_avatar().rest_joints)
    asset = {
        "what": "where MediaPipe Hands/Holistic 0.10.21 puts its 21 hand landmarks on the default "
                "avatar's right hand: per landmark, the bone it rides on and its offset (metres) in "
                "that bone's rest frame (world-aligned T-pose axes: +X subject's left, +Y up, +Z "
                "forward). Left hand: mirror (x -> -x).",
        "made_by": f"tools/calibrate_landmarks.py --poses {args.poses} --test-poses {args.test_poses} "
                   f"--seed {args.seed}" + (" --parent-bones" if args.parent_bones else ""),
        "hand_length_m": round(float(np.linalg.norm(rest[JOINT_INDEX["right_middle1"]]
                                                    - rest[JOINT_INDEX["right_wrist"]])), 4),
        "readings": {"train": int(train.sum()), "held_out": int(test.sum()), "views": list(VIEWS)},
        "error_hand_sizes_median_mean": {
            split: {label: [round(x, 4) for x in by_view["all"]] for label, by_view in rows.items()}
            for split, rows in report.items()},
        "landmarks": calibration,
    }
    with atomic_output(args.out) as tmp:
        Path(tmp).write_text(json.dumps(asset, indent=1) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    sys.exit(main())
