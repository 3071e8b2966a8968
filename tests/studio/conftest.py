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


@pytest.fixture
def posed(make_window, qtbot):
    """A window showing a one-handed notation sign at a frame between two keys."""
    from engine.workflows.notation import sign_from_notation

    window = make_window(with_viewport=True)
    window.resize(1200, 900)
    with qtbot.waitSignal(window.viewport.frame_shown, timeout=10000):
        window.document.new(sign_from_notation("flathand extfingeru palml chest touch moveo"))
    keys = sorted(k.frame for k in window.document.project.keyframes)
    frame = (keys[2] + keys[3]) // 2
    with qtbot.waitSignal(window.viewport.frame_shown, timeout=5000):
        window.document.set_frame(frame)
    window.viewport.show_frame()
    return window, frame


def released_key(qtbot, window, frame, to):
    """Release the left button over the viewport at ``to`` and wait for the edit to
    land: the user's key it set at ``frame``, pinning the body (checked)."""
    from PySide6.QtCore import Qt

    steps = window.document.undo_stack.count()
    with qtbot.waitSignal(window.edits.landed, timeout=20000):
        qtbot.mouseRelease(window.viewport.plotter.interactor, Qt.MouseButton.LeftButton,
                           pos=to)
    assert window.document.undo_stack.count() == steps + 1
    key = window.document.committed_project.keyframe_at(frame)
    assert key is not None and "body" in key.channels and not key.generated
    return key
