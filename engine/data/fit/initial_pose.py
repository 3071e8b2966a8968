"""Stage 1 of the fit: a starting pose close to the data, so a few hundred Adam steps
suffice. The palm's facing (toward or away from the camera) is a discrete choice a
local optimiser rarely undoes, so it is made here, by search."""
from __future__ import annotations

import math

import numpy as np
import torch
from scipy.spatial.transform import Rotation

from engine.body.skeleton import JOINT_INDEX
from engine.data.fit.constants import (
    ELBOW_SEEN_CONFIDENCE, FINGERS, GRID_FINGER_SHAPES, GRID_THUMB_SHAPES,
    GRID_FRAMES_PER_BATCH, GRID_TWISTS, GRID_WRIST_FLEXIONS, SIDES, WRIST_SEEN_CONFIDENCE, D,
)
from engine.data.fit.kinematics import SkeletonForward
from engine.data.fit.skeleton import FitSkeleton, unit
from engine.data.fit.targets import Targets
from engine.data.keypoints import BODY_INDEX, KeypointSequence


def fill_nearest(known: np.ndarray) -> np.ndarray | None:
    """(F,) bool -> (F,) index of the nearest known frame (None when none is known)."""
    where = np.flatnonzero(known)
    if not where.size:
        return None
    frames = np.arange(len(known))
    return where[np.abs(frames[:, None] - where[None]).argmin(axis=1)]


def _rotation_between_frames(u0, n0, u, n) -> np.ndarray:
    """The rotation taking the orthonormal pair (u0, n0) to (u, n); (3, 3)."""
    a = np.stack([u0, n0, np.cross(u0, n0)], axis=1)
    b = np.stack([u, n, np.cross(u, n)], axis=1)
    return b @ a.T


