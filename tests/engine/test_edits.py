"""Edit operations: apply then inverse is the identity; bad ops name the frame."""
import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.motion import ALL_CHANNELS, Channel, Keyframe, MotionError, Project, Segment
from engine.motion.edits import DeleteKey, Macro, MoveKey, ReplaceRange, SetKey, apply, apply_all
from tests.conftest import random_motion

NUM_FRAMES = 10
CHANNEL_SETS = st.sets(st.sampled_from(list(Channel)), min_size=1).map(frozenset)


def make_project(seed: int, key_frames=(2, 5)) -> Project:
    rng = np.random.default_rng(seed)
    motion = random_motion(rng, num_frames=NUM_FRAMES)
    keys = tuple(Keyframe.from_motion(motion, f) for f in key_frames)
    return Project(motion=motion, keyframes=keys,
                   segments=(Segment("HELLO", "ase", 0, 6),), title="t")


@st.composite
def op_for(draw, project: Project, depth: int = 0):
    """A random operation that is valid for ``project``."""
    taken = [k.frame for k in project.keyframes]
    free = [f for f in range(project.motion.num_frames) if f not in taken]
    kinds = ["set", "replace"] + (["delete"] if taken else []) + (
        ["move"] if taken and free else []) + (["macro"] if depth == 0 else [])
    kind = draw(st.sampled_from(kinds))
    seed = draw(st.integers(0, 2**16))
    rng = np.random.default_rng(seed)
    if kind == "set":
        source = random_motion(rng, num_frames=1)
        return SetKey(Keyframe(draw(st.integers(0, NUM_FRAMES - 1)), source,
                               draw(CHANNEL_SETS)))
    if kind == "delete":
        return DeleteKey(draw(st.sampled_from(taken)))
    if kind == "move":
        return MoveKey(draw(st.sampled_from(taken)), draw(st.sampled_from(free + taken[:1])))
    if kind == "replace":
        start = draw(st.integers(0, NUM_FRAMES - 1))
        length = draw(st.integers(1, NUM_FRAMES - start))
        return ReplaceRange(start, random_motion(rng, num_frames=length,
                                                 fps=project.motion.fps))
    # A macro of ops each valid for the state the previous ones leave.
    ops, state = [], project
    for _ in range(draw(st.integers(0, 3))):
        op = draw(op_for(state, depth + 1))
        try:
            state, _ = apply(op, state)
        except MotionError:
            continue  # e.g. MoveKey onto the only other key: not a valid step here
        ops.append(op)
    return Macro(tuple(ops))


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**16), st.data())
def test_random_sequences_undo_to_the_original(seed, data):
    original = make_project(seed)
    project, inverses = original, []
    for _ in range(data.draw(st.integers(1, 6))):
        op = data.draw(op_for(project))
        try:
            edited, inverse = apply(op, project)
        except MotionError:
            continue  # only MoveKey onto an occupied frame is drawn invalid on purpose
        # Each single step undoes exactly.
        assert apply(inverse, edited)[0].equals(project)
        project = edited
        inverses.append(inverse)
    for inverse in reversed(inverses):
        project, _ = apply(inverse, project)
    assert project.equals(original)


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**16), st.data())
def test_macro_inverse_is_reversed_inverses(seed, data):
    original = make_project(seed)
    macro = data.draw(op_for(original).filter(lambda op: isinstance(op, Macro)))
    edited, inverse = apply(macro, original)
    assert isinstance(inverse, Macro) and len(inverse.ops) == len(macro.ops)
    restored, redo = apply(inverse, edited)
    assert restored.equals(original)
    assert apply(redo, restored)[0].equals(edited)  # redo after undo gives the same edit


def test_apply_does_not_touch_the_input():
    project = make_project(0)
    before = make_project(0)
    apply(Macro((DeleteKey(2), MoveKey(5, 9), ReplaceRange(0, project.motion.slice(3, 6)))),
          project)
    assert project.equals(before)


