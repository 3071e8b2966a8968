"""Keyframe edits regenerated with KF2P (``engine.generate.key_edits``): only the span
between the edited key's neighbours changes, one op undoes all of it, and the backend
is told which sign each frame belongs to."""
import pytest

from engine.generate.key_edits import affected_range, delete_key_edit, move_key_edit, pasted_key, set_key_edit
from engine.generate.kf2p import smooth_backend
from engine.generate.retime import movement_frames, stretch_segment
from engine.motion import Keyframe, Motion, MotionError, Project
from engine.motion.edits import apply


def key_between_neighbours(project):
    """A keyframe with neighbours on both sides and room to move right."""
    frames = [k.frame for k in project.keyframes]
    for before, key, after in zip(frames, frames[1:], frames[2:]):
        if after - key >= 6 and key - before >= 3:
            return before, key, after
    raise AssertionError(f"no movable key in {frames}")


class LabelSpy:
    """A KF2P backend that records the labels it is given and in-betweens with the
    smooth baseline (it declares ``labels``, as the learned model does)."""

    def __init__(self):
        self.received = []

    def __call__(self, motion, keys, frame_range, num_candidates, seed, *, labels=None):
        self.received.append(labels)
        return smooth_backend(motion, keys, frame_range, num_candidates, seed)


@pytest.mark.parametrize("moved", [(0, 3), (5, 1)])
def test_affected_range_stops_at_neighbours(moved):
    motion = Motion.zeros(40)
    project = Project(motion=motion, keyframes=tuple(
        Keyframe.from_motion(motion, f) for f in (0, 5, 20)))
    start, stop = affected_range(project, moved, ignore=(moved[0],))
    others = {0, 5, 20} - {moved[0]}
    assert all(not start <= f < stop for f in others)


def test_a_moved_key_changes_only_the_span_between_its_neighbours(hello_project):
    before = hello_project
    previous, key, following = key_between_neighbours(before)
    edit = move_key_edit(before, key, key + 2)
    assert edit.frame_range == (previous + 1, following)
    after, inverse = apply(edit.op, before)
    assert after.equals(edit.project)
    assert after.keyframe_at(key) is None
    assert after.motion.frame(key + 2).equals(before.keyframe_at(key).pose)
    total = before.motion.num_frames
    assert after.motion.slice(0, previous + 1).equals(before.motion.slice(0, previous + 1))
    assert after.motion.slice(following, total).equals(before.motion.slice(following, total))
    assert apply(inverse, after)[0].equals(before)  # one op undoes key and frames


def test_a_deleted_key_no_longer_pins_the_motion(hello_project):
    before = hello_project
    previous, key, following = key_between_neighbours(before)
    edit = delete_key_edit(before, key)
    assert edit.project.keyframe_at(key) is None
    assert not edit.project.motion.frame(key).equals(before.keyframe_at(key).pose)
    for frame in (previous, following):
        assert edit.project.motion.frame(frame).equals(before.keyframe_at(frame).pose)
    with pytest.raises(MotionError):
        delete_key_edit(before, key + 1)


def test_a_pasted_key_lands_inside_the_motion_only(hello_project):
    copied = hello_project.keyframes[-1]
    assert pasted_key(copied, 3, hello_project).frame == 3
    assert pasted_key(copied, 3, hello_project).pose.equals(copied.pose)
    with pytest.raises(MotionError, match="outside the motion"):
        pasted_key(copied, hello_project.motion.num_frames, hello_project)


def test_key_edits_and_stretches_tell_the_backend_what_is_signed(hello_project):
    hello = hello_project
    spy = LabelSpy()
    _, key, following = key_between_neighbours(hello)
    labels = hello.frame_labels()
    assert set(labels) == {"ase:H", "ase:E", "ase:L", "ase:O"}
    pose = hello.keyframes[-1].pose
    set_key_edit(hello, Keyframe(key, pose), backend=spy)
    move_key_edit(hello, key, key + 2, backend=spy)
    delete_key_edit(hello, key, backend=spy)
    assert spy.received == [labels] * 3
    # A stretch changes the length: the labels are the stretched project's.
    stretched = stretch_segment(hello, 1, movement_frames(hello.segments[1]) + 6, spy)
    assert spy.received[3:] and all(r == stretched.frame_labels() for r in spy.received[3:])
