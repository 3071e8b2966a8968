"""Joining isolated signs: each lexicon clip rises from rest, signs, and drops back;
assembled, the hands stay in signing space from the first sign to the last, and only
the utterance as a whole rises from rest and returns to it."""
import numpy as np
import pytest

from engine.body.default_avatar import default_avatar
from engine.body.reference_poses import arms_down, signing_pose
from engine.body.skeleton import JOINT_INDEX
from engine.data.lexicon import LexiconEntry, LexiconStore
from engine.generate.assemble import (
    MIN_FRAMES_TO_TRIM, articulation_span, assemble, transition_ranges,
)
from engine.generate.timing import Timing
from engine.generate.text import text_to_tokens
from engine.motion import Motion
from engine.motion.interpolate import inbetween
from tests.conftest import letter_clip

FPS = 25
RISE, HOLD, DROP = 5, 8, 5  # frames strictly between rest and the raised pose


def rest_pose() -> Motion:
    return arms_down(Motion.zeros(1, fps=FPS))


def raised_pose(shape: str) -> Motion:
    return signing_pose(shape).replace(fps=FPS)


def rising_letter_clip(shape: str) -> Motion:
    """An isolated letter as the lexicon stores one: one rest frame, RISE frames up,
    HOLD frames of the right hand raised in signing space showing ``shape``, DROP
    frames down, one rest frame. The hold is frames [RISE + 1, RISE + 1 + HOLD)."""
    rest, raised = rest_pose(), raised_pose(shape)
    return Motion.concatenate([rest, inbetween(rest, raised, RISE), *[raised] * HOLD,
                               inbetween(raised, rest, DROP), rest])


def wrist_height(motion: Motion) -> np.ndarray:
    """(F,) metres of the right wrist above the spine1 joint."""
    joints = default_avatar().forward(motion).joints
    return joints[:, JOINT_INDEX["right_wrist"], 1] - joints[:, JOINT_INDEX["spine1"], 1]


def span_of(clip: Motion) -> tuple[int, int]:
    return articulation_span(default_avatar().forward(clip).joints, clip.fps)


LETTERS = {"A": "fist", "B": "flat", "D": "index_point", "V": "asl_v"}


@pytest.fixture
def store(tmp_path):
    store = LexiconStore(tmp_path / "lex.sqlite")
    for letter, shape in LETTERS.items():
        store.add(LexiconEntry(gloss=letter, language="ase", words=(letter,),
                               motion=rising_letter_clip(shape), source_kind="manual",
                               source="-", source_hash=letter, licence="test", kind="letter"))
    yield store
    store.close()


def test_the_span_of_a_rise_hold_drop_clip_is_its_hold():
    clip = rising_letter_clip("asl_v")
    hold_start, hold_stop = RISE + 1, RISE + 1 + HOLD
    start, stop = span_of(clip)
    # The whole hold, and at most the last frame of the rise / first of the drop.
    assert hold_start - 1 <= start <= hold_start
    assert hold_stop <= stop <= hold_stop + 1
    height = wrist_height(clip)
    assert height[:start].max() < height[hold_start] - 0.05
    assert height[stop:].max() < height[hold_start] - 0.05


def test_a_sign_that_moves_down_by_itself_keeps_its_lower_ending():
    """Like ASL J: up, a held start, a descent that is part of the sign, a pause lower
    down, then the drop to rest. The pause belongs to the sign and must be kept."""
    rest, raised = rest_pose(), raised_pose("index_point")
    lower = inbetween(raised, rest, 2).frame(0)  # a third of the way down
    held, descent, paused = 7, 3, 4
    clip = Motion.concatenate([rest, inbetween(rest, raised, RISE), *[raised] * held,
                               inbetween(raised, lower, descent), *[lower] * paused,
                               inbetween(lower, rest, DROP), rest])
    pause_stop = RISE + 1 + held + descent + paused
    height = wrist_height(clip)
    assert height[RISE + 1] - height[pause_stop - 1] > 0.05  # the sign's own descent
    start, stop = span_of(clip)
    assert start <= RISE + 1 and pause_stop <= stop <= pause_stop + 1