def initial_pose(seq: KeypointSequence, sk: FitSkeleton, fk: SkeletonForward, targets: Targets,
                 dims: int, finger_shapes=GRID_FINGER_SHAPES, thumb_shapes=GRID_THUMB_SHAPES
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Arm inverse kinematics, then the hand grid over ``finger_shapes`` and
    ``thumb_shapes`` (as many each; ``constants.GRID_FINGER_SHAPES``).

    Returns (rotvec (F, Nr, 3), euler angles (F, E, 3)) in radians, the parameters of
    ``optimise.optimise``.
    """
    rotvec = np.repeat(sk.relaxed_rotvec[None], seq.num_frames, 0)
    euler = np.repeat(sk.euler_relaxed[None], seq.num_frames, 0)
    _arm_ik(seq, sk, rotvec, euler)
    _hand_grid(seq, sk, fk, targets, dims, rotvec, euler, finger_shapes, thumb_shapes)
    return rotvec, euler


def _arm_ik(seq: KeypointSequence, sk: FitSkeleton, rotvec: np.ndarray, euler: np.ndarray) -> None:
    """Two-bone inverse kinematics from the 2D shoulder, elbow and wrist, in place on
    the shoulders' axis-angles and the elbows' flexion: depth from the bone lengths,
    elbow and hand in front of the body, as in signing. A frame whose wrist is not seen
    takes the nearest seen frame's arm."""
    rest, j = sk.rest_joints, JOINT_INDEX
    width, centre = sk.shoulder_width, sk.shoulder_mid
    body, bconf = seq.body, seq.confidence["body"]
    rotvec_slot = {int(joint): i for i, joint in enumerate(sk.rotvec_joints)}
    for side in SIDES:
        up = side.upper()
        hand, hconf = seq.points(f"{side}_hand"), seq.confidence[f"{side}_hand"]
        wrist_kp = np.where((hconf[:, 0] > 0)[:, None], hand[:, 0],
                            body[:, BODY_INDEX[f"{up}_WRIST"]])
        wrist_seen = (hconf[:, 0] > 0) | (bconf[:, BODY_INDEX[f"{up}_WRIST"]] > WRIST_SEEN_CONFIDENCE)
        nearest = fill_nearest(wrist_seen)
        if nearest is None:
            continue
        elbow_kp = body[:, BODY_INDEX[f"{up}_ELBOW"]]
        elbow_seen = bconf[:, BODY_INDEX[f"{up}_ELBOW"]] > ELBOW_SEEN_CONFIDENCE
        shoulder = rest[j[f"{side}_shoulder"]]
        elbow_rest, wrist_rest = rest[j[f"{side}_elbow"]], rest[j[f"{side}_wrist"]]
        upper_len = np.linalg.norm(elbow_rest - shoulder)
        fore_len = np.linalg.norm(wrist_rest - elbow_rest)
        u0 = unit(elbow_rest - shoulder)
        n0 = unit(np.array([0.0, 0.0, 1.0]) - u0[2] * u0)
        e_slot = sk.euler_slot(f"{side}_elbow")
        flex_lo, flex_hi = sk.euler_limits[e_slot, 0]
        for f in range(seq.num_frames):
            g = nearest[f]
            w2 = wrist_kp[g, :2] * width + centre[:2]
            if elbow_seen[g]:
                e2 = elbow_kp[g, :2] * width + centre[:2]
            else:  # the elbow hangs below the shoulder-wrist midpoint
                e2 = (shoulder[:2] + w2) / 2 + np.array([0.0, -0.5 * upper_len])
            d = e2 - shoulder[:2]
            if np.linalg.norm(d) > upper_len:
                d = d / np.linalg.norm(d) * upper_len
            elbow = np.r_[shoulder[:2] + d, shoulder[2] + math.sqrt(max(upper_len ** 2 - d @ d, 0.0))]
            d = w2 - elbow[:2]
            if np.linalg.norm(d) > fore_len:
                d = d / np.linalg.norm(d) * fore_len
            wrist = np.r_[elbow[:2] + d, elbow[2] + math.sqrt(max(fore_len ** 2 - d @ d, 0.0))]
            u, fore = unit(elbow - shoulder), unit(wrist - elbow)
            n = fore - (fore @ u) * u
            n = unit(n) if np.linalg.norm(n) > 1e-3 else unit(np.cross(u, np.cross(n0, u)))
            rot = _rotation_between_frames(u0, n0, u, n)
            rotvec[f, rotvec_slot[j[f"{side}_shoulder"]]] = Rotation.from_matrix(rot).as_rotvec()
            euler[f, e_slot, 0] = np.clip(math.acos(np.clip(fore @ u, -1, 1)), flex_lo, flex_hi)


def _hand_grid(seq: KeypointSequence, sk: FitSkeleton, fk: SkeletonForward, targets: Targets,
               dims: int, rotvec: np.ndarray, euler: np.ndarray, finger_shapes, thumb_shapes
               ) -> None:
    """Per hand and frame, the best (forearm twist x wrist flexion) hypothesis with each
    finger in its own best shape, scored by the 2D hand points relative to the
    wrist; in place on the elbows', wrists' and fingers' Euler angles.

    Both hands and all hypotheses go through batched FK. Fingers are independent
    given the wrist; without curls a fist would be "explained" by straight fingers
    pointing at the camera, with the palm turned the wrong way.
    """
    num_frames = seq.num_frames
    width, centre = sk.shoulder_width, sk.shoulder_mid
    twists = np.linspace(-np.pi, np.pi, GRID_TWISTS, endpoint=False)
    flexes = np.array(GRID_WRIST_FLEXIONS) * D
    if len(finger_shapes) != len(thumb_shapes):
        raise ValueError(f"hand grid: {len(finger_shapes)} finger shapes but "
                         f"{len(thumb_shapes)} thumb shapes; expected as many of each")
    shapes = {"finger": np.array(finger_shapes) * D, "thumb": np.array(thumb_shapes) * D}
    levels = np.arange(len(shapes["finger"]))
    wrist_grid = np.array([(t, fl) for t in twists for fl in flexes])
    grid = np.array([(t, fl, lv) for t, fl in wrist_grid for lv in levels])
    hyp = len(grid)
    # Each finger joint's angles in each shape, clipped to its range: (L, 3) per slot.
    shape_angles = {}
    for side in SIDES:
        for finger in FINGERS:
            shape = shapes["thumb" if finger == "thumb" else "finger"]
            for k in (1, 2, 3):
                slot = sk.euler_slot(f"{side}_{finger}{k}")
                shape_angles[slot] = np.clip(sk.euler_relaxed[slot] + shape[:, k - 1],
                                             sk.euler_limits[slot, :, 0], sk.euler_limits[slot, :, 1])
    # Only the hands' points are kept, and the frames go through the FK in batches: all
    # frames at once took 1.8 GB for a 40 s recording with 144 hypotheses a frame.
    hand_cols = np.flatnonzero(targets.hand > 0)
    proj = np.zeros((hyp, num_frames, len(hand_cols), dims), np.float32)
    centre_t = torch.tensor(centre[:dims], dtype=torch.float32)
    for first in range(0, num_frames, GRID_FRAMES_PER_BATCH):
        last = min(first + GRID_FRAMES_PER_BATCH, num_frames)
        euler_h = np.repeat(euler[None, first:last], hyp, 0)
        for side in SIDES:
            e_slot, w_slot = sk.euler_slot(f"{side}_elbow"), sk.euler_slot(f"{side}_wrist")
            euler_h[:, :, e_slot, 1] = grid[:, None, 0] / 2
            euler_h[:, :, w_slot, 0] = grid[:, None, 0] / 2
            euler_h[:, :, w_slot, 1] = grid[:, None, 1]
        for slot, angles in shape_angles.items():
            euler_h[:, :, slot] = angles[grid[:, 2].astype(int)][:, None]
        with torch.no_grad():
            rv = torch.tensor(np.repeat(rotvec[None, first:last], hyp, 0).reshape(-1, rotvec.shape[1], 3),
                              dtype=torch.float32)
            eu = torch.tensor(euler_h.reshape(-1, euler.shape[1], 3), dtype=torch.float32)
            _, points = fk(fk.local_rotations(rv, eu), torch.ones(3))
            hand_points = points[:, targets.model[hand_cols], :dims]
            proj[:, first:last] = ((hand_points - centre_t) / width).reshape(
                hyp, last - first, len(hand_cols), dims).numpy()
    proj = proj.reshape(len(wrist_grid), len(levels), num_frames, len(hand_cols), dims)
    for which, side in ((1, "left"), (2, "right")):
        cols = np.flatnonzero(targets.hand == which)
        if not cols.size:
            continue
        seen = targets.weight[:, cols].sum(1) > 0
        nearest = fill_nearest(seen)
        if nearest is None:
            continue
        # Compare shapes relative to the wrist: the arm's IK already placed the hand.
        model = proj[:, :, :, np.searchsorted(hand_cols, cols)]
        model = model - model[:, :, :, :1]
        kp = targets.points[:, cols, :dims] - targets.points[:, cols[:1], :dims]
        point_err = targets.weight[None, None, :, cols] * ((model - kp) ** 2).sum(-1)  # (W, L, F, K)
        # cols are: wrist, then per finger (SMPL-X order) its 4 points.
        finger_err = point_err[..., 1:].reshape(point_err.shape[:3] + (len(FINGERS), 4)).sum(-1)
        best_level = finger_err.argmin(1)  # (W, F, fingers)
        score = point_err[:, 0, :, 0] + finger_err.min(1).sum(-1)  # (W, F)
        best = score.argmin(0)[nearest]  # (F,)
        e_slot, w_slot = sk.euler_slot(f"{side}_elbow"), sk.euler_slot(f"{side}_wrist")
        euler[:, e_slot, 1] = wrist_grid[best, 0] / 2
        euler[:, w_slot, 0] = wrist_grid[best, 0] / 2
        euler[:, w_slot, 1] = wrist_grid[best, 1]
        for n, finger in enumerate(FINGERS):
            level = best_level[best, nearest, n]
            for k in (1, 2, 3):
                slot = sk.euler_slot(f"{side}_{finger}{k}")
                euler[:, slot] = shape_angles[slot][level]
