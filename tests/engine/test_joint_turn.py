"""Turning one joint about an axis of its parent (``engine.body.joint_turn``): the
joints below it swing about that axis, drawn at the joint, and nothing above moves."""
import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from engine.body.capsules import rest_joints_for
from engine.body.default_avatar import default_avatar
from engine.body.joint_turn import joint_axes, turned
from engine.body.lbs import forward_kinematics
from engine.body.skeleton import JOINT_INDEX, PARENTS
from engine.motion import Motion


def world_joints(body, pose):
    _, positions = forward_kinematics(pose.full_pose(), rest_joints_for(body, pose.betas),
                                      PARENTS)
    return positions[0].astype(np.float64) + pose.transl[0]


@pytest.mark.parametrize("axis", [0, 1, 2])
def test_the_joints_below_swing_about_the_ring_axis(axis):
    body = default_avatar()
    rng = np.random.default_rng(axis)
    pose = Motion.zeros(1)
    pose = pose.with_full_pose(rng.normal(0, 0.3, pose.full_pose().shape).astype(np.float32))
    elbow, wrist, shoulder = (JOINT_INDEX[f"right_{n}"] for n in ("elbow", "wrist", "shoulder"))
    centre, axes = joint_axes(body, pose, 0, elbow)
    before = world_joints(body, pose)
    after = world_joints(body, turned(pose, elbow, axis, np.radians(30)))
    np.testing.assert_allclose(centre, before[elbow], atol=1e-5)
    swing = Rotation.from_rotvec(axes[:, axis] * np.radians(30))
    np.testing.assert_allclose(after[wrist], centre + swing.apply(before[wrist] - centre),
                               atol=1e-4)
    np.testing.assert_allclose(after[shoulder], before[shoulder], atol=1e-6)
