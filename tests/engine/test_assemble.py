"""Assembly: segments with holds, generated transitions, keyframes at onset/mid/offset."""
import numpy as np
import pytest

from engine.data.lexicon import LexiconEntry, LexiconStore
from engine.generate.assemble import assemble, max_join_jump, transition_ranges
from engine.generate.fluency import MAX_TRANSITION_SPEED_RAD_S, joint_turns
from engine.generate.timing import Timing
from engine.generate.text import text_to_tokens
from engine.jobs import Cancelled, CancelToken
from tests.conftest import letter_clip


@pytest.fixture
def store(tmp_path):
    store = LexiconStore(tmp_path / "lex.sqlite")
    for letter, shape in {"A": "fist", "B": "flat", "D": "index_point", "V": "asl_v"}.items():
        store.add(LexiconEntry(gloss=letter, language="ase", words=(letter,),
                               motion=letter_clip(shape), source_kind="manual", source="-",
                               source_hash=letter, licence="test", kind="letter"))
    yield store
    store.close()


def test_letters_become_segments_with_transitions_and_no_frozen_holds(store):
    timing = Timing(fps=30)
    project = assemble(text_to_tokens("bad va", "ase", store), store, "ase", timing)
    glosses = [s.gloss for s in project.segments]
    assert glosses == ["B", "A", "D", "V", "A"]
    assert all(s.hold == 0 for s in project.segments)  # a hold is what a user writes
    gaps = [b.start - a.end for a, b in zip(project.segments, project.segments[1:])]
    within, between = timing.frames(timing.letter.transition), timing.frames(timing.word_transition)
    assert gaps[2] >= between > within
    assert all(gap >= within for gap in gaps)
    assert project.segments[-1].end + timing.frames(timing.rest_transition) \
        == project.motion.num_frames
    assert project.motion.fps == 30


def test_a_letter_shows_its_handshape_for_the_form_time(store):
    """A held letter's clip plays its form for ``letter.form`` (plus the word's pause
    when it ends a word), not for its whole recorded length."""
    timing = Timing(fps=25)
    project = assemble(text_to_tokens("v", "ase", store), store, "ase", timing)
    (segment,) = project.segments
    clip = letter_clip("asl_v")  # a flat hand forming V over 10 frames
    shown = project.motion.slice(segment.start, segment.end)
    assert np.array_equal(shown.right_hand_pose[-1], clip.right_hand_pose[-1])
    form = timing.frames(timing.letter.form + timing.word_pause)
    assert form <= segment.num_frames < clip.num_frames


def test_tempo_scales_the_whole_utterance(store):
    tokens = list(text_to_tokens("bad va", "ase", store))
    normal = assemble(tokens, store, "ase", Timing(fps=30)).motion.num_frames
    fast = assemble(tokens, store, "ase", Timing(fps=30, tempo=2.0)).motion.num_frames
    slow = assemble(tokens, store, "ase", Timing(fps=30, tempo=0.5)).motion.num_frames
    assert fast < 0.7 * normal and slow > 1.5 * normal


def test_transitions_are_generated_not_cut(store):
    project = assemble(text_to_tokens("ab", "ase", store), store, "ase")
    ranges = transition_ranges(project)
    assert len(ranges) == 1
    start, stop = ranges[0]
    pose = project.motion.full_pose()
    steps = np.abs(np.diff(pose[start - 1:stop + 1], axis=0)).max(axis=(1, 2))
    # Spread over the transition: no single frame carries most of the change, and no
    # joint turns faster than a recorded signer's fastest joints mostly do.
    total = np.abs(pose[stop] - pose[start - 1]).max()
    assert steps.max() < 0.6 * total
    assert max_join_jump(project.motion, ranges) < 0.6 * total
    turned = joint_turns(pose[start - 1], pose[stop]).max()
    assert turned / (stop - start + 1) * project.motion.fps <= MAX_TRANSITION_SPEED_RAD_S + 1e-6


def test_keyframes_at_onset_mid_offset(store):
    project = assemble(text_to_tokens("ab", "ase", store), store, "ase")
    frames = [k.frame for k in project.keyframes]
    for segment in project.segments:
        clip_end = segment.end - segment.hold
        assert segment.start in frames and clip_end - 1 in frames
        assert (segment.start + clip_end - 1) // 2 in frames
    for key in project.keyframes:
        assert project.motion.frame(key.frame).equals(key.pose)


def test_cancel_and_nothing_to_sign(store):
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        assemble(text_to_tokens("ab", "ase", store), store, "ase", cancel=token)
    with pytest.raises(ValueError, match="nothing to sign"):
        assemble(text_to_tokens("你好", "ase", store), store, "ase")


@pytest.mark.parametrize("backend", ["smooth", "slerp"])
@pytest.mark.parametrize("frame_range", [(1, 6), (10, 20), (33, 40), (0, 5), (35, 40)])
def test_regenerating_a_window_equals_regenerating_the_whole_motion(rng, backend, frame_range):
    from engine.generate.assemble import regenerate_in_place
    from engine.generate.kf2p import regenerate
    from tests.conftest import random_motion
    motion = random_motion(rng, num_frames=40)
    whole = regenerate(motion, [], frame_range, backend=backend)[0]
    arrays = {name: array.copy() for name, array in motion.frame_arrays().items()}
    regenerate_in_place(arrays, motion.betas, motion.fps, frame_range, backend)
    for name, array in whole.frame_arrays().items():
        assert np.array_equal(arrays[name], array), name
