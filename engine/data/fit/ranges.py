"""Natural joint ranges: whether a pose bends an elbow, a wrist or a finger joint past
the limits the fitter keeps every reconstruction inside (``FitSkeleton.euler_limits``:
bounded angles about axes fixed in each joint's rest frame, R = R1 R2 R3). The studio
warns with it while a joint is turned by hand."""
from __future__ import annotations

import warnings

import numpy as np
from scipy.spatial.transform import Rotation

from engine.body.skeleton import JOINT_NAMES
from engine.data.fit.skeleton import skeleton_for

#: Degrees a hinge may turn off its plane before it is called out (rounding, fitted poses).
HINGE_SLACK = 5.0
#: What each of a joint's three angles is called, by the joint's kind.
ANGLE_NAMES = {"elbow": ("bend", "twist", "carrying angle"),
               "wrist": ("twist", "bend", "side bend"),
               "finger": ("spread", "bend", "twist")}


def joint_angles(skeleton, slot: int, rotvec: np.ndarray) -> np.ndarray:
    """(N, 3) local rotations (axis-angle, radians) of Euler slot ``slot`` -> (N, 3) its
    angles about the slot's three axes (``FitSkeleton.euler_axes``, R = R1 R2 R3),
    radians, not clipped.

    A rotation has two sets of such angles: the second turns the first and last half a
    turn on and mirrors the middle one about 90 degrees. The decomposition always
    returns a middle angle within +-90 degrees, so a finger bent 100 degrees comes back
    as an 80-degree bend with two half-turn twists; of the two sets, the one nearer the
    joint's range is the joint's."""
    with warnings.catch_warnings():
        # At 90 degrees of the middle angle (a finger bent square) the first and last
        # axes line up: scipy puts it all in the first angle and says so. Either split
        # is the same rotation.
        warnings.simplefilter("ignore", UserWarning)
        first_set = Rotation.from_rotvec(np.asarray(rotvec, np.float64).reshape(-1, 3)
                                         ).as_davenport(skeleton.euler_axes[slot], "intrinsic")
    first, middle, last = first_set.T
    second_set = np.stack([first + np.pi, np.copysign(np.pi, middle) - middle, last + np.pi], -1)
    second_set = (second_set + np.pi) % (2 * np.pi) - np.pi
    low, high = skeleton.euler_limits[slot, :, 0], skeleton.euler_limits[slot, :, 1]

    def excess(angles: np.ndarray) -> np.ndarray:
        return (np.maximum(low - angles, 0) + np.maximum(angles - high, 0)).sum(-1)

    nearer_second = excess(second_set) < excess(first_set)
    return np.where(nearer_second[:, None], second_set, first_set)


def range_problem(body, joint: int, rotvec: np.ndarray) -> str | None:
    """A short sentence naming the first angle of ``joint``'s local rotation ``rotvec``
    (3,) radians that lies outside its natural range, with the angle and the range in
    degrees; None when every angle is inside, or the joint has no limits (the spine,
    the shoulders, the head)."""
    skeleton = skeleton_for(body)
    slots = np.flatnonzero(skeleton.euler_joints == joint)
    if not len(slots):
        return None
    slot = int(slots[0])
    angles = np.degrees(joint_angles(skeleton, slot, rotvec)[0])
    limits = np.degrees(skeleton.euler_limits[slot])
    name = JOINT_NAMES[joint]
    kind = "elbow" if name.endswith("elbow") else "wrist" if name.endswith("wrist") else "finger"
    joint_name = name.replace("_", " ")
    for angle, (low, high), label in zip(angles, limits, ANGLE_NAMES[kind]):
        if high <= low and abs(angle - low) > HINGE_SLACK:
            return (f"the {joint_name} is a hinge and has no {label}, but is turned "
                    f"{angle:+.0f}° that way")
        if high > low and not low - 0.5 <= angle <= high + 0.5:
            return (f"the {joint_name}'s {label} is {angle:+.0f}°, past its natural range "
                    f"({low:+.0f}° to {high:+.0f}°)")
    return None
