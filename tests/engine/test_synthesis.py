"""The synthesiser's primitives checked against geometry on the posed default avatar:
where the notation says a hand touches, points or faces, it does."""
from __future__ import annotations

import numpy as np
import pytest

from engine.body import default_avatar
from engine.body.skeleton import JOINT_INDEX
from engine.body.tips import hand_points
from engine.notation.anchors import body_anchors
from engine.notation.dsgs import notation_entries
from engine.notation.placement import ArmSolver, combined, direction, palm_vector
from engine.notation.symbols import from_names
from engine.notation.synthesis import UnsupportedNotation, coverage, synthesise

BODY = default_avatar()
RIGHT_HAND = [JOINT_INDEX[f"right_{f}1"] for f in ("index", "middle", "ring", "pinky")]


def first_posture(names: str):
    """(sign, joints (55, 3), rotations (55, 3, 3), frame) at the sign's first posture."""
    sign = synthesise(from_names(names))
    frame = sign.key_frames[1]
    out = BODY.forward(sign.motion, np.array([frame]))
    return sign, out.joints[0], out.joint_rotations[0], frame


def finger_direction(joints: np.ndarray, side: str = "right") -> np.ndarray:
    """Wrist to the middle finger's base: where extended fingers would point."""
    vector = joints[JOINT_INDEX[f"{side}_middle1"]] - joints[JOINT_INDEX[f"{side}_wrist"]]
    return vector / np.linalg.norm(vector)


def palm_normal(joints: np.ndarray, side: str = "right") -> np.ndarray:
    """The palm's normal from the wrist and the index and pinky bases (toward the palm)."""
    wrist = joints[JOINT_INDEX[f"{side}_wrist"]]
    index = joints[JOINT_INDEX[f"{side}_index1"]] - wrist
    pinky = joints[JOINT_INDEX[f"{side}_pinky1"]] - wrist
    normal = np.cross(index, pinky) if side == "right" else np.cross(pinky, index)
    return normal / np.linalg.norm(normal)


def angle(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.degrees(np.arccos(np.clip(a @ b / np.linalg.norm(a) / np.linalg.norm(b),
                                              -1, 1))))


def test_direction_names():
    assert np.allclose(direction("extfingeru"), [0, 1, 0])
    assert np.allclose(direction("moveo"), [0, 0, 1])
    assert np.allclose(direction("palml"), [1, 0, 0])      # the signer's left is +X
    assert np.allclose(direction("extfingerdr"), np.array([-1, -1, 0]) / np.sqrt(2))
    assert np.allclose(combined(("extfingeruo", "extfingerol")),
                       np.array([1, 1, 2]) / np.sqrt(6))
    with pytest.raises(ValueError, match="expected letters"):
        direction("movex")


def test_palm_is_read_relative_to_the_fingers():
    up = direction("extfingeru")
    assert np.allclose(palm_vector(up, direction("palmd")), [0, 0, 1])    # away
    assert np.allclose(palm_vector(up, direction("palmu")), [0, 0, -1])   # toward the signer
    away = direction("extfingero")
    assert np.allclose(palm_vector(away, direction("palmd")), [0, -1, 0])
    left = direction("extfingerl")
    assert np.allclose(palm_vector(left, direction("palml")), [0, 0, -1])


FINGERS = ["extfingeru", "extfingero", "extfingerol", "extfingeruo", "extfingerul", "extfingerl",
           "extfingerd", "extfingerdo", "extfingerur", "extfingeror"]
PALMS = ["palmd", "palml", "palmu", "palmr", "palmdl", "palmul"]


@pytest.mark.parametrize("finger", FINGERS)
def test_finger_direction_and_palm_as_written(finger):
    written_finger = direction(finger)
    for palm in PALMS:
        written_palm = palm_vector(written_finger, direction(palm))
        _, joints, _, _ = first_posture(f"flathand {finger} {palm} chest")
        assert angle(finger_direction(joints), written_finger) < 15, (finger, palm)
        assert angle(palm_normal(joints), written_palm) < 20, (finger, palm)


def contact_distance(joints_or_points: np.ndarray, anchor: np.ndarray) -> float:
    return float(np.min(np.linalg.norm(joints_or_points - anchor, axis=-1)))


@pytest.mark.parametrize("site", ["forehead", "chin", "nose", "chest", "cheek", "shoulders"])
def test_named_fingertip_touches_the_site(site):
    sign = synthesise(from_names(f"finger2 thumbacrossmod extfingeru palml indexfinger "
                                 f"fingertip {site} touch"))
    frame = sign.key_frames[1]
    tip = hand_points(BODY, sign.motion.frame(frame))[0, 8]  # MediaPipe index tip
    anchor = body_anchors(BODY).site(site).position
    assert np.linalg.norm(tip - anchor) < 0.02


