"""The minimal main window opens and reports the loaded avatar."""
from PySide6.QtWidgets import QLabel

from studio.app import build_main_window


def test_main_window_shows_the_default_avatar(qtbot):
    window = build_main_window()
    qtbot.addWidget(window)
    window.show()
    assert window.windowTitle().startswith("Sign Studio")
    text = window.centralWidget().text() if isinstance(window.centralWidget(), QLabel) else ""
    assert "13,718 vertices" in text
