"""Timeline edits beyond the keyframe drag: the left-edge time-stretch of a sign, and
deleting, pasting and pose-editing keyframes, each regenerating through KF2P and
landing as one undo step."""
import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt

from engine.body.skeleton import JOINT_INDEX
from engine.generate.kf2p import regenerate, smooth_backend
from engine.generate.key_edits import (affected_range, delete_key_edit, move_key_edit,
                                      set_key_edit)
from engine.generate.retime import movement_frames, stretch_keyframe_map, stretch_segment
from engine.jobs import CancelToken
from engine.motion import Keyframe, Motion, MotionError, Project, Segment

from tests.studio.test_main_window import key_between_neighbours

ELBOW = JOINT_INDEX["right_elbow"]


# ---------------------------------------------------------------- Qt-free: the stretch
@pytest.fixture
def hello(lexicon_path):
    """'hello' in ASL from the synthetic test letters (no window needed)."""
    from studio.lexicon_service import LexiconService

    service = LexiconService(lexicon_path)
    project = service.generate("hello", "ase", progress=lambda *a: None,
                               cancel=CancelToken()).project
    service.close()
    return project


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


def test_stretch_resamples_the_movement_and_shifts_what_follows(hello):
    before = hello
    index, first = 1, hello.segments[1]
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


def test_shrinking_speeds_the_sign_up_and_keeps_its_keys(hello):
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
def test_bad_stretches_are_refused(hello, frames, message):
    with pytest.raises(MotionError, match=message):
        stretch_segment(hello, 1, frames)


def test_a_sign_that_is_all_hold_cannot_be_stretched():
    project = Project(motion=Motion.zeros(10), segments=(Segment("A", "ase", 0, 10, hold=9),))
    with pytest.raises(MotionError, match="no movement to stretch"):
        stretch_segment(project, 0, 5)
    with pytest.raises(MotionError, match="no segment 3"):
        stretch_segment(project, 3, 5)


# ---------------------------------------------------------------- in the window
def stretch_drag(qtbot, view, index, frames_out, release=True):
    """Press on segment ``index``'s left edge, move ``frames_out`` frames outwards
    (left; negative = inwards), frame by frame."""
    start = view.stretch_edge_point(index)
    qtbot.mousePress(view.viewport(), Qt.MouseButton.LeftButton, pos=start)
    step = -1 if frames_out > 0 else 1
    ppf = view.pixels_per_frame
    for moved in range(1, abs(frames_out) + 1):
        qtbot.mouseMove(view.viewport(), pos=start + QPoint(round(step * moved * ppf), 0))
    end = start + QPoint(round(step * abs(frames_out) * ppf), 0)
    if release:
        qtbot.mouseRelease(view.viewport(), Qt.MouseButton.LeftButton, pos=end)
    return end


def scene_texts(view) -> list[str]:
    return [item.text() for item in view.scene().items() if hasattr(item, "text")]


def test_left_edge_drag_stretches_with_live_preview_and_one_undo_step(generated, qtbot):
    window, doc, view = generated, generated.document, generated.timeline
    before = doc.project
    old = movement_frames(before.segments[1])
    end = stretch_drag(qtbot, view, 1, 6, release=False)
    # Live preview, no history yet; the band and label say what the drag does.
    assert doc.in_preview and doc.undo_stack.count() == 1
    assert doc.project.motion.num_frames == before.motion.num_frames + 6
    assert f"E: {old} → {old + 6} frames  ×{old / (old + 6):.2f} slower" in scene_texts(view)
    assert "Stretching 'E'" in window.statusBar().currentMessage()
    qtbot.mouseRelease(view.viewport(), Qt.MouseButton.LeftButton, pos=end)
    qtbot.waitUntil(lambda: doc.undo_stack.count() == 2, timeout=5000)
    assert not doc.in_preview
    assert doc.project.equals(stretch_segment(before, 1, old + 6, window.edits.backend))
    assert not any("→" in text for text in scene_texts(view))  # the band is gone
    assert doc.undo_stack.undoText().startswith("Stretch 'E'")
    after = doc.project
    doc.undo_stack.undo()
    assert doc.project.equals(before)
    doc.undo_stack.redo()
    assert doc.project.equals(after)


