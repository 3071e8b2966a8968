"""How the hands travel: wrist and fingertip paths over a range of frames (the
viewport's motion trails), and the keys either side of a frame (its onion skin)."""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from engine.body.capsules import rest_joints_for
from engine.body.lbs import forward_kinematics
from engine.body.skeleton import JOINT_INDEX, PARENTS, wrist_heights_above_waist
from engine.body.tips import end_site_offsets, hand_points
from engine.motion.motion import Motion

#: The points a trail follows, by name: each wrist and each index fingertip.
TRAIL_POINTS = ("right_wrist", "right_index_tip", "left_wrist", "left_index_tip")
#: Frames a trail covers at most (sampled evenly beyond that): a trail over a long
#: utterance is a scribble, and each frame costs forward kinematics.
MAX_TRAIL_FRAMES = 600


def trail_points(body, motion: Motion, first: int, last: int) -> dict[str, np.ndarray]:
    """{name: (N, 3) metres} for each of ``TRAIL_POINTS`` on a hand that moves, over
    frames ``first`` to ``last`` (inclusive, clipped to the motion; at most
    ``MAX_TRAIL_FRAMES``, spread evenly)."""
    first = max(0, min(int(first), motion.num_frames - 1))
    last = max(first, min(int(last), motion.num_frames - 1))
    frames = np.unique(np.linspace(first, last, min(last - first + 1, MAX_TRAIL_FRAMES))
                       .round().astype(np.intp))
    rotations, positions = forward_kinematics(motion.full_pose()[frames],
                                              rest_joints_for(body, motion.betas), PARENTS)
    positions = positions.astype(np.float64) + motion.transl[frames][:, None, :]
    offsets = end_site_offsets(body)
    # Only the hands that sign in the range (raised into signing space, the one rule
    # the close-up camera uses): the resting hand would draw a scribble at the hip.
    raised = (wrist_heights_above_waist(positions) > 0).any(axis=0)   # (left, right)
    trails = {}
    for name in TRAIL_POINTS:
        side, _, part = name.partition("_")
        if not raised[0 if side == "left" else 1]:
            continue
        wrist = positions[:, JOINT_INDEX[f"{side}_wrist"]]
        if part == "wrist":
            trails[name] = wrist
        else:
            joint = JOINT_INDEX[f"{side}_index3"]
            trails[name] = positions[:, joint] + np.einsum(
                "fab,b->fa", rotations[:, joint].astype(np.float64), offsets[joint])
    return trails


#: The points of a hand a user can grab to pose it: the wrist and the five fingertips.
GRAB_POINTS = ("wrist", "thumb", "index", "middle", "ring", "pinky")


#: Where each of ``GRAB_POINTS`` is among a hand's 21 MediaPipe-order points.
_GRAB_INDEX = {"wrist": 0, "thumb": 4, "index": 8, "middle": 12, "ring": 16, "pinky": 20}


def grab_points(body, motion: Motion, frame: int) -> dict[tuple[str, str], np.ndarray]:
    """{(side, point): (3,) metres} of each hand's wrist and fingertips at ``frame``
    (``GRAB_POINTS``; a fingertip is its last joint's end site: ``tips.hand_points``)."""
    one = motion.slice(frame, frame + 1)
    points = {}
    for side in ("left", "right"):
        hand = hand_points(body, one, side)[0]
        for name in GRAB_POINTS:
            points[(side, name)] = hand[_GRAB_INDEX[name]]
    return points


def neighbour_keys(key_frames: Sequence[int], frame: int) -> tuple[int | None, int | None]:
    """The nearest key frame before ``frame`` and the nearest after it (None where there
    is none): the poses an onion skin shows."""
    before = [k for k in key_frames if k < frame]
    after = [k for k in key_frames if k > frame]
    return (max(before) if before else None, min(after) if after else None)
