"""Hands kept out of the body: capsules measured on the mesh, a projection step in
assembly, KF2P, presets and notation signs; contacts stay contacts."""
import numpy as np
import pytest

from engine.body.default_avatar import default_avatar
from engine.body.capsules import body_capsules, penetration
from engine.body.penetration import (
    COUNT_DEPTH_M, MARGIN_M, SWIVEL_RATE_RAD_S, eased_swivels, hand_depths, keep_forearms_out,
    resolve_penetration,
)
from engine.body.reach import shift_wrist
from engine.body.reference_poses import signing_pose
from engine.body.skeleton import JOINT_INDEX
from engine.generate.key_edits import with_handshape
from engine.generate.kf2p import regenerate
from engine.motion import Motion
from engine.motion.project import Keyframe

WRIST = JOINT_INDEX["right_wrist"]


@pytest.fixture(scope="module")
def avatar():
    return default_avatar()


def _hand_into_chest(avatar, depth: float, frames: int = 1) -> Motion:
    """The right flat hand moved toward the chest until its palm or fingers are
    ``depth`` metres inside the trunk (negative: that far in front of it)."""
    from engine.notation.anchors import body_anchors

    chest = body_anchors(avatar).site("chest").position
    motion = Motion.concatenate([signing_pose("flat")] * frames)
    for _ in range(200):
        now = hand_depths(avatar, motion)[:, 1].max()
        if now >= depth:
            return motion
        palm = avatar.forward(motion).joints[0, JOINT_INDEX["right_middle1"]]
        step = chest - palm
        step *= min(1.0, max(0.002, depth - now) / np.linalg.norm(step))
        motion = shift_wrist(motion, avatar.rest_joints, avatar.parents, "right", step)
    raise AssertionError("could not push the hand into the chest")


def test_capsules_are_measured_on_the_mesh(avatar):
    body, limbs = body_capsules(avatar)
    radii = dict(zip(body.names, body.radii))
    # Inside the skin: a head under 17 cm wide, a neck thinner than the head, a trunk
    # under 24 cm deep.
    assert 0.05 < radii["head"] < 0.085
    assert 0.03 < radii["neck"] < radii["head"]
    assert 0.06 < radii["trunk_left"] < 0.12
    limb = dict(zip(limbs.names, limbs.radii))
    assert 0.005 < limb["right_index3"] < limb["right_index1"] < limb["right_palm"] \
        < limb["right_forearm"]
    # A hand raised in signing space is outside; the same hand pushed in is inside.
    assert hand_depths(avatar, signing_pose("flat")).max() < 0
    assert hand_depths(avatar, _hand_into_chest(avatar, 0.03)).max() >= 0.03


def test_a_hand_inside_the_trunk_is_moved_out_to_the_surface(avatar):
    inside = _hand_into_chest(avatar, 0.04)
    out = resolve_penetration(inside, avatar)
    depth = hand_depths(avatar, out)[:, 1].max()
    assert -2 * MARGIN_M - 0.003 <= depth <= 0.0005  # touching: out, and not far off
    before, after = avatar.forward(inside), avatar.forward(out)
    np.testing.assert_allclose(after.joint_rotations[:, WRIST], before.joint_rotations[:, WRIST],
                               atol=1e-5)  # the hand keeps its orientation
    assert np.array_equal(out.right_hand_pose, inside.right_hand_pose)


def test_frames_that_need_nothing_or_may_not_change_are_kept_bit_for_bit(avatar):
    clear = signing_pose("flat")
    inside = _hand_into_chest(avatar, 0.03)
    motion = Motion.concatenate([clear] * 12 + [inside] * 8 + [clear] * 12)
    changeable = np.ones(motion.num_frames, bool)
    changeable[14] = False  # a keyframe inside the span
    out = resolve_penetration(motion, avatar, changeable)
    assert np.array_equal(out.body_pose[:12], motion.body_pose[:12])
    assert np.array_equal(out.body_pose[20:], motion.body_pose[20:])
    assert np.array_equal(out.body_pose[14], motion.body_pose[14])
    depths = hand_depths(avatar, out)[:, 1]
    # Out, except next to the frame that may not change, where the push is eased in
    # (at most RAMP_M_PER_FRAME per frame of distance from it).
    assert depths[17:20].max() <= COUNT_DEPTH_M
    assert depths[14] > depths[13] > depths[12]
    assert depths[14] > depths[15] > depths[16]