def test_escape_cancels_a_stretch(generated, qtbot):
    doc, view = generated.document, generated.timeline
    before = doc.project
    stretch_drag(qtbot, view, 1, 4, release=False)
    assert doc.in_preview
    qtbot.keyClick(view, Qt.Key.Key_Escape)
    assert not doc.in_preview and doc.project is before
    qtbot.mouseRelease(view.viewport(), Qt.MouseButton.LeftButton)
    qtbot.wait(100)
    assert doc.undo_stack.count() == 1 and doc.project is before


def test_squeezing_past_the_keyframes_lands_the_last_valid_stretch(generated, qtbot):
    window, doc, view = generated, generated.document, generated.timeline
    before = doc.project
    old = movement_frames(before.segments[1])
    stretch_drag(qtbot, view, 1, -(old - 2), release=False)  # inwards, down to 2 frames
    assert "too short" in window.statusBar().currentMessage()
    shortest = doc.project.segments[1]
    qtbot.mouseRelease(view.viewport(), Qt.MouseButton.LeftButton,
                       pos=view.stretch_edge_point(1))
    qtbot.waitUntil(lambda: doc.undo_stack.count() == 2, timeout=5000)
    assert movement_frames(doc.project.segments[1]) == movement_frames(shortest) == 3
    assert doc.project.equals(stretch_segment(before, 1, 3, window.edits.backend))


def test_edges_tell_what_they_do(generated, qtbot):
    window, view = generated, generated.timeline

    def hovering(point, cursor, hint):
        # Cursor and hint follow a hover event, which on a loaded machine can arrive
        # after mouseMove returns (seen in full CI runs): wait for it, briefly.
        qtbot.mouseMove(view.viewport(), pos=point)
        qtbot.waitUntil(lambda: view.viewport().cursor().shape() == cursor
                        and hint in window.statusBar().currentMessage(), timeout=2000)

    hovering(view.stretch_edge_point(2), Qt.CursorShape.SizeHorCursor, "stretch its movement")
    hovering(view.hold_edge_point(2), Qt.CursorShape.SizeHorCursor, "change its hold")
    key = window.document.project.keyframes[1].frame
    hovering(view.view_point(key, view.track_y(2)), Qt.CursorShape.OpenHandCursor,
             f"Keyframe at frame {key}")
    tips = [item.toolTip() for item in view.items(view.stretch_edge_point(2))]
    assert any(tip.startswith("Drag the left edge of 'L'") for tip in tips), tips


# ---------------------------------------------------------------- keyframe edits
def assert_only_range_changed(before: Project, after: Project, start: int, stop: int):
    total = before.motion.num_frames
    assert after.motion.slice(0, start).equals(before.motion.slice(0, start))
    assert after.motion.slice(stop, total).equals(before.motion.slice(stop, total))
    assert not after.motion.slice(start, stop).equals(before.motion.slice(start, stop))


def test_delete_key_regenerates_between_its_neighbours_in_one_step(generated, qtbot):
    window, doc = generated, generated.document
    before = doc.project
    previous, key, following = key_between_neighbours(before)
    doc.select_key(key)
    started = []
    window.runner.job_started.connect(started.append)
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=3000)
    qtbot.keyClick(window.timeline, Qt.Key.Key_Delete)  # the Edit menu's shortcut
    assert [h.title for h in started] == [f"Delete keyframe {key}"]  # a job
    with qtbot.waitSignal(started[0].finished, timeout=5000):
        pass
    after = doc.project
    assert after.keyframe_at(key) is None and doc.undo_stack.count() == 2
    assert_only_range_changed(before, after, previous + 1, following)
    # The removed pose no longer pins the motion; the neighbours still do.
    assert not after.motion.frame(key).equals(before.keyframe_at(key).pose)
    for frame in (previous, following):
        assert after.motion.frame(frame).equals(before.keyframe_at(frame).pose)
    assert "regenerated" in window.statusBar().currentMessage()
    doc.undo_stack.undo()
    assert doc.project.equals(before)
    doc.undo_stack.redo()
    assert doc.project.equals(after)


