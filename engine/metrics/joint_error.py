"""DTW-aligned joint position error (DTW-JPE) per body part, jerk at joins, and the
angle between joint rotations.

The field reports DTW-JPE separately for body, left hand and right hand (SOKE's
metric, reused by SignSparK): align the generated and reference sequences in
time with dynamic time warping on per-frame joint distance, then average the joint
position error along the warping path. Hands are measured relative to their wrist, so
a hand error is about the handshape and not inherited from the arm; the body is
measured relative to the pelvis. DTW comes from ``dtw-python`` (a maintained
implementation); we only supply the distance matrix.

Units: metres in, millimetres out (the papers' tables use mm or cm; we say which).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.body.skeleton import JOINT_INDEX, LEFT_HAND_START, RIGHT_HAND_START

BODY_JOINTS = np.arange(0, 22)
LEFT_HAND_JOINTS = np.arange(LEFT_HAND_START, LEFT_HAND_START + 15)
RIGHT_HAND_JOINTS = np.arange(RIGHT_HAND_START, RIGHT_HAND_START + 15)
PARTS = {
    "body": (BODY_JOINTS, JOINT_INDEX["pelvis"]),
    "left_hand": (LEFT_HAND_JOINTS, JOINT_INDEX["left_wrist"]),
    "right_hand": (RIGHT_HAND_JOINTS, JOINT_INDEX["right_wrist"]),
}


def _relative(joints: np.ndarray, ids: np.ndarray, root: int) -> np.ndarray:
    return joints[:, ids] - joints[:, root:root + 1]


def dtw_jpe(generated: np.ndarray, reference: np.ndarray, part: str) -> float:
    """DTW-JPE in millimetres for one part ("body", "left_hand", "right_hand").

    generated: (T, 55, 3), reference: (T', 55, 3) joint positions in metres.
    """
    from dtw import dtw

    ids, root = PARTS[part]
    a = _relative(np.asarray(generated, np.float64), ids, root)
    b = _relative(np.asarray(reference, np.float64), ids, root)
    # Per-frame-pair mean joint distance: (T, T').
    distance = np.linalg.norm(a[:, None] - b[None, :], axis=-1).mean(axis=-1)
    alignment = dtw(distance, distance_only=False)
    return float(distance[alignment.index1, alignment.index2].mean() * 1000.0)


def dtw_jpe_parts(generated: np.ndarray, reference: np.ndarray) -> dict[str, float]:
    return {part: dtw_jpe(generated, reference, part) for part in PARTS}


def jerk(joints: np.ndarray, fps: float) -> np.ndarray:
    """(T-3,) mean joint jerk magnitude per frame, m/s^3 (third finite difference)."""
    third = np.diff(np.asarray(joints, np.float64), n=3, axis=0) * fps ** 3
    return np.linalg.norm(third, axis=-1).mean(axis=-1)


def jerk_at_joins(joints: np.ndarray, fps: float, joins: list[int], window: int = 2) -> float:
    """Mean jerk (m/s^3) within ``window`` frames of each join frame (range borders)."""
    values = jerk(joints, fps)
    picked = [values[max(0, j - 3 - window):j + window] for j in joins]
    picked = [p for p in picked if len(p)]
    return float(np.mean(np.concatenate(picked))) if picked else 0.0


@dataclass(frozen=True)
class Kf2pScore:
    body: float
    left_hand: float
    right_hand: float
    keyframe_error: float   # mm: mean joint error at the keyframes themselves
    join_jerk: float        # m/s^3 at the range borders


def rotation_angle_deg(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The angle of the rotation taking each axis-angle rotation of ``a`` to ``b`` (both
    (..., 3) radians, the same shape) -> (...) degrees: how far apart two joints' local
    rotations are, the twist about the bone included."""
    from scipy.spatial.transform import Rotation

    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    relative = Rotation.from_rotvec(a.reshape(-1, 3)).inv() * Rotation.from_rotvec(b.reshape(-1, 3))
    return np.degrees(relative.magnitude()).reshape(a.shape[:-1])
