"""The two arms kept out of each other (``engine.body.hands_apart``): in notation signs,
KF2P results and assembly's transitions, with the contacts a sign writes kept; and the
arm IK and keep-out step that keep elbows and forearms out of the trunk."""
import numpy as np
import pytest

from engine.body.capsules import body_capsules, penetration
from engine.body.default_avatar import default_avatar
from engine.body.hands_apart import (
    COUNT_DEPTH_M, allowed_overlap, count_passing_through, hands_overlap, keep_hands_apart,
    kept_apart,
)
from engine.body.reach import shift_wrist
from engine.body.reference_poses import signing_pose
from engine.body.skeleton import JOINT_INDEX
from engine.motion import Motion
from engine.notation.symbols import from_names
from engine.notation.synthesis import synthesise


@pytest.fixture(scope="module")
def avatar():
    return default_avatar()


def _two_hands(avatar) -> Motion:
    """Both hands flat in front of the chest, the left the right's mirror image."""
    from engine.body.mirror import mirror_motion

    right = signing_pose("flat")
    mirrored = mirror_motion(right)
    body_pose = right.body_pose.copy()
    for joint in ("left_shoulder", "left_elbow", "left_wrist", "left_collar"):
        body_pose[:, JOINT_INDEX[joint] - 1] = mirrored.body_pose[:, JOINT_INDEX[joint] - 1]
    return right.replace(body_pose=body_pose, left_hand_pose=mirrored.left_hand_pose)


def _right_into_left(avatar, motion: Motion, depth: float) -> Motion:
    """The right wrist moved toward the left one until the arms are ``depth`` inside."""
    for _ in range(300):
        if hands_overlap(avatar, motion).depth.max() >= depth:
            return motion
        joints = avatar.joints(motion)[0]
        step = joints[JOINT_INDEX["left_wrist"]] - joints[JOINT_INDEX["right_wrist"]]
        motion = shift_wrist(motion, avatar.rest_joints, avatar.parents, "right",
                             step / np.linalg.norm(step) * 0.003)
    raise AssertionError("could not push the hands into each other")


def test_hands_pushed_apart_except_where_written_together(avatar):
    """Frames whose arms are inside each other are pushed apart to a touch; a frame
    written together keeps its overlap bit for bit, and the frames beside it may keep
    what fades from it; frames that need nothing are untouched."""
    apart = _two_hands(avatar)
    assert hands_overlap(avatar, apart).depth[0] < 0
    inside = _right_into_left(avatar, apart, 0.03)
    motion = Motion.concatenate([apart, inside, inside, inside, apart])
    written = np.array([False, False, False, True, False])
    kept = keep_hands_apart(motion, avatar, written)
    depth = hands_overlap(avatar, kept).depth
    allowed = allowed_overlap(hands_overlap(avatar, motion).depth, written, motion.fps)
    assert depth[1] <= COUNT_DEPTH_M                            # pushed apart
    assert depth[1] > -0.01                                     # ... to a touch, not a gap
    assert kept.frame(3).equals(motion.frame(3))                 # written: as it was
    assert depth[2] <= allowed[2] + COUNT_DEPTH_M                # beside it: what fades
    assert allowed[2] < allowed[3]
    assert kept.frame(0).equals(motion.frame(0)) and kept.frame(4).equals(motion.frame(4))
    assert count_passing_through(avatar, kept, written) == 0
    assert count_passing_through(avatar, motion, written) >= 2
    # Each hand keeps its shape and its orientation in space while the arms make room.
    rotations = avatar.forward(kept).joint_rotations[1, JOINT_INDEX["right_wrist"]]
    before = avatar.forward(motion).joint_rotations[1, JOINT_INDEX["right_wrist"]]
    assert np.allclose(rotations, before, atol=1e-4)


def test_symmetric_hands_moving_to_each_other_meet_in_the_middle(avatar):
    """DSGS UNFALL: both fists move toward each other until one's knuckles touch the
    other's back. Aimed at where the other hand started, the two passed through each
    other (forearms 7.7 cm inside each other); they now meet at the midline, touching."""
    sign = synthesise(from_names(
        "symmlr fist thumbacrossmod extfingerl palml shoulders lrat movel fingerbase "
        "handback touch"))
    assert count_passing_through(avatar, sign.motion, sign.hands_together) == 0
    end = sign.key_frames[-3]                      # the posture the movement ends in
    assert sign.hands_together[end]
    joints = avatar.joints(sign.motion.slice(end, end + 1))[0]
    assert joints[JOINT_INDEX["right_wrist"], 0] < 0 < joints[JOINT_INDEX["left_wrist"], 0]
    assert hands_overlap(avatar, sign.motion.slice(end, end + 1)).depth[0] > -0.01


