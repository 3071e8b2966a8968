"""Studio test set-up: Qt's platform, and main windows built on a test lexicon
(``lexicon_path``, from tests/conftest.py)."""
import os

import pytest

# Set before anything imports Qt. Without an X server the widgets run on Qt's
# offscreen platform (the app itself refuses to start without a display); viewport
# tests need a real GL context, so they run under Xvfb and are marked `gl`.
if not os.environ.get("DISPLAY"):
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


@pytest.fixture
def make_window(qtbot, tmp_path, lexicon_path, monkeypatch):
    """Builds main windows on a test lexicon, with settings, recent files and the
    recovery folder under tmp_path; closes them without prompts afterwards."""
    from PySide6.QtCore import QSettings

    from studio.app import build_main_window
    from studio.recovery import RecoveryStore

    monkeypatch.setenv("SIGNSTUDIO_CONFIG_DIR", str(tmp_path / "config"))
    windows = []

    def make(with_viewport=False, recovery_dir=None, **kwargs):
        window = build_main_window(
            lexicon_path=lexicon_path, with_viewport=with_viewport,
            qsettings=QSettings(str(tmp_path / "studio.ini"), QSettings.Format.IniFormat),
            recovery=RecoveryStore(recovery_dir or tmp_path / "recovery"), **kwargs)
        # Not qtbot.addWidget: pytest-qt closes those before fixtures tear down, and
        # closing a window with unsaved work asks a (modal) question.
        window.show()
        qtbot.waitUntil(lambda: window.prompt.language.count() > 0, timeout=10000)
        windows.append(window)
        return window

    yield make
    for window in windows:
        window.drag.cancel()
        window.document.undo_stack.setClean()
        window.close()
        window.runner.shutdown()
        window.deleteLater()


@pytest.fixture
def generated(make_window, qtbot):
    """A window that has generated 'hello' in ASL (synthetic letters)."""
    window = make_window()
    handle = window.lexicon_actions.generate("hello", "ase")
    with qtbot.waitSignal(handle.finished, timeout=10000):
        pass
    qtbot.waitUntil(lambda: window.lexicon_actions.last_generation is not None, timeout=5000)
    return window
