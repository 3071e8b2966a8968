"""Several keyframes edited at once (``engine.generate.key_selection``): a moved or
scaled selection carries its motion, only the gaps around it are regenerated, keys
never collide or pass over another key, and one op undoes keys and frames."""
import numpy as np
import pytest

from engine.generate.key_selection import (
    copy_keys, delete_keys_edit, paste_keys_edit, scale_keys_edit, shift_keys_edit,
)
from engine.motion import Channel, MotionError
from engine.motion.edits import apply


def undone(edit, before):
    after, inverse = apply(edit.op, before)
    assert after.equals(edit.project)
    return apply(inverse, after)[0]


def test_a_moved_selection_carries_its_frames_and_only_the_gaps_change(hello_project):
    before = hello_project                       # keys 0 12 14 17 23 25 28 34 ...
    selected = (23, 25, 28)                      # the E sign's keys
    edit = shift_keys_edit(before, selected, 3)
    after = edit.project
    assert [k.frame for k in after.keyframes if 17 < k.frame < 34] == [26, 28, 31]
    # The sign's frames moved bit for bit, its keys' poses with them.
    assert after.motion.slice(26, 32).equals(before.motion.slice(23, 29))
    for old in selected:
        assert after.keyframe_at(old + 3).pose.equals(before.keyframe_at(old).pose)
    # Only the frames between the keys that stayed (17 and 34) changed.
    assert edit.frame_range == (18, 34)
    total = before.motion.num_frames
    assert after.motion.slice(0, 18).equals(before.motion.slice(0, 18))
    assert after.motion.slice(34, total).equals(before.motion.slice(34, total))
    assert undone(edit, before).equals(before)


@pytest.mark.parametrize("offset, words", [(8, "pass over the keyframe at frame 34"),
                                           (-6, "frame 17 already has a keyframe"),
                                           (60, "outside the motion")])
def test_a_move_that_would_collide_is_refused_with_the_frames(hello_project, offset, words):
    with pytest.raises(MotionError, match=words):
        shift_keys_edit(hello_project, (23, 25, 28), offset)


def test_a_scaled_selection_spreads_its_keys_and_keeps_their_poses(hello_project):
    before = hello_project
    edit = scale_keys_edit(before, (12, 14, 17), pivot=12, factor=1.5)
    after = edit.project
    assert [k.frame for k in after.keyframes if k.frame < 23] == [0, 12, 15, 20]
    for old, new in ((12, 12), (14, 15), (17, 20)):
        assert after.keyframe_at(new).pose.equals(before.keyframe_at(old).pose)
        # The motion meets each key exactly: the resampling reads whole source frames there.
        assert after.motion.frame(new).equals(before.motion.frame(old))
    assert undone(edit, before).equals(before)


def test_a_scale_too_small_for_the_keys_is_refused(hello_project):
    with pytest.raises(MotionError, match="share frame"):
        scale_keys_edit(hello_project, (12, 14, 17), pivot=12, factor=0.1)


def test_a_pasted_range_writes_the_copied_keys_and_frames(hello_project):
    before = hello_project
    block = copy_keys(before, (23, 25, 28))
    assert [k.frame for k in block.keys] == [0, 2, 5] and block.length == 6
    edit = paste_keys_edit(before, block, 56)     # over the O sign's first keys
    after = edit.project
    assert after.motion.slice(56, 62).equals(before.motion.slice(23, 29))
    keys = [k.frame for k in after.keyframes]
    assert {56, 58, 61} <= set(keys) and 60 not in keys   # the key at 60 was replaced
    assert after.keyframe_at(58).pose.equals(before.keyframe_at(25).pose)
    total = before.motion.num_frames
    assert after.motion.slice(0, 51).equals(before.motion.slice(0, 51))
    assert undone(edit, before).equals(before)
    with pytest.raises(MotionError, match="run past the last frame"):
        paste_keys_edit(before, block, total - 3)


def test_deleting_a_selection_regenerates_between_the_keys_that_stay(hello_project):
    before = hello_project
    edit = delete_keys_edit(before, (23, 25, 28))
    after = edit.project
    assert not {23, 25, 28} & {k.frame for k in after.keyframes}
    assert edit.frame_range == (18, 34)
    assert not after.motion.slice(18, 34).equals(before.motion.slice(18, 34))
    assert undone(edit, before).equals(before)


def test_a_selection_on_a_locked_track_does_not_move(hello_project):
    locked = hello_project.replace(locked=frozenset({Channel.RIGHT_HAND}))
    with pytest.raises(MotionError, match="locked"):
        shift_keys_edit(locked, (23, 25, 28), 3)


def test_keys_must_exist(hello_project):
    with pytest.raises(MotionError, match="no keyframe at frame 22"):
        shift_keys_edit(hello_project, (22, 23), 1)
    with pytest.raises(MotionError, match="no keyframes are selected"):
        copy_keys(hello_project, ())
    assert np.isfinite(hello_project.motion.body_pose).all()