def test_a_resting_arm_that_sways_below_the_waist_does_not_move_the_span():
    clip = rising_letter_clip("flat")
    body = clip.body_pose.copy()
    # The left arm lifts ~6 cm within the first frames and stays there, below the waist.
    sway = np.minimum(np.arange(clip.num_frames) / 2, 1.0)
    body[:, JOINT_INDEX["left_shoulder"] - 1, 2] += (0.32 * sway).astype(np.float32)
    swaying = clip.replace(body_pose=body)
    joints = default_avatar().forward(swaying).joints
    left = joints[:, JOINT_INDEX["left_wrist"], 1] - joints[:, JOINT_INDEX["spine1"], 1]
    assert left.max() < 0 and left.max() - left[0] > 0.05
    assert span_of(swaying) == span_of(clip)


def test_a_clip_that_never_rises_or_is_too_short_is_used_whole():
    at_the_waist = letter_clip("asl_v", frames=12)  # arms down throughout
    assert span_of(at_the_waist) == (0, 12)
    short = rising_letter_clip("flat").slice(RISE - 1, RISE - 1 + MIN_FRAMES_TO_TRIM - 1)
    assert span_of(short) == (0, short.num_frames)


def test_hands_stay_in_signing_space_between_the_first_letter_and_the_last(store):
    """Before, every letter's clip was used whole: the hand dropped to the waist after
    each letter, was held there and rose again for the next."""
    project = assemble(text_to_tokens("bad va", "ase", store), store, "ase", Timing(fps=FPS))
    assert [s.gloss for s in project.segments] == ["B", "A", "D", "V", "A"]
    height = wrist_height(project.motion)
    rest, raised = wrist_height(rest_pose())[0], wrist_height(raised_pose("flat"))[0]
    first, last = project.segments[0], project.segments[-1]
    between = height[first.end - first.hold:last.start + 1]
    assert between.min() > rest + 0.9 * (raised - rest)
    # The utterance still rises from rest and returns to it.
    assert height[0] == pytest.approx(rest, abs=1e-4)
    assert height[-1] == pytest.approx(rest, abs=1e-4)


def test_segments_and_keyframes_describe_the_frames_used(store):
    """Each letter plays the part of its clip in signing space (never its rise or drop:
    the utterance's own rise and drop are generated), and keyframes pin the motion's
    own frames at each segment's onset, midpoint and offset and at both rests."""
    project = assemble(text_to_tokens("bad", "ase", store), store, "ase", Timing(fps=FPS))
    motion = project.motion
    expected_keys = {0, motion.num_frames - 1}
    rest, raised = wrist_height(rest_pose())[0], wrist_height(raised_pose("flat"))[0]
    height = wrist_height(motion)
    for segment in project.segments:
        assert segment.hold == 0
        assert height[segment.start:segment.end].min() > rest + 0.9 * (raised - rest)
        expected_keys |= {segment.start, (segment.start + segment.end - 1) // 2,
                          segment.end - 1}
    assert {key.frame for key in project.keyframes} == expected_keys
    for key in project.keyframes:
        assert motion.frame(key.frame).equals(key.pose)


def test_a_single_letter_rises_shows_its_handshape_in_signing_space_then_drops(store):
    project = assemble(text_to_tokens("v", "ase", store), store, "ase", Timing(fps=FPS))
    (segment,) = project.segments
    height = wrist_height(project.motion)
    rest, raised = wrist_height(rest_pose())[0], wrist_height(raised_pose("asl_v"))[0]
    assert height[0] == pytest.approx(rest, abs=1e-4)
    assert height[-1] == pytest.approx(rest, abs=1e-4)
    assert height[segment.start:segment.end].min() == pytest.approx(raised, abs=1e-3)
    shape = raised_pose("asl_v").right_hand_pose[0]
    assert np.allclose(project.motion.right_hand_pose[segment.start:segment.end], shape,
                       atol=1e-5)


