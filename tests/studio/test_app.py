"""The composition root builds a working main window."""
from PySide6.QtCore import QSettings

from studio.app import build_main_window
from studio.recovery import RecoveryStore


def test_main_window_builds_with_its_parts(qtbot, tmp_path, lexicon_path, monkeypatch):
    monkeypatch.setenv("SIGNSTUDIO_CONFIG_DIR", str(tmp_path / "config"))
    window = build_main_window(lexicon_path=lexicon_path, with_viewport=False,
                               qsettings=QSettings(str(tmp_path / "s.ini"),
                                                   QSettings.Format.IniFormat),
                               recovery=RecoveryStore(tmp_path / "recovery"))
    qtbot.addWidget(window)
    window.show()
    assert window.windowTitle().startswith("Sign Studio")
    assert window.body.num_vertices == 13_718  # the embedded avatar is loaded once
    # Every language the package's recordings offer; the settings' default is chosen.
    qtbot.waitUntil(lambda: window.prompt.language.count() >= 19, timeout=10000)
    assert window.prompt.language.currentData() == "ase"
    assert window.prompt.language.currentText() == "American Sign Language (ase)"
    window.close()
    window.runner.shutdown()


def test_an_error_escaping_a_slot_is_a_dialog_and_the_project_stays(make_window, monkeypatch):
    import sys

    from studio.app import install_error_dialog
    window = make_window()
    project = window.document.project
    shown = []
    monkeypatch.setattr(window, "show_error", lambda title, text: shown.append((title, text)))
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)  # restored after the test
    install_error_dialog(window)
    try:
        raise RuntimeError("a bug in a slot\nwith details")
    except RuntimeError as error:
        sys.excepthook(type(error), error, error.__traceback__)
    assert shown == [("Something went wrong", "unexpected RuntimeError: a bug in a slot\n\n"
                      "Your project is still open; saving it is safe.")]
    assert window.document.project is project and window.isVisible()



def test_without_a_display_the_app_says_so_in_one_line(monkeypatch, capsys):
    import sys

    from studio.app import main

    for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(sys, "platform", "linux")
    assert main(["signstudio"]) == 1  # before Qt starts: no plugin abort
    message = capsys.readouterr().err.strip()
    assert len(message.splitlines()) == 1 and "no display" in message
    assert "xvfb-run" in message and "QT_QPA_PLATFORM=offscreen" in message


def test_a_display_or_a_chosen_platform_lets_the_app_start():
    from studio.app import missing_display

    assert missing_display({}, "linux")
    for environ in ({"DISPLAY": ":0"}, {"WAYLAND_DISPLAY": "wayland-0"},
                    {"QT_QPA_PLATFORM": "offscreen"}):
        assert missing_display(environ, "linux") is None
    assert missing_display({}, "win32") is None and missing_display({}, "darwin") is None
