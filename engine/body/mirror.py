"""Left <-> right mirror images of poses, motions and projects: a pose for the other
hand, or a whole project for a left-handed signer.

A mirror across the body's sagittal (YZ) plane maps x to -x: a position's x changes sign,
a rotation vector (x, y, z) becomes (x, -y, -z), and every left joint trades places with
its right twin. On a left-right symmetric body (the default avatar's rest skeleton is,
to float precision) the mirrored pose's joints are exactly the mirrored joints.
"""
from __future__ import annotations

import dataclasses

import numpy as np

from engine.body.skeleton import JOINT_NAMES
from engine.motion.face import FACE_BLENDSHAPE_NAMES
from engine.motion.markers import MarkerKind
from engine.motion.motion import Channel, Motion
from engine.motion.project import Keyframe, Project

#: A rotation vector's components under the mirror x -> -x.
ROTATION_SIGNS = np.array([1.0, -1.0, -1.0], np.float32)


def _twin(name: str) -> str:
    """"left_elbow" <-> "right_elbow", "mouthSmileLeft" <-> "mouthSmileRight"."""
    for a, b in (("left", "right"), ("Left", "Right")):
        if a in name:
            return name.replace(a, b)
        if b in name:
            return name.replace(b, a)
    return name


#: body_pose's 21 joints (skeleton joints 1-21) in their mirror twins' order.
_BODY_TWINS = np.array([JOINT_NAMES.index(_twin(name)) - 1 for name in JOINT_NAMES[1:22]])
#: Face blendshape columns in their mirror twins' order.
_FACE_TWINS = np.array([FACE_BLENDSHAPE_NAMES.index(_twin(name))
                        for name in FACE_BLENDSHAPE_NAMES])


def mirror_motion(motion: Motion) -> Motion:
    """``motion`` as its mirror image: the left hand signs what the right hand did.

    The SMPL-X expression coefficients are kept as they are (their basis has no
    mirror pairing); the ARKit face blendshapes, which do, trade sides."""
    transl = motion.transl * np.array([-1.0, 1.0, 1.0], np.float32)
    return motion.replace(
        global_orient=motion.global_orient * ROTATION_SIGNS,
        body_pose=motion.body_pose[:, _BODY_TWINS] * ROTATION_SIGNS,
        left_hand_pose=motion.right_hand_pose * ROTATION_SIGNS,
        right_hand_pose=motion.left_hand_pose * ROTATION_SIGNS,
        jaw_pose=motion.jaw_pose * ROTATION_SIGNS,
        leye_pose=motion.reye_pose * ROTATION_SIGNS,
        reye_pose=motion.leye_pose * ROTATION_SIGNS,
        face_blendshapes=motion.face_blendshapes[:, _FACE_TWINS],
        transl=transl,
    )


def _mirror_channels(channels: frozenset[Channel]) -> frozenset[Channel]:
    swap = {Channel.LEFT_HAND: Channel.RIGHT_HAND, Channel.RIGHT_HAND: Channel.LEFT_HAND}
    return frozenset(swap.get(channel, channel) for channel in channels)


def mirror_keyframe(key: Keyframe) -> Keyframe:
    """The key's pose mirrored; a key pinning one hand pins the other one after. Who
    placed it and how it interpolates stay."""
    return dataclasses.replace(key, pose=mirror_motion(key.pose),
                               channels=_mirror_channels(key.channels))


#: Face markers that have a side: a mirrored signer tilts and looks the other way.
_MIRRORED_MARKERS = {
    MarkerKind.GAZE_LEFT: MarkerKind.GAZE_RIGHT, MarkerKind.GAZE_RIGHT: MarkerKind.GAZE_LEFT,
    MarkerKind.HEAD_TILT_LEFT: MarkerKind.HEAD_TILT_RIGHT,
    MarkerKind.HEAD_TILT_RIGHT: MarkerKind.HEAD_TILT_LEFT,
}


def mirror_project(project: Project) -> Project:
    """The whole project mirrored (a left-handed signer): motion, keyframes and the face
    markers that have a side, and the contact locks (the other hand on the same site);
    the signs, their timing and notation stay as they are."""
    markers = tuple(dataclasses.replace(m, kind=_MIRRORED_MARKERS.get(m.kind, m.kind))
                    for m in project.markers)
    other = {"left": "right", "right": "left"}
    contacts = tuple(dataclasses.replace(c, side=other[c.side]) for c in project.contacts)
    return project.replace(motion=mirror_motion(project.motion),
                           keyframes=tuple(mirror_keyframe(k) for k in project.keyframes),
                           markers=markers, contacts=contacts)