def test_kf2p_keeps_the_hands_out_of_what_a_generator_put_in(avatar):
    """A generator that puts the arm 3 cm into the chest over a whole range: KF2P's
    result takes it out on every frame it may change, moves the arm at a key that pins
    only the hand, keeps a key that pins the body (the user's own pose) exactly, eases
    toward that key instead of jumping, and leaves every frame outside the range alone."""
    from engine.body.penetration import RAMP_M_PER_FRAME

    clear = signing_pose("flat")
    inside = _hand_into_chest(avatar, 0.03)

    def generator_into_the_chest(motion, keys, frame_range, num_candidates=1, seed=None):
        body_pose = motion.body_pose.copy()
        body_pose[frame_range[0]:frame_range[1]] = inside.body_pose[0]
        return [motion.replace(body_pose=body_pose)] * num_candidates

    motion = Motion.concatenate([clear] * 14)
    hand_key = Keyframe.from_motion(motion, 5, channels={"right_hand"})
    body_key = Keyframe(9, Motion.concatenate([inside]), frozenset({"body", "right_hand"}))
    keys = [hand_key, body_key]
    plain = regenerate(motion, keys, (2, 12), generator_into_the_chest, keep_out=False)[0]
    kept = regenerate(motion, keys, (2, 12), generator_into_the_chest)[0]
    depths_plain = hand_depths(avatar, plain)[:, 1]
    depths = hand_depths(avatar, kept)[:, 1]
    assert (depths_plain[2:12] > 0.02).all()
    assert depths[5] <= COUNT_DEPTH_M                      # the hand-only key moved out
    assert kept.frame(9).equals(body_key.pose)             # the body key as the user made it
    assert depths[[4, 5, 6]].max() <= COUNT_DEPTH_M        # 3+ frames from anything fixed: out
    assert kept.slice(0, 2).equals(motion.slice(0, 2))
    assert kept.slice(12, 14).equals(motion.slice(12, 14))
    # Eased toward the key inside the body (and toward the range's borders): no frame
    # pushed further than RAMP_M_PER_FRAME per frame of distance from one.
    wrist = avatar.joints(kept)[:, WRIST] - avatar.joints(plain)[:, WRIST]
    for frame, fixed in ((8, 9), (10, 9), (11, 12), (2, 1)):
        assert np.linalg.norm(wrist[frame]) <= RAMP_M_PER_FRAME * abs(frame - fixed) + 1e-3


def test_a_handshape_applied_at_a_key_by_the_neck_stays_out_of_it(avatar):
    """A fist held beside the throat, clear of it, turned so its fingers would point
    at the neck; the preset opens the hand flat, which puts the fingers 4 cm into the
    neck (the issue: DGS H at a key by the chin put the fingertips inside the neck):
    the arm moves the hand out and the key pins the body."""
    neck = avatar.joints(signing_pose("flat"))[0, JOINT_INDEX["neck"]]
    fist = shift_wrist(signing_pose("fist"), avatar.rest_joints, avatar.parents, "right",
                       [0.0, 0.0, 0.0], turns=[0.0, 0.0, -np.pi / 2])  # fingers toward the neck
    near = shift_wrist(fist, avatar.rest_joints, avatar.parents, "right",
                       neck + [-0.16, -0.04, 0.0] - avatar.joints(fist)[0, WRIST])
    flat = signing_pose("flat").right_hand_pose[0]
    assert hand_depths(avatar, near).max() <= 0  # the fist is clear
    assert hand_depths(avatar, near.replace(right_hand_pose=flat[None])).max() > 0.02
    key = Keyframe.from_motion(near, 0, channels={"right_hand"})
    applied = with_handshape(key, flat, current=near)
    assert "body" in {c.value for c in applied.channels}
    assert hand_depths(avatar, applied.pose).max() <= COUNT_DEPTH_M
    assert np.array_equal(applied.pose.right_hand_pose[0], flat)


