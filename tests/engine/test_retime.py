"""Re-timing a sign (``engine.generate.retime``): its hold (the timeline block's right
edge) and a time-stretch of its movement (the left edge), each shifting what follows."""
import numpy as np
import pytest

from engine.body.skeleton import JOINT_INDEX
from engine.generate.kf2p import regenerate
from engine.generate.retime import movement_frames, set_segment_hold, stretch_keyframe_map, stretch_segment
from engine.motion import Keyframe, Motion, MotionError, Project, Segment

ELBOW = JOINT_INDEX["right_elbow"]


def ramp_project() -> Project:
    """Three signs; the middle one turns the right elbow at a constant 0.05 rad/frame
    from its first frame, and the transitions into and out of it are KF2P-smooth.
    A stretch changes that speed, so a transition left as it was would jump."""
    motion = Motion.zeros(60)
    body = np.zeros((60, 21, 3), np.float32)
    body[:20, ELBOW - 1, 0] = 0.2
    body[26:46, ELBOW - 1, 0] = 0.4 + 0.05 * np.arange(20)
    body[50:, ELBOW - 1, 0] = 1.5
    motion = motion.replace(body_pose=body)
    for gap in ((20, 26), (46, 50)):
        motion = regenerate(motion, (), gap)[0]
    keys = tuple(Keyframe.from_motion(motion, f) for f in (26, 36, 45))
    segments = (Segment("A", "ase", 0, 20), Segment("B", "ase", 26, 46),
                Segment("C", "ase", 50, 60))
    return Project(motion=motion, keyframes=keys, segments=segments)


def elbow(project: Project) -> np.ndarray:
    return project.motion.body_pose[:, ELBOW - 1, 0].astype(np.float64)


def test_stretch_resamples_the_movement_and_shifts_what_follows(hello_project):
    before = set_segment_hold(hello_project, 1, 3)  # a user's hold (assembly writes none)
    index, first = 1, before.segments[1]
    old = movement_frames(first)
    after = stretch_segment(before, index, old + 6)
    segment = after.segments[index]
    # The sign keeps its start and hold, gains 6 frames; everything after shifts.
    assert (segment.start, segment.hold) == (first.start, first.hold)
    assert movement_frames(segment) == old + 6
    assert after.motion.num_frames == before.motion.num_frames + 6
    assert after.segments[0] == before.segments[0]
    assert [s.start for s in after.segments[2:]] == [s.start + 6 for s in before.segments[2:]]
    # Untouched: everything before the transition into the sign, and everything from
    # the next sign on (shifted).
    previous_end, next_start = before.segments[0].end, before.segments[2].start
    assert after.motion.slice(0, previous_end).equals(before.motion.slice(0, previous_end))
    assert after.motion.slice(next_start + 6, after.motion.num_frames).equals(
        before.motion.slice(next_start, before.motion.num_frames))
    # The hold is the same frames, later.
    hold_start = first.end - first.hold
    assert first.hold == 3
    assert after.motion.slice(hold_start + 6, segment.end).equals(
        before.motion.slice(hold_start, first.end))
    # Keyframes inside the movement move proportionally and are still met exactly.
    inside = [k for k in before.keyframes if first.start <= k.frame < hold_start]
    mapping = stretch_keyframe_map(before, index, old + 6)
    assert sorted(mapping) == [k.frame for k in inside]
    for key in inside:
        new = mapping[key.frame]
        expected = first.start + round((key.frame - first.start) * (old + 5) / (old - 1))
        assert new == expected
        moved = after.keyframe_at(new)
        assert moved is not None and moved.pose.equals(key.pose)
        assert after.motion.frame(new).equals(key.pose)
    later = [k.frame + 6 for k in before.keyframes if k.frame >= first.end]
    assert [k.frame for k in after.keyframes if k.frame >= segment.end] == later
    # It is a resampling: the stretched movement passes through new in-between poses.
    assert not after.motion.slice(first.start, first.start + old).equals(
        before.motion.slice(first.start, first.start + old))


def test_shrinking_speeds_the_sign_up_and_keeps_its_keys(hello_project):
    hello = hello_project
    old = movement_frames(hello.segments[1])
    after = stretch_segment(hello, 1, 5)
    assert after.motion.num_frames == hello.motion.num_frames - (old - 5)
    for old_frame, new_frame in stretch_keyframe_map(hello, 1, 5).items():
        assert after.motion.frame(new_frame).equals(hello.keyframe_at(old_frame).pose)