def test_palm_touches_the_chest():
    sign = synthesise(from_names("flathand extfingerl palml chest touch"))
    out = BODY.forward(sign.motion, np.array([sign.key_frames[1]]))
    hand = np.isin(BODY.skin_weights.argmax(axis=1),
                   [JOINT_INDEX["right_wrist"]] + RIGHT_HAND)
    anchor = body_anchors(BODY).site("chest").position
    assert contact_distance(out.vertices[0][hand], anchor) < 0.02
    joints = out.joints[0]
    assert angle(palm_normal(joints), [0, 0, -1]) < 20  # the palm faces the body


def test_close_is_near_but_not_touching():
    touch = synthesise(from_names("flathand extfingerl palml chest touch"))
    close = synthesise(from_names("flathand extfingerl palml chest close"))
    wrist = JOINT_INDEX["right_wrist"]
    z_touch = BODY.forward(touch.motion, np.array([touch.key_frames[1]])).joints[0, wrist, 2]
    z_close = BODY.forward(close.motion, np.array([close.key_frames[1]])).joints[0, wrist, 2]
    assert 0.02 < z_close - z_touch < 0.10


def test_symmetric_sign_mirrors_exactly():
    sign = synthesise(from_names("symmlr flathand extfingeru palml chest moveo"))
    joints = BODY.forward(sign.motion).joints
    left = joints[:, [JOINT_INDEX[f"left_{j}"] for j in ("wrist", "elbow", "index3")]]
    right = joints[:, [JOINT_INDEX[f"right_{j}"] for j in ("wrist", "elbow", "index3")]]
    assert np.allclose(left * [-1, 1, 1], right, atol=1e-4)


def test_one_handed_sign_leaves_the_other_arm_down():
    sign = synthesise(from_names("finger2 extfingero palmd chest moveo"))
    joints = BODY.forward(sign.motion).joints
    left, spine = joints[:, JOINT_INDEX["left_wrist"], 1], joints[:, JOINT_INDEX["spine1"], 1]
    assert np.all(left < spine)


def forward_peaks(names: str) -> int:
    """How many times the hand moves forward and stops, between the first posture and
    the last (the rise from rest and the relax back are not counted)."""
    sign = synthesise(from_names(names))
    frames = np.arange(sign.key_frames[1], sign.key_frames[-2] + 1)
    z = BODY.forward(sign.motion, frames).joints[:, JOINT_INDEX["right_wrist"], 2]
    peaks = (z[1:-1] > z[:-2] + 1e-5) & (z[1:-1] >= z[2:])
    return int(peaks.sum())


@pytest.mark.parametrize("repetition,count", [("", 1), ("repeatfromstart", 2),
                                              ("repeatfromstartseveral", 3)])
def test_repetition_counts(repetition, count):
    assert forward_peaks(f"finger2 extfingero palmd chest moveo {repetition}") == count


def test_straight_movement_goes_the_way_written_by_its_size():
    wrist = JOINT_INDEX["right_wrist"]
    for size, (low, high) in (("smallmod", (0.03, 0.08)), ("", (0.08, 0.15)),
                              ("largemod", (0.15, 0.25))):
        sign = synthesise(from_names(f"flathand extfingero palmd chest movel {size}"))
        start, end = sign.key_frames[1], sign.key_frames[-3]
        path = BODY.forward(sign.motion, np.array([start, end])).joints[:, wrist]
        moved = path[1] - path[0]
        assert angle(moved, [1, 0, 0]) < 10 and low < np.linalg.norm(moved) < high, size


def test_circle_returns_to_its_start():
    sign = synthesise(from_names("finger2 extfingero palmd chest circleo"))
    wrist = JOINT_INDEX["right_wrist"]
    keys = sign.key_frames
    path = BODY.forward(sign.motion, np.arange(keys[2], keys[3] + 1)).joints[:, wrist]
    assert np.linalg.norm(path[-1] - path[0]) < 1e-3
    assert np.ptp(path[:, 0]) > 0.05 and np.ptp(path[:, 1]) > 0.05  # round in the x-y plane
    assert np.ptp(path[:, 2]) < 0.01