def test_joins_are_no_faster_than_a_signer_turns_a_joint(store):
    from engine.generate.fluency import MAX_TRANSITION_SPEED_RAD_S, joint_turns

    project = assemble(text_to_tokens("bad va", "ase", store), store, "ase", Timing(fps=FPS))
    ranges = transition_ranges(project)
    assert len(ranges) == 4
    pose = project.motion.full_pose()
    for start, stop in ranges:
        change = joint_turns(pose[start - 1], pose[stop]).max()
        assert change / (stop - start + 1) * FPS <= MAX_TRANSITION_SPEED_RAD_S + 1e-6


def _store_of_clips_cut_mid_rise(tmp_path) -> LexiconStore:
    """Letters recorded the way most package clips are: starting partway up the rise
    and stopping partway down the drop (2 of RISE and 2 of DROP frames cut)."""
    store = LexiconStore(tmp_path / "cut.sqlite")
    for letter, shape in LETTERS.items():
        clip = rising_letter_clip(shape)
        store.add(LexiconEntry(gloss=letter, language="ase", words=(letter,),
                               motion=clip.slice(3, clip.num_frames - 3), source_kind="manual",
                               source="-", source_hash=letter, licence="test", kind="letter"))
    return store


def test_an_utterance_cut_mid_rise_still_starts_and_ends_at_the_signers_rest(tmp_path):
    """The rise from rest and the drop back are generated; the rest is the signer's
    own (the idle left arm, mirrored), and the rise goes straight up into the sign."""
    from engine.generate.assemble import resting_pose

    store = _store_of_clips_cut_mid_rise(tmp_path)
    timing = Timing(fps=FPS)
    project = assemble(text_to_tokens("bad", "ase", store), store, "ase", timing)
    store.close()
    motion, first = project.motion, project.segments[0]
    lead = timing.frames(timing.rest_transition)
    assert first.start == lead
    first_clip = rising_letter_clip("flat").slice(3, rising_letter_clip("flat").num_frames - 3)
    assert motion.frame(0).equals(resting_pose(first_clip.frame(0))[0])
    joints = default_avatar().forward(motion).joints
    heights = joints[:, [JOINT_INDEX["left_wrist"], JOINT_INDEX["right_wrist"]], 1] \
        - joints[:, [JOINT_INDEX["spine1"]], 1]
    for frame in (0, motion.num_frames - 1):  # both hands hang at the same height
        assert heights[frame, 1] == pytest.approx(heights[frame, 0], abs=0.01)
    rise = wrist_height(motion)[:lead + 1]
    assert rise[-1] > rise[0] + 0.1
    # Straight up into the first sign: never past it, never back down on the way.
    assert np.all(np.diff(rise) >= -1e-4) and rise.max() <= rise[-1] + 1e-4
    keyed = {key.frame for key in project.keyframes}
    assert {0, lead, motion.num_frames - 1} <= keyed


def test_no_rest_transition_starts_and_ends_in_the_signs(tmp_path):
    store = _store_of_clips_cut_mid_rise(tmp_path)
    timing = Timing(fps=FPS, rest_transition=0.0)
    project = assemble(text_to_tokens("bad", "ase", store), store, "ase", timing)
    store.close()
    assert project.segments[0].start == 0
    assert project.segments[-1].end == project.motion.num_frames
    height = wrist_height(project.motion)
    rest, raised = wrist_height(rest_pose())[0], wrist_height(raised_pose("flat"))[0]
    assert height.min() > rest + 0.5 * (raised - rest)


def test_a_raised_arm_rests_as_the_other_arm_does_or_hangs_when_both_are_raised():
    from engine.body.reference_poses import lowered_arm
    from engine.generate.assemble import resting_pose

    rest, raised = resting_pose(raised_pose("flat"))
    assert raised
    hanging = resting_pose(rest_pose())
    assert not hanging[1] and hanging[0].equals(rest_pose())
    t_pose = Motion.zeros(1)  # both arms out: neither can lend its rest to the other
    both_rest, raised = resting_pose(t_pose)
    assert raised
    assert both_rest.equals(lowered_arm(lowered_arm(t_pose, "left"), "right"))
