"""Natural joint ranges (``engine.data.fit.ranges``): a turn past the fitter's limits is
named with the angle and the range, a hinge turned off its plane is called out, and
natural poses raise nothing."""
import numpy as np
import pytest

from engine.body.default_avatar import default_avatar
from engine.body.skeleton import JOINT_INDEX
from engine.data.fit.ranges import range_problem
from engine.data.fit.skeleton import skeleton_for

BODY = default_avatar()


def about(joint_name, axis, degrees):
    """(joint, rotvec) turning ``joint_name`` ``degrees`` about its ``axis``-th limit axis."""
    joint = JOINT_INDEX[joint_name]
    skeleton = skeleton_for(BODY)
    slot = int(np.flatnonzero(skeleton.euler_joints == joint)[0])
    return joint, skeleton.euler_axes[slot][axis] * np.radians(degrees)


@pytest.mark.parametrize("joint_name, axis, degrees, words", [
    ("right_wrist", 1, 100, "right wrist's bend is +100°, past its natural range (-75° to +80°)"),
    ("left_wrist", 2, 60, "left wrist's side bend is +60°"),
    ("right_elbow", 0, -30, "right elbow's bend is -30°, past its natural range (+0° to +150°)"),
    ("right_index2", 0, 40, "right index2 is a hinge and has no spread, but is turned +40°"),
])
def test_a_turn_past_the_range_is_named(joint_name, axis, degrees, words):
    assert words in range_problem(BODY, *about(joint_name, axis, degrees))


@pytest.mark.parametrize("joint_name, axis, degrees", [
    ("right_wrist", 1, 60), ("right_wrist", 0, -80), ("right_elbow", 0, 120),
    ("right_index2", 1, 90), ("right_index2", 0, 3),
])
def test_natural_turns_raise_nothing(joint_name, axis, degrees):
    assert range_problem(BODY, *about(joint_name, axis, degrees)) is None


def test_joints_without_limits_raise_nothing():
    assert range_problem(BODY, JOINT_INDEX["head"], np.array([2.0, 0.0, 0.0])) is None
