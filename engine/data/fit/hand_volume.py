"""The hand's volume, which 2D keypoints cannot show: spheres along the fingers that
must not overlap, and the thumb-to-finger pairs that may be pulled into contact."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.body.skeleton import JOINT_INDEX
from engine.data.fit.constants import FINGERS, LONG_FINGERS, SIDES
from engine.data.fit.skeleton import FitSkeleton, finger_joint


@dataclass(frozen=True)
class HandVolume:
    """Spheres along each finger (joint, mid-bone and tip points), as interpolations
    ``(1 - t) * P[a] + t * P[b]`` of model points, and the sphere pairs that must not
    overlap: thumb vs the other fingers and the palm, and neighbouring fingers."""

    a: np.ndarray
    b: np.ndarray
    t: np.ndarray
    pairs: np.ndarray  # (K, 2) sphere indices
    contact_thumb: np.ndarray  # (C,) model point: the thumb tip, per contact candidate
    contact_other: np.ndarray  # (C,) model point: a finger's tip / DIP / PIP
    contact_hand: np.ndarray  # (C,) 0 left, 1 right


def hand_volume(sk: FitSkeleton) -> HandVolume:
    """The spheres, non-overlap pairs and contact candidates of both hands. Contact
    candidates follow ``targets.contact_mask``'s order: per hand, per long finger, its
    tip, PIP and DIP."""
    a, b, t, pairs = [], [], [], []
    c_thumb, c_other, c_hand = [], [], []

    def sphere(p: int, q: int, frac: float) -> int:
        a.append(p), b.append(q), t.append(frac)
        return len(a) - 1

    for h, side in enumerate(SIDES):
        spheres: dict[str, list[int]] = {}
        wrist = JOINT_INDEX[f"{side}_wrist"]
        for finger in FINGERS:
            chain = [finger_joint(side, finger, k) for k in (1, 2, 3)] + [sk.tip_index[(side, finger)]]
            ids = []
            for k in range(3):
                ids.append(sphere(chain[k], chain[k + 1], 0.0))
                ids.append(sphere(chain[k], chain[k + 1], 0.5))
            ids.append(sphere(chain[3], chain[3], 0.0))
            spheres[finger] = ids  # j1, m12, j2, m23, j3, m3t, tip
        palm = [sphere(wrist, finger_joint(side, f, 1), 0.5) for f in LONG_FINGERS]
        thumb = spheres["thumb"][2:]  # from thumb2 on; thumb1 sits at the palm's edge
        for finger in LONG_FINGERS:
            for i in thumb:
                for k in spheres[finger][1:]:
                    pairs.append((i, k))
        for i in thumb[2:]:
            for k in palm + [spheres[f][0] for f in ("middle", "ring", "pinky")]:
                pairs.append((i, k))
        for f1, f2 in zip(LONG_FINGERS[:-1], LONG_FINGERS[1:]):
            for i in spheres[f1][2:]:
                for k in spheres[f2][2:]:
                    pairs.append((i, k))
        for finger in LONG_FINGERS:
            for k in (1, 2, 3):
                c_thumb.append(sk.tip_index[(side, "thumb")])
                c_other.append(finger_joint(side, finger, k) if k > 1 else sk.tip_index[(side, finger)])
                c_hand.append(h)
    return HandVolume(np.array(a), np.array(b), np.array(t, np.float32), np.array(pairs),
                      np.array(c_thumb), np.array(c_other), np.array(c_hand))
