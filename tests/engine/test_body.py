"""Body models: the default avatar and SMPL-X read one Motion the same way."""
import os

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from engine.body import (
    BodyModel, DefaultAvatar, SmplxBody, SmplxModelNotFound, default_avatar, load_body_model,
)
from engine.body.reference_poses import RIGHT_HAND_SHAPES, arms_down, mirror_hand_pose, reference_poses
from engine.body.skeleton import JOINT_INDEX as J
from engine.body.skeleton import PARENTS
from engine.motion import FACE_BLENDSHAPE_INDEX, Motion
from tests.conftest import random_motion
from tests.synthetic_smplx import write_synthetic_smplx


@pytest.fixture(scope="module")
def avatar() -> DefaultAvatar:
    return default_avatar()


@pytest.fixture(scope="module")
def smplx_dir(tmp_path_factory, avatar):
    folder = tmp_path_factory.mktemp("smplx_models")
    write_synthetic_smplx(folder / "smplx" / "SMPLX_NEUTRAL.npz", avatar.rest_joints)
    return folder


@pytest.fixture(scope="module")
def smplx_body(smplx_dir):
    return SmplxBody(smplx_dir)


def test_both_models_satisfy_the_protocol(avatar, smplx_body):
    for model in (avatar, smplx_body):
        assert isinstance(model, BodyModel)
        out = model.forward(Motion.zeros(3))
        assert out.vertices.shape == (3, model.num_vertices, 3)
        assert out.joints.shape == (3, 55, 3) and out.joint_rotations.shape == (3, 55, 3, 3)
        assert model.faces.ndim == 2 and model.faces.shape[1] == 3
        assert model.faces.max() < model.num_vertices
        assert len(model.joint_names) == 55 and np.array_equal(model.parents, PARENTS)


def test_asset_is_small_and_sane(avatar):
    from engine.assets import asset_path
    assert asset_path("default_avatar.npz").stat().st_size < 5 * 1024 * 1024
    weights = avatar.skin_weights
    assert np.allclose(weights.sum(axis=1), 1.0, atol=1e-5)
    assert (weights >= 0).all()
    assert "jawOpen" in avatar.blendshape_names_supported


def test_rest_pose_skins_to_rest_mesh_exactly(avatar):
    out = avatar.forward(Motion.zeros(1))
    assert np.allclose(out.vertices[0], avatar.rest_vertices, atol=1e-6)
    assert np.allclose(out.joints[0], avatar.rest_joints, atol=1e-6)
    assert np.allclose(out.joint_rotations[0], np.eye(3), atol=1e-7)


def test_rest_pose_is_an_smplx_t_pose(avatar):
    j = avatar.rest_joints
    assert np.allclose(j[J["pelvis"]], 0, atol=1e-5)
    assert j[J["head"], 1] > j[J["neck"], 1] > j[J["pelvis"], 1] > j[J["left_knee"], 1]
    # The subject's left is +X; arms are horizontal; hands spread along X.
    assert j[J["left_wrist"], 0] > j[J["left_elbow"], 0] > j[J["left_shoulder"], 0] > 0.1
    assert j[J["right_wrist"], 0] < j[J["right_elbow"], 0] < j[J["right_shoulder"], 0] < -0.1
    for side in ("left", "right"):
        arm = j[J[f"{side}_wrist"]] - j[J[f"{side}_shoulder"]]
        assert abs(arm[1]) / np.linalg.norm(arm) < 0.1  # within ~6 degrees of horizontal
        # Thumbs point forward (+Z) from the palm-down hand.
        assert j[J[f"{side}_thumb3"], 2] > j[J[f"{side}_index1"], 2]
        # The index is the finger nearest the thumb, the pinky the farthest.
        assert j[J[f"{side}_index1"], 2] > j[J[f"{side}_middle1"], 2] > j[J[f"{side}_pinky1"], 2]


