"""Holding contact locks (``engine.motion.contacts``): on every frame of a lock's span
the arm moves (``engine.body.reach.shift_wrist``, the wrist keeping the bend the sign
gave it) so that the locked point of the hand sits on the body site.

The site follows the body: it is the notation's anchor (``engine.notation.anchors``,
measured on the rest pose) carried by the joint it lies on (the head for the face
sites, the neck, the upper or lower spine for the trunk), so a lock on the chin stays
on the chin through a nod. A fingertip's centre sits ``SKIN`` metres out along the
site's normal, the finger's half thickness, so the skin touches rather than sinks in,
and where the hand would still come to the site from inside the body it turns about
that fingertip until it comes from outside (``LEAN``).
Around the span the correction fades in and out over ``EASE_FRAMES`` frames, so the
hand arrives at the contact and leaves it instead of jumping.

A key that pins the body inside a span is held too, and takes the held pose: the lock
wins over a key, and the motion still meets every key exactly.
"""
from __future__ import annotations

import dataclasses

import numpy as np
from scipy.spatial.transform import Rotation

from engine.body.capsules import rest_joints_for
from engine.body.lbs import forward_kinematics
from engine.body.reach import shift_wrist
from engine.body.skeleton import JOINT_INDEX, PARENTS
from engine.body.tips import end_site_offsets
from engine.motion.contacts import ContactLock
from engine.motion.errors import MotionError
from engine.motion.motion import Channel, Motion
from engine.motion.project import Project
from engine.notation.anchors import body_anchors

SKIN = 0.008           # metres: a fingertip's centre this far out from the surface
LEAN = 0.5             # cosine: the hand comes in at most 60 degrees off the site's normal
REACH_ROUNDS = 4       # arm moves with the wrist's bend put back (see ``held``)
EASE_FRAMES = 6        # frames either side of a span over which the correction fades

#: The joint each body site moves with.
SITE_JOINT = {"neck": "neck", "shouldertop": "spine3", "shoulders": "spine3",
              "chest": "spine3", "stomach": "spine2", "belowstomach": "spine1"}


def _fk(body, motion: Motion) -> tuple[np.ndarray, np.ndarray]:
    """World joint (rotations (F, 55, 3, 3), positions (F, 55, 3) metres)."""
    rotations, positions = forward_kinematics(motion.full_pose(),
                                              rest_joints_for(body, motion.betas), PARENTS)
    return (rotations.astype(np.float64),
            positions.astype(np.float64) + motion.transl.astype(np.float64)[:, None, :])


def site_frames(body, motion: Motion, lock: ContactLock) -> tuple[np.ndarray, np.ndarray]:
    """(F, 3) metres where ``lock``'s point must be on each frame of ``motion``, and
    (F, 3) the site's outward normal there (unit)."""
    anchor = body_anchors(body).site(lock.site, hand=lock.side)
    rest = anchor.position + (SKIN * anchor.normal if lock.point != "wrist" else 0.0)
    joint = JOINT_INDEX[SITE_JOINT.get(lock.site, "head")]
    rest_joint = rest_joints_for(body, motion.betas)[joint]
    rotations, positions = _fk(body, motion)
    carried = rotations[:, joint]
    return (positions[:, joint] + np.einsum("nab,b->na", carried, rest - rest_joint),
            np.einsum("nab,b->na", carried, anchor.normal))


def site_track(body, motion: Motion, lock: ContactLock) -> np.ndarray:
    """(F, 3) metres: where ``lock``'s point must be on each frame of ``motion``."""
    return site_frames(body, motion, lock)[0]


def _turns_out(tip: np.ndarray, wrist: np.ndarray, normal: np.ndarray) -> np.ndarray:
    """(F, 3) world axis-angle turns of the hand about its touching fingertip that bring
    the fingertip-to-wrist direction at least ``LEAN`` (cosine) out along the site's
    normal: the hand comes to the site from outside the body instead of lying in it.
    Zero where it already does."""
    back = wrist - tip
    back /= np.maximum(np.linalg.norm(back, axis=1, keepdims=True), 1e-9)
    cosine = np.clip(np.einsum("na,na->n", back, normal), -1.0, 1.0)
    angle = np.maximum(np.arccos(cosine) - np.arccos(LEAN), 0.0)
    axis = np.cross(back, normal)
    # Pointing straight into the body: any axis across it will do.
    flat = np.linalg.norm(axis, axis=1) < 1e-6
    axis[flat] = np.cross(back[flat], [0.0, 1.0, 0.0])
    axis /= np.maximum(np.linalg.norm(axis, axis=1, keepdims=True), 1e-9)
    return axis * angle[:, None]


