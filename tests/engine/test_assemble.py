"""Assembly: segments with holds, generated transitions, keyframes at onset/mid/offset."""
import numpy as np
import pytest

from engine.data.lexicon import LexiconEntry, LexiconStore
from engine.generate.assemble import Timing, assemble, max_join_jump, transition_ranges
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


def test_letters_become_segments_with_holds_and_transitions(store):
    timing = Timing(fps=30)
    project = assemble(text_to_tokens("bad va", "ase", store), store, "ase", timing)
    glosses = [s.gloss for s in project.segments]
    assert glosses == ["B", "A", "D", "V", "A"]
    hold = timing.frames(timing.letter_hold)
    assert all(s.hold == hold for s in project.segments)
    gaps = [b.start - a.end for a, b in zip(project.segments, project.segments[1:])]
    within, between = timing.frames(timing.letter_transition), timing.frames(timing.sign_transition)
    assert gaps == [within, within, between, within]
    assert project.segments[-1].end == project.motion.num_frames
    assert project.motion.fps == 30


def test_lexicon_frames_are_kept_and_held(store):
    project = assemble(text_to_tokens("v", "ase", store), store, "ase", Timing(fps=25))
    (segment,) = project.segments
    clip = letter_clip("asl_v")
    shown = project.motion.slice(segment.start, segment.end - segment.hold)
    assert np.array_equal(shown.right_hand_pose, clip.right_hand_pose)
    held = project.motion.right_hand_pose[segment.end - segment.hold:segment.end]
    assert np.array_equal(held, np.repeat(clip.right_hand_pose[-1:], segment.hold, axis=0))


def test_transitions_are_generated_not_cut(store):
    project = assemble(text_to_tokens("ab", "ase", store), store, "ase")
    ranges = transition_ranges(project)
    assert len(ranges) == 1
    start, stop = ranges[0]
    pose = project.motion.full_pose()
    steps = np.abs(np.diff(pose[start - 1:stop + 1], axis=0)).max(axis=(1, 2))
    # Spread over the transition: no single frame carries the whole change.
    total = np.abs(pose[stop] - pose[start - 1]).max()
    assert steps.max() < 0.5 * total
    assert max_join_jump(project.motion, ranges) < 0.5 * total


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
