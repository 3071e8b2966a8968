"""Fluent signing: jitter filtered, letters in one place, forms shown briefly, no
frozen frames inside a word, double letters marked."""
import numpy as np
import pytest

from engine.body.default_avatar import default_avatar
from engine.body.reach import shift_wrist
from engine.body.reference_poses import arms_down, signing_pose
from engine.body.skeleton import JOINT_INDEX
from engine.data.lexicon import LexiconEntry, LexiconStore
from engine.generate.assemble import assemble
from engine.generate.fluency import played_frames, word_offsets
from engine.generate.text import Token, TokenKind, text_to_tokens
from engine.generate.timing import DOUBLE_LETTER_SHIFT_M, Timing
from engine.motion import Motion
from engine.motion.errors import MotionError, UsageError
from engine.motion.filtering import low_pass
from engine.motion.interpolate import inbetween

FPS = 30
WRIST = JOINT_INDEX["right_wrist"]


def test_low_pass_removes_tremor_and_keeps_the_movement():
    frames = np.arange(60)
    slow = np.sin(2 * np.pi * 1.0 * frames / FPS) * 0.6          # a 1 Hz movement
    tremor = np.sin(2 * np.pi * 12.0 * frames / FPS) * 0.05      # 12 Hz jitter
    pose = np.zeros((60, 21, 3), np.float32)
    pose[:, 17, 2] = slow + tremor  # the right elbow
    motion = Motion.zeros(60, fps=FPS).replace(body_pose=pose)
    filtered = low_pass(motion, 6.0).body_pose[:, 17, 2]
    inner = slice(10, 50)  # away from the ends' padding
    assert np.abs(filtered[inner] - slow[inner]).max() < 0.01
    assert np.abs(np.diff(filtered[inner], 3)).max() < 0.2 * np.abs(np.diff((slow + tremor)[inner], 3)).max()


def test_low_pass_follows_a_rotation_through_the_quaternion_sign_flip():
    """Turning past 180 degrees flips axis-angle (and scipy's canonical quaternion);
    filtered as it is, the flip would be a jump of a whole turn."""
    angles = np.linspace(2.6, 3.6, 40)  # through pi
    rotvecs = np.zeros((40, 3), np.float32)
    rotvecs[:, 1] = np.where(angles <= np.pi, angles, angles - 2 * np.pi)
    motion = Motion.zeros(40, fps=FPS).replace(global_orient=rotvecs)
    filtered = low_pass(motion, 6.0).global_orient
    from scipy.spatial.transform import Rotation
    steps = (Rotation.from_rotvec(filtered[1:]) * Rotation.from_rotvec(filtered[:-1]).inv()).magnitude()
    assert steps.max() < 0.05  # about 1/40 of a radian a frame, never a turn


def test_low_pass_refuses_a_cut_off_above_nyquist_and_leaves_short_clips():
    with pytest.raises(MotionError, match="cut-off"):
        low_pass(Motion.zeros(30, fps=25), 13.0)
    short = Motion.zeros(4, fps=25)
    assert low_pass(short, 6.0) is short


def test_shift_wrist_moves_the_hand_and_keeps_its_orientation_and_shape():
    avatar = default_avatar()
    motion = Motion.concatenate([signing_pose("asl_v"), signing_pose("fist")])
    offset = np.array([0.04, -0.03, 0.02])
    moved = shift_wrist(motion, avatar.rest_joints, avatar.parents, "right", offset)
    before, after = avatar.forward(motion), avatar.forward(moved)
    np.testing.assert_allclose(after.joints[:, WRIST] - before.joints[:, WRIST],
                               np.tile(offset, (2, 1)), atol=1e-5)
    np.testing.assert_allclose(after.joint_rotations[:, WRIST], before.joint_rotations[:, WRIST],
                               atol=1e-5)
    assert np.array_equal(moved.right_hand_pose, motion.right_hand_pose)
    assert np.array_equal(moved.body_pose[:, :15], motion.body_pose[:, :15])  # trunk, left arm