def test_a_written_contact_stays_a_contact(avatar):
    """A notation sign whose fingertip touches the chin: the synthesiser's keep-out
    step leaves the fingertip on the chin, not pushed away from it."""
    from engine.notation.anchors import body_anchors
    from engine.notation.symbols import from_names
    from engine.notation.synthesis import synthesise

    sign = synthesise(from_names("finger2 extfingeru palml chin touch"))
    assert hand_depths(avatar, sign.motion).max() <= COUNT_DEPTH_M
    tip = avatar.joints(sign.motion)[sign.key_frames[1], JOINT_INDEX["right_index3"]]
    chin = body_anchors(avatar).site("chin").position
    assert np.linalg.norm(tip - chin) < 0.04


@pytest.mark.slow
def test_capsules_are_measured_on_whichever_body_signs(tmp_path, avatar):
    """On a (synthetic, 15% larger) SMPL-X body the capsules sit on that body's own
    skeleton and the keep-out step runs with its shape's joints."""
    from engine.body.lbs import forward_kinematics
    from engine.body.skeleton import PARENTS
    from engine.body.smplx_model import SmplxBody
    from tests.synthetic_smplx import write_synthetic_smplx

    folder = tmp_path / "models"
    folder.mkdir()
    write_synthetic_smplx(folder / "SMPLX_NEUTRAL.npz", avatar.rest_joints * 1.15)
    large = SmplxBody(folder)
    body, _ = body_capsules(large)
    rotations, positions = forward_kinematics(Motion.zeros(1).full_pose(), large.rest_joints,
                                              PARENTS)
    ends = body.segments(rotations.astype(float), positions.astype(float))[0]
    head = list(body.names).index("head")
    head_joint = large.rest_joints[JOINT_INDEX["head"]]
    assert np.linalg.norm(ends[head].mean(axis=0)[[0, 1]] - head_joint[[0, 1]]) < 0.1
    default_head = avatar.rest_joints[JOINT_INDEX["head"]]
    assert head_joint[1] > default_head[1] + 0.05  # the larger body's, not the avatar's
    # The keep-out step pushes a hand out of that body (its own capsules, its own arm).
    from engine.body.penetration import hand_depths as depths_on

    inside = shift_wrist(signing_pose("flat"), large.rest_joints, large.parents, "right",
                         (ends[0].mean(axis=0) + [0.0, 0.05, 0.0])
                         - large.forward(signing_pose("flat")).joints[0, WRIST])
    assert depths_on(large, inside).max() > COUNT_DEPTH_M
    assert depths_on(large, resolve_penetration(inside, large)).max() <= COUNT_DEPTH_M


def test_swivels_ease_in_and_out_and_turn_one_way():
    needed = np.array([0, 0, 0, 0.3, 0.3, 0, 0, 0, 0, 0])
    eased = eased_swivels(needed, 0.1)
    np.testing.assert_allclose(eased, [0, 0.1, 0.2, 0.3, 0.3, 0.2, 0.1, 0, 0, 0], atol=1e-12)
    # the way out flips where the forearm crosses the line: one stretch turns one way
    flipping = np.array([0, 0.4, 0.5, -0.2, -0.2, 0, 0])
    eased = eased_swivels(flipping, 0.1)
    assert (eased >= 0).all() and eased[2] == pytest.approx(0.5)
    assert np.abs(np.diff(eased)).max() <= 0.1 + 1e-12
    assert eased_swivels(np.array([0.5]), 0.1) == pytest.approx([0.5])   # a one-frame range


