"""A project remembers what it was generated from, and Generate does not silently
replace the user's unsaved edits."""
from PySide6.QtWidgets import QMessageBox


def _generate(window, qtbot, text):
    handle = window.lexicon_actions.generate(text, "ase")
    if handle is not None:
        with qtbot.waitSignal(handle.finished, timeout=10000):
            pass
    return handle


def test_reopening_a_generated_project_shows_its_text_and_language(make_window, qtbot,
                                                                   tmp_path):
    window = make_window()
    _generate(window, qtbot, "hello")
    window.files.save_as(tmp_path / "hello.signstudio")
    other = make_window()
    assert other.prompt.text.text() == ""
    assert other.files.open_project(tmp_path / "hello.signstudio")
    assert other.prompt.text.text() == "hello" and other.prompt.language_code() == "ase"
    assert other.document.project.origin.text == "hello"


def test_generate_asks_before_replacing_unsaved_edits(make_window, qtbot, monkeypatch):
    window = make_window()
    asked = []

    def answer(reply):
        def ask(title, text, buttons, default):
            asked.append(text)
            return reply
        return ask

    monkeypatch.setattr(window, "ask", answer(QMessageBox.StandardButton.No))
    _generate(window, qtbot, "hello")
    _generate(window, qtbot, "oh")  # a fresh generation holds no edit of the user's
    assert asked == []
    doc = window.document
    free = next(f for f in range(doc.project.motion.num_frames)
                if doc.project.keyframe_at(f) is None)
    doc.set_frame(free)
    window.edit_actions.add_key_at_playhead()
    edited = doc.project
    assert _generate(window, qtbot, "hello") is None  # "No": the edit stays
    assert len(asked) == 1 and "not saved" in asked[0] and doc.project is edited
    monkeypatch.setattr(window, "ask", answer(QMessageBox.StandardButton.Yes))
    _generate(window, qtbot, "hello")
    assert len(asked) == 2 and doc.project.origin.text == "hello"
    # Undo brings the edit back, as the question says.
    doc.undo_stack.undo()
    assert doc.project.equals(edited)


def test_ctrl_z_in_the_text_field_undoes_typing_then_the_last_edit(make_window, qtbot):
    from PySide6.QtCore import Qt

    window = make_window()
    _generate(window, qtbot, "hello")
    doc = window.document
    assert doc.undo_stack.index() == 1
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=3000)
    field = window.prompt.text
    field.setFocus()
    qtbot.keyClicks(field, "xy")
    qtbot.keyClick(field, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert field.text() == "" and doc.undo_stack.index() == 1  # the typing first
    qtbot.keyClick(field, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert doc.undo_stack.index() == 0  # nothing left to type-undo: the project's edit
