"""Reference poses with known meaning, for checking avatars and conventions.

SMPL-X rest is a T-pose: arms along +-X (the subject's left arm at +X), palms down
(-Y), fingers straight, body facing +Z. Derived axis conventions used below:
- Lowering an arm: left shoulder about -Z, right shoulder about +Z.
- Finger flexion toward the palm: left hand about -Z, right hand about +Z
  (fingers point +-X with the palm facing -Y).
- Finger spread (abduction) in the palm plane: about +-Y; on the right hand the
  index side is +Z (the thumb points forward), so spreading the index away from the
  middle finger is +Y and the middle finger away from the index is -Y.
These are the values the renders and tests check; a sign error here shows as a hand
bending backwards, which the tests catch.
"""
from __future__ import annotations

import numpy as np

from engine.body.skeleton import JOINT_INDEX
from engine.motion.motion import Motion

ARM_DOWN_RADIANS = 1.3  # ~75 degrees below horizontal: arms rest beside the hips


def _body_index(joint: str) -> int:
    return JOINT_INDEX[joint] - 1  # body_pose excludes the pelvis


def _hand_index(finger: str, segment: int) -> int:
    order = ("index", "middle", "pinky", "ring", "thumb")
    return 3 * order.index(finger) + segment - 1


def right_hand_pose(curl: dict[str, tuple[float, float, float]],
                    spread: dict[str, float] | None = None,
                    thumb: tuple[tuple[float, float, float], ...] | None = None) -> np.ndarray:
    """(15, 3) right-hand axis-angle from per-finger flexion and spread.

    ``curl``: finger -> flexion of segments 1..3 in radians (positive = toward palm).
    ``spread``: finger -> abduction of segment 1 about +Y. ``thumb``: explicit
    axis-angles for thumb1..3, since the thumb's flexion axis is oblique.
    """
    pose = np.zeros((15, 3), np.float32)
    for finger, angles in curl.items():
        for segment, angle in enumerate(angles, start=1):
            pose[_hand_index(finger, segment), 2] = angle
    for finger, angle in (spread or {}).items():
        pose[_hand_index(finger, 1), 1] = angle
    if thumb is not None:
        for segment, rotvec in enumerate(thumb, start=1):
            pose[_hand_index("thumb", segment)] = rotvec
    return pose


def mirror_hand_pose(pose: np.ndarray) -> np.ndarray:
    """Right-hand axis-angles -> the mirror-image left-hand pose (and back).

    Mirroring across the YZ plane (x -> -x) maps a rotation vector (x, y, z) to
    (x, -y, -z).
    """
    return np.asarray(pose) * np.array([1.0, -1.0, -1.0], np.float32)


_CURLED = (1.45, 1.6, 1.1)
# Thumb rotations (thumb1, thumb2, thumb3) solved numerically on the default avatar so
# the thumb tip lies on the outside of the curled fingers' middle phalanges (within
# ~1 cm); the thumb's flexion axis is oblique, so hand-picked angles were wrong.
_THUMB_OVER_FIST = ((0.14, -0.25, 0.28), (0.12, -0.9, -0.24), (0.0, 0.0, 0.4))
_THUMB_OVER_MIDDLE = ((0.2, -0.44, 0.17), (0.22, -0.8, -0.1), (0.0, 0.0, 0.4))
_THUMB_OVER_RING = ((0.18, -0.51, 0.25), (0.32, -1.14, -0.11), (0.0, 0.0, 0.4))

RIGHT_HAND_SHAPES: dict[str, np.ndarray] = {
    "flat": right_hand_pose({}),
    "fist": right_hand_pose({f: _CURLED for f in ("index", "middle", "ring", "pinky")},
                            thumb=_THUMB_OVER_FIST),
    "index_point": right_hand_pose({f: _CURLED for f in ("middle", "ring", "pinky")},
                                   thumb=_THUMB_OVER_MIDDLE),
    "asl_v": right_hand_pose({f: _CURLED for f in ("ring", "pinky")},
                             spread={"index": 0.25, "middle": -0.2}, thumb=_THUMB_OVER_RING),
}