def test_forearms_leave_the_trunk_by_the_elbow_and_the_hands_stay(avatar):
    """A hand 6 cm before the chest while its elbow swings in and back out over 40
    frames, taking the forearm 4 cm into the trunk: the elbow is swung back out, eased
    over the frames around, and the hand does not move."""
    near = _hand_into_chest(avatar, -0.06)
    swing = 0.5 * np.sin(np.linspace(0, np.pi, 40))
    motion = shift_wrist(Motion.concatenate([near] * 40), avatar.rest_joints, avatar.parents,
                         "right", np.zeros((40, 3)), swivels=swing)

    def forearm_depths(m):
        found = penetration(avatar, m)
        return found.depth[:, found.limb_names.index("right_forearm")]

    assert forearm_depths(motion).max() > 0.03
    out = keep_forearms_out(motion, avatar)
    assert forearm_depths(out).max() <= COUNT_DEPTH_M
    before, after = avatar.forward(motion).joints, avatar.forward(out).joints
    hand = [i for name, i in JOINT_INDEX.items() if name.startswith("right_")
            and not name.endswith(("shoulder", "elbow", "collar"))]
    np.testing.assert_allclose(after[:, hand], before[:, hand], atol=1e-5)
    elbow = JOINT_INDEX["right_elbow"]
    assert np.abs(after[:, elbow] - before[:, elbow]).max() > 0.02       # the elbow moved
    # eased: no frame's elbow moves further than the rate allows on top of the input's
    step = np.linalg.norm(np.diff(after[:, elbow], axis=0), axis=1)
    lever = np.linalg.norm(before[:, elbow] - before[:, JOINT_INDEX["right_shoulder"]], axis=1)
    assert step.max() <= np.linalg.norm(np.diff(before[:, elbow], axis=0), axis=1).max() \
        + SWIVEL_RATE_RAD_S / motion.fps * lever.max()
    # frames whose forearm was out and no ease reaches are kept bit for bit
    assert np.array_equal(out.body_pose[0], motion.body_pose[0])
    assert np.array_equal(out.body_pose[-1], motion.body_pose[-1])


def test_kf2p_swings_out_a_forearm_the_generator_put_in_and_leaves_the_users(avatar):
    """A generator that swings the elbow in, the forearm 4 cm into the trunk, over a
    KF2P range: the result swings it back out, eased from the range's borders, and the
    hand stays where the generator put it. A forearm the user's own frames already had
    inside, on both sides of the range, is theirs: left as it is."""
    near = _hand_into_chest(avatar, -0.06)
    swung_in = shift_wrist(near, avatar.rest_joints, avatar.parents, "right",
                           np.zeros((1, 3)), swivels=np.array([0.5]))

    def generator_swinging_in(motion, keys, frame_range, num_candidates=1, seed=None):
        body_pose = motion.body_pose.copy()
        body_pose[frame_range[0]:frame_range[1]] = swung_in.body_pose[0]
        return [motion.replace(body_pose=body_pose)] * num_candidates

    def forearm_depths(m):
        found = penetration(avatar, m)
        return found.depth[:, found.limb_names.index("right_forearm")]

    motion = Motion.concatenate([near] * 24)
    plain = regenerate(motion, [], (2, 22), generator_swinging_in, keep_out=False)[0]
    kept = regenerate(motion, [], (2, 22), generator_swinging_in)[0]
    assert (forearm_depths(plain)[2:22] > 0.03).all()
    assert forearm_depths(kept)[8:16].max() <= COUNT_DEPTH_M   # out, away from the borders
    assert kept.slice(0, 2).equals(motion.slice(0, 2))
    assert kept.slice(22, 24).equals(motion.slice(22, 24))
    hand = [i for name, i in JOINT_INDEX.items() if name.startswith("right_")
            and not name.endswith(("shoulder", "elbow", "collar"))]
    np.testing.assert_allclose(avatar.forward(kept).joints[:, hand],
                               avatar.forward(plain).joints[:, hand], atol=1e-5)

    users = Motion.concatenate([swung_in] * 24)       # the user's pose, forearm in
    held = regenerate(users, [], (2, 22), generator_swinging_in)[0]
    assert np.array_equal(held.body_pose, users.body_pose)

    # a key of the user's that pins the body with its forearm in: the frames beside it
    # may keep about as much (only the excess the generator added comes out)
    key = Keyframe(12, swung_in, frozenset({"body"}))
    around_key = regenerate(motion, [key], (2, 22), generator_swinging_in)[0]
    elbow = JOINT_INDEX["right_elbow"]
    moved = np.linalg.norm(avatar.forward(around_key).joints[:, elbow]
                           - avatar.forward(plain).joints[:, elbow], axis=1)
    assert around_key.frame(12).equals(swung_in)
    assert moved[[11, 13]].max() < 0.01 and moved[[6, 18]].min() > 0.02


