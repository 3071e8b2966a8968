"""Several keyframes at once on the timeline, driven with real mouse and key events:
Shift+click, a box over empty tracks and Ctrl+A select; a selection drags as one,
its bracket's handles scale it in time, and copy, paste and delete work on all of it.
Each edit lands as one undo step that restores the project exactly (the edits
themselves are tested without Qt in tests/engine/test_key_selection.py)."""
import pytest
from PySide6.QtCore import QPoint, Qt

from engine.generate.key_selection import (
    copy_keys, delete_keys_edit, paste_keys_edit, scale_keys_edit, shift_keys_edit,
)
from tests.studio.menus import menu_action
from tests.studio.timeline_input import (
    TRACK, click_key, group_with_room, select_by_shift_click,
)

def pull(qtbot, view, start: QPoint, frames: int, release=True) -> QPoint:
    """Press at ``start`` and move ``frames`` frames sideways, frame by frame."""
    qtbot.mousePress(view.viewport(), Qt.MouseButton.LeftButton, pos=start)
    step = 1 if frames > 0 else -1
    for moved in range(1, abs(frames) + 1):
        qtbot.mouseMove(view.viewport(),
                        pos=start + QPoint(round(step * moved * view.pixels_per_frame), 0))
    end = start + QPoint(round(frames * view.pixels_per_frame), 0)
    if release:
        qtbot.mouseRelease(view.viewport(), Qt.MouseButton.LeftButton, pos=end)
    return end


def undo_restores(doc, before, after):
    doc.undo_stack.undo()
    assert doc.project.equals(before)
    doc.undo_stack.redo()
    assert doc.project.equals(after)


def test_shift_click_a_box_and_ctrl_a_select_keys(generated, qtbot):
    doc, view = generated.document, generated.timeline
    group = group_with_room(doc.project)
    select_by_shift_click(qtbot, view, group)
    assert doc.selected_keys == set(group) and doc.selected_key == group[-1]
    click_key(qtbot, view, group[1], shift=True)           # Shift+click again: out
    assert doc.selected_keys == {group[0], group[2]}
    # A box from before the first key to after the third (clear of the keys and of the
    # selection's handles), over two tracks.
    top_left = view.view_point(group[0] - 2.5, view.track_y(1))
    bottom_right = view.view_point(group[2] + 2.5, view.track_y(3))
    qtbot.mousePress(view.viewport(), Qt.MouseButton.LeftButton, pos=top_left)
    qtbot.mouseMove(view.viewport(), pos=(top_left + bottom_right) / 2)
    qtbot.mouseMove(view.viewport(), pos=bottom_right)
    qtbot.mouseRelease(view.viewport(), Qt.MouseButton.LeftButton, pos=bottom_right)
    assert doc.selected_keys == set(group)
    view.setFocus()
    qtbot.keyClick(view, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    assert doc.selected_keys == {k.frame for k in doc.project.keyframes}
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton,
                     pos=view.view_point(group[0] + 1, view.track_y(TRACK)))
    assert doc.selected_keys == set() and doc.frame == group[0] + 1  # empty track: none
    assert doc.undo_stack.count() == 1                      # selecting is not an edit


def test_a_dragged_selection_moves_as_one_with_one_undo_step(generated, qtbot):
    window, doc, view = generated, generated.document, generated.timeline
    before = doc.project
    group = group_with_room(before)
    select_by_shift_click(qtbot, view, group)
    pull(qtbot, view, view.view_point(group[1], view.track_y(TRACK)), 3, release=False)
    assert doc.in_preview and doc.selected_keys == {f + 3 for f in group}
    assert "Moving 3 keyframes by +3" in window.statusBar().currentMessage()
    qtbot.mouseRelease(view.viewport(), Qt.MouseButton.LeftButton,
                       pos=view.view_point(group[1] + 3, view.track_y(TRACK)))
    qtbot.waitUntil(lambda: doc.undo_stack.count() == 2, timeout=5000)
    after = doc.project
    assert after.equals(shift_keys_edit(before, group, 3, window.drag.backend).project)
    assert doc.selected_keys == {f + 3 for f in group}
    assert doc.undo_stack.undoText() == "Move 3 keyframes by +3 frames"
    undo_restores(doc, before, after)