def test_played_frames_show_the_form_for_its_time_and_speed_up_the_rest():
    positions = played_frames((0, 30), (10, 19), form_frames=4, speed=2.0)
    assert positions[0] == 0 and positions[-1] == 29
    assert np.all(np.diff(positions) > 0)
    in_form = np.count_nonzero((positions >= 10) & (positions <= 18))
    assert 3 <= in_form <= 5
    # 20 frames of movement at twice the speed: about 10 frames more.
    assert 12 <= len(positions) <= 16
    capped = played_frames((0, 30), (10, 19), form_frames=4, speed=2.0, movement_frames=4)
    assert len(capped) < len(positions)


def test_word_offsets_bring_letters_to_the_median_place_and_slide_a_double_letter():
    places = [np.array([0.0, 0.0, 0.3]), np.array([0.02, 0.0, 0.3]),
              np.array([0.05, 0.0, 0.3]), np.array([0.5, 0.0, 0.3])]
    offsets = word_offsets(places, ["A", "N", "N", "J"], "slide", "right")
    centre = np.median(np.stack(places), axis=0)
    np.testing.assert_allclose(places[0] + offsets[0], centre)
    # The second N: at the place, then slid toward the signer's right (-x).
    np.testing.assert_allclose(places[2] + offsets[2], centre + [-DOUBLE_LETTER_SHIFT_M, 0, 0])
    assert np.array_equal(offsets[3], np.zeros(3))  # too far away to be a mistake


def _letter(shape: str, place: np.ndarray, rng) -> Motion:
    """A letter recorded on its own: rise from rest, the handshape held at ``place`` (an
    offset of the wrist) with the small sway and tremor of a real hold, drop back."""
    avatar = default_avatar()
    rest = arms_down(Motion.zeros(1, fps=FPS))
    raised = shift_wrist(signing_pose(shape).replace(fps=FPS), avatar.rest_joints,
                         avatar.parents, "right", place)
    hold = Motion.concatenate([raised] * 12)
    tremor = rng.normal(0, 0.01, hold.right_hand_pose.shape).astype(np.float32)
    sway = rng.normal(0, 0.005, hold.body_pose.shape).astype(np.float32)
    hold = hold.replace(right_hand_pose=hold.right_hand_pose + tremor,
                        body_pose=hold.body_pose + sway)
    return Motion.concatenate([rest, inbetween(rest, raised, 6), hold,
                               inbetween(raised, rest, 6), rest])


@pytest.fixture
def placed_store(tmp_path):
    rng = np.random.default_rng(3)
    places = {"A": [0.0, 0.0, 0.0], "N": [0.05, 0.03, 0.0], "E": [-0.04, -0.02, 0.03]}
    shapes = {"A": "fist", "N": "asl_v", "E": "flat"}
    store = LexiconStore(tmp_path / "placed.sqlite")
    for letter, place in places.items():
        store.add(LexiconEntry(gloss=letter, language="ase", words=(letter,),
                               motion=_letter(shapes[letter], np.array(place), rng),
                               source_kind="package", source="-", source_hash=letter,
                               licence="test", kind="letter", quality={"low_pass_hz": 6.0}))
    yield store
    store.close()


def test_a_spelled_word_is_signed_in_one_place_without_frozen_frames(placed_store):
    project = assemble(text_to_tokens("anne", "ase", placed_store), placed_store, "ase",
                       Timing(fps=FPS))
    assert [s.gloss for s in project.segments] == ["A", "N", "N", "E"]
    joints = default_avatar().joints(project.motion)
    neck = JOINT_INDEX["neck"]
    places = [(joints[s.start:s.end, WRIST] - joints[s.start:s.end, neck]).mean(axis=0)
              for s in project.segments]
    # Recorded up to 7 cm apart; assembled at one place, but for the double N's slide.
    assert np.linalg.norm(places[0] - places[3]) < 0.01
    slide = places[2] - places[1]
    assert slide[0] == pytest.approx(-DOUBLE_LETTER_SHIFT_M, abs=0.005)
    # No run of frozen frames anywhere inside the word.
    first, last = project.segments[0].start, project.segments[-1].end
    change = np.abs(np.diff(project.motion.full_pose()[first:last], axis=0)).max(axis=(1, 2))
    frozen = max((len(run) for run in np.split(change, np.flatnonzero(change >= 1e-3))
                  if len(run)), default=0)
    assert frozen <= 1
    # Three letters a second or faster inside the word (onset to onset).
    onsets = [s.start for s in project.segments]
    assert (len(onsets) - 1) / ((onsets[-1] - onsets[0]) / FPS) >= 3.0


