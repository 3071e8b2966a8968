"""Keeping the two arms out of each other, except where the hands are written together.

Symmetric movements, crossing paths and transitions can pass one hand, its fingers or
its forearm through the other arm (on 380 DSGS signs, 4,499 of 28,859 frames had the
arms' capsules more than 5 mm inside each other: docs/fluency.md). Two hands also
touch, interlock and cross on purpose, and there the capsules overlap too (palm
capsules are rounder than palms: two palms flat together overlap by about 2 cm), so
a plain overlap count cannot tell a mistake from a written contact.

The rule here: frames whose hands are written together (``written``: a notation
posture placing one hand against the other, a key the user set, a recording) may keep
the overlap they have; around each of them the allowance fades at ``FADE_M_PER_S``, so
hands may approach and leave a contact but not pass through each other on the way;
elsewhere nothing is allowed. Frames past their allowance have both wrists pushed
apart along the way out of the deepest pair, half each, hand orientation kept
(``engine.body.reach.shift_wrist``), measured again, a few passes.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.body.capsules import body_capsules, closest_between_segments, rest_joints_for
from engine.body.lbs import forward_kinematics
from engine.body.reach import shift_wrist
from engine.body.skeleton import PARENTS
from engine.motion.motion import Motion

#: Metres per second a written contact's overlap allowance fades with the time from it:
#: a hand leaving the other at this speed or faster is never pushed.
FADE_M_PER_S = 0.5
#: Depth (metres) past the allowance counted as passing through.
COUNT_DEPTH_M = 0.005
#: Metres beyond the allowance a pushed pair ends apart.
MARGIN_M = 0.002
#: Passes of measure-and-push.
MAX_PASSES = 6
#: Frames measured at a time (17 x 17 capsule pairs a frame).
BLOCK_FRAMES = 500


@dataclass(frozen=True)
class HandsOverlap:
    """Per frame: ``depth`` (F,) metres the deepest pair of the two arms' capsules
    (forearm, palm, finger phalanges) are inside each other (<= 0: apart), and
    ``normal`` (F, 3) the unit direction that takes the right arm's capsule out of the
    left's."""

    depth: np.ndarray
    normal: np.ndarray


def _arm_indices(names: tuple[str, ...], side: str) -> np.ndarray:
    return np.array([i for i, name in enumerate(names) if name.startswith(f"{side}_")], np.intp)


def hands_overlap(body, motion: Motion) -> HandsOverlap:
    """How deep the left and right arms' capsules are inside each other, per frame."""
    _, limbs = body_capsules(body)
    left, right = _arm_indices(limbs.names, "left"), _arm_indices(limbs.names, "right")
    rest = rest_joints_for(body, motion.betas)
    pose = motion.full_pose()
    depths, normals = [], []
    for low in range(0, motion.num_frames, BLOCK_FRAMES):
        high = min(low + BLOCK_FRAMES, motion.num_frames)
        rotations, positions = forward_kinematics(pose[low:high], rest, PARENTS)
        segments = limbs.segments(rotations.astype(np.float64), positions.astype(np.float64))
        a, b = segments[:, left][:, :, None], segments[:, right][:, None]
        on_left, on_right = closest_between_segments(a[..., 0, :], a[..., 1, :],
                                                     b[..., 0, :], b[..., 1, :])
        gap = (on_right - on_left).reshape(high - low, -1, 3)          # (F, L*R, 3)
        distance = np.linalg.norm(gap, axis=-1)
        depth = (limbs.radii[left][:, None] + limbs.radii[right][None]).reshape(-1)[None] - distance
        deepest = depth.argmax(axis=1)
        rows = np.arange(high - low)
        best_gap, length = gap[rows, deepest], distance[rows, deepest][:, None]
        # Axes that cross exactly have no way out: the right hand goes to its own side.
        normals.append(np.where(length > 1e-9, best_gap / np.maximum(length, 1e-9),
                                [-1.0, 0.0, 0.0]))
        depths.append(depth[rows, deepest])
    if not depths:
        return HandsOverlap(np.zeros(0), np.zeros((0, 3)))
    return HandsOverlap(np.concatenate(depths), np.concatenate(normals))