def test_elbow_flexion_puts_the_wrist_where_geometry_says(avatar):
    # 90 degrees about -Y at the left elbow swings the forearm from +X to +Z (forward).
    motion = Motion.zeros(1)
    body = motion.body_pose.copy()
    body[0, J["left_elbow"] - 1] = [0.0, -np.pi / 2, 0.0]
    posed = avatar.forward(motion.replace(body_pose=body)).joints[0]
    rest = avatar.rest_joints
    forearm = rest[J["left_wrist"]] - rest[J["left_elbow"]]
    expected = rest[J["left_elbow"]] + Rotation.from_rotvec([0, -np.pi / 2, 0]).apply(forearm)
    assert np.allclose(posed[J["left_wrist"]], expected, atol=1e-5)
    assert posed[J["left_wrist"], 2] > rest[J["left_elbow"], 2] + 0.15  # really forward
    assert np.allclose(posed[J["left_elbow"]], rest[J["left_elbow"]], atol=1e-6)


def test_root_rotation_and_translation(avatar):
    motion = Motion.zeros(1).replace(
        global_orient=np.array([[0, np.pi, 0]], np.float32),
        transl=np.array([[0.1, 0.2, 0.3]], np.float32))
    joints = avatar.forward(motion).joints[0]
    assert np.allclose(joints[J["pelvis"]], [0.1, 0.2, 0.3], atol=1e-6)
    # Turned 180 degrees about Y: the left wrist is now on the -X side.
    assert joints[J["left_wrist"], 0] < -0.3


def test_fist_bends_fingers_toward_the_palm(avatar):
    rest = avatar.rest_joints
    fist = avatar.forward(reference_poses()["right_fist"]).joints[0]
    for finger in ("index", "middle", "ring", "pinky"):
        tip = fist[J[f"right_{finger}3"]]
        knuckle = rest[J[f"right_{finger}1"]]
        assert tip[1] < knuckle[1] - 0.02, finger  # below the palm-down hand
        # Curled back toward the wrist, not further out along -X.
        assert tip[0] > rest[J[f"right_{finger}2"], 0], finger


def test_v_spreads_index_and_middle(avatar):
    v = avatar.forward(reference_poses()["right_asl_v"]).joints[0]
    rest = avatar.rest_joints
    gap_rest = np.linalg.norm(rest[J["right_index3"]] - rest[J["right_middle3"]])
    gap_v = np.linalg.norm(v[J["right_index3"]] - v[J["right_middle3"]])
    assert gap_v > gap_rest + 0.01
    assert v[J["right_ring3"], 1] < rest[J["right_ring1"], 1] - 0.02  # ring curled


def test_mirrored_hand_pose_mirrors_the_joints(avatar):
    right = RIGHT_HAND_SHAPES["asl_v"]
    motion = Motion.zeros(1).replace(right_hand_pose=right[None],
                                     left_hand_pose=mirror_hand_pose(right)[None])
    joints = avatar.forward(motion).joints[0]
    for finger in ("index", "middle", "ring", "pinky", "thumb"):
        left = joints[J[f"left_{finger}3"]] - joints[J["left_wrist"]]
        rightj = joints[J[f"right_{finger}3"]] - joints[J["right_wrist"]]
        # Same shape on both hands, up to the avatar's small left/right asymmetry.
        assert np.allclose(left * [-1, 1, 1], rightj, atol=0.01), finger


def test_arms_down(avatar):
    joints = avatar.forward(arms_down(Motion.zeros(1))).joints[0]
    for side in ("left", "right"):
        assert joints[J[f"{side}_wrist"], 1] < joints[J[f"{side}_elbow"], 1] < \
            joints[J[f"{side}_shoulder"], 1]


def test_face_blendshapes_and_jaw_open_the_mouth(avatar):
    rest = avatar.forward(Motion.zeros(1)).vertices[0]
    weights = np.zeros((1, 52), np.float32)
    weights[0, FACE_BLENDSHAPE_INDEX["jawOpen"]] = 1.0
    by_shape = avatar.forward(Motion.zeros(1).replace(face_blendshapes=weights)).vertices[0]
    by_jaw = avatar.forward(Motion.zeros(1).replace(
        jaw_pose=np.array([[0.3, 0, 0]], np.float32))).vertices[0]
    for opened in (by_shape, by_jaw):
        moved = np.linalg.norm(opened - rest, axis=1)
        assert moved.max() > 0.01  # the mouth opens by more than 1 cm
        assert (moved > 1e-4).sum() < avatar.num_vertices * 0.2  # only the face moves
        # The chin goes down (the lowest moved vertex is lower than before).
        ids = np.flatnonzero(moved > 0.005)
        assert (opened[ids, 1] - rest[ids, 1]).mean() < 0