#: A right arm raised into signing space (hand beside the face, palm forward), as the
#: fitter reconstructed it from the real ASL "L" clip; the left arm hangs relaxed.
#: Axis-angles (radians) by body joint.
SIGNING_ARMS: dict[str, tuple[float, float, float]] = {
    "right_collar": (0.0, -0.03, 0.09),
    "right_shoulder": (-0.41, -0.24, 1.18),
    "right_elbow": (0.14, 2.46, -0.43),
    "right_wrist": (0.34, 0.01, -0.11),
    "left_shoulder": (0.03, 0.0, -1.33),
    "left_elbow": (0.0, -0.44, 0.0),
}


def signing_pose(hand_shape: str = "flat") -> Motion:
    """A 1-frame pose: right hand raised in signing space showing ``hand_shape``."""
    body = np.zeros((1, 21, 3), np.float32)
    for joint, rotation in SIGNING_ARMS.items():
        body[0, _body_index(joint)] = rotation
    return Motion.zeros(1).replace(body_pose=body,
                                   right_hand_pose=RIGHT_HAND_SHAPES[hand_shape][None])


def arms_down(motion: Motion) -> Motion:
    """Lower both arms beside the body on every frame."""
    body = motion.body_pose.copy()
    body[:, _body_index("left_shoulder"), 2] = -ARM_DOWN_RADIANS
    body[:, _body_index("right_shoulder"), 2] = ARM_DOWN_RADIANS
    return motion.replace(body_pose=body)


_ARM_JOINTS = ("collar", "shoulder", "elbow", "wrist")


def mirror_arm(motion: Motion, source: str) -> Motion:
    """``motion`` with the other arm and hand set to the mirror image of ``source``'s
    ("left" or "right"): collar, shoulder, elbow, wrist and fingers, every frame.
    ``mirror_hand_pose``'s YZ-plane mirror holds for any joint's rotation vector."""
    if source not in ("left", "right"):
        raise ValueError(f"mirror_arm: source: expected 'left' or 'right', got {source!r}")
    target = "right" if source == "left" else "left"
    body = motion.body_pose.copy()
    for joint in _ARM_JOINTS:
        body[:, _body_index(f"{target}_{joint}")] = mirror_hand_pose(
            body[:, _body_index(f"{source}_{joint}")])
    hand = mirror_hand_pose(getattr(motion, f"{source}_hand_pose"))
    return motion.replace(body_pose=body, **{f"{target}_hand_pose": hand.astype(np.float32)})


def lowered_arm(motion: Motion, side: str) -> Motion:
    """``motion`` with one arm ("left" or "right") hanging as in ``arms_down`` (collar,
    elbow and wrist straight) and its fingers straight, every frame."""
    if side not in ("left", "right"):
        raise ValueError(f"lowered_arm: side: expected 'left' or 'right', got {side!r}")
    body = motion.body_pose.copy()
    for joint in _ARM_JOINTS:
        body[:, _body_index(f"{side}_{joint}")] = 0.0
    body[:, _body_index(f"{side}_shoulder"), 2] = ARM_DOWN_RADIANS * (1 if side == "right" else -1)
    hand = np.zeros_like(getattr(motion, f"{side}_hand_pose"))
    return motion.replace(body_pose=body, **{f"{side}_hand_pose": hand})


def reference_poses() -> dict[str, Motion]:
    """Named 1-frame motions: rest, arms down, and right-hand shapes in the T-pose."""
    rest = Motion.zeros(1)
    poses = {"rest_t_pose": rest, "arms_down": arms_down(rest)}
    for name, hand in RIGHT_HAND_SHAPES.items():
        poses[f"right_{name}"] = rest.replace(right_hand_pose=hand[None])
    return poses
