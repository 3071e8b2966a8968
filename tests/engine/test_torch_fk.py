"""The one torch forward kinematics agrees with the numpy LBS skeleton and with SMPL-X."""
import numpy as np
import pytest
import roma
import torch

from engine.body import default_avatar
from engine.body.lbs import forward_kinematics
from engine.body.skeleton import NUM_JOINTS, PARENTS
from engine.body.torch_fk import ForwardKinematics, attached_points
from engine.motion import Motion

TOLERANCE_M = 1e-4  # 0.1 mm


def _random_poses(rng, frames: int) -> np.ndarray:
    """(F, 55, 3) axis-angles up to ~100 degrees per joint, so errors compound down
    every chain."""
    return rng.uniform(-1.0, 1.0, (frames, NUM_JOINTS, 3)).astype(np.float32)


def _torch_fk(rest_joints, poses, bone_scale=None):
    local = roma.rotvec_to_rotmat(torch.from_numpy(poses))
    with torch.no_grad():
        rotations, positions = ForwardKinematics(rest_joints)(local, bone_scale)
    return rotations.numpy(), positions.numpy()


def test_matches_the_numpy_skeleton_on_random_poses_of_the_default_avatar(rng):
    rest = default_avatar().rest_joints
    poses = _random_poses(rng, 16)
    rotations, positions = _torch_fk(rest, poses)
    want_rotations, want_positions = forward_kinematics(poses, rest, PARENTS)
    assert np.abs(positions - want_positions).max() < TOLERANCE_M
    np.testing.assert_allclose(rotations, want_rotations, atol=1e-5)
    # and with the avatar's own posed joints (the skinned body's joint output)
    joints = default_avatar().forward(_motion(poses)).joints
    assert np.abs(positions - joints).max() < TOLERANCE_M


def _motion(poses: np.ndarray) -> Motion:
    return Motion.zeros(len(poses)).replace(
        global_orient=poses[:, 0], body_pose=poses[:, 1:22], jaw_pose=poses[:, 22],
        leye_pose=poses[:, 23], reye_pose=poses[:, 24], left_hand_pose=poses[:, 25:40],
        right_hand_pose=poses[:, 40:55])


def test_rest_pose_gives_the_rest_joints_and_bone_scale_stretches_bones():
    rest = default_avatar().rest_joints
    _, positions = _torch_fk(rest, np.zeros((1, NUM_JOINTS, 3), np.float32))
    np.testing.assert_allclose(positions[0], rest, atol=1e-6)
    # Doubling one bone (the right forearm, offset of the wrist) moves the wrist and
    # everything below it by that offset again, nothing above it.
    wrist, elbow = 21, 19
    scale = torch.ones(NUM_JOINTS)
    scale[wrist] = 2.0
    _, stretched = _torch_fk(rest, np.zeros((1, NUM_JOINTS, 3), np.float32), scale)
    offset = rest[wrist] - rest[elbow]
    np.testing.assert_allclose(stretched[0, wrist], rest[wrist] + offset, atol=1e-6)
    np.testing.assert_allclose(stretched[0, 40], rest[40] + offset, atol=1e-6)  # right_index1
    np.testing.assert_allclose(stretched[0, :wrist], rest[:wrist], atol=1e-6)


def test_attached_points_ride_on_their_joint(rng):
    rest = default_avatar().rest_joints
    poses = _random_poses(rng, 3)
    rotations, positions = _torch_fk(rest, poses)
    offset = np.array([[0.0, 0.0, 0.05], [0.02, 0.0, 0.0]], np.float32)
    parent = np.array([15, 21])
    points = attached_points(torch.from_numpy(rotations), torch.from_numpy(positions),
                             torch.from_numpy(parent), torch.from_numpy(offset)).numpy()
    want = positions[:, parent] + np.einsum("fkab,kb->fka", rotations[:, parent], offset)
    np.testing.assert_allclose(points, want, atol=1e-6)


def test_gradients_flow_to_the_rotations():
    rest = default_avatar().rest_joints
    local = roma.rotvec_to_rotmat(torch.zeros(2, NUM_JOINTS, 3, requires_grad=True))
    local.retain_grad()
    _, positions = ForwardKinematics(rest)(local)
    positions[:, 21].sum().backward()  # the right wrist hangs off the spine chain
    assert local.grad[:, 19].abs().sum() > 0  # its elbow moves it
    assert local.grad[:, 20].abs().sum() == 0  # the left wrist does not


@pytest.mark.slow
def test_matches_smplx_on_the_synthetic_body(tmp_path, rng):
    pytest.importorskip("smplx")
    from engine.body.smplx_model import SmplxBody
    from tests.synthetic_smplx import write_synthetic_smplx

    write_synthetic_smplx(tmp_path / "smplx" / "SMPLX_NEUTRAL.npz",
                          default_avatar().rest_joints * 1.1)
    body = SmplxBody(tmp_path)
    poses = _random_poses(rng, 4)
    _, positions = _torch_fk(body.rest_joints, poses)
    joints = body.forward(_motion(poses)).joints  # smplx's own LBS
    assert np.abs(positions - joints).max() < TOLERANCE_M
