"""A joint's rotation as curves over time: what a curve editor draws, in the same Euler
angles the studio's angle boxes edit."""
from __future__ import annotations

import numpy as np
from scipy.spatial.transform import Rotation

from engine.motion.motion import Channel, Motion

#: Intrinsic X then Y then Z, in the joint's parent frame: the angle boxes and curves.
EULER_ORDER = "XYZ"


def joint_channel(joint: int) -> Channel:
    """The channel group that owns skeleton joint ``joint`` (0..54)."""
    if joint == 0:
        return Channel.ROOT
    if joint <= 21:
        return Channel.BODY
    if joint <= 24:
        return Channel.FACE
    return Channel.LEFT_HAND if joint <= 39 else Channel.RIGHT_HAND


def rotation_curves(motion: Motion, joint: int) -> np.ndarray:
    """(F, 3) degrees: joint ``joint``'s rotation per frame as ``EULER_ORDER`` angles,
    each unwrapped over time (a turn through 180 degrees continues to 190 instead of
    jumping to -170, so a curve is continuous where the motion is)."""
    rotvecs = motion.full_pose()[:, joint].astype(np.float64)
    angles = Rotation.from_rotvec(rotvecs).as_euler(EULER_ORDER)
    return np.degrees(np.unwrap(angles, axis=0))