@pytest.mark.parametrize("grab", ["a key", "the left handle"])
def test_escape_cancels_a_selection_drag_or_scale_and_keeps_the_selection(generated, qtbot,
                                                                           grab):
    doc, view = generated.document, generated.timeline
    before = doc.project
    group = group_with_room(before)
    select_by_shift_click(qtbot, view, group)
    start = (view.view_point(group[0], view.track_y(TRACK)) if grab == "a key"
             else view.scale_handle_point("left"))
    pull(qtbot, view, start, 2 if grab == "a key" else -2, release=False)
    assert doc.in_preview
    qtbot.keyClick(view, Qt.Key.Key_Escape)
    qtbot.mouseRelease(view.viewport(), Qt.MouseButton.LeftButton)
    assert not doc.in_preview and doc.project is before
    assert doc.selected_keys == set(group) and doc.undo_stack.count() == 1


def test_the_bracket_handle_scales_the_selection_in_time(generated, qtbot):
    window, doc, view = generated, generated.document, generated.timeline
    before = doc.project
    group = group_with_room(before)
    select_by_shift_click(qtbot, view, group)
    span = group[-1] - group[0]
    pull(qtbot, view, view.scale_handle_point("right"), 2, release=False)
    factor = (span + 2) / span
    assert doc.in_preview and max(doc.selected_keys) == group[-1] + 2
    assert f"×{factor:.2f} about frame {group[0]}" in window.statusBar().currentMessage()
    qtbot.mouseRelease(view.viewport(), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: doc.undo_stack.count() == 2, timeout=5000)
    after = doc.project
    assert after.equals(scale_keys_edit(before, group, group[0], factor,
                                        window.edits.backend).project)
    assert doc.undo_stack.undoText().startswith(f"Scale 3 keyframes ×{factor:.2f}")
    assert min(doc.selected_keys) == group[0] and max(doc.selected_keys) == group[-1] + 2
    undo_restores(doc, before, after)


@pytest.mark.parametrize("action", ["Copy", "Delete"])
def test_copy_paste_and_delete_work_on_the_whole_selection(generated, qtbot, action):
    window, doc, view = generated, generated.document, generated.timeline
    before = doc.project
    group = group_with_room(before)
    select_by_shift_click(qtbot, view, group)
    if action == "Copy":
        menu_action(window, "&Edit", "&Copy keyframes").trigger()
        target = before.motion.num_frames - (group[-1] - group[0]) - 2
        doc.set_frame(target)
        menu_action(window, "&Edit", "&Paste keyframes at playhead").trigger()
        expected = paste_keys_edit(before, copy_keys(before, group), target,
                                   window.edits.backend)
        selected = {target + f - group[0] for f in group}
    else:
        menu_action(window, "&Edit", "&Delete keyframe or face marker").trigger()
        expected = delete_keys_edit(before, group, window.edits.backend)
        selected = set()
    qtbot.waitUntil(lambda: doc.undo_stack.count() == 2, timeout=5000)
    after = doc.project
    assert after.equals(expected.project)
    assert doc.selected_keys == selected
    undo_restores(doc, before, after)


def test_a_scale_back_to_where_it_started_lands_nothing(generated, qtbot):
    window, doc, view = generated, generated.document, generated.timeline
    before = doc.project
    group = group_with_room(before)
    select_by_shift_click(qtbot, view, group)
    start = view.scale_handle_point("right")
    pull(qtbot, view, start, 2, release=False)
    assert doc.in_preview
    qtbot.mouseMove(view.viewport(), pos=start)                  # back to x1.00
    # ...and past the pivot: refused with a word, the last scale kept.
    past = view.view_point(group[0] - 2, view.track_y(TRACK))
    qtbot.mouseMove(view.viewport(), pos=past)
    assert "cannot turn the keys round" in window.statusBar().currentMessage()
    qtbot.mouseMove(view.viewport(), pos=start)
    qtbot.mouseRelease(view.viewport(), Qt.MouseButton.LeftButton, pos=start)
    qtbot.wait(200)
    assert not doc.in_preview and doc.project is before and doc.undo_stack.count() == 1
    assert doc.selected_keys == set(group)


def test_a_click_on_a_key_of_a_selection_selects_just_that_key(generated, qtbot):
    doc, view = generated.document, generated.timeline
    group = group_with_room(doc.project)
    select_by_shift_click(qtbot, view, group)
    click_key(qtbot, view, group[1])
    assert doc.selected_keys == {group[1]} and doc.selected_key == group[1]
