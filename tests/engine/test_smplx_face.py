"""The ARKit face on SMPL-X: shown by the SMPL-X body and written into .npz/.smpl.

The SMPL-X model here is made by the test: its head is the default avatar's head under
a known similarity (another size, turned, elsewhere), and its ten expression components
are ten of the avatar's ARKit shapes, so what SMPL-X should show is known exactly.
"""
from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from engine.body.default_avatar import default_avatar
from engine.body.smplx_model import SmplxBody
from engine.export.motion_files import read_npz, read_smpl, write_npz, write_smpl
from engine.motion import Motion
from engine.motion.face import FACE_BLENDSHAPE_INDEX
from tests.synthetic_smplx import HEAD_JOINTS, SyntheticFace, write_synthetic_smplx

SHAPES = ("mouthSmileLeft", "mouthSmileRight", "browInnerUp", "browOuterUpLeft", "cheekPuff",
          "eyeBlinkLeft", "eyeBlinkRight", "mouthPucker", "mouthFunnel", "browDownLeft")
SCALE = 0.92
TURN = Rotation.from_euler("y", 4, degrees=True).as_matrix()
SHIFT = np.array([0.01, -0.25, 0.02])
FIRST_FACE_VERTEX = 55  # write_synthetic_smplx puts the face after the 55 joint vertices


def _to_smplx(points: np.ndarray) -> np.ndarray:
    return SCALE * points @ TURN.T + SHIFT


@pytest.fixture(scope="module")
def avatar_head():
    avatar = default_avatar()
    weights = avatar.skin_weights
    return np.flatnonzero(weights[:, list(HEAD_JOINTS)].sum(axis=1) > 0.5)


@pytest.fixture(scope="module")
def avatar_deltas():
    avatar = default_avatar()
    vertex_ids, deltas = avatar.blendshapes
    dense = np.zeros((len(deltas), avatar.num_vertices, 3), np.float32)
    dense[:, vertex_ids] = deltas
    return dense


@pytest.fixture(scope="module")
def smplx_body(tmp_path_factory, avatar_head, avatar_deltas):
    avatar = default_avatar()
    weights = avatar.skin_weights[avatar_head][:, list(HEAD_JOINTS)]
    dirs = np.stack([SCALE * avatar_deltas[FACE_BLENDSHAPE_INDEX[name]][avatar_head] @ TURN.T
                     for name in SHAPES], axis=-1)
    face = SyntheticFace(_to_smplx(avatar.rest_vertices[avatar_head]).astype(np.float32),
                         np.array(HEAD_JOINTS)[weights.argmax(axis=1)], dirs.astype(np.float32))
    folder = tmp_path_factory.mktemp("smplx_face")
    write_synthetic_smplx(folder / "SMPLX_NEUTRAL.npz", _to_smplx(avatar.rest_joints), face=face)
    return SmplxBody(folder)


def _face_motion(frames: int = 4, **weights: float) -> Motion:
    blendshapes = np.zeros((frames, 52), np.float32)
    for name, weight in weights.items():
        blendshapes[1:, FACE_BLENDSHAPE_INDEX[name]] = weight
    return Motion.zeros(frames).replace(face_blendshapes=blendshapes)


def test_shapes_smplx_can_show_map_one_to_one(smplx_body):
    face = smplx_body.face_retarget(10)
    for component, name in enumerate(SHAPES):
        row = face.expression_map[FACE_BLENDSHAPE_INDEX[name]]
        expected = np.eye(10)[component]
        assert np.abs(row - expected).max() < 0.02, (name, row)
        assert np.abs(face.jaw_map[FACE_BLENDSHAPE_INDEX[name]]).max() < 0.01, name
        assert face.unexplained[FACE_BLENDSHAPE_INDEX[name]] < 0.02, name


def test_smplx_shows_the_face_the_avatar_shows(smplx_body, avatar_head, avatar_deltas):
    motion = _face_motion(mouthSmileLeft=0.7, mouthSmileRight=0.7, browInnerUp=0.5)
    posed = smplx_body.forward(motion).vertices
    moved = posed[1] - posed[0]
    expected = SCALE * (0.7 * avatar_deltas[FACE_BLENDSHAPE_INDEX["mouthSmileLeft"]]
                        + 0.7 * avatar_deltas[FACE_BLENDSHAPE_INDEX["mouthSmileRight"]]
                        + 0.5 * avatar_deltas[FACE_BLENDSHAPE_INDEX["browInnerUp"]]) @ TURN.T
    face = slice(FIRST_FACE_VERTEX, FIRST_FACE_VERTEX + len(avatar_head))
    assert np.abs(expected[avatar_head]).max() > 0.008  # a mouth corner moves 8 mm+
    assert np.abs(moved[face] - expected[avatar_head]).max() < 3e-4
    assert np.abs(np.delete(moved, np.arange(face.start, face.stop), axis=0)).max() < 1e-6