def test_replace_changes_the_handshape():
    from engine.notation.handshapes import hand_pose, handshape_from_names

    sign = synthesise(from_names("flathand extfingero palmd chest replace fist"))
    end = sign.motion.right_hand_pose[sign.key_frames[-3]]
    assert np.allclose(end, hand_pose(handshape_from_names("fist")), atol=1e-4)


def test_keyframes_at_rest_and_every_posture():
    sign = synthesise(from_names("finger2 extfingero palmd chest moveo replace fist"))
    # rest, first posture, settle, move, replace, hold end, rest
    assert len(sign.key_frames) == 7
    assert sign.key_frames[0] == 0 and sign.key_frames[-1] == sign.motion.num_frames - 1


def test_elbow_stays_out_of_the_trunk_for_the_other_shoulder():
    anchors = body_anchors(BODY)
    solver = ArmSolver(BODY.rest_joints, anchors.torso)
    target = anchors.site("shoulders", "left").position + np.array([0.0, 0.0, 0.08])
    rotation = np.eye(3)
    pose, reached = solver.solve("right", target[None], rotation[None])
    from engine.motion.motion import Motion

    body = np.zeros((1, 21, 3), np.float32)
    for joint, value in (("shoulder", pose.shoulder), ("elbow", pose.elbow),
                         ("wrist", pose.wrist)):
        body[:, JOINT_INDEX[f"right_{joint}"] - 1] = value
    joints = BODY.forward(Motion.zeros(1).replace(body_pose=body)).joints[0]
    assert np.linalg.norm(joints[JOINT_INDEX["right_wrist"]] - target) < 1e-3
    assert reached[0] < 1e-6
    assert anchors.torso.inside(joints[JOINT_INDEX["right_elbow"]]) == 0.0


def test_unsupported_features_are_named():
    with pytest.raises(UnsupportedNotation, match="relative orientation"):
        synthesise(from_names("flathand extfingero palmd orirelative chest"))


@pytest.mark.slow  # synthesises all 1,364 DSGS signs
def test_dsgs_coverage_is_at_least_80_percent():
    strings = [entry.hamnosys[0] for entry in notation_entries()]
    result = coverage(strings)
    assert result.total == 1364
    assert result.share >= 0.80, result.unsupported
    assert sum(result.unsupported.values()) + sum(result.invalid.values()) + result.made \
        == result.total


def _hand_vertices(side: str) -> np.ndarray:
    joints = [JOINT_INDEX[f"{side}_wrist"]] + [JOINT_INDEX[f"{side}_{f}{k}"] for f in (
        "index", "middle", "ring", "pinky", "thumb") for k in (1, 2, 3)]
    return np.isin(BODY.skin_weights.argmax(axis=1), joints)


def test_brushing_touches_half_way_only():
    sign = synthesise(from_names("finger2 extfingero palmd chest close movel brushing"))
    start, end = sign.key_frames[2], sign.key_frames[3]
    out = BODY.forward(sign.motion, np.arange(start, end + 1))
    anchor = body_anchors(BODY).site("chest").position
    near = [contact_distance(v[_hand_vertices("right")], anchor) for v in out.vertices]
    assert min(near) < 0.02                      # it brushes the chest ...
    assert near[0] > 0.025 and near[-1] > 0.025  # ... not at the start or the end
    assert 0.3 < int(np.argmin(near)) / len(near) < 0.7


def test_hand_touches_the_back_of_the_other_wrist():
    sign = synthesise(from_names("parbegin finger2 extfingerol palmd plus flathand extfingeror "
                                 "palmd parend wristback touch"))
    frame = sign.key_frames[1]
    out = BODY.forward(sign.motion, np.array([frame]))
    wrist = JOINT_INDEX["left_wrist"]
    back = out.joints[0, wrist] + out.joint_rotations[0, wrist] @ np.array([-0.015, 0.025, 0])
    assert contact_distance(out.vertices[0][_hand_vertices("right")], back) < 0.02


@pytest.mark.parametrize("laterality, signer_side", [("lrbeside chest", 1.0),
                                                      ("chest lrbeside", -1.0)])
def test_a_location_pair_names_the_signers_sides_for_the_other_hand(laterality, signer_side):
    # ZIMMERMANN: the right hand at the chest, the left "lrbeside chest". Written before
    # the site it is the non-dominant (left, +x) side; read from the left hand's own
    # point of view it went beside the right of the chest, its arm through the trunk.
    sign = synthesise(from_names("parbegin flathand extfingero palmd plus flathand extfingero "
                                 f"palmu parend parbegin chest plus {laterality} parend"))
    out = BODY.forward(sign.motion, np.array([sign.key_frames[1]]))
    left_wrist = out.joints[0, JOINT_INDEX["left_wrist"]]
    anchors = body_anchors(BODY)
    beside = anchors.site("chest", "left" if signer_side > 0 else "right", beside=True)
    assert np.sign(left_wrist[0]) == signer_side
    assert abs(left_wrist[0]) > abs(beside.position[0]) - 0.05


