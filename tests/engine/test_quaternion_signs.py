"""The one quaternion sign helper: continuity along frames and alignment to a reference."""
import numpy as np
from scipy.spatial.transform import Rotation

from engine.motion.rotations import (
    align_quaternions, axis_angle_to_quat, continuous_quaternions, quat_to_axis_angle,
)


def _same_rotations(a, b):
    return np.allclose(Rotation.from_quat(a.reshape(-1, 4)).as_matrix(),
                       Rotation.from_quat(b.reshape(-1, 4)).as_matrix(), atol=1e-9)


def test_a_turn_past_180_degrees_stays_continuous():
    # One joint turning steadily about Z from 0 to 350 degrees: the canonical (w >= 0)
    # quaternions jump sign at 180; the continuous ones never do.
    angles = np.radians(np.arange(0, 360, 10.0))
    quats = axis_angle_to_quat(np.stack([np.zeros_like(angles)] * 2 + [angles], -1))[:, None]
    assert (np.sum(quats[1:] * quats[:-1], -1) < 0).any()
    smooth = continuous_quaternions(quats)
    assert (np.sum(smooth[1:] * smooth[:-1], -1) >= 0).all()
    assert _same_rotations(smooth, quats)
    np.testing.assert_array_equal(smooth[0], quats[0])
    # the input is left as it was
    assert (np.sum(quats[1:] * quats[:-1], -1) < 0).any()


def test_continuity_is_per_joint_and_matches_a_frame_by_frame_flip(rng):
    quats = Rotation.random(40 * 3, random_state=1).as_quat().reshape(40, 3, 4)
    quats *= rng.choice([-1.0, 1.0], (40, 3, 1))
    smooth = continuous_quaternions(quats)
    expected = quats.copy()
    for k in range(1, len(expected)):  # the obvious sequential rule
        flip = np.sum(expected[k] * expected[k - 1], -1) < 0
        expected[k][flip] *= -1
    np.testing.assert_array_equal(smooth, expected)
    assert continuous_quaternions(quats[:1]).shape == (1, 3, 4)


def test_alignment_puts_each_quaternion_in_the_reference_hemisphere(rng):
    quats = Rotation.random(8, random_state=2).as_quat()
    reference = Rotation.random(8, random_state=3).as_quat()
    aligned = align_quaternions(quats, reference)
    assert (np.sum(aligned * reference, -1) >= 0).all()
    np.testing.assert_allclose(quat_to_axis_angle(aligned), quat_to_axis_angle(quats), atol=1e-9)
    # one reference for all
    assert (align_quaternions(quats, reference[0]) @ reference[0] >= 0).all()
