"""The studio's notation views: the selected sign shows its HamNoSys and SignWriting,
editing the notation re-makes that sign in place as one undo step, a bad string is
underlined and changes nothing, and the lexicon browser inserts a sign at the playhead."""
from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt

from engine.data.lexicon import LexiconStore
from engine.data.lexicon_build import add_notation, build_from_notation
from engine.generate.from_notation import project_from_notation
from engine.motion.edits import ReplaceProject
from engine.notation.symbols import from_names, to_names

KIND = "flathand thumboutmod extfingero palmd chest lrat moved smallmod"


@pytest.fixture
def window(make_window, lexicon_path):
    with LexiconStore(lexicon_path) as store:
        build_from_notation(store, glosses=["KIND", "DU"])
        add_notation(store, from_names("finger2 extfingero palmd chest moveo"), "ZEIGEN", "ase",
                     words=("show",))
    return make_window()


def open_sign(window, qtbot, notation: str = KIND) -> None:
    window.document.apply_edit(ReplaceProject(project_from_notation(notation, gloss="KIND")),
                               "test sign")
    window.document.select_segment(0)
    qtbot.waitUntil(lambda: window.properties.stack.currentIndex() == 2)


def test_selected_sign_shows_its_notation_and_signwriting(window, qtbot):
    dsgs_kind = from_names(KIND)
    open_sign(window, qtbot)
    panel = window.properties.notation
    assert panel.text() == to_names(dsgs_kind)
    assert panel.signwriting.pixmap() is not None and not panel.signwriting.pixmap().isNull()


def test_editing_the_notation_remakes_the_sign_as_one_undo_step(window, qtbot):
    open_sign(window, qtbot)
    before = window.document.project
    panel = window.properties.notation
    panel.set_text("finger2 extfingero palmd chest moveo")
    assert panel.apply.isEnabled()
    qtbot.mouseClick(panel.apply, Qt.MouseButton.LeftButton)
    after = window.document.project
    assert after.segments[0].notation == from_names("finger2 extfingero palmd chest moveo")
    assert not np.array_equal(after.motion.right_hand_pose[after.segments[0].start + 5],
                              before.motion.right_hand_pose[before.segments[0].start + 5])
    window.document.undo_stack.undo()
    assert window.document.project.equals(before)


@pytest.mark.parametrize("text,underlined,says", [
    ("flathand palmd chest", "palmd", "expected an extended-finger direction"),
    ("flathand extfingero palmd chst", "chst", "not a HamNoSys 4 symbol name"),
    ("flathand extfingero palmd orirelative chest", "", "relative orientation"),
])
def test_a_bad_string_is_underlined_and_changes_nothing(window, qtbot, text, underlined, says):
    open_sign(window, qtbot)
    before = window.document.project
    steps = window.document.undo_stack.count()
    panel = window.properties.notation
    panel.set_text(text)
    qtbot.mouseClick(panel.apply, Qt.MouseButton.LeftButton)
    assert says in panel.error_text()
    assert panel.underlined() == underlined
    assert window.document.project is before and window.document.undo_stack.count() == steps
    panel.set_text(text + " ")  # typing clears the mark
    assert panel.underlined() == "" and panel.error_text() == ""


def test_lexicon_browser_lists_searches_and_inserts_at_the_playhead(window, qtbot):
    browser = window.browser
    qtbot.waitUntil(lambda: browser.table.rowCount() == 1, timeout=10000)  # ase: ZEIGEN
    assert browser.visible_glosses() == ["ZEIGEN"]
    window.lexicon_actions.load_lexicon_signs("sgg")
    qtbot.waitUntil(lambda: browser.table.rowCount() == 2, timeout=10000)
    browser.search.setText("kind")
    assert browser.visible_glosses() == ["KIND"]
    assert browser.select_gloss("KIND")
    steps = window.document.undo_stack.count()
    with qtbot.waitSignal(window.document.project_changed, timeout=10000):
        qtbot.mouseClick(browser.insert, Qt.MouseButton.LeftButton)
    project = window.document.project
    assert [s.gloss for s in project.segments] == ["KIND"]
    assert project.segments[0].notation == from_names(KIND)
    assert window.document.undo_stack.count() == steps + 1
    # a second sign after it, at the playhead at the end
    window.document.set_frame(project.motion.num_frames - 1)
    browser.search.setText("")
    browser.select_gloss("DU")
    with qtbot.waitSignal(window.document.project_changed, timeout=10000):
        qtbot.mouseClick(browser.insert, Qt.MouseButton.LeftButton)
    assert [s.gloss for s in window.document.project.segments] == ["KIND", "DU"]
    assert window.document.selected_segment == 1
    window.document.undo_stack.undo()
    assert [s.gloss for s in window.document.project.segments] == ["KIND"]


