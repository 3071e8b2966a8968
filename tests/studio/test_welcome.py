"""The first-run screen: shown once at the first launch; its example button signs HELLO
in ASL in the window (real click); Help > Welcome shows it again."""
from PySide6.QtCore import Qt

from tests.studio.menus import menu_action


def test_the_first_launch_welcomes_and_signs_an_example(make_window, qtbot):
    from studio.dialogs.welcome_dialog import maybe_welcome

    window = make_window()
    dialog = maybe_welcome(window)
    assert dialog is not None and dialog.isVisible()
    assert dialog.windowTitle() == "Welcome to Sign Studio"
    qtbot.mouseClick(dialog.example, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(window.document.project.segments) == 5, timeout=20000)
    assert [s.gloss for s in window.document.project.segments] == list("HELLO")
    assert window.prompt.text.text() == "hello"
    assert window.prompt.language.currentData() == "ase"
    # Not again at the next launch.
    assert maybe_welcome(window) is None


def test_help_shows_the_welcome_again_and_empty_closes_it(make_window, qtbot):
    window = make_window()
    window.qsettings.setValue("welcome/shown", True)
    menu_action(window, "&Help", "&Welcome…").trigger()
    from studio.dialogs.welcome_dialog import WelcomeDialog

    dialog = next(d for d in window.findChildren(WelcomeDialog) if d.isVisible())
    project = window.document.project
    qtbot.mouseClick(dialog.empty, Qt.MouseButton.LeftButton)
    assert not dialog.isVisible() and window.document.project is project
