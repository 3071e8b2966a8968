"""Composition root of the desktop app (``signstudio``): builds the Document, the
JobRunner, the lexicon service (owned by the job lane) and the MainWindow."""
from __future__ import annotations

import os
import sys
from pathlib import Path


def build_main_window(*, document=None, runner=None, lexicon_path: str | Path | None = None,
                      with_viewport: bool | None = None, qsettings=None, recovery=None,
                      autosave_seconds: float = 30.0):
    """The main window with its collaborators (each may be given, for tests).

    ``lexicon_path``: default ``engine.data.lexicon.default_lexicon_path()`` (the
    SIGNSTUDIO_LEXICON variable, the ``lexicon_path`` setting, or the user data folder).
    ``with_viewport``: None = when the Qt platform can show OpenGL (not 'offscreen').
    """
    from studio.document import Document
    from studio.jobs import JobRunner
    from studio.lexicon_service import LexiconService
    from studio.main_window import MainWindow

    document = document or Document()
    runner = runner or JobRunner()
    window = MainWindow(document, runner, LexiconService(lexicon_path),
                        with_viewport=with_viewport, qsettings=qsettings, recovery=recovery,
                        autosave_seconds=autosave_seconds)
    runner.setParent(window)  # lives as long as the window
    return window


def install_error_dialog(window) -> None:
    """An error that escapes a Qt slot is shown to the user as one line in a dialog (the
    traceback goes to stderr for a bug report) and the app and its project stay open."""
    from engine.motion.errors import user_message

    previous = sys.excepthook

    def show(kind, error, trace) -> None:
        if issubclass(kind, KeyboardInterrupt):
            previous(kind, error, trace)
            return
        import traceback

        traceback.print_exception(kind, error, trace, file=sys.stderr)
        window.show_error("Something went wrong", f"{user_message(error)}\n\nYour project "
                          "is still open; saving it is safe.")

    sys.excepthook = show


def missing_display(environ=None, platform: str | None = None) -> str | None:
    """Why the app cannot show a window here, or None when it can.

    On Linux and the BSDs Qt needs an X11 or Wayland server; without one it aborts with
    a long plugin message. ``QT_QPA_PLATFORM`` set by the user (e.g. ``offscreen``)
    is their choice and is honoured. Windows and macOS always have a display.
    """
    environ = os.environ if environ is None else environ
    platform = sys.platform if platform is None else platform
    if platform.startswith(("win", "darwin")) or any(
            environ.get(name) for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")):
        return None
    return ("signstudio: error: no display (DISPLAY and WAYLAND_DISPLAY are not set). Run "
            "it in a desktop session, over `ssh -X`, or under `xvfb-run signstudio`; "
            "QT_QPA_PLATFORM=offscreen starts it without a window.")


def main(argv: list[str] | None = None) -> int:
    problem = missing_display()
    if problem:
        print(problem, file=sys.stderr)
        return 1
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from engine.motion.project_io import PROJECT_SUFFIX

    argv = sys.argv if argv is None else argv
    app = QApplication.instance() or QApplication(argv)
    app.setApplicationName("Sign Studio")
    app.setOrganizationName("Sign Studio")
    window = build_main_window()
    install_error_dialog(window)
    app.aboutToQuit.connect(window.runner.shutdown)
    window.show()
    files = [a for a in argv[1:] if a.endswith(PROJECT_SUFFIX)]
    if files:
        QTimer.singleShot(0, lambda: window.files.open_project(files[0]))
    else:
        from studio.dialogs.welcome_dialog import maybe_welcome

        # Unsaved work from a crash comes first; a first launch has none.
        QTimer.singleShot(0, lambda: window.files.offer_recovery() or maybe_welcome(window))
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