def test_interlocked_hands_reach_into_each_other():
    sign = synthesise(from_names("symmpar parbegin flathand fingerbendmod extfingerol palmd plus "
                                 "flathand fingerbendmod extfingeror palmu parend palm interlock"))
    out = BODY.forward(sign.motion, np.array([sign.key_frames[1]]))
    right = out.vertices[0][_hand_vertices("right")]
    left = out.vertices[0][_hand_vertices("left")]
    gaps = np.linalg.norm(right[::7, None] - left[None, ::7], axis=-1)
    assert gaps.min() < 0.01


def test_repetition_inside_a_parallel_group_repeats():
    # move right repeatedly while moving down: two strokes to the right, one way down
    sign = synthesise(from_names("finger2 extfingero palmd chest parbegin mover "
                                 "repeatfromstart moved parend"))
    frames = np.arange(sign.key_frames[1], sign.key_frames[-2] + 1)
    wrist = BODY.forward(sign.motion, frames).joints[:, JOINT_INDEX["right_wrist"]]
    x, y = -wrist[:, 0], wrist[:, 1]  # toward the signer's right, and up
    strokes = (x[1:-1] > x[:-2] + 1e-5) & (x[1:-1] >= x[2:])
    assert strokes.sum() == 2
    assert y[-1] < y[0] - 0.05


@pytest.mark.slow
def test_a_sign_lands_on_the_active_body(tmp_path):
    """Anchors are measured on whichever body signs: on a larger SMPL-X body (a
    synthetic model file, 15% larger than the default avatar) the fingertip touches
    that body's forehead, not where the default avatar's would be."""
    from engine.body.smplx_model import SmplxBody
    from tests.synthetic_smplx import write_synthetic_smplx

    folder = tmp_path / "models"
    folder.mkdir()
    write_synthetic_smplx(folder / "SMPLX_NEUTRAL.npz", BODY.rest_joints * 1.15)
    large = SmplxBody(folder)
    names = "finger2 thumbacrossmod extfingeru palml indexfinger fingertip forehead touch"
    sign = synthesise(from_names(names), large)
    frame = sign.key_frames[1]
    tip = hand_points(large, sign.motion.frame(frame))[0, 8]
    own = body_anchors(large).site("forehead").position
    default = body_anchors(BODY).site("forehead").position
    assert np.linalg.norm(own - default) > 0.05
    assert np.linalg.norm(tip - own) < 0.02


def test_symmetric_hands_meet_when_a_movement_ends_in_contact():
    sign = synthesise(from_names("symmlr flathand extfingeru palml movel touch"))
    out = BODY.forward(sign.motion, np.array([sign.key_frames[-3]]))
    right = out.vertices[0][_hand_vertices("right")]
    left = out.vertices[0][_hand_vertices("left")]
    gaps = np.linalg.norm(right[::5, None] - left[None, ::5], axis=-1)
    assert gaps.min() < 0.015  # palm to palm in the middle
    wrists = out.joints[0, [JOINT_INDEX["left_wrist"], JOINT_INDEX["right_wrist"]]]
    assert np.allclose(wrists[0] * [-1, 1, 1], wrists[1], atol=1e-4)


def _largest_step(array: np.ndarray) -> float:
    return float(np.abs(np.diff(array, axis=0)).max())


def test_a_local_movement_with_a_change_of_handshape_at_once_is_smooth():
    sign = synthesise(from_names("flathand extfingero palmd chest parbegin nodding replace "
                                 "fist parend"))
    fingers = sign.motion.right_hand_pose
    assert _largest_step(fingers) < 0.35  # no jump: the fist forms over the phase
    wrist = sign.motion.body_pose[:, JOINT_INDEX["right_wrist"] - 1]
    frames = slice(sign.key_frames[2], sign.key_frames[3])
    assert np.ptp(wrist[frames], axis=0).max() > 0.3  # and the wrist nods meanwhile


def test_repetitions_return_the_head_and_reverse_in_place_changes_smoothly():
    head = JOINT_INDEX["head"] - 1
    tilt = synthesise(from_names("flathand extfingeru palml cheek lrat touch seqbegin head "
                                 "movedr smallmod seqend repeatfromstart"))
    assert _largest_step(tilt.motion.body_pose[:, head]) < 0.05
    back = synthesise(from_names("finger2 extfingero palmd chest parbegin moveo replace palml "
                                 "parend repeatreverse"))
    assert _largest_step(back.motion.body_pose[:, JOINT_INDEX["right_wrist"] - 1]) < 0.5