def test_set_key_adds_then_replaces():
    project = make_project(1)
    key = Keyframe.from_motion(project.motion, 7, [Channel.LEFT_HAND])
    added, inverse = apply(SetKey(key), project)
    assert [k.frame for k in added.keyframes] == [2, 5, 7]
    assert isinstance(inverse, DeleteKey) and inverse.frame == 7
    other = Keyframe.from_motion(project.motion, 2, [Channel.FACE])
    replaced, inverse = apply(SetKey(other), project)
    assert replaced.keyframe_at(2).channels == {Channel.FACE}
    assert isinstance(inverse, SetKey) and inverse.keyframe.channels == ALL_CHANNELS


def test_move_key_keeps_pose_and_channels():
    project = make_project(2)
    key = Keyframe(5, project.motion.frame(0), frozenset({Channel.RIGHT_HAND}))
    project = apply(SetKey(key), project)[0]
    moved, inverse = apply(MoveKey(5, 8), project)
    assert moved.keyframe_at(5) is None
    assert moved.keyframe_at(8).pose.equals(key.pose)
    assert moved.keyframe_at(8).channels == {Channel.RIGHT_HAND}
    assert (inverse.from_frame, inverse.to_frame) == (8, 5)
    assert apply(MoveKey(5, 5), project)[0].equals(project)


def test_replace_range_keeps_keys_and_shares_nothing_it_changed():
    project = make_project(3)
    piece = random_motion(np.random.default_rng(9), num_frames=3, fps=project.motion.fps)
    edited, inverse = apply(ReplaceRange(4, piece), project)
    assert np.array_equal(edited.motion.body_pose[4:7], piece.body_pose)
    assert np.array_equal(edited.motion.body_pose[:4], project.motion.body_pose[:4])
    assert np.array_equal(edited.motion.betas, project.motion.betas)
    assert inverse.motion.equals(project.motion.slice(4, 7))
    assert len(edited.keyframes) == 2


# ------------------------------------------------------------------------ bad input
@pytest.mark.parametrize(
    "make_op, words",
    [
        (lambda p: DeleteKey(4), ["DeleteKey", "frame 4"]),
        (lambda p: MoveKey(3, 6), ["MoveKey", "frame 3"]),
        (lambda p: MoveKey(2, 5), ["frame 2", "frame 5", "already has a keyframe"]),
        (lambda p: MoveKey(2, 10), ["frame 10", "last frame 9"]),
        (lambda p: ReplaceRange(8, p.motion.slice(0, 3)), ["[8, 11)", "10 frames"]),
    ],
)
def test_bad_ops_name_the_frame(make_op, words):
    project = make_project(4)
    with pytest.raises(MotionError) as error:
        apply(make_op(project), project)
    for word in words:
        assert word in str(error.value)


def test_set_key_past_the_end_names_the_frame():
    project = make_project(5)
    key = Keyframe(12, project.motion.frame(0))
    with pytest.raises(MotionError, match="frame 12.*last frame 9"):
        apply(SetKey(key), project)


def test_replace_range_refuses_another_fps():
    project = make_project(6)
    piece = project.motion.slice(0, 2).replace(fps=60.0)
    with pytest.raises(MotionError, match=r"\[0, 2\).*60 fps"):
        apply(ReplaceRange(0, piece), project)


@pytest.mark.parametrize("make", [
    lambda: DeleteKey(-1), lambda: MoveKey(1.5, 2), lambda: MoveKey(1, True),
    lambda: ReplaceRange(-2, None), lambda: SetKey("key"), lambda: Macro(("op",)),
])
def test_constructors_reject_bad_values(make):
    with pytest.raises(MotionError):
        make()


def test_failing_macro_says_which_step_and_changes_nothing():
    project = make_project(7)
    with pytest.raises(MotionError, match=r"Macro step 2 of 2 \(DeleteKey\).*frame 2"):
        apply_all([DeleteKey(2), DeleteKey(2)], project)
    assert project.equals(make_project(7))


def test_ops_are_frozen():
    op = MoveKey(1, 2)
    with pytest.raises(dataclasses.FrozenInstanceError):
        op.to_frame = 3


def test_replace_project_round_trips(motion):
    from engine.motion import Project
    from engine.motion.edits import ReplaceProject, apply
    old = Project(motion=motion)
    new = Project(motion=motion.slice(0, 3), title="new")
    edited, inverse = apply(ReplaceProject(new), old)
    assert edited is new
    restored, _ = apply(inverse, edited)
    assert restored.equals(old)
