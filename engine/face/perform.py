"""The motion as it is performed: the project's motion with its face layers on top.

``Project.motion`` keeps the body and the recorded (or neutral) face; the face markers
and the signs' mouthing are applied here, when the motion is shown or exported, so
they stay editable and nothing that regenerates the body can overwrite them. Layers
add: blendshape weights are summed and clipped to [0, 1]; rotations are composed onto
the joint's own (``R_layer @ R_base``, in the parent's frame).
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np
from scipy.spatial.transform import Rotation

from engine.face.mouthing import mouthing_curves
from engine.face.nonmanual import (
    EFFECTS, HEAD, LEFT_COLLAR, LEFT_SHOULDER, NECK, NECK_SHARE, RIGHT_COLLAR, RIGHT_SHOULDER,
    envelope, head_curve,
)
from engine.motion.face import FACE_BLENDSHAPE_INDEX
from engine.motion.motion import CHANNEL_FIELDS, Motion
from engine.motion.project import Project


def has_face_layers(project: Project) -> bool:
    return bool(project.markers) or (
        project.mouthing and any(s.mouthing is not None for s in project.segments))


def performed_motion(project: Project) -> Motion:
    """``project.motion`` with its markers and (when ``project.mouthing``) its mouthing
    applied, and its muted tracks at rest (zero rotations, a neutral face: the markers
    and mouthing too when the face is muted); the very same Motion object when there is
    nothing to apply. The last few
    projects' results are kept (a project is immutable and hashed by identity; an edit
    makes a new one): the viewport asks for every frame it draws, and keeping only a
    few means an undo history of face edits does not also keep a performed copy each."""
    if not has_face_layers(project) and not project.muted:
        return project.motion
    return _perform(project)


@lru_cache(maxsize=4)
def _perform(project: Project) -> Motion:
    motion = _with_face_layers(project) if has_face_layers(project) else project.motion
    if not project.muted:
        return motion
    return motion.replace(**{name: np.zeros_like(getattr(motion, name))
                             for channel in project.muted for name in CHANNEL_FIELDS[channel]})


def _with_face_layers(project: Project) -> Motion:
    motion = project.motion
    frames, fps = motion.num_frames, motion.fps
    weights = np.zeros((frames, motion.face_blendshapes.shape[1]))
    head = np.zeros((frames, 3))
    neck = np.zeros((frames, 3))
    eyes = np.zeros((frames, 3))
    jaw = np.zeros(frames)
    collars = np.zeros((frames, 2))
    if project.mouthing:
        for segment in project.segments:
            if segment.mouthing is None:
                continue
            # Over the sign's movement: its hold (the still end) is not mouthed.
            moving = segment.num_frames - segment.hold
            if moving < 1:
                continue
            mouth, opening = mouthing_curves(segment.mouthing, moving, fps)
            weights[segment.start:segment.start + moving] += mouth
            jaw[segment.start:segment.start + moving] += opening
    for marker in project.markers:
        effect = EFFECTS[marker.kind]
        strength = envelope(marker)
        span = slice(marker.start, marker.end)
        for name, value in effect.weights.items():
            weights[span, FACE_BLENDSHAPE_INDEX[name]] += strength * value
        turn = head_curve(effect, strength, fps)
        head[span] += turn
        neck[span] += strength[:, None] * np.asarray(effect.neck_only)[None]
        eyes[span] += strength[:, None] * np.asarray(effect.eyes)[None]
        jaw[span] += strength * effect.jaw
        collars[span] += strength[:, None] * np.asarray(effect.collars)[None]
    changes = {"face_blendshapes": np.clip(motion.face_blendshapes + weights, 0.0, 1.0)}
    body = motion.body_pose.astype(np.float64)  # a copy: the Motion's arrays are read-only
    # Left collar sits at +x: a raise turns it about +z; the right one about -z.
    turns = {NECK: neck + NECK_SHARE * head, HEAD: (1.0 - NECK_SHARE) * head,
             LEFT_COLLAR: collars[:, :1] * np.array([0.0, 0.0, 1.0]),
             RIGHT_COLLAR: collars[:, 1:] * np.array([0.0, 0.0, -1.0])}
    if any(turn.any() for turn in turns.values()):
        for joint, turn in turns.items():
            body[:, joint] = _compose(turn, body[:, joint])
        # A shrug lifts the shoulder, it does not swing the arm out: the upper arm keeps
        # its orientation in the chest's frame (R_c' R_s' = R_c R_s).
        for collar, shoulder in ((LEFT_COLLAR, LEFT_SHOULDER), (RIGHT_COLLAR, RIGHT_SHOULDER)):
            lifted = np.abs(turns[collar]).sum(axis=1) > 0
            if lifted.any():
                before = Rotation.from_rotvec(motion.body_pose[lifted, collar].astype(np.float64))
                after = Rotation.from_rotvec(body[lifted, collar])
                arm = Rotation.from_rotvec(body[lifted, shoulder])
                body[lifted, shoulder] = (after.inv() * before * arm).as_rotvec()
        changes["body_pose"] = body
    if eyes.any():
        changes["leye_pose"] = _compose(eyes, motion.leye_pose)
        changes["reye_pose"] = _compose(eyes, motion.reye_pose)
    if jaw.any():
        changes["jaw_pose"] = _compose(jaw[:, None] * np.array([1.0, 0.0, 0.0]), motion.jaw_pose)
    return motion.replace(**changes)


def _compose(layer: np.ndarray, base: np.ndarray) -> np.ndarray:
    """(F, 3) axis-angles: ``layer`` after ``base``; frames without a layer keep
    ``base`` exactly."""
    out = np.array(base, dtype=np.float64)
    moved = np.abs(layer).sum(axis=1) > 0
    if moved.any():
        out[moved] = (Rotation.from_rotvec(layer[moved])
                      * Rotation.from_rotvec(out[moved])).as_rotvec()
    return out
