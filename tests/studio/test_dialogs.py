"""The settings dialog: saved, restored in the next window, bad SMPL-X folders refused.

The settings live in the JSON file shared with the CLI (engine.settings), here under
the test's own SIGNSTUDIO_CONFIG_DIR (set by the make_window fixture), and window
state (geometry, recent files) in a QSettings file under tmp_path: the user's own
settings are never read or written.
"""
import json

import pytest
from PySide6.QtWidgets import QDialogButtonBox

from engine.data.lexicon import LexiconEntry, LexiconStore
from tests.conftest import letter_clip


def add_german_alphabet(lexicon_path):
    with LexiconStore(lexicon_path) as store:
        for letter, shape in (("A", "fist"), ("B", "flat")):
            store.add(LexiconEntry(gloss=letter, language="gsg", words=(letter,),
                                   motion=letter_clip(shape, frames=12), source_kind="manual",
                                   source="test", source_hash=f"gsg-{letter}", licence="test",
                                   kind="letter"))


def click_ok(dialog):
    dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Ok).click()


def smplx_folder(tmp_path):
    folder = tmp_path / "models"
    (folder / "smplx").mkdir(parents=True)
    # The dialog checks that the model file is there; loading it is the body
    # package's job (tested with a synthetic npz in tests/engine).
    (folder / "smplx" / "SMPLX_NEUTRAL.npz").write_bytes(b"PK")
    return folder


def test_settings_are_saved_and_restored_in_the_next_window(make_window, lexicon_path,
                                                            tmp_path, qtbot):
    add_german_alphabet(lexicon_path)
    window = make_window()
    qtbot.waitUntil(lambda: window.prompt.language.count() >= 19, timeout=5000)
    assert window.prompt.language_code() == "ase"
    dialog = window.open_settings()
    assert dialog.isVisible()
    models = smplx_folder(tmp_path)
    dialog.smplx_dir.setText(str(models))
    assert dialog.problem.text() == ""
    dialog.language.setCurrentIndex(dialog.language.findData("gsg"))
    assert dialog.language.currentText() == "German Sign Language (gsg)"
    dialog.quality.setCurrentText("draft")
    dialog.speed.setValue(0.8)
    click_ok(dialog)
    assert not dialog.isVisible()
    # Saved to the shared file (what `signstudio-cli config show` reads) ...
    saved = json.loads((tmp_path / "config" / "settings.json").read_text())
    assert (saved["smplx_dir"], saved["default_language"], saved["render_quality"],
            saved["signing_speed"]) == (str(models), "gsg", "draft", "0.8")
    # ... applied now (the prompt switches to the new default language) ...
    assert window.prompt.language_code() == "gsg"
    # ... and restored by the next window and its dialog.
    other = make_window()
    assert (other.settings.smplx_dir, other.settings.default_language,
            other.settings.render_quality) == (str(models), "gsg", "draft")
    assert other.prompt.language_code() == "gsg"
    again = other.open_settings()
    assert again.smplx_dir.text() == str(models)
    assert again.language.currentData() == "gsg"
    assert again.quality.currentText() == "draft"
    assert again.speed.value() == pytest.approx(0.8)
    again.reject()


def test_a_folder_without_smplx_files_is_refused_with_a_clear_message(make_window, tmp_path):
    window = make_window()
    empty = tmp_path / "not_models"
    empty.mkdir()
    (empty / "readme.txt").write_text("no model here")
    dialog = window.open_settings()
    dialog.smplx_dir.setText(str(empty))
    click_ok(dialog)
    assert dialog.isVisible()  # not accepted
    message = dialog.problem.text()
    assert str(empty) in message and "SMPLX_NEUTRAL.npz" in message
    assert "No SMPL-X model" in message
    assert not (tmp_path / "config" / "settings.json").exists()  # nothing saved
    assert window.settings.smplx_dir == ""
    # Not a folder at all:
    dialog.smplx_dir.setText(str(empty / "readme.txt"))
    assert "is not a folder" in dialog.problem.text()
    # Emptying the field means "use the embedded avatar": accepted.
    dialog.smplx_dir.setText("")
    click_ok(dialog)
    assert not dialog.isVisible()
    assert json.loads((tmp_path / "config" / "settings.json").read_text())["smplx_dir"] == ""


def test_a_damaged_settings_file_is_reported_and_repaired_by_saving(make_window, tmp_path,
                                                                    qtbot, monkeypatch):
    from studio.main_window import MainWindow
    shown = []
    monkeypatch.setattr(MainWindow, "show_error", lambda self, title, text: shown.append(text))
    path = tmp_path / "config" / "settings.json"
    path.parent.mkdir(parents=True)
    path.write_text('{"default_language": "gsg", "render_quality": 3')  # cut short
    window = make_window()
    qtbot.waitUntil(lambda: bool(shown), timeout=5000)
    assert str(path) in shown[0] and "not valid JSON" in shown[0] and "default" in shown[0]
    assert window.settings.default_language == "ase"  # started on the defaults
    dialog = window.open_settings()
    click_ok(dialog)
    assert json.loads(path.read_text())["default_language"] == "ase"  # a good file again
    backups = list(path.parent.glob("settings.damaged-*.json"))
    assert [b.read_text() for b in backups] == ['{"default_language": "gsg", "render_quality": 3']
