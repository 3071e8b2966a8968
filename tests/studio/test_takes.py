"""Other takes of a span: the learned in-betweener draws several, the user steps through
them with the picker's buttons (real clicks), keeps one as one undo step or cancels;
keys and frames outside the span never change."""
import numpy as np
from PySide6.QtCore import Qt

from tests.studio.menus import menu_action


def _draw_takes(window, qtbot, frame):
    window.document.set_frame(frame)
    menu_action(window, "&Edit", "Other &takes of this span…").trigger()
    qtbot.waitUntil(lambda: window.takes.active, timeout=20000)
    return window.takes


def test_stepping_through_takes_and_keeping_one_is_one_undo_step(generated, qtbot):
    window = generated
    doc = window.document
    before = doc.committed_project
    keys = sorted(k.frame for k in before.keyframes)
    picker = _draw_takes(window, qtbot, (keys[1] + keys[2]) // 2)
    start, stop = picker.takes[0].frame_range
    assert (start, stop) == (keys[1] + 1, keys[2])
    assert picker.label.text() == f"Take 1 of 4 (frames {start}–{stop - 1})"
    takes = [take.project.motion for take in picker.takes]
    # The learned model draws different takes; each keeps every frame outside the span.
    assert not np.allclose(takes[0].body_pose[start:stop], takes[1].body_pose[start:stop])
    for motion in takes:
        assert motion.slice(0, start).equals(before.motion.slice(0, start))
        assert motion.slice(stop, motion.num_frames).equals(
            before.motion.slice(stop, motion.num_frames))
    qtbot.mouseClick(picker.next, Qt.MouseButton.LeftButton)
    assert picker.label.text().startswith("Take 2 of 4")
    assert doc.project.motion.equals(takes[1])            # previewed ...
    assert doc.committed_project is before                # ... not landed
    qtbot.mouseClick(picker.previous, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(picker.previous, Qt.MouseButton.LeftButton)   # wraps to the last
    assert picker.label.text().startswith("Take 4 of 4")
    steps = doc.undo_stack.count()
    qtbot.mouseClick(picker.keep, Qt.MouseButton.LeftButton)
    assert not picker.isVisible()
    assert doc.undo_stack.count() == steps + 1
    assert doc.committed_project.motion.equals(takes[3])
    assert doc.committed_project.keyframes == before.keyframes     # keys unchanged
    doc.undo_stack.undo()
    assert doc.committed_project.motion.equals(before.motion)     # undo restores exactly


def test_cancel_keeps_the_motion_as_it_was(generated, qtbot):
    window = generated
    doc = window.document
    before = doc.committed_project
    keys = sorted(k.frame for k in before.keyframes)
    picker = _draw_takes(window, qtbot, keys[2])      # on a key: the span after it
    assert picker.takes[0].frame_range[0] == keys[2] + 1
    qtbot.mouseClick(picker.next, Qt.MouseButton.LeftButton)
    steps = doc.undo_stack.count()
    qtbot.mouseClick(picker.cancel, Qt.MouseButton.LeftButton)
    assert doc.project is before and doc.undo_stack.count() == steps
    assert not picker.isVisible()