def test_forearm_twist_is_read_within_half_a_turn():
    from scipy.spatial.transform import Rotation

    from engine.notation.placement import _twist_angle

    axis = np.array([-1.0, 0.0, 0.0])
    for angle in (-3.0, -1.0, 0.5, 3.0):
        rotation = Rotation.from_rotvec(axis * angle).as_matrix()[None]
        assert _twist_angle(rotation, axis)[0] == pytest.approx(angle, abs=1e-6)


@pytest.mark.slow
def test_wrists_stay_within_their_range_over_the_dsgs_signs():
    """Every 20th DSGS sign, every frame: no wrist turns past its limit (a folded
    wrist shows as a hand detached from its forearm)."""
    from engine.notation.hamnosys import NotationError
    from engine.notation.placement import WRIST_LIMIT

    worst = 0.0
    for entry in notation_entries()[::20]:
        try:
            motion = synthesise(entry.hamnosys[0]).motion
        except (UnsupportedNotation, NotationError):
            continue
        for joint in ("left_wrist", "right_wrist"):
            turned = np.linalg.norm(motion.body_pose[:, JOINT_INDEX[joint] - 1], axis=1)
            worst = max(worst, float(turned.max()))
    assert worst <= WRIST_LIMIT + 1e-4


@pytest.mark.parametrize("source, target", [
    ((1.0, 0.0, 0.0), (0.0, 1.0, 0.0)),     # a quarter turn
    ((0.0, 0.0, 1.0), (0.0, 0.0, 1.0)),     # already there
    ((1.0, 0.0, 0.0), (-1.0, 0.0, 0.0)),    # opposite: any half turn
    ((0.0, 1.0, 0.0), (0.0, -1.0, 0.0)),
    ((0.3, -0.5, 0.8), (-0.6, 0.1, 0.2)),
])
def test_minimal_turn_takes_one_direction_to_the_other_the_short_way(source, target):
    from engine.notation.placement import minimal_turn

    source = np.array(source) / np.linalg.norm(source)
    target = np.array(target) / np.linalg.norm(target)
    turn = minimal_turn(source, target)
    np.testing.assert_allclose(turn @ turn.T, np.eye(3), atol=1e-12)
    assert np.linalg.det(turn) == pytest.approx(1.0)
    np.testing.assert_allclose(turn @ source, target, atol=1e-12)
    # no further than the angle between them (a half turn only when they are opposite)
    angle = np.arccos(np.clip((np.trace(turn) - 1) / 2, -1, 1))
    assert angle == pytest.approx(np.arccos(np.clip(source @ target, -1, 1)), abs=1e-9)


def test_the_version_digest_reads_every_module_the_synthesiser_runs():
    """A stored sign is made again when any code that made it changes: every
    ``engine.notation`` module that ``synthesise`` runs is a file the digest reads."""
    import sys
    from pathlib import Path

    from engine.notation import synthesis

    synthesise(from_names("flathand extfingeru palml chest moveo"))
    read = {path.resolve() for path in Path(synthesis.__file__).parent.glob("*.py")}
    loaded = {Path(module.__file__).resolve() for name, module in list(sys.modules.items())
              if name.startswith("engine.notation.") and getattr(module, "__file__", None)}
    assert len(loaded) >= 10 and loaded <= read


@pytest.mark.parametrize("site, landmarks", [
    ("nostrils", (2,)),            # subnasale
    ("lips", (13, 14)),            # the inner lips' middle
    ("chin", (199, 175)),          # the chin's front
    ("underchin", (152,)),         # the bottom of the chin
])
def test_face_sites_lie_where_the_face_does(site, landmarks):
    """The sites below the nose, on the default avatar, within a centimetre of where
    MediaPipe's face landmarks lie on its mesh (an independent measurement,
    assets/mediapipe_face_points.json). The jaw bone's end vertex, used before to find
    the chin, lay at the lips: the chin site was 3 cm high, on the upper lip."""
    from engine.body.face_points import face_points_on
    from engine.motion import Motion

    body = default_avatar()
    face = face_points_on(body.forward(Motion.zeros(1)).vertices[0])
    expected = face[list(landmarks)].mean(axis=0)
    assert abs(body_anchors(body).site(site).position[1] - expected[1]) < 0.01