def test_paste_key_regenerates_through_the_pasted_pose(generated, qtbot):
    window, doc = generated, generated.document
    before = doc.project
    previous, key, following = key_between_neighbours(before)
    source = before.keyframes[-1]  # a pose from elsewhere (the last letter)
    doc.select_key(source.frame)
    window.copy_key()
    target = key + 2
    doc.set_frame(target)
    handle = window.paste_key()
    assert doc.project is before  # nothing until the job lands
    with qtbot.waitSignal(handle.finished, timeout=5000):
        pass
    after = doc.project
    assert after.keyframe_at(target).pose.equals(source.pose)
    assert after.motion.frame(target).equals(source.pose)
    assert_only_range_changed(before, after, key + 1, following)
    assert doc.undo_stack.count() == 2 and doc.selected_key == target
    doc.undo_stack.undo()
    assert doc.project.equals(before)


def test_pose_edit_regenerates_the_neighbourhood_smoothly(generated, qtbot):
    window, doc = generated, generated.document
    panel = window.properties
    before = doc.project
    previous, key, following = key_between_neighbours(before)
    doc.select_key(key)
    panel.joint.setCurrentIndex(panel.joint.findText("right elbow"))
    start_angle = panel.angles[0].value()
    panel.angles[0].setValue(start_angle + 40.0)
    after = doc.project
    assert doc.undo_stack.count() == 2
    turned = after.motion.full_pose()[:, ELBOW].astype(np.float64)
    assert np.degrees(np.linalg.norm(turned[key] - before.motion.full_pose()[key, ELBOW])) > 30
    assert after.motion.frame(key).equals(after.keyframe_at(key).pose)
    start, stop = affected_range(before, (key,), ignore=(key,))
    assert (start, stop) == (previous + 1, following)
    assert_only_range_changed(before, after, start, stop)
    # The motion eases into the new pose over the span: no frame-to-frame step comes
    # near the 40 degrees the key itself moved.
    steps = np.degrees(np.linalg.norm(np.diff(turned[previous:following + 1], axis=0), axis=1))
    assert steps.max() < 25.0, steps


def test_an_edit_computed_for_an_older_project_is_discarded(generated, qtbot):
    window, doc = generated, generated.document
    _, key, _ = key_between_neighbours(doc.project)
    doc.select_key(key)
    handle = window.delete_selected_key()
    doc.undo_stack.undo()  # the generation goes away before the job lands
    undone = doc.project
    with qtbot.waitSignal(window.edits.rejected, timeout=5000) as blocker:
        pass
    assert "discarded" in blocker.args[0] and handle is not None
    assert doc.project is undone and doc.undo_stack.index() == 0
    qtbot.wait(50)
    assert "discarded" in window.statusBar().currentMessage()  # no false "Deleted ..."


# ---------------------------------------------------------------- what is signed
class LabelSpy:
    """A KF2P backend that records the labels it is given and in-betweens with the
    smooth baseline (it declares ``labels``, as the learned model does)."""

    def __init__(self):
        self.received = []

    def __call__(self, motion, keys, frame_range, num_candidates, seed, *, labels=None):
        self.received.append(labels)
        return smooth_backend(motion, keys, frame_range, num_candidates, seed)


def test_key_edits_and_stretches_tell_the_backend_what_is_signed(hello):
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


def test_a_pasted_key_in_the_window_regenerates_with_the_projects_labels(generated, qtbot):
    window, doc = generated, generated.document
    spy = LabelSpy()
    window.edits.backend = spy
    before = doc.project
    _, key, _ = key_between_neighbours(before)
    source = before.keyframes[-1]
    doc.select_key(source.frame)
    window.copy_key()
    doc.set_frame(key + 2)
    with qtbot.waitSignal(window.paste_key().finished, timeout=5000):
        pass
    assert spy.received == [before.frame_labels()]
    assert doc.project.keyframe_at(key + 2) is not None