def allowed_overlap(depth: np.ndarray, written: np.ndarray | None, fps: float) -> np.ndarray:
    """(F,) metres of overlap each frame may have: a ``written`` frame its own
    ``depth``; a frame between two written ones what lies on the straight line between
    theirs (hands held together from one to the other stay together); around a written
    frame its depth less ``FADE_M_PER_S`` per second from it; the most of these; 0 far
    from all written frames."""
    frames = len(depth)
    allowed = np.zeros(frames)
    if written is None or not np.any(written):
        return allowed
    fade = FADE_M_PER_S / fps
    index = np.arange(frames)
    anchors = np.flatnonzero(written)
    for frame in anchors:
        allowed = np.maximum(allowed, depth[frame] - fade * np.abs(index - frame))
    between = (index > anchors[0]) & (index < anchors[-1])
    allowed[between] = np.maximum(allowed[between], np.interp(
        index[between], anchors, np.maximum(depth[anchors], 0.0)))
    return allowed


def count_passing_through(body, motion: Motion, written: np.ndarray | None = None,
                          depth: float = COUNT_DEPTH_M) -> int:
    """Frames in which the arms are more than ``depth`` metres further inside each other
    than the written contacts allow (``allowed_overlap``)."""
    found = hands_overlap(body, motion)
    excess = found.depth - allowed_overlap(found.depth, written, motion.fps)
    return int(np.count_nonzero(excess > depth))


def keep_hands_apart(motion: Motion, body=None, written: np.ndarray | None = None,
                     changeable: np.ndarray | None = None) -> Motion:
    """``motion`` with the arms pushed apart wherever they are further inside each
    other than ``written`` ((F,) bool, the frames whose hands are written together)
    allows by more than ``COUNT_DEPTH_M`` (then to within ``MARGIN_M`` of it).
    ``changeable`` ((F,) bool, default all): the frames that may move; written frames
    never do; next to them the allowance (``allowed_overlap``) eases the push in.
    Frames that need no push are kept bit for bit."""
    if body is None:
        from engine.body.default_avatar import default_avatar

        body = default_avatar()
    frames = motion.num_frames
    allowed_frames = np.ones(frames, bool) if changeable is None else np.asarray(changeable, bool)
    if written is not None:
        allowed_frames = allowed_frames & ~np.asarray(written, bool)
    rest_joints = rest_joints_for(body, motion.betas)
    parents = np.asarray(body.parents)
    found = hands_overlap(body, motion)
    allowance = allowed_overlap(found.depth, written, motion.fps)  # before anything moves
    depth, normal = found.depth, found.normal
    active = np.arange(frames)  # the frames measured this pass: those pushed in the last
    threshold = COUNT_DEPTH_M   # the first pass pushes only what the measure would count
    for _ in range(MAX_PASSES):
        pushed = active[((depth - allowance[active]) > threshold) & allowed_frames[active]]
        if not len(pushed):
            break
        threshold = 0.0
        inside = np.isin(active, pushed)
        step = ((depth[inside] - allowance[pushed] + MARGIN_M) / 2)[:, None] * normal[inside]
        # Only the frames pushed are shifted and measured again (the rest are final).
        # Each arm's shift turns only that arm's joints, so one after the other is both.
        shifted = shift_wrist(motion.take(pushed), rest_joints, parents, "right", step)
        shifted = shift_wrist(shifted, rest_joints, parents, "left", -step)
        body_pose = motion.body_pose.copy()
        body_pose[pushed] = shifted.body_pose
        motion = motion.replace(body_pose=body_pose)
        again = hands_overlap(body, motion.take(pushed))
        active, depth, normal = pushed, again.depth, again.normal
    return motion


def kept_apart(motion: Motion, start: int, stop: int) -> Motion:
    """``motion`` with the two arms kept out of each other in frames ``[start, stop)``
    (a transition assembly drew): the frame either side is as written, and the overlap
    it has may fade in and out (``keep_hands_apart``); every other frame is kept."""
    low, high = max(0, start - 1), min(motion.num_frames, stop + 1)
    movable = np.zeros(high - low, bool)
    movable[start - low:stop - low] = True
    window = motion.slice(low, high)
    apart = keep_hands_apart(window, written=~movable, changeable=movable)
    if apart is window:
        return motion
    body_pose = motion.body_pose.copy()
    body_pose[low:high] = apart.body_pose
    return motion.replace(body_pose=body_pose)
