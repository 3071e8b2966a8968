"""Where the camera presets look: the hands close-up follows the hands that sign."""
import numpy as np
import pytest

from engine.body import default_avatar
from engine.body.reference_poses import arms_down, reference_poses, signing_pose
from engine.body.skeleton import JOINT_INDEX
from engine.export.render import focus_point, hands_close_up_height, signing_hands

LEFT, RIGHT = JOINT_INDEX["left_wrist"], JOINT_INDEX["right_wrist"]


def _joints(motion):
    return default_avatar().forward(motion).joints


def test_one_handed_signing_puts_the_signing_hand_in_the_close_up():
    # Right hand raised in signing space, left arm resting at the side: the close-up
    # must centre on the right hand, not on the torso between the two wrists.
    joints = _joints(signing_pose("fist"))
    assert signing_hands(joints).shape == (1, 1, 3)
    hand = joints[0, [RIGHT] + list(range(JOINT_INDEX["right_index1"],
                                          JOINT_INDEX["right_index1"] + 15))]
    centre = (hand.min(axis=0) + hand.max(axis=0)) / 2  # the middle of the hand's box
    np.testing.assert_allclose(focus_point(joints, "hands"), centre, atol=1e-6)
    assert hands_close_up_height(joints, 1.0, 0.55) == 0.55  # the preset's tight framing


def test_two_raised_hands_are_both_framed():
    joints = _joints(reference_poses()["rest_t_pose"])  # both arms out to the sides
    assert signing_hands(joints).shape == (1, 2, 3)
    np.testing.assert_allclose(focus_point(joints, "hands")[0], 0.0, atol=0.01)  # midway
    span = abs(joints[0, LEFT, 0] - joints[0, RIGHT, 0])
    assert hands_close_up_height(joints, 16 / 9, 0.55) >= span / (16 / 9)


def test_a_rest_pose_with_both_arms_down_frames_both_hands():
    joints = _joints(arms_down(reference_poses()["rest_t_pose"]))
    assert signing_hands(joints).shape == (1, 2, 3)


def test_a_hand_raised_in_any_frame_counts_and_its_travel_is_framed():
    down = arms_down(reference_poses()["rest_t_pose"])
    raised = signing_pose("flat")
    frames = np.concatenate([_joints(down), _joints(raised)])  # (2, 55, 3)
    wrists = signing_hands(frames)
    assert wrists.shape == (2, 1, 3)  # the right hand only
    travel = np.ptp(frames[:, RIGHT, 1])
    assert hands_close_up_height(frames, 1.0, 0.55) >= travel


def _in_view(points: np.ndarray, focus, direction, height: float, aspect: float) -> np.ndarray:
    """(N,) whether each point (N, 3) projects inside a 30-degree (vertical) pinhole view
    looking at ``focus`` from ``direction`` (the renderers' camera), y up."""
    distance = height / 2 / np.tan(np.radians(15.0))
    eye = focus + distance * direction
    forward = -direction
    right = np.cross(forward, [0.0, 1.0, 0.0])
    right /= np.linalg.norm(right)
    up = np.cross(right, forward)
    relative = points - eye
    depth = relative @ forward
    x, y = relative @ right / depth, relative @ up / depth
    half = np.tan(np.radians(15.0))
    return (np.abs(y) <= half) & (np.abs(x) <= half * aspect)


@pytest.mark.parametrize("preset", ["hands", "face_hands"])
def test_the_close_ups_keep_every_fingertip_of_the_signing_hands_in_the_picture(preset, tmp_path):
    """Aimed over the utterance's signs (as the viewport and video export both aim), the
    hands close-up shows the signing hands on every frame of the signs, not only the
    current one; the face close-up shows the head as well."""
    from engine.data.lexicon import LexiconEntry, LexiconStore
    from engine.export.render import aim_frames_sample, camera_view, signing_hands
    from engine.export.video import signs_span
    from engine.generate.assemble import assemble
    from engine.generate.text import text_to_tokens
    from tests.engine.test_fluency import _letter

    rng = np.random.default_rng(0)
    with LexiconStore(tmp_path / "lex.sqlite") as store:
        for letter, (shape, place) in {"A": ("fist", [0.0, 0.0, 0.0]),
                                       "B": ("flat", [0.12, 0.15, 0.05]),
                                       "C": ("asl_v", [-0.1, -0.12, 0.0])}.items():
            store.add(LexiconEntry(gloss=letter, language="ase", words=(letter,),
                                   motion=_letter(shape, np.array(place), rng),
                                   source_kind="manual", source="-", source_hash=letter,
                                   licence="test", kind="letter"))
        project = assemble(text_to_tokens("a b c", "ase", store), store, "ase")
    body = default_avatar()
    joints = body.joints(project.motion)
    span = signs_span(project.segments)
    aspect = 16 / 9
    focus, direction, height = camera_view(
        preset, joints[aim_frames_sample(len(joints), span)], aspect)
    tips = [JOINT_INDEX[f"right_{finger}3"] for finger in ("index", "middle", "ring", "pinky", "thumb")]
    shown = joints[span[0]:span[1]]
    points = np.concatenate([shown[:, tips].reshape(-1, 3), signing_hands(shown).reshape(-1, 3)])
    if preset == "face_hands":
        points = np.concatenate([points, shown[:, JOINT_INDEX["head"]]])
    assert _in_view(points, focus, direction, height, aspect).all()
    # and it is a close-up: the hips are out of the picture
    assert not _in_view(joints[:1, JOINT_INDEX["pelvis"]], focus, direction, height, aspect).any()
