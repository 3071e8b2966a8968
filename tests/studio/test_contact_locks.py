"""Holding a hand on the body from the studio, driven like a user: select keys, Edit >
Hold a hand on the body, pick the point and the site in the dialog, OK; the lock lands
as one undo step, shows on the hand's track, and is released from the Edit menu
(the holding itself is tested in tests/engine/test_contact_hold.py)."""
from PySide6.QtCore import Qt

from engine.notation.contact_hold import locked_project
from engine.motion.contacts import ContactLock
from tests.studio.menus import menu_action
from tests.studio.timeline_input import group_with_room, select_by_shift_click


def test_a_hand_held_on_the_nose_over_the_selected_keys(generated, qtbot):
    window, doc, view = generated, generated.document, generated.timeline
    before = doc.project
    group = group_with_room(before)
    select_by_shift_click(qtbot, view, group)
    menu_action(window, "&Edit", "&Hold a hand on the body…").trigger()
    dialog = window.edit_actions.contact_dialog
    assert dialog.isVisible()
    assert (dialog.first.value(), dialog.last.value()) == (group[0], group[-1])
    qtbot.keyClicks(dialog.site, "nose")
    qtbot.keyClicks(dialog.point, "thumb")
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    lock = ContactLock("right", "thumb", "nose", group[0], group[-1] + 1)
    assert doc.project.contacts == (lock,)
    assert doc.project.equals(locked_project(before, lock, window.body))
    assert doc.undo_stack.undoText() == (f"Hold the right thumb tip on nose, frames "
                                         f"{group[0]}–{group[-1]}")
    tips = [item.toolTip() for item in view.scene().items()]
    assert any(tip.startswith("Held: right thumb tip on nose") for tip in tips)
    held = doc.project

    doc.set_frame(group[1])
    menu_action(window, "&Edit", "Release hand holds at the playhead").trigger()
    assert doc.project.contacts == () and doc.project.motion.equals(held.motion)
    doc.undo_stack.undo()
    assert doc.project.equals(held)
    doc.undo_stack.undo()
    assert doc.project.equals(before)


def test_cancel_changes_nothing_and_release_says_when_nothing_is_held(generated, qtbot):
    window, doc = generated, generated.document
    before = doc.project
    menu_action(window, "&Edit", "&Hold a hand on the body…").trigger()
    dialog = window.edit_actions.contact_dialog
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    assert not dialog.isVisible() and doc.project is before
    menu_action(window, "&Edit", "Release hand holds at the playhead").trigger()
    assert "No hand is held on the body" in window.statusBar().currentMessage()
    assert doc.undo_stack.count() == 1
