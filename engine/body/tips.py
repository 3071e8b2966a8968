"""Tips of the leaf bones (fingertips, toes, chin, eyes) on a skinned body.

The SMPL-X skeleton ends at each finger's last joint (DIP); the fingertip, which
MediaPipe and BVH End Sites need, is found on the mesh: the vertex that continues the
leaf bone furthest. Used by BVH export (End Sites), ``.pose`` export and the handshape
matcher (``hand_points``).
"""
from __future__ import annotations

import numpy as np

from engine.body.skeleton import JOINT_INDEX, NUM_JOINTS, PARENTS
from engine.motion.motion import Motion

_HAS_CHILD = set(int(p) for p in PARENTS[1:])
#: Joints with no children: each gets an End Site.
LEAF_JOINTS: tuple[int, ...] = tuple(j for j in range(NUM_JOINTS) if j not in _HAS_CHILD)


def leaf_tip_vertices(body) -> dict[int, int] | None:
    """For each leaf joint, the rest-mesh vertex that continues its bone furthest.

    Among the vertices whose strongest skin weight is the leaf joint, the one with the
    largest projection on the bone direction ``rest_joints[leaf] - rest_joints[parent]``:
    the fingertip for a finger's last joint, the toe tip for a foot, the chin for the
    jaw, the front of the eyeball for an eye. Picked from skin weights, so it follows
    any re-baked avatar. Returns {leaf joint index: vertex index}, or None when the
    body has no ``skin_weights`` (V, 55) and ``rest_vertices`` (V, 3) (e.g. SMPL-X,
    whose mesh we cannot ship) or a leaf owns no vertex.
    """
    weights = getattr(body, "skin_weights", None)
    vertices = getattr(body, "rest_vertices", None)
    if weights is None or vertices is None:
        return None
    weights = np.asarray(weights)
    vertices = np.asarray(vertices, np.float64)
    rest = np.asarray(body.rest_joints, np.float64)
    dominant = weights.argmax(axis=1)
    tips: dict[int, int] = {}
    for leaf in LEAF_JOINTS:
        owned = np.flatnonzero(dominant == leaf)
        if owned.size == 0:
            return None
        direction = rest[leaf] - rest[PARENTS[leaf]]
        direction /= np.linalg.norm(direction)
        tips[leaf] = int(owned[np.argmax((vertices[owned] - rest[leaf]) @ direction)])
    return tips


def end_site_offsets(body) -> np.ndarray:
    """(55, 3) float64 rest offset (metres) of each leaf joint's End Site; 0 elsewhere.

    From ``leaf_tip_vertices`` when the body has a skinned mesh; otherwise the parent
    bone repeated (same direction and length), a plausible stand-in.
    """
    rest = np.asarray(body.rest_joints, np.float64)
    offsets = np.zeros((NUM_JOINTS, 3))
    tips = leaf_tip_vertices(body)
    for leaf in LEAF_JOINTS:
        if tips is not None:
            offsets[leaf] = np.asarray(body.rest_vertices, np.float64)[tips[leaf]] - rest[leaf]
        else:
            offsets[leaf] = rest[leaf] - rest[PARENTS[leaf]]
    return offsets


# MediaPipe hand order: wrist, thumb CMC/MCP/IP/TIP, then index, middle, ring, pinky
# MCP/PIP/DIP/TIP. SMPL-X names the thumb's joints thumb1..3 and the fingers' 1..3.
_MEDIAPIPE_FINGERS = ("thumb", "index", "middle", "ring", "pinky")


def hand_points(body, motion: Motion, side: str = "right") -> np.ndarray:
    """(F, 21, 3) metres: a hand's 21 MediaPipe-order points on the posed body.

    The tips are the leaf joints' End Sites carried by their joints' rotations.
    """
    out = body.forward(motion)
    joints = np.asarray(out.joints, np.float64)
    rotations = np.asarray(out.joint_rotations, np.float64)
    ends = end_site_offsets(body)
    columns = [joints[:, JOINT_INDEX[f"{side}_wrist"]]]
    for finger in _MEDIAPIPE_FINGERS:
        ids = [JOINT_INDEX[f"{side}_{finger}{k}"] for k in (1, 2, 3)]
        columns += [joints[:, i] for i in ids]
        last = ids[-1]
        columns.append(joints[:, last] + rotations[:, last] @ ends[last])
    return np.stack(columns, axis=1)