def test_timing_refuses_a_tempo_out_of_range():
    with pytest.raises(UsageError, match="tempo"):
        Timing(tempo=10.0)


def test_learned_transitions_fill_only_the_gaps_in_one_batch(placed_store):
    """With the shipped model, an utterance's transitions are drawn by it (all in one
    batch), the frames of the signs are those the spline version has, and the same
    text gives the same motion every time."""
    tokens = list(text_to_tokens("an ea", "ase", placed_store))
    learned = assemble(tokens, placed_store, "ase", Timing(fps=FPS, transitions="learned"))
    again = assemble(tokens, placed_store, "ase", Timing(fps=FPS, transitions="learned"))
    spline = assemble(tokens, placed_store, "ase", Timing(fps=FPS, transitions="spline"))
    assert learned.motion.equals(again.motion)
    assert [(s.start, s.end) for s in learned.segments] == [(s.start, s.end) for s in spline.segments]
    first, second = learned.segments[0], learned.segments[1]
    assert learned.motion.slice(first.start, first.end).equals(
        spline.motion.slice(first.start, first.end))
    gap = slice(first.end, second.start)
    assert not np.array_equal(learned.motion.right_hand_pose[gap],
                              spline.motion.right_hand_pose[gap])


def test_learned_transitions_without_the_model_say_so(placed_store, monkeypatch, tmp_path):
    from engine.generate import flow_backend

    monkeypatch.setattr(flow_backend, "default_checkpoint_path", lambda: tmp_path / "none.pt")
    tokens = list(text_to_tokens("an", "ase", placed_store))
    with pytest.raises(MotionError, match="none.pt"):
        assemble(tokens, placed_store, "ase", Timing(fps=FPS, transitions="learned"))
    # "auto" falls back to the spline.
    assert assemble(tokens, placed_store, "ase", Timing(fps=FPS)).motion.num_frames > 0
    with pytest.raises(UsageError, match="transitions"):
        Timing(transitions="teleport")


def test_no_cut_between_letters_at_a_low_frame_rate_and_high_tempo(placed_store):
    """At 10 fps and tempo 2 a 0.1 s transition rounds to no frame: there is still at
    least one, and as many as the joints need to turn no faster than a signer's."""
    from engine.generate.fluency import MAX_TRANSITION_SPEED_RAD_S, joint_turns

    project = assemble(text_to_tokens("ane", "ase", placed_store), placed_store, "ase",
                       Timing(fps=10, tempo=2.0, transitions="spline"))
    pose = project.motion.full_pose()
    for before, after in zip(project.segments, project.segments[1:]):
        assert after.start > before.end
        turned = joint_turns(pose[before.end - 1], pose[after.start]).max()
        assert turned / (after.start - before.end + 1) * 10 <= MAX_TRANSITION_SPEED_RAD_S + 1e-6


def test_a_letter_whose_form_is_all_of_it_still_shows_its_first_and_last_frame():
    positions = played_frames((0, 9), (0, 9), form_frames=1, speed=1.5, movement_frames=3)
    assert list(positions) == [0.0, 8.0]


