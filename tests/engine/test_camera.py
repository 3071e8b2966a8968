"""Where the camera presets look: the hands close-up follows the hands that sign."""
import numpy as np

from engine.body import default_avatar
from engine.body.reference_poses import arms_down, reference_poses, signing_pose
from engine.body.skeleton import JOINT_INDEX
from engine.export.render import focus_point, hands_close_up_height, signing_hands

LEFT, RIGHT = JOINT_INDEX["left_wrist"], JOINT_INDEX["right_wrist"]


def _joints(motion):
    return default_avatar().forward(motion).joints


def test_one_handed_signing_puts_the_signing_hand_in_the_close_up():
    # Right hand raised in signing space, left arm resting at the side: the close-up
    # must centre on the right hand, not on the torso between the two wrists.
    joints = _joints(signing_pose("fist"))
    assert signing_hands(joints).shape == (1, 1, 3)
    centre = (joints[0, RIGHT] + joints[0, JOINT_INDEX["right_middle1"]]) / 2
    np.testing.assert_allclose(focus_point(joints, "hands"), centre, atol=1e-6)
    assert hands_close_up_height(joints, 1.0, 0.55) == 0.55  # the preset's tight framing


def test_two_raised_hands_are_both_framed():
    joints = _joints(reference_poses()["rest_t_pose"])  # both arms out to the sides
    assert signing_hands(joints).shape == (1, 2, 3)
    np.testing.assert_allclose(focus_point(joints, "hands")[0], 0.0, atol=0.01)  # midway
    span = abs(joints[0, LEFT, 0] - joints[0, RIGHT, 0])
    assert hands_close_up_height(joints, 16 / 9, 0.55) >= span / (16 / 9)


def test_a_rest_pose_with_both_arms_down_frames_both_hands():
    joints = _joints(arms_down(reference_poses()["rest_t_pose"]))
    assert signing_hands(joints).shape == (1, 2, 3)


def test_a_hand_raised_in_any_frame_counts_and_its_travel_is_framed():
    down = arms_down(reference_poses()["rest_t_pose"])
    raised = signing_pose("flat")
    frames = np.concatenate([_joints(down), _joints(raised)])  # (2, 55, 3)
    wrists = signing_hands(frames)
    assert wrists.shape == (2, 1, 3)  # the right hand only
    travel = np.ptp(frames[:, RIGHT, 1])
    assert hands_close_up_height(frames, 1.0, 0.55) >= travel