def test_smplx_and_default_avatar_agree_on_joints(rng, avatar, smplx_body):
    motion = random_motion(rng, num_frames=5).replace(betas=np.zeros(10, np.float32))
    still_face = motion.replace(face_blendshapes=np.zeros_like(motion.face_blendshapes))
    ours = avatar.forward(still_face).joints
    theirs = smplx_body.forward(still_face)
    assert np.allclose(theirs.joints, ours, atol=1e-4)
    assert np.allclose(theirs.joint_rotations, avatar.forward(still_face).joint_rotations,
                       atol=1e-5)
    # ARKit weights move SMPL-X's jaw (its own face space, engine.body.smplx_face), and
    # nothing else of its skeleton; the default avatar plays them as blendshapes.
    with_face = smplx_body.forward(motion).joint_rotations
    jaw = J["jaw"]
    assert np.allclose(np.delete(with_face, jaw, axis=1),
                       np.delete(theirs.joint_rotations, jaw, axis=1), atol=1e-5)
    assert not np.allclose(with_face[:, jaw], theirs.joint_rotations[:, jaw], atol=1e-3)


def test_smplx_with_other_proportions_has_the_same_bone_directions(rng, avatar, smplx_body):
    motion = random_motion(rng, num_frames=4)  # betas[0] scales the synthetic SMPL-X
    motion = motion.replace(betas=np.r_[2.0, np.zeros(9)].astype(np.float32))
    ours = avatar.forward(motion).joints
    theirs = smplx_body.forward(motion).joints
    bones_ours = ours[:, 1:] - ours[:, PARENTS[1:]]
    bones_theirs = theirs[:, 1:] - theirs[:, PARENTS[1:]]
    assert not np.allclose(bones_ours, bones_theirs, atol=1e-4)  # proportions differ
    unit = lambda b: b / np.linalg.norm(b, axis=-1, keepdims=True)  # noqa: E731
    assert np.allclose(unit(bones_ours), unit(bones_theirs), atol=1e-3)


def test_smplx_zero_hand_pose_is_the_flat_hand(avatar, smplx_body):
    # The synthetic file has random MANO hand means; flat_hand_mean must ignore them.
    joints = smplx_body.forward(Motion.zeros(1)).joints[0]
    assert np.allclose(joints, avatar.rest_joints, atol=1e-5)


def test_smplx_folder_errors_are_clear(tmp_path, monkeypatch):
    monkeypatch.delenv("SIGNSTUDIO_SMPLX_DIR", raising=False)
    with pytest.raises(SmplxModelNotFound, match="SIGNSTUDIO_SMPLX_DIR"):
        SmplxBody()
    with pytest.raises(SmplxModelNotFound, match="SMPLX_NEUTRAL.npz not found"):
        SmplxBody(tmp_path)
    (tmp_path / "SMPLX_NEUTRAL.npz").write_bytes(b"not a model")
    with pytest.raises((SmplxModelNotFound, ValueError)) as error:
        SmplxBody(tmp_path)
    assert "SMPLX_NEUTRAL.npz" in str(error.value)


def test_env_variable_and_load_body_model(smplx_dir, monkeypatch):
    monkeypatch.setenv("SIGNSTUDIO_SMPLX_DIR", str(smplx_dir))
    assert isinstance(load_body_model("smplx"), SmplxBody)
    assert isinstance(load_body_model("default"), DefaultAvatar)


def test_damaged_avatar_file_is_refused(tmp_path, avatar):
    from engine.assets import asset_path
    with np.load(asset_path("default_avatar.npz")) as data:
        arrays = dict(data)
    arrays["parents"] = np.zeros(55, np.int32)
    np.savez(tmp_path / "bad.npz", **arrays)
    with pytest.raises(ValueError, match="55-joint SMPL-X skeleton"):
        DefaultAvatar(tmp_path / "bad.npz")


@pytest.mark.needs_smplx
def test_real_smplx_files_pose_like_the_default_avatar():
    folder = os.environ.get("SIGNSTUDIO_SMPLX_DIR")
    if not folder:
        pytest.skip("needs the licensed SMPL-X files: set SIGNSTUDIO_SMPLX_DIR")
    body = SmplxBody(folder)
    joints = body.forward(reference_poses()["right_fist"]).joints[0]
    rest = body.rest_joints
    assert joints[J["right_index3"], 1] < rest[J["right_index1"], 1] - 0.02