def test_a_hand_above_its_shoulder_keeps_the_elbow_on_its_own_side(avatar):
    """DSGS WOHNEN's hands above the shoulders: the arm IK swung each elbow behind the
    neck, across the midline, where the other forearm was."""
    sign = synthesise(from_names(
        "symmlr finger23spread thumbacrossmod fingerbendmod extfingeru palmul shouldertop "
        "lrat moved"))
    joints = avatar.joints(sign.motion)
    assert (joints[:, JOINT_INDEX["right_elbow"], 0] < -0.04).all()
    assert (joints[:, JOINT_INDEX["left_elbow"], 0] > 0.04).all()
    assert count_passing_through(avatar, sign.motion, sign.hands_together) == 0


def test_forearms_stay_out_of_the_trunk_and_a_palm_stays_on_the_chest(avatar):
    """A flat hand written on the chest: its forearm comes to lie along the trunk. The
    elbow makes room (a swivel about the shoulder-to-wrist line) and the palm stays on
    the chest."""
    _, limbs = body_capsules(avatar)
    forearms = [i for i, name in enumerate(limbs.names) if name.endswith("forearm")]
    sign = synthesise(from_names("flathand extfingeru palml chest touch"))
    found = penetration(avatar, sign.motion)
    assert found.depth[:, forearms].max() <= COUNT_DEPTH_M
    hands = [i for i, name in enumerate(limbs.names)
             if name.startswith("right_") and "forearm" not in name]
    touching = found.depth[sign.key_frames[2], hands].max()
    assert -0.03 < touching <= COUNT_DEPTH_M


def test_a_transition_keeps_the_arms_apart_and_its_borders_as_they_were(avatar):
    """What assembly does to each transition (``kept_apart``): a drawn transition
    that drives the right hand through the left is pushed apart, and the frames either
    side stay exactly as they were."""
    apart = _two_hands(avatar)
    inside = _right_into_left(avatar, apart, 0.04)
    motion = Motion.concatenate([apart] * 2 + [inside] * 8 + [apart] * 2)
    assert count_passing_through(avatar, motion) >= 6
    kept = kept_apart(motion, 2, 10)
    assert count_passing_through(avatar, kept) == 0
    assert kept.slice(0, 2).equals(motion.slice(0, 2))
    assert kept.slice(10, 12).equals(motion.slice(10, 12))


def test_a_hand_left_inside_turns_out_at_the_shoulder_with_elbow_and_wrist_kept(avatar):
    """What a wrist at its limit leaves inside the chest (the synthesiser's last step):
    the arm turns out at the shoulder alone, elbow and wrist angles as they were."""
    from engine.body.penetration import MARGIN_M, hand_depths, swing_out
    from tests.engine.test_penetration import _hand_into_chest

    inside = _hand_into_chest(avatar, 0.012)
    out = swing_out(Motion.concatenate([signing_pose("flat"), inside]), avatar)
    assert hand_depths(avatar, out)[1, 1] <= MARGIN_M
    assert out.frame(0).equals(signing_pose("flat"))           # nothing inside: untouched
    for joint in ("right_elbow", "right_wrist"):
        column = JOINT_INDEX[joint] - 1
        assert np.array_equal(out.body_pose[1, column], inside.body_pose[0, column])
    assert not np.array_equal(out.body_pose[1, JOINT_INDEX["right_shoulder"] - 1],
                              inside.body_pose[0, JOINT_INDEX["right_shoulder"] - 1])


def test_kf2p_keeps_apart_arms_the_generator_put_through_each_other(avatar):
    """A generator that puts the right hand 3 cm into the left arm over a KF2P range:
    the result has them apart away from the borders; frames outside the range are
    untouched; and hands the user's own frames hold together on both sides of the
    range stay together in it."""
    from engine.generate.kf2p import regenerate

    apart = _two_hands(avatar)
    inside = _right_into_left(avatar, apart, 0.03)

    def generator_into_each_other(motion, keys, frame_range, num_candidates=1, seed=None):
        body_pose = motion.body_pose.copy()
        body_pose[frame_range[0]:frame_range[1]] = inside.body_pose[0]
        return [motion.replace(body_pose=body_pose)] * num_candidates

    motion = Motion.concatenate([apart] * 20)
    plain = regenerate(motion, [], (2, 18), generator_into_each_other, keep_out=False)[0]
    kept = regenerate(motion, [], (2, 18), generator_into_each_other)[0]
    assert (hands_overlap(avatar, plain).depth[2:18] > 0.025).all()
    # the allowance fades from the borders at FADE_M_PER_S: 3 cm is gone 2 frames in
    assert hands_overlap(avatar, kept).depth[5:15].max() <= COUNT_DEPTH_M
    from engine.body.penetration import hand_depths
    assert hand_depths(avatar, kept).max() <= COUNT_DEPTH_M             # none into the trunk
    assert kept.slice(0, 2).equals(motion.slice(0, 2))
    assert kept.slice(18, 20).equals(motion.slice(18, 20))

    together = Motion.concatenate([inside] * 20)            # the user's own contact
    held = regenerate(together, [], (2, 18), generator_into_each_other)[0]
    assert np.array_equal(held.body_pose, together.body_pose)
