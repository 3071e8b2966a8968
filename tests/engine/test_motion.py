"""Motion: the validated, immutable parameter sequence everything else edits."""
import numpy as np
import pytest

from engine.motion import ALL_CHANNELS, Channel, Motion, MotionError
from engine.motion.motion import FRAME_FIELDS
from tests.conftest import random_motion


def test_zeros_has_smplx_layout():
    m = Motion.zeros(5, fps=25)
    assert m.num_frames == 5 and m.fps == 25.0
    assert m.body_pose.shape == (5, 21, 3)
    assert m.left_hand_pose.shape == m.right_hand_pose.shape == (5, 15, 3)
    assert m.expression.shape == (5, 10) and m.face_blendshapes.shape == (5, 52)
    assert m.full_pose().shape == (5, 55, 3)
    assert m.duration == pytest.approx(0.2)


def test_arrays_are_read_only_and_not_aliased():
    source = np.zeros((3, 21, 3), np.float32)
    m = Motion.zeros(3).replace(body_pose=source)
    source[0, 0, 0] = 1.0  # the caller's buffer changes; the motion must not
    assert m.body_pose[0, 0, 0] == 0.0
    with pytest.raises(ValueError):
        m.body_pose[0, 0, 0] = 1.0


def test_float64_input_is_stored_as_float32():
    m = Motion.zeros(2).replace(transl=np.ones((2, 3)))
    assert m.transl.dtype == np.float32


def test_edit_shares_untouched_arrays(motion):
    edited = motion.replace(transl=np.zeros_like(motion.transl))
    assert edited.body_pose is motion.body_pose
    assert edited.transl is not motion.transl


def test_full_pose_round_trip(motion):
    assert motion.with_full_pose(motion.full_pose()).equals(motion)
    full = motion.full_pose()
    assert np.array_equal(full[:, 0], motion.global_orient)
    assert np.array_equal(full[:, 22], motion.jaw_pose)
    assert np.array_equal(full[:, 25:40], motion.left_hand_pose)
    assert np.array_equal(full[:, 40:55], motion.right_hand_pose)


@pytest.mark.parametrize(
    "field, value, words",
    [
        ("body_pose", np.zeros((4, 63), np.float32), ["body_pose", "(F, 21, 3)", "(4, 63)"]),
        ("left_hand_pose", np.zeros((3, 15, 3), np.float32), ["left_hand_pose", "F=4"]),
        ("transl", np.zeros((4, 3), np.int32), ["transl", "floating-point", "int32"]),
        ("jaw_pose", np.full((4, 3), np.nan, np.float32), ["jaw_pose", "NaN"]),
        ("global_orient", np.full((4, 3), np.inf, np.float32), ["global_orient", "infinity"]),
        ("face_blendshapes", np.full((4, 52), 1.5, np.float32), ["face_blendshapes", "[0, 1]"]),
        ("betas", np.zeros((2, 10), np.float32), ["betas", "(B,)"]),
    ],
)
def test_bad_fields_are_named(field, value, words):
    with pytest.raises(MotionError) as error:
        Motion.zeros(4).replace(**{field: value})
    for word in words:
        assert word in str(error.value)


@pytest.mark.parametrize("fps", [0, -30, float("nan"), float("inf"), "30", True])
def test_bad_fps(fps):
    with pytest.raises(MotionError, match="Motion.fps"):
        Motion.zeros(2).replace(fps=fps)


def test_zero_frames_rejected():
    with pytest.raises(MotionError, match="at least one frame"):
        Motion.zeros(0)
    arrays = {name: np.zeros((0,) + tuple(10 if d is None else d for d in t), np.float32)
              for name, t in FRAME_FIELDS.items()}
    with pytest.raises(MotionError, match="at least one frame"):
        Motion(**arrays)


def test_from_arrays_rejects_unknown_keys_and_fills_missing():
    with pytest.raises(MotionError, match="body_poses"):
        Motion.from_arrays({"body_poses": np.zeros((2, 21, 3))}, fps=30)
    m = Motion.from_arrays({"body_pose": np.ones((2, 21, 3))}, fps=30)
    assert m.num_frames == 2 and not m.transl.any() and m.body_pose.all()


def test_slice_frame_concatenate(motion):
    a, b = motion.slice(0, 5), motion.slice(5, motion.num_frames)
    assert Motion.concatenate([a, b]).equals(motion)
    assert motion.frame(-1).equals(motion.slice(motion.num_frames - 1, motion.num_frames))
    with pytest.raises(MotionError, match="start < stop"):
        motion.slice(5, 5)


def test_take_picks_frames_in_the_order_given(motion):
    taken = motion.take(np.array([6, 2, 2]))
    assert taken.num_frames == 3
    assert taken.frame(0).equals(motion.frame(6)) and taken.frame(2).equals(motion.frame(2))
    with pytest.raises(MotionError, match="boolean mask"):
        motion.take(np.arange(motion.num_frames) % 2 == 0)
    with pytest.raises(MotionError, match="frame indices"):
        motion.take(np.array([motion.num_frames]))


def test_concatenate_refuses_mixed_fps(rng):
    with pytest.raises(MotionError, match="fps"):
        Motion.concatenate([random_motion(rng, fps=25), random_motion(rng, fps=30)])


def test_with_frames_only_touches_range_and_channels(rng, motion):
    patch = random_motion(rng, num_frames=3, fps=motion.fps)
    edited = motion.with_frames(4, patch, channels=[Channel.RIGHT_HAND])
    assert np.array_equal(edited.right_hand_pose[4:7], patch.right_hand_pose)
    assert np.array_equal(edited.right_hand_pose[:4], motion.right_hand_pose[:4])
    assert np.array_equal(edited.right_hand_pose[7:], motion.right_hand_pose[7:])
    for name in FRAME_FIELDS:
        if name != "right_hand_pose":
            assert getattr(edited, name) is getattr(motion, name)
    everything = motion.with_frames(4, patch, channels=ALL_CHANNELS)
    assert everything.slice(4, 7).equals(patch.replace(betas=motion.betas))
    with pytest.raises(MotionError, match="outside"):
        motion.with_frames(motion.num_frames - 1, patch)


def test_equals_is_exact_unless_tolerance(motion):
    nudged = motion.replace(transl=motion.transl + np.float32(1e-6))
    assert not motion.equals(nudged)
    assert motion.equals(nudged, atol=1e-5)
