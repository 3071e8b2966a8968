"""DTW-JPE and jerk behave as the definitions say."""
import numpy as np

from engine.body import default_avatar
from engine.metrics.joint_error import dtw_jpe, dtw_jpe_parts, jerk, jerk_at_joins
from tests.conftest import random_motion


def joints_of(motion):
    return default_avatar().forward(motion).joints


def test_identical_sequences_score_zero(rng):
    joints = joints_of(random_motion(rng, num_frames=20, scale=0.2))
    assert dtw_jpe_parts(joints, joints) == {"body": 0.0, "left_hand": 0.0, "right_hand": 0.0}


def test_time_warped_copy_scores_zero_but_shifted_pose_does_not(rng):
    joints = joints_of(random_motion(rng, num_frames=20, scale=0.2))
    slowed = np.repeat(joints, 2, axis=0)  # same motion at half speed
    assert dtw_jpe(slowed, joints, "right_hand") == 0.0
    moved = joints.copy()
    moved[:, 40:55] += [0.01, 0, 0]  # right hand fingers 1 cm off, wrist not
    assert abs(dtw_jpe(moved, joints, "right_hand") - 10.0) < 1e-4  # float32 input
    assert dtw_jpe(moved, joints, "left_hand") == 0.0


def test_hand_error_ignores_where_the_arm_is(rng):
    joints = joints_of(random_motion(rng, num_frames=10, scale=0.2))
    shifted = joints + [0.2, 0.0, 0.0]  # whole body moved 20 cm
    assert dtw_jpe(shifted, joints, "right_hand") < 1e-9
    assert dtw_jpe(shifted, joints, "body") < 1e-9  # relative to the pelvis


def test_jerk_is_zero_for_constant_velocity_and_large_for_a_cut():
    t = np.arange(30, dtype=np.float64)[:, None, None]
    linear = np.broadcast_to(t * [0.01, 0, 0], (30, 55, 3))
    assert np.allclose(jerk(linear, 30), 0)
    cut = linear.copy()
    cut[15:] += 0.1
    assert jerk_at_joins(cut, 30, [15]) > 1000 * max(jerk_at_joins(linear, 30, [15]), 1e-9)
