"""The Help menu: every shortcut the menus define, the README, what is installed."""
from studio.dialogs.help_dialog import shortcut_rows
from studio.window.menus import show_help


def test_the_shortcut_list_is_read_from_the_menus(make_window):
    window = make_window()
    titles = [action.text().replace("&", "") for action in window.menuBar().actions()]
    assert titles[-1] == "Help"
    rows = {command: keys for _, command, keys in shortcut_rows(window.menuBar())}
    assert rows["Undo"] == "Ctrl+Z" and rows["Add keyframe at playhead"] == "K"
    assert rows["Play / pause"] == "Space" and rows["Export…"] == "Ctrl+E"
    assert rows["Redo"] == "Ctrl+Shift+Z or Ctrl+Y"
    dialog = show_help(window, "shortcuts")
    text = dialog.page.toPlainText()
    assert all(command in text and keys in text for command, keys in rows.items())
    dialog.close()


def test_the_readme_and_about_pages_say_what_this_is(make_window):
    import engine

    window = make_window()
    readme = show_help(window, "readme")
    assert readme.page.toPlainText().startswith("Sign Studio")
    assert "Two commands" in readme.page.toPlainText()
    about = show_help(window, "about")
    assert f"Sign Studio {engine.__version__}" in about.page.toPlainText()
    readme.close()
    about.close()


def test_every_control_says_what_it_does(make_window):
    """A tooltip (or status tip) on every button, box and field the window makes; Qt's
    own helpers (a tab bar's scroll arrows, a field's clear button) are not ours."""
    from PySide6.QtWidgets import (
        QAbstractButton, QAbstractSpinBox, QComboBox, QLineEdit, QSlider, QTabBar,
    )

    window = make_window()
    silent = []
    for kind in (QAbstractButton, QComboBox, QAbstractSpinBox, QLineEdit, QSlider):
        for widget in window.findChildren(kind):
            parent = widget.parent()
            if (widget.objectName().startswith("qt_") or isinstance(parent, QTabBar)
                    or isinstance(parent, (QLineEdit, QComboBox, QAbstractSpinBox))):
                continue
            if not (widget.toolTip() or widget.statusTip()):
                label = widget.text() if hasattr(widget, "text") else ""
                silent.append(f"{type(widget).__name__} '{label}' in {type(parent).__name__}")
    assert silent == []