def test_a_moving_letter_keeps_its_movement(tmp_path):
    """J's hook and Z's stroke are what they mean: a letter whose fingertip travels far
    outside its still part is sped up, not squeezed into the 0.1 s movement cap."""
    from engine.body.reference_poses import signing_pose
    from engine.generate.assemble import _measured_clip, _played

    avatar = default_avatar()
    held = Motion.concatenate([signing_pose("index_point").replace(fps=FPS)] * 10)
    stroke = [shift_wrist(held.frame(0), avatar.rest_joints, avatar.parents, "right",
                          [0.25 * np.sin(k / 3), 0.0, 0.05 * np.sin(k / 2)])
              for k in range(15)]
    z_letter = Motion.concatenate([held] + stroke)
    entry = LexiconEntry(gloss="Z", language="ase", words=("z",), motion=z_letter,
                         source_kind="manual", source="-", source_hash="z", licence="test",
                         kind="letter")
    clip = _measured_clip(entry, FPS)
    timing = Timing(fps=FPS)
    assert clip.moving
    shown = _played(clip, timing.letter, timing)
    # The stroke (15 frames) at 1.5x: about 10 frames, not the cap's 3.
    assert shown.num_frames >= timing.frames(timing.letter.form) + 8


def test_notation_signs_are_not_sped_up_twice(tmp_path):
    """A notation sign is synthesised at the signing_speed tempo (recorded in its
    entry); assembled at that same tempo it plays as made, at twice it twice as fast."""
    from engine.data.lexicon_build import add_notation
    from engine.notation.phases import NotationTiming

    with LexiconStore(tmp_path / "n.sqlite") as store:
        entry_id = add_notation(store, "\ue001\ue020\ue03e\ue051", "HAUS", "sgg",
                                words=("haus",), timing=NotationTiming(speed=2.0))
        tokens = [Token("haus", TokenKind.LEXICON, ("HAUS",), (entry_id,))]
        entry = store.get(entry_id)
        assert entry.quality["signing_speed"] == 2.0
        at_two = assemble(tokens, store, "sgg", Timing(fps=FPS, tempo=2.0, rest_transition=0))
        at_four = assemble(tokens, store, "sgg", Timing(fps=FPS, tempo=4.0, rest_transition=0))
    (made,) = at_two.segments
    (faster,) = at_four.segments
    from engine.generate.assemble import clip_articulation_span

    span = clip_articulation_span(entry.motion)
    assert abs(made.num_frames - (span[1] - span[0])) <= 2  # as synthesised
    assert faster.num_frames < 0.6 * made.num_frames


def test_the_rise_from_rest_and_the_drop_go_straight(placed_store):
    """Turning every joint at once from the hanging arm swung the hand 13 cm out
    sideways on its way up; the wrist now travels the straight line."""
    project = assemble(text_to_tokens("ane", "ase", placed_store), placed_store, "ase",
                       Timing(fps=FPS))
    wrist = default_avatar().joints(project.motion)[:, WRIST]
    first, last = project.segments[0].start, project.segments[-1].end - 1
    for low, high in ((0, first), (last, project.motion.num_frames - 1)):
        start, end = wrist[low], wrist[high]
        direction = (end - start) / np.linalg.norm(end - start)
        offsets = wrist[low:high + 1] - start
        off_line = offsets - (offsets @ direction)[:, None] * direction
        assert np.linalg.norm(off_line, axis=1).max() < 0.01


def test_the_last_steps_of_a_long_text_report_progress_and_can_be_cancelled(placed_store,
                                                                            monkeypatch):
    """Drawing the transitions (in batches) and keeping the hands out (in blocks) are
    the slow steps of a book-length text: both report, and a cancel stops them."""
    from engine.body import penetration as keep_out
    from engine.generate import flow_backend
    from engine.jobs import Cancelled, CancelToken

    monkeypatch.setattr(flow_backend, "FILL_BATCH", 2)
    monkeypatch.setattr(keep_out, "BLOCK_FRAMES", 20)
    tokens = list(text_to_tokens("ane ane", "ase", placed_store))
    messages = []
    assemble(tokens, placed_store, "ase", Timing(fps=FPS, transitions="learned"),
             progress=lambda done, total, message="": messages.append(message))
    assert sum("transitions" in m for m in messages) >= 3
    assert any("keeping the hands out" in m for m in messages)

    token = CancelToken()

    def cancel_at_transitions(done, total, message=""):
        if "transitions" in message:
            token.cancel()

    with pytest.raises(Cancelled):
        assemble(tokens, placed_store, "ase", Timing(fps=FPS, transitions="learned"),
                 progress=cancel_at_transitions, cancel=token)