def point_track(body, motion: Motion, side: str, point: str) -> np.ndarray:
    """(F, 3) metres: a hand's wrist or fingertip (its last joint's end site)."""
    rotations, positions = _fk(body, motion)
    if point == "wrist":
        return positions[:, JOINT_INDEX[f"{side}_wrist"]]
    joint = JOINT_INDEX[f"{side}_{point}3"]
    return positions[:, joint] + rotations[:, joint] @ end_site_offsets(body)[joint]


def _weights(lock: ContactLock, frames: np.ndarray) -> np.ndarray:
    """1 inside the span, easing to 0 over ``EASE_FRAMES`` outside it (smoothstep)."""
    before = (lock.start - frames) / (EASE_FRAMES + 1)
    after = (frames - (lock.end - 1)) / (EASE_FRAMES + 1)
    distance = np.clip(np.maximum(before, after), 0.0, 1.0)
    return 1.0 - distance * distance * (3 - 2 * distance)


def held(project: Project, body, frame_range: tuple[int, int] | None = None,
         locks: tuple[ContactLock, ...] | None = None) -> Project:
    """``project`` with its contact locks (or ``locks``) held on the frames of
    ``frame_range`` (default: all) that a span or its ease covers; the keys on those
    frames that pin the body take the held pose, so the motion still meets its keys
    (a key set inside a span is held too). Other frames are returned bit for bit.
    Nothing moves while the Body track is locked."""
    locks = project.contacts if locks is None else locks
    if not locks or Channel.BODY in project.locked:
        return project
    motion = project.motion
    count = motion.num_frames
    low, high = frame_range if frame_range is not None else (0, count)
    rest_joints = rest_joints_for(body, motion.betas)
    for lock in locks:
        frames = np.arange(max(low, lock.start - EASE_FRAMES),
                           min(high, lock.end + EASE_FRAMES, count))
        if not len(frames):
            continue
        part = motion.replace(**{name: array[frames]
                                 for name, array in motion.frame_arrays().items()})
        weights = _weights(lock, frames)[:, None]
        site, normal = site_frames(body, part, lock)
        tip = point_track(body, part, lock.side, lock.point)
        # Where the point goes: on the site inside the span, part of the way in the ease.
        goal = tip + (site - tip) * weights
        # The arm reaches with the wrist bent as the sign bends it: the wrist is moved
        # (the hand keeping its orientation), its own bend put back, and again, until
        # the point arrives. Kept at its orientation in space instead, a hand raised
        # from the chest to the chin bent the wrist past 100 degrees.
        wrist_pose = JOINT_INDEX[f"{lock.side}_wrist"] - 1   # body_pose skips the root
        bend = part.body_pose[:, wrist_pose].copy()
        for _ in range(REACH_ROUNDS):
            part = shift_wrist(part, rest_joints, PARENTS, lock.side,
                               goal - point_track(body, part, lock.side, lock.point))
            body_pose = part.body_pose.copy()
            body_pose[:, wrist_pose] = bend
            part = part.replace(body_pose=body_pose)
        tip = point_track(body, part, lock.side, lock.point)
        wrist = point_track(body, part, lock.side, "wrist")
        turns = (np.zeros_like(tip) if lock.point == "wrist"
                 else _turns_out(tip, wrist, normal) * weights)
        # The last step lands the point exactly, the hand turned about it where it would
        # still come to the site from inside the body.
        turned_back = Rotation.from_rotvec(turns).apply(wrist - tip)
        part = shift_wrist(part, rest_joints, PARENTS, lock.side,
                           goal + turned_back - wrist, turns)
        body_pose = motion.body_pose.copy()       # shift_wrist turns the arm joints only
        body_pose[frames] = part.body_pose
        motion = motion.replace(body_pose=body_pose)
    keys = tuple(
        dataclasses.replace(k, pose=motion.frame(k.frame))
        if Channel.BODY in k.channels and low <= k.frame < high
        and not np.array_equal(motion.body_pose[k.frame], project.motion.body_pose[k.frame])
        else k for k in project.keyframes)
    return project.replace(motion=motion, keyframes=keys)


def locked_project(project: Project, lock: ContactLock, body) -> Project:
    """``project`` with ``lock`` added and held (``held``). Raises ``MotionError`` when
    the Body track is locked: the arm could not move."""
    if Channel.BODY in project.locked:
        raise MotionError("the body track is locked: unlock it (the lock beside its name "
                          "on the timeline) to hold a hand on the body")
    added = project.replace(contacts=project.contacts + (lock,))
    return held(added, body, locks=(lock,))
