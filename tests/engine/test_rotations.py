"""Rotation conversions, slerp and resampling."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from engine.motion import Motion, MotionError, resample
from engine.motion import rotations as rot
from engine.motion.interpolate import chain, inbetween

rotvecs = arrays(np.float64, (4, 3), elements=st.floats(-3.0, 3.0))


def same_rotation(a, b, atol=1e-6):
    return np.allclose(rot.axis_angle_to_matrix(a), rot.axis_angle_to_matrix(b), atol=atol)


@settings(max_examples=60, deadline=None)
@given(rotvecs)
def test_conversions_round_trip(r):
    assert same_rotation(rot.matrix_to_axis_angle(rot.axis_angle_to_matrix(r)), r)
    assert same_rotation(rot.quat_to_axis_angle(rot.axis_angle_to_quat(r)), r)
    assert same_rotation(rot.sixd_to_axis_angle(rot.axis_angle_to_6d(r)), r)


def test_shapes_are_preserved():
    r = np.zeros((2, 5, 3))
    assert rot.axis_angle_to_matrix(r).shape == (2, 5, 3, 3)
    assert rot.axis_angle_to_quat(r).shape == (2, 5, 4)
    assert rot.axis_angle_to_6d(r).shape == (2, 5, 6)
    with pytest.raises(ValueError, match=r"\(\.\.\., 3\)"):
        rot.axis_angle_to_matrix(np.zeros((2, 4)))


def test_matrix_convention_is_column_vectors():
    # +90 degrees about z takes x to y.
    m = rot.axis_angle_to_matrix(np.array([0, 0, np.pi / 2]))
    assert np.allclose(m @ [1, 0, 0], [0, 1, 0])


def test_slerp_midpoint_and_endpoints():
    a = np.array([[0.0, 0.0, 0.0]])
    b = np.array([[0.0, 0.0, 1.2]])
    out = rot.slerp(a, b, np.array([0.0, 0.5, 1.0]))
    assert np.allclose(out[0], a) and np.allclose(out[2], b)
    assert np.allclose(out[1], [[0, 0, 0.6]])


def test_slerp_takes_the_short_way():
    a = np.array([0.0, 0.0, np.radians(170)])
    b = np.array([0.0, 0.0, np.radians(-170)])
    mid = rot.slerp(a, b, 0.5)
    # Halfway along the 20-degree arc is 180 degrees, not 0.
    assert np.isclose(np.linalg.norm(mid), np.pi, atol=1e-6)


def test_resample_keeps_timing_and_first_frame(rng):
    from tests.conftest import random_motion
    m = random_motion(rng, num_frames=26, fps=25)
    r = resample(m, 30)
    assert r.fps == 30 and r.num_frames == 31  # 1 s at 25 fps -> 1 s at 30 fps
    assert np.allclose(r.global_orient[0], m.global_orient[0])
    assert np.allclose(r.transl[-1], m.transl[-1], atol=1e-6)
    # A smooth track survives 25 -> 30 -> 25 fps closely.
    t = np.arange(26)[:, None] / 25.0
    smooth = m.replace(transl=np.sin(t * [1.0, 2.0, 3.0]).astype(np.float32))
    back = resample(resample(smooth, 30), 25)
    assert back.num_frames == smooth.num_frames
    assert np.allclose(back.transl, smooth.transl, atol=0.01)


def test_resample_of_constant_rotation_is_constant():
    m = Motion.zeros(10, fps=30).replace(body_pose=np.full((10, 21, 3), 0.3, np.float32))
    r = resample(m, 50)
    assert np.allclose(r.body_pose, 0.3, atol=1e-6)


def test_resample_rejects_bad_fps():
    with pytest.raises(MotionError, match="positive"):
        resample(Motion.zeros(3), 0)


def test_inbetween_excludes_endpoints_and_chain_length():
    a = Motion.zeros(1)
    b = a.replace(transl=np.array([[1.0, 0, 0]], np.float32))
    mid = inbetween(a, b, 3)
    assert np.allclose(mid.transl[:, 0], [0.25, 0.5, 0.75])
    seq = chain([a, b, a], hold_frames=4, transition_frames=2)
    assert seq.num_frames == 3 * 4 + 2 * 2
