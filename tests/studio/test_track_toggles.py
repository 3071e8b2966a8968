"""Lock and mute toggles beside each keyframe track's name: real clicks, one undo step
each; a key edit on a locked track is refused with a message and changes nothing."""
from PySide6.QtCore import QPointF, Qt


def _click_toggle(window, qtbot, row, which):
    from studio.timeline.timeline_view import LABEL_WIDTH, TRACK_HEIGHT, TRACK_TOP
    from studio.timeline.track_states import toggle_rect

    timeline = window.timeline
    top = timeline.mapFromScene(QPointF(0, 0)).y()
    rect = toggle_rect(LABEL_WIDTH, top + TRACK_TOP + row * TRACK_HEIGHT, TRACK_HEIGHT, which)
    qtbot.mouseClick(timeline.viewport(), Qt.MouseButton.LeftButton,
                     pos=rect.center().toPoint())


def test_mute_and_lock_toggles_are_undoable_and_saved_in_the_project(generated, qtbot):
    from engine.face.perform import performed_motion
    from engine.motion import Channel

    window = generated
    doc = window.document
    before = doc.committed_project
    steps = doc.undo_stack.count()
    _click_toggle(window, qtbot, 2, "mute")               # Right hand
    assert doc.committed_project.muted == {Channel.RIGHT_HAND}
    assert doc.undo_stack.count() == steps + 1
    assert doc.undo_stack.undoText() == "Mute the Right hand track"
    assert not performed_motion(doc.project).right_hand_pose.any()
    _click_toggle(window, qtbot, 0, "lock")               # Body (root and body)
    assert doc.committed_project.locked == {Channel.ROOT, Channel.BODY}
    _click_toggle(window, qtbot, 0, "lock")
    assert doc.committed_project.locked == frozenset()
    doc.undo_stack.undo()
    doc.undo_stack.undo()
    doc.undo_stack.undo()
    assert doc.committed_project.equals(before)


def test_a_handshape_on_a_locked_hand_is_refused_with_a_message(generated, qtbot):
    window = generated
    doc = window.document
    _click_toggle(window, qtbot, 2, "lock")
    locked = doc.committed_project
    key = locked.keyframes[2].frame
    doc.select_key(key)
    messages = []
    window.properties.error_raised.connect(messages.append)
    shape = next(iter(window.properties._presets))
    window.properties.apply_handshape(shape)
    assert messages and "right hand track is locked" in messages[0]
    assert doc.committed_project is locked