def test_transitions_are_regenerated_so_the_speed_does_not_jump():
    project = ramp_project()
    stretched = stretch_segment(project, 1, 40)  # half speed
    start = 26
    speed = np.diff(elbow(stretched))
    # The warp goes through the middle key (old frame 36), so up to it the slower sign
    # runs at 0.05 * 10 frames / its new distance from the start.
    slow = 0.05 * 10 / (stretch_keyframe_map(project, 1, 40)[36] - start)
    assert slow == pytest.approx(0.025, abs=0.002)
    assert speed[start:start + 10] == pytest.approx(slow, abs=1e-5)
    # Left as it was, the transition would leave at the old speed (0.05 rad/frame) into
    # a sign at half that: a jump in one frame. Regenerated, it eases into it.
    old_transition = np.diff(elbow(project))[start - 1]
    assert old_transition == pytest.approx(0.05, abs=0.01)
    jump = np.abs(np.diff(speed[start - 4:start + 2])).max()
    assert jump < 0.4 * abs(old_transition - slow), speed[start - 4:start + 2]
    # The transition out of the sign and the sign after it only moved later.
    assert stretched.motion.slice(70, 80).equals(project.motion.slice(50, 60))


@pytest.mark.parametrize("frames, message", [
    (1, "frames >= 2"),
    (2, "too short"),         # the middle keyframe would land on the first frame
])
def test_bad_stretches_are_refused(hello_project, frames, message):
    with pytest.raises(MotionError, match=message):
        stretch_segment(hello_project, 1, frames)


def test_a_sign_that_is_all_hold_cannot_be_stretched():
    project = Project(motion=Motion.zeros(10), segments=(Segment("A", "ase", 0, 10, hold=9),))
    with pytest.raises(MotionError, match="no movement to stretch"):
        stretch_segment(project, 0, 5)
    with pytest.raises(MotionError, match="no segment 3"):
        stretch_segment(project, 3, 5)


# ---------------------------------------------------------------- the hold
def test_a_longer_hold_repeats_the_last_pose_and_shifts_what_follows(hello_project):
    before = hello_project
    first = before.segments[0]
    after = set_segment_hold(before, 0, first.hold + 5)
    segment = after.segments[0]
    assert (segment.start, segment.end, segment.hold) == (first.start, first.end + 5,
                                                          first.hold + 5)
    last_pose = before.motion.frame(first.end - 1)
    for frame in range(first.end, first.end + 5):
        assert after.motion.frame(frame).equals(last_pose)
    total = before.motion.num_frames
    assert after.motion.slice(first.end + 5, total + 5).equals(
        before.motion.slice(first.end, total))
    assert [s.start for s in after.segments[1:]] == [s.start + 5 for s in before.segments[1:]]
    later = [k.frame + 5 for k in before.keyframes if k.frame >= first.end]
    assert [k.frame for k in after.keyframes if k.frame >= segment.end] == later
    assert set_segment_hold(after, 0, first.hold).equals(before)


def test_a_shorter_hold_drops_the_keys_it_held():
    motion = Motion.zeros(20)
    keys = tuple(Keyframe.from_motion(motion, f) for f in (2, 8, 15))
    project = Project(motion=motion, keyframes=keys, segments=(
        Segment("A", "ase", 0, 10, hold=4), Segment("B", "ase", 12, 20)))
    after = set_segment_hold(project, 0, 1)
    assert after.motion.num_frames == 17
    assert [k.frame for k in after.keyframes] == [2, 12]  # frame 8 was a held copy
    assert after.segments[0] == Segment("A", "ase", 0, 7, hold=1)
    assert after.segments[1] == Segment("B", "ase", 9, 17)
    assert set_segment_hold(project, 0, 4) is project
    with pytest.raises(MotionError, match="frames >= 0"):
        set_segment_hold(project, 0, -1)
    with pytest.raises(MotionError, match="no segment 2"):
        set_segment_hold(project, 2, 3)


def test_retiming_keeps_what_a_sign_was_made_from():
    motion = Motion.zeros(30)
    signs = (Segment("A", "sgg", 0, 12, hold=2, kind="notation", notation="hamflathand"),
             Segment("B", "sgg", 15, 30, hold=3, kind="notation", notation="hamfist"))
    project = Project(motion=motion, segments=signs)
    for retimed in (set_segment_hold(project, 0, 6), stretch_segment(project, 0, 14)):
        assert [(s.kind, s.notation) for s in retimed.segments] == [
            (s.kind, s.notation) for s in signs]
