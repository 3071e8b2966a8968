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
    with warnings.catch_warnings():
        # At 90 degrees of the middle angle (a finger bent square) the first and last
        # axes line up: scipy puts it all in the first angle and says so. Either split
        # is the same rotation, and the other set of angles below is checked too.
        warnings.simplefilter("ignore", UserWarning)
        angles = np.degrees(Rotation.from_rotvec(np.asarray(rotvec, np.float64))
                            .as_davenport(skeleton.euler_axes[slot], "intrinsic"))
    limits = np.degrees(skeleton.euler_limits[slot])
    # The same rotation has a second set of angles (the first and last half a turn on,
    # the middle one mirrored about 90 degrees): a 100-degree bend comes back from the
    # decomposition as a 180-degree twist. The set nearer the range is the joint's.
    first, middle, last = angles
    other = np.array([first + 180, np.copysign(180, middle) - middle, last + 180])
    other = (other + 180) % 360 - 180

    def excess(candidate: np.ndarray) -> float:
        below = np.maximum(limits[:, 0] - candidate, 0)
        above = np.maximum(candidate - limits[:, 1], 0)
        return float((below + above).sum())

    angles = min((angles, other), key=excess)
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
