"""The 55-joint SMPL-X skeleton: joint names, order and parents.

Both body models (the embedded default avatar and SMPL-X proper) use this tree, so a
Motion means the same joint rotations on either. Order and names follow the smplx
package (``smplx.joint_names.JOINT_NAMES[:55]``); hand joints per hand are index1-3,
middle1-3, pinky1-3, ring1-3, thumb1-3 (not MediaPipe's thumb-first order).
"""
from __future__ import annotations

import numpy as np

BODY_JOINT_NAMES: tuple[str, ...] = (
    "pelvis", "left_hip", "right_hip", "spine1", "left_knee", "right_knee", "spine2",
    "left_ankle", "right_ankle", "spine3", "left_foot", "right_foot", "neck",
    "left_collar", "right_collar", "head", "left_shoulder", "right_shoulder",
    "left_elbow", "right_elbow", "left_wrist", "right_wrist",
)
FACE_JOINT_NAMES: tuple[str, ...] = ("jaw", "left_eye_smplhf", "right_eye_smplhf")
FINGER_NAMES: tuple[str, ...] = ("index", "middle", "pinky", "ring", "thumb")


def _hand_joint_names(side: str) -> tuple[str, ...]:
    return tuple(f"{side}_{finger}{k}" for finger in FINGER_NAMES for k in (1, 2, 3))


LEFT_HAND_JOINT_NAMES = _hand_joint_names("left")
RIGHT_HAND_JOINT_NAMES = _hand_joint_names("right")
JOINT_NAMES: tuple[str, ...] = (
    BODY_JOINT_NAMES + FACE_JOINT_NAMES + LEFT_HAND_JOINT_NAMES + RIGHT_HAND_JOINT_NAMES
)
NUM_JOINTS = len(JOINT_NAMES)  # 55
JOINT_INDEX: dict[str, int] = {name: i for i, name in enumerate(JOINT_NAMES)}

LEFT_WRIST = JOINT_INDEX["left_wrist"]
RIGHT_WRIST = JOINT_INDEX["right_wrist"]
JAW = JOINT_INDEX["jaw"]
LEFT_HAND_START = JOINT_INDEX["left_index1"]  # 25
RIGHT_HAND_START = JOINT_INDEX["right_index1"]  # 40


def _parents() -> np.ndarray:
    body = [-1, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9, 12, 13, 14, 16, 17, 18, 19]
    face = [15, 15, 15]  # jaw and both eyes hang off the head
    hands: list[int] = []
    for wrist, start in ((LEFT_WRIST, LEFT_HAND_START), (RIGHT_WRIST, RIGHT_HAND_START)):
        for finger in range(len(FINGER_NAMES)):
            base = start + 3 * finger
            hands += [wrist, base, base + 1]
    parents = np.array(body + face + hands, dtype=np.int64)
    parents.setflags(write=False)
    return parents


#: (55,) int64, parent joint index of each joint, -1 for the pelvis (root).
PARENTS: np.ndarray = _parents()
assert len(PARENTS) == NUM_JOINTS and all(PARENTS[i] < i for i in range(1, NUM_JOINTS))


def skeleton_key(body) -> bytes:
    """What measurements of ``body`` (anchors, hand geometry, its rest hands) are cached
    by: its rest joint positions, so a body with another shape gets its own."""
    return np.asarray(body.rest_joints, np.float32).tobytes()


def tree_levels() -> list[np.ndarray]:
    """The joints grouped by depth in the tree, root first: level d holds every joint
    whose parent is in level d - 1 (12 levels). Batched forward kinematics poses one
    level at a time instead of one joint at a time."""
    depth = np.zeros(NUM_JOINTS, np.int64)
    for joint in range(1, NUM_JOINTS):
        depth[joint] = depth[PARENTS[joint]] + 1
    return [np.flatnonzero(depth == d) for d in range(int(depth.max()) + 1)]


def wrist_heights_above_waist(joints: np.ndarray) -> np.ndarray:
    """(F, 2) metres each wrist (left, right) is above the waist (the spine1 joint), y up.

    ``joints``: (F, 55, 3) or (55, 3) joint positions in metres. Positive means raised
    into signing space; the one rule for "this hand is signing", shared by the hands
    close-up (``engine.export.render.signing_hands``) and the trimming of isolated
    signs (``engine.generate.assemble.articulation_span``). Relative to spine1, so a
    lean or a moving root does not count as a raised hand.
    """
    joints = np.asarray(joints).reshape(-1, NUM_JOINTS, 3)
    wrists = joints[:, [JOINT_INDEX["left_wrist"], JOINT_INDEX["right_wrist"]], 1]
    return wrists - joints[:, None, JOINT_INDEX["spine1"], 1]