def test_jaw_open_turns_the_smplx_jaw_and_opens_its_mouth(smplx_body, avatar_head,
                                                          avatar_deltas):
    face = smplx_body.face_retarget(10)
    jaw_turn = face.jaw_map[FACE_BLENDSHAPE_INDEX["jawOpen"]]
    assert jaw_turn[0] > 0.15  # about +x: the chin goes down and back (measured 0.27 rad)
    posed = smplx_body.forward(_face_motion(jawOpen=1.0)).vertices
    moved = (posed[1] - posed[0])[FIRST_FACE_VERTEX:FIRST_FACE_VERTEX + len(avatar_head)]
    expected = (SCALE * avatar_deltas[FACE_BLENDSHAPE_INDEX["jawOpen"]] @ TURN.T)[avatar_head]
    chin = np.argsort(expected[:, 1])[:50]  # the 50 vertices the avatar lowers most
    share = (moved[chin] * expected[chin]).sum() / (expected[chin] ** 2).sum()
    assert 0.6 < share < 1.4, share
    assert moved[chin, 1].mean() < -0.02  # the chin drops 2 cm+


def test_no_face_leaves_smplx_parameters_alone(smplx_body):
    motion = Motion.zeros(3).replace(
        expression=np.full((3, 10), 0.3, np.float32),
        jaw_pose=np.tile(np.float32([0.1, 0, 0]), (3, 1)))
    assert smplx_body.with_face(motion) is motion


def test_npz_on_smplx_carries_the_face_and_reads_back_our_own(tmp_path, smplx_body):
    motion = _face_motion(mouthSmileLeft=0.8, jawOpen=0.5).replace(
        expression=np.full((4, 10), 0.25, np.float32))
    path = write_npz(motion, tmp_path / "face.npz", body=smplx_body)
    with np.load(path, allow_pickle=False) as data:
        written = {key: data[key] for key in ("expression", "pose_jaw")}
    face = smplx_body.face_retarget(10)
    np.testing.assert_allclose(written["expression"], motion.expression
                               + motion.face_blendshapes @ face.expression_map, atol=1e-6)
    np.testing.assert_allclose(written["pose_jaw"], motion.face_blendshapes @ face.jaw_map,
                               atol=1e-6)
    assert written["pose_jaw"][1, 0] > 0.05  # half open
    np.testing.assert_array_equal(written["expression"][0], motion.expression[0])
    back = read_npz(path)
    np.testing.assert_array_equal(back.expression, motion.expression)
    np.testing.assert_array_equal(back.jaw_pose, motion.jaw_pose)
    np.testing.assert_array_equal(back.face_blendshapes, motion.face_blendshapes)
    # Without SMPL-X the file is as before: the face stays in our ARKit extra only.
    plain = write_npz(motion, tmp_path / "plain.npz", body=default_avatar())
    with np.load(plain, allow_pickle=False) as data:
        np.testing.assert_array_equal(data["expression"], motion.expression)
        assert "signstudio_expression" not in data


def test_smpl_on_smplx_carries_the_face(tmp_path, smplx_body):
    motion = _face_motion(cheekPuff=0.9)
    back = read_smpl(write_smpl(motion, tmp_path / "puff.smpl", body=smplx_body))
    assert back.expression[1, SHAPES.index("cheekPuff")] == pytest.approx(0.9, abs=0.02)
    assert back.expression[0].tolist() == [0.0] * 10
    assert np.abs(back.jaw_pose).max() < 0.01  # a puff leaves the jaw where it is


def test_a_shape_smplx_cannot_show_maps_to_nothing_and_maps_stay_bounded(smplx_body):
    from engine.body.smplx_face import EXPRESSION_LIMIT, JAW_LIMIT, UNSHOWABLE

    face = smplx_body.face_retarget(10)
    tongue = FACE_BLENDSHAPE_INDEX["tongueOut"]    # the ten components have no tongue
    assert face.unexplained[tongue] >= UNSHOWABLE
    assert not face.expression_map[tongue].any() and not face.jaw_map[tongue].any()
    assert np.abs(face.expression_map).max() <= EXPRESSION_LIMIT
    assert np.abs(face.jaw_map).max() <= JAW_LIMIT