@pytest.mark.slow
def test_first_launch_sets_up_a_lexicon_to_sign_with(qtbot, tmp_path, monkeypatch):
    """An empty lexicon: the window fits the default language's alphabet from the
    package's real recordings (and, for DSGS, makes its signs from notation) as a
    job, then can sign. The fitter runs fewer iterations here to keep the test short."""
    import functools

    from PySide6.QtCore import QSettings

    import engine.data.lexicon_build as lexicon_build
    from engine.data.fit import fit_keypoints
    from studio.app import build_main_window
    from studio.recovery import RecoveryStore

    monkeypatch.setenv("SIGNSTUDIO_CONFIG_DIR", str(tmp_path / "config"))
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "settings.json").write_text('{"default_language": "sgg"}')
    monkeypatch.setattr(lexicon_build, "_default_fit",
                        lambda: functools.partial(fit_keypoints, iterations=5))
    monkeypatch.setattr(lexicon_build, "build_from_notation", functools.partial(
        lexicon_build.build_from_notation, glosses=["KIND", "WASSER"]))
    window = build_main_window(
        lexicon_path=tmp_path / "first.sqlite", with_viewport=False,
        qsettings=QSettings(str(tmp_path / "studio.ini"), QSettings.Format.IniFormat),
        recovery=RecoveryStore(tmp_path / "recovery"))
    try:
        window.show()
        qtbot.waitUntil(lambda: "first time" in window.prompt.report.toPlainText(), timeout=10000)
        qtbot.waitUntil(lambda: "Lexicon ready" in window.prompt.report.toPlainText(),
                        timeout=240000)
        assert window.prompt.language_code() == "sgg"
        with qtbot.waitSignal(window.document.project_changed, timeout=60000):
            window.lexicon_actions.generate("Kind Wasser", "sgg")
        assert [s.gloss for s in window.document.project.segments] == ["KIND", "WASSER"]
    finally:
        window.document.undo_stack.setClean()
        window.close()
        window.runner.shutdown()
        window.deleteLater()


def test_browser_search_puts_the_word_itself_first(qtbot):
    from engine.data.lexicon import EntrySummary
    from studio.panels.lexicon_browser import LexiconBrowser

    def entry(number: int, gloss: str) -> EntrySummary:
        return EntrySummary(number, gloss, "sgg", "sign", (gloss.lower(),), "notation",
                            "test", "test", {}, 30.0, 40, notation="x")

    browser = LexiconBrowser()
    qtbot.addWidget(browser)
    browser.set_entries("DSGS (sgg)", [entry(1, "ABWASCHEN"), entry(2, "WAS"),
                                       entry(3, "WASSER"), entry(4, "KIND")])
    browser.search.setText("was")
    assert browser.visible_glosses() == ["WAS", "WASSER", "ABWASCHEN"]
    assert browser.count.text() == "3 of 4 signs"
    assert browser.select_gloss("WAS")
    with qtbot.waitSignal(browser.insert_requested) as signal:
        qtbot.mouseClick(browser.insert, Qt.MouseButton.LeftButton)
    assert signal.args == [2, "WAS"]


def test_every_kind_of_sign_has_its_own_colour_on_the_timeline():
    from engine.motion.project import SegmentKind
    from studio.timeline.timeline_view import SEGMENT_COLOURS

    assert set(SEGMENT_COLOURS) == set(SegmentKind)
    assert len({c.rgb() for c in SEGMENT_COLOURS.values()}) == len(SegmentKind)