def test_a_few_limbs_are_measured_as_the_whole_set_measures_them(avatar):
    motion = _hand_into_chest(avatar, 0.03, frames=2)
    every, some = penetration(avatar, motion), penetration(avatar, motion,
                                                           limbs=("right_palm", "left_forearm"))
    assert some.limb_names == ("right_palm", "left_forearm")
    columns = [every.limb_names.index(name) for name in some.limb_names]
    np.testing.assert_allclose(some.depth, every.depth[:, columns])
    np.testing.assert_allclose(some.point, every.point[:, columns])
    assert some.depth[:, 0].max() >= 0.03                               # the palm, in


@pytest.mark.slow
def test_kf2p_keeps_the_hands_out_of_the_body_the_project_is_shown_on(
        tmp_path, monkeypatch, avatar):
    """A project shown on SMPL-X (here a synthetic one, 15 % larger) has its KF2P results
    kept out of that body's capsules, not the embedded avatar's; without SMPL-X's files
    the embedded avatar is used, as the viewport shows it."""
    from engine.body import SMPLX_DIR_ENV, SmplxBody, shown_body
    from engine.generate.key_edits import regenerated_range
    from engine.motion.project import AvatarChoice, Project
    from tests.synthetic_smplx import write_synthetic_smplx

    monkeypatch.setenv(SMPLX_DIR_ENV, str(tmp_path / "nowhere"))
    assert shown_body(AvatarChoice.SMPLX) is avatar
    folder = tmp_path / "models"
    folder.mkdir()
    write_synthetic_smplx(folder / "SMPLX_NEUTRAL.npz", avatar.rest_joints * 1.15)
    monkeypatch.setenv(SMPLX_DIR_ENV, str(folder))
    large = shown_body(AvatarChoice.SMPLX)
    assert isinstance(large, SmplxBody) and shown_body("smplx") is large  # loaded once

    inside = _hand_into_chest(large, 0.03)

    def generator_into_the_chest(motion, keys, frame_range, num_candidates=1, seed=None):
        body_pose = motion.body_pose.copy()
        body_pose[10:19] = inside.body_pose[0]  # away from the range's borders
        return [motion.replace(body_pose=body_pose)] * num_candidates

    motion = Motion.concatenate([signing_pose("flat")] * 30)
    results = {}
    for choice, body in ((AvatarChoice.SMPLX, large), (AvatarChoice.DEFAULT, avatar)):
        project = Project(motion=motion, avatar=choice)
        edited, _ = regenerated_range(project, (2, 28), generator_into_the_chest)
        depths = hand_depths(body, edited.motion)[:, 1]
        assert depths.max() <= COUNT_DEPTH_M, choice
        # out to that body's surface, not beyond: its own capsules moved it
        assert depths[10:19].max() > -0.01, choice
        results[choice] = edited.motion
    assert not np.allclose(results[AvatarChoice.SMPLX].body_pose[10:19],
                           results[AvatarChoice.DEFAULT].body_pose[10:19], atol=1e-3)
