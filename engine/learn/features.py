"""The pose representation every learned model shares: 6D rotations of the signing joints.

A Motion becomes an (F, D) float32 array, D = 6 * len(SIGN_JOINTS) = 264: for each of
the 44 joints that carry signing (spine, neck, head, collars, arms, wrists, jaw and all
30 finger joints) the first two columns of its local rotation matrix (Zhou et al.'s
continuous 6D form, which SignSparK also uses). Legs, pelvis and eyes are not modelled:
`apply_features` writes the modelled joints into a base Motion and keeps the rest, so
a learned backend leaves them as the baseline made them.

Why 6D and not axis-angle: axis-angle jumps by 2*pi at the half-turn and is ambiguous
near it; 6D is continuous, so a network's output and a loss on it behave. Why local
rotations and not positions: the avatar (SMPL-X or the default one) is driven by local
rotations, so no IK step can add error after the model.

``FEATURE_VERSION`` goes into every checkpoint's manifest; change it when this layout
changes, and old checkpoints are then refused with a clear message instead of decoding
into the wrong joints.
"""
from __future__ import annotations

import numpy as np

from engine.body.skeleton import JOINT_INDEX, JOINT_NAMES
from engine.motion.motion import Channel, Motion
from engine.motion.rotations import axis_angle_to_6d

FEATURE_VERSION = "sign6d-v1"

_UPPER_BODY = ("spine1", "spine2", "spine3", "neck", "left_collar", "right_collar", "head",
               "left_shoulder", "right_shoulder", "left_elbow", "right_elbow",
               "left_wrist", "right_wrist", "jaw")

#: Skeleton indices (into ``Motion.full_pose()``'s 55 joints) of the modelled joints.
SIGN_JOINTS: tuple[int, ...] = tuple(JOINT_INDEX[n] for n in _UPPER_BODY) + tuple(
    i for i, name in enumerate(JOINT_NAMES)
    if name.startswith(("left_index", "left_middle", "left_pinky", "left_ring", "left_thumb",
                        "right_index", "right_middle", "right_pinky", "right_ring",
                        "right_thumb")))
NUM_SIGN_JOINTS = len(SIGN_JOINTS)  # 44
FEATURE_DIM = 6 * NUM_SIGN_JOINTS  # 264


def _channel_of(name: str) -> Channel:
    if name.startswith("left_") and any(f in name for f in ("index", "middle", "pinky", "ring", "thumb")):
        return Channel.LEFT_HAND
    if name.startswith("right_") and any(f in name for f in ("index", "middle", "pinky", "ring", "thumb")):
        return Channel.RIGHT_HAND
    if name == "jaw":
        return Channel.FACE
    return Channel.BODY


#: (NUM_SIGN_JOINTS,) the keyframe channel that owns each modelled joint.
JOINT_CHANNELS: tuple[Channel, ...] = tuple(_channel_of(JOINT_NAMES[i]) for i in SIGN_JOINTS)


def channel_feature_mask(channels) -> np.ndarray:
    """(FEATURE_DIM,) bool: the feature entries that the given keyframe channels pin."""
    channels = set(channels)
    per_joint = np.array([c in channels for c in JOINT_CHANNELS])
    return np.repeat(per_joint, 6)


def motion_to_features(motion: Motion) -> np.ndarray:
    """(F, FEATURE_DIM) float32: the modelled joints' local rotations in 6D."""
    pose = motion.full_pose()[:, SIGN_JOINTS]  # (F, J, 3) axis-angle, radians
    return axis_angle_to_6d(pose).reshape(motion.num_frames, FEATURE_DIM).astype(np.float32)


def features_to_rotvec(features: np.ndarray) -> np.ndarray:
    """(F, FEATURE_DIM) -> (F, NUM_SIGN_JOINTS, 3) float32 axis-angle (Gram-Schmidt first,
    as ``engine.motion.rotations.sixd_to_matrix``).

    Through roma in float32 rather than scipy in float64: this runs on every learned
    in-between (300 frames x 44 joints per 300-frame range, ``bench/kf2p.py``), where
    scipy's ``from_matrix`` + ``as_rotvec`` took ~12 ms of a 100 ms budget on the 2-core
    machine and roma ~4.5 ms; a Motion stores float32 anyway.
    """
    features = np.asarray(features, dtype=np.float32)
    if features.ndim != 2 or features.shape[1] != FEATURE_DIM:
        raise ValueError(f"features: expected shape (F, {FEATURE_DIM}), got {features.shape}")
    import roma
    import torch

    columns = torch.from_numpy(features).reshape(len(features), NUM_SIGN_JOINTS, 2, 3)
    matrices = roma.special_gramschmidt(columns.transpose(-1, -2))
    return roma.rotmat_to_rotvec(matrices).numpy()


def apply_features(base: Motion, features: np.ndarray) -> Motion:
    """``base`` with the modelled joints replaced by ``features`` (F, FEATURE_DIM).

    F must equal ``base.num_frames``; unmodelled joints and the non-rotation fields
    (translation, expression, blendshapes) are kept from ``base``.
    """
    if len(features) != base.num_frames:
        raise ValueError(
            f"features: expected {base.num_frames} frames to match the base motion, got {len(features)}")
    pose = base.full_pose().copy()
    pose[:, SIGN_JOINTS] = features_to_rotvec(features)
    return base.with_full_pose(pose.astype(np.float32))
