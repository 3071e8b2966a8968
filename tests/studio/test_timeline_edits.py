"""Timeline edits beyond the keyframe drag, driven like a user: the left-edge
time-stretch of a sign, and deleting, pasting and pose-editing keyframes, each
regenerating through KF2P and landing as one undo step (the edits themselves are
tested without Qt in tests/engine/test_retime.py and test_key_edits.py)."""
import numpy as np
from PySide6.QtCore import QPoint, Qt

from engine.body.skeleton import JOINT_INDEX
from engine.generate.key_edits import affected_range
from engine.generate.retime import movement_frames, stretch_segment
from engine.motion import Project
from tests.engine.test_key_edits import LabelSpy, key_between_neighbours

ELBOW = JOINT_INDEX["right_elbow"]


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


def test_clicking_a_sign_moves_the_playhead_there_and_selects_it(generated, qtbot):
    from studio.timeline.timeline_view import SEGMENT_HEIGHT, SEGMENT_TOP

    view, doc = generated.timeline, generated.document
    segment = doc.project.segments[3]
    frame = (segment.start + segment.end) // 2
    assert doc.frame != frame
    point = view.view_point(frame, SEGMENT_TOP + SEGMENT_HEIGHT // 2)
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=point)
    assert doc.selected_segment == 3 and doc.frame == frame
    assert doc.undo_stack.count() == 1  # selecting and moving the playhead edit nothing


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
    window.edit_actions.copy_key()
    target = key + 2
    doc.set_frame(target)
    handle = window.edit_actions.paste_key()
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
    handle = window.edit_actions.delete_selected_key()
    doc.undo_stack.undo()  # the generation goes away before the job lands
    undone = doc.project
    with qtbot.waitSignal(window.edits.rejected, timeout=5000) as blocker:
        pass
    assert "discarded" in blocker.args[0] and handle is not None
    assert doc.project is undone and doc.undo_stack.index() == 0
    qtbot.wait(50)
    assert "discarded" in window.statusBar().currentMessage()  # no false "Deleted ..."


# ---------------------------------------------------------------- what is signed
def test_a_pasted_key_in_the_window_regenerates_with_the_projects_labels(generated, qtbot):
    window, doc = generated, generated.document
    spy = LabelSpy()
    window.edits.backend = spy
    before = doc.project
    _, key, _ = key_between_neighbours(before)
    source = before.keyframes[-1]
    doc.select_key(source.frame)
    window.edit_actions.copy_key()
    doc.set_frame(key + 2)
    with qtbot.waitSignal(window.edit_actions.paste_key().finished, timeout=5000):
        pass
    assert spy.received == [before.frame_labels()]
    assert doc.project.keyframe_at(key + 2) is not None


def test_a_dragged_key_never_lands_on_another_and_the_playhead_follows_it(generated, qtbot):
    from tests.studio.test_main_window import drag_key

    window, doc = generated, generated.document
    _, key, following = key_between_neighbours(doc.project)
    drag_key(qtbot, window, key, key + 2, release=False)
    assert doc.frame == key + 2  # the playhead follows the key
    # Onto the next key: the key waits at the last free frame before it, and says why.
    view = window.timeline
    y = view.track_y(2)
    for frame in range(key + 3, following + 1):
        qtbot.mouseMove(view.viewport(), pos=view.view_point(frame, y))
    assert doc.frame == following - 1 and doc.project.keyframe_at(following - 1) is not None
    assert f"Frame {following} already has a keyframe" in window.statusBar().currentMessage()
    qtbot.mouseRelease(view.viewport(), Qt.MouseButton.LeftButton,
                       pos=view.view_point(following, y))
    qtbot.waitUntil(lambda: not doc.in_preview, timeout=5000)
    keys = [k.frame for k in doc.project.keyframes]
    assert following - 1 in keys and following in keys and key not in keys
