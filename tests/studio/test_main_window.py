"""The studio's core flows, driven like a user: generate, drag a keyframe (KF2P on
release, one undo step), Esc, holds, keyframe commands, save/open, corrupt files,
unsaved-work prompts, autosave recovery, export with cancel."""
import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from engine.generate.key_edits import affected_range
from engine.motion import load_project
from engine.motion.motion import CHANNEL_FIELDS
from studio.timeline import TRACKS
from tests.conftest import LETTER_SHAPES
from tests.engine.test_key_edits import key_between_neighbours

RIGHT_HAND_TRACK = 2


def drag_key(qtbot, window, from_frame, to_frame, release=True):
    view = window.timeline
    y = view.track_y(RIGHT_HAND_TRACK)
    qtbot.mousePress(view.viewport(), Qt.MouseButton.LeftButton,
                     pos=view.view_point(from_frame, y))
    step = 1 if to_frame > from_frame else -1
    for frame in range(from_frame + step, to_frame + step, step):
        qtbot.mouseMove(view.viewport(), pos=view.view_point(frame, y))
    if release:
        qtbot.mouseRelease(view.viewport(), Qt.MouseButton.LeftButton,
                           pos=view.view_point(to_frame, y))


def test_generate_from_text(make_window, qtbot):
    window = make_window()
    empty = window.document.project
    window.prompt.text.setText("hello")
    qtbot.mouseClick(window.prompt.generate_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.lexicon_actions.last_generation is not None, timeout=10000)
    project = window.document.project
    assert [s.gloss for s in project.segments] == ["H", "E", "L", "L", "O"]
    assert project.motion.num_frames > 60 and project.keyframes
    assert "fingerspelled" in window.prompt.report.toPlainText()
    assert window.windowTitle().endswith("*")
    assert window.document.undo_stack.count() == 1
    window.document.undo_stack.undo()  # generation is one undoable step
    assert window.document.project.equals(empty)


def test_generate_reports_missing_words(make_window, qtbot):
    window = make_window()
    # No ASL letter spells these, in the lexicon or in the package's recordings.
    handle = window.lexicon_actions.generate("жжж", "ase")
    with qtbot.waitSignal(handle.failed, timeout=10000):
        pass
    assert "nothing to sign" in window.prompt.report.toPlainText()
    assert window.document.undo_stack.count() == 0


@pytest.mark.slow
def test_letters_a_text_needs_are_fitted_on_demand(make_window, qtbot):
    """Every language the package offers is listed, and generating fits the letters the
    text needs from the package's real recordings first (here Z: the test lexicon has
    only H, E, L, O, B)."""
    window = make_window()
    codes = [window.prompt.language.itemData(i) for i in range(window.prompt.language.count())]
    assert "ase" in codes and "gsg" in codes and len(codes) >= 19
    handle = window.lexicon_actions.generate("zoo", "ase")
    with qtbot.waitSignal(handle.finished, timeout=60000):
        pass
    assert [s.gloss for s in window.document.project.segments] == ["Z", "O", "O"]
    from engine.data.lexicon import LexiconStore

    with LexiconStore(window.lexicon.path) as store:  # kept for the next time
        assert sorted(s.gloss for s in store.list("ase")) == ["B", "E", "H", "L", "O", "Z"]


def test_drag_keyframe_regenerates_with_one_undo_step(generated, qtbot):
    window, doc = generated, generated.document
    before = doc.project
    previous, key, following = key_between_neighbours(before)
    target = key + 4
    drag_key(qtbot, window, key, target, release=False)
    # Live preview: the key shows at the target, nothing is on the undo stack yet.
    assert doc.in_preview and doc.project.keyframe_at(target) is not None
    assert doc.undo_stack.count() == 1
    qtbot.mouseRelease(window.timeline.viewport(), Qt.MouseButton.LeftButton,
                       pos=window.timeline.view_point(target, window.timeline.track_y(2)))
    qtbot.waitUntil(lambda: doc.undo_stack.count() == 2, timeout=5000)
    after = doc.project
    assert not doc.in_preview
    assert after.keyframe_at(key) is None
    moved = after.keyframe_at(target)
    assert moved is not None and moved.pose.equals(before.keyframe_at(key).pose)
    # The regenerated motion passes exactly through the moved key on its channels...
    for channel in moved.channels:
        for name in CHANNEL_FIELDS[channel]:
            assert np.array_equal(getattr(after.motion, name)[target],
                                  getattr(moved.pose, name)[0]), name
    # ... only the span between the neighbouring keys changed ...
    start, stop = affected_range(before, (key, target), ignore=(key,))
    assert (start, stop) == (previous + 1, following)
    assert after.motion.slice(0, start).equals(before.motion.slice(0, start))
    assert after.motion.slice(stop, before.motion.num_frames).equals(
        before.motion.slice(stop, before.motion.num_frames))
    assert not after.motion.slice(start, stop).equals(before.motion.slice(start, stop))
    # ... and one undo restores everything exactly.
    doc.undo_stack.undo()
    assert doc.project.equals(before)
    doc.undo_stack.redo()
    assert doc.project.equals(after)


def test_escape_cancels_a_drag(generated, qtbot):
    window, doc = generated, generated.document
    before = doc.project
    _, key, _ = key_between_neighbours(before)
    drag_key(qtbot, window, key, key + 3, release=False)
    assert doc.in_preview
    qtbot.keyClick(window.timeline, Qt.Key.Key_Escape)
    assert not doc.in_preview and doc.project is before
    qtbot.mouseRelease(window.timeline.viewport(), Qt.MouseButton.LeftButton)
    qtbot.wait(100)
    assert doc.undo_stack.count() == 1 and doc.project is before
    assert doc.selected_key == key


def test_hold_edge_drag_retimes_in_one_step(generated, qtbot):
    window, doc = generated, generated.document
    before = doc.project
    first = before.segments[0]
    view = window.timeline
    start = view.hold_edge_point(0)
    qtbot.mousePress(view.viewport(), Qt.MouseButton.LeftButton, pos=start)
    for step in range(1, 6):
        qtbot.mouseMove(view.viewport(), pos=start + type(start)(int(step * view.pixels_per_frame), 0))
    qtbot.mouseRelease(view.viewport(), Qt.MouseButton.LeftButton,
                       pos=start + type(start)(int(5 * view.pixels_per_frame), 0))
    after = doc.project
    assert after.segments[0].hold == first.hold + 5
    assert after.motion.num_frames == before.motion.num_frames + 5
    assert [s.start for s in after.segments[1:]] == [s.start + 5 for s in before.segments[1:]]
    assert doc.undo_stack.count() == 2
    doc.undo_stack.undo()
    assert doc.project.equals(before)


def test_a_signs_duration_is_edited_in_the_properties_in_one_step(generated, qtbot):
    """Per-sign tempo: the segment page's Movement box stretches the sign's movement
    (fewer frames: faster), shifting what follows, as one undo step."""
    window, doc = generated, generated.document
    before = doc.project
    doc.select_segment(1)
    box = window.properties.movement
    old = before.segments[1].num_frames - before.segments[1].hold
    assert box.value() == old
    box.setValue(old + 4)
    after = doc.project
    assert after.segments[1].num_frames - after.segments[1].hold == old + 4
    assert after.motion.num_frames == before.motion.num_frames + 4
    assert doc.undo_stack.count() == 2 and "Duration" in doc.undo_stack.undoText()
    doc.undo_stack.undo()
    assert doc.project.equals(before)


def test_keyframe_add_delete_copy_paste(generated, qtbot):
    window, doc = generated, generated.document
    frames = [k.frame for k in doc.project.keyframes]
    free = next(f for f in range(doc.project.motion.num_frames) if f not in frames)
    doc.set_frame(free)
    window.edit_actions.add_key_at_playhead()
    assert doc.project.keyframe_at(free) is not None and doc.selected_key == free
    handle = window.edit_actions.delete_selected_key()  # KF2P on the job lane, then one step
    with qtbot.waitSignal(handle.finished, timeout=5000):
        pass
    assert doc.project.keyframe_at(free) is None
    source = doc.project.keyframes[0]
    doc.select_key(source.frame)
    window.edit_actions.copy_key()
    doc.set_frame(free)
    handle = window.edit_actions.paste_key()
    with qtbot.waitSignal(handle.finished, timeout=5000):
        pass
    pasted = doc.project.keyframe_at(free)
    assert pasted.pose.equals(source.pose) and doc.selected_key == free
    assert doc.project.motion.frame(free).equals(source.pose)  # regenerated through it


def test_joint_nudges_merge_and_handshape_presets(generated, qtbot):
    window, doc = generated, generated.document
    panel = window.properties
    _, key, _ = key_between_neighbours(doc.project)
    doc.select_key(key)
    count = doc.undo_stack.count()
    panel.joint.setCurrentIndex(panel.joint.findText("right elbow"))
    for value in (10.0, 20.0, 30.0):
        panel.angles[0].setValue(value)
    assert doc.undo_stack.count() == count + 1  # slider nudges: one step
    elbow = doc.project.motion.full_pose()[key, 19]
    assert np.degrees(np.linalg.norm(elbow)) > 5
    qtbot.waitUntil(lambda: panel.preset.count() == 5, timeout=5000)
    assert panel.preset.findText("ASL B") >= 0
    panel.apply_handshape("ASL B")
    from engine.body.reference_poses import RIGHT_HAND_SHAPES

    shape = doc.project.keyframe_at(key).pose.right_hand_pose[0]
    # the preset is the letter's middle frame: on the way from a flat hand to 'flat'
    assert np.allclose(shape, RIGHT_HAND_SHAPES["flat"], atol=1e-5)
    assert np.array_equal(doc.project.motion.right_hand_pose[key], shape)


def test_save_and_reopen_gives_an_equal_project(generated, make_window, tmp_path, qtbot):
    window, doc = generated, generated.document
    _, key, _ = key_between_neighbours(doc.project)
    from engine.generate.key_edits import move_key_edit

    doc.apply_edit(move_key_edit(doc.committed_project, key, key + 2).op, "Move")
    path = tmp_path / "hello.signstudio"
    assert window.files.save_as(path)
    assert not window.windowTitle().endswith("*") and "hello.signstudio" in window.windowTitle()
    other = make_window()
    assert other.files.open_project(path)
    assert other.document.project.equals(doc.project)
    assert load_project(path).equals(doc.project)
    assert str(path) in other.files.recent_files()


def test_corrupt_project_gives_a_clear_error_and_loses_nothing(generated, tmp_path,
                                                              monkeypatch):
    window, doc = generated, generated.document
    bad = tmp_path / "broken.signstudio"
    bad.write_bytes(b"PK\x03\x04 this is not a project")
    errors = []
    monkeypatch.setattr(window, "show_error", lambda title, text: errors.append((title, text)))
    monkeypatch.setattr(window, "ask", lambda *a: QMessageBox.StandardButton.Discard)
    before, steps = doc.project, doc.undo_stack.count()
    assert not window.files.open_project(bad)
    assert len(errors) == 1 and "broken.signstudio" in errors[0][1]
    assert doc.project is before and doc.undo_stack.count() == steps and doc.dirty
    assert doc.path is None


def test_close_prompts_for_unsaved_work(generated, monkeypatch, tmp_path):
    window = generated
    answers = [QMessageBox.StandardButton.Cancel]
    monkeypatch.setattr(window, "ask", lambda *a: answers.pop(0))
    assert not window.close() and window.isVisible()
    answers.append(QMessageBox.StandardButton.Save)
    monkeypatch.setattr(window.files, "ask_save_path", lambda: str(tmp_path / "kept.signstudio"))
    assert window.close()
    assert (tmp_path / "kept.signstudio").is_file()


def test_autosave_and_recovery_after_a_crash(generated, make_window, tmp_path, monkeypatch):
    window, doc = generated, generated.document
    assert window.files.autosave()
    assert window.files.recovery.exists()
    # A "crash": the next window starts with the recovery file still there.
    other = make_window()
    monkeypatch.setattr(other, "ask", lambda *a: QMessageBox.StandardButton.Yes)
    assert other.files.offer_recovery()
    assert other.document.project.equals(doc.committed_project)
    assert other.document.dirty
    other.files.save_as(tmp_path / "recovered.signstudio")
    assert not other.files.recovery.exists()  # saved: nothing left to recover


def test_export_motion_file_and_cancel(generated, tmp_path, qtbot):
    window = generated
    dialog = window.open_export_dialog()
    dialog.set_format("npz")
    dialog.path.setText(str(tmp_path / "hello.npz"))
    handle = dialog.start()
    with qtbot.waitSignal(handle.finished, timeout=10000):
        pass
    from engine.export.motion_files import read_motion_file

    motion = read_motion_file(tmp_path / "hello.npz")
    assert motion.num_frames == window.document.project.motion.num_frames
    assert "Saved" in dialog.status.text()

    dialog.set_format("glb")
    dialog.path.setText(str(tmp_path / "hello.glb"))
    handle = dialog.start()
    with qtbot.waitSignal(handle.cancelled, timeout=10000):
        qtbot.mouseClick(dialog.cancel_button, Qt.MouseButton.LeftButton)
    assert not (tmp_path / "hello.glb").exists()
    assert "Cancelled" in dialog.status.text()
    assert dialog.export_button.isEnabled()


@pytest.mark.gl
def test_dropping_a_photo_of_a_handshape_finds_its_letter(make_window, qtbot, tmp_path):
    import imageio.v3 as iio

    from engine.body import default_avatar
    from engine.body.reference_poses import RIGHT_HAND_SHAPES
    from engine.body.skeleton import JOINT_INDEX
    from engine.export.render import OffscreenRenderer
    from engine.motion import Motion

    avatar = default_avatar()
    posed = avatar.forward(Motion.zeros(1).replace(right_hand_pose=RIGHT_HAND_SHAPES["fist"][None]))
    centre = posed.joints[0, [JOINT_INDEX["right_wrist"], JOINT_INDEX["right_middle1"]]].mean(0)
    with OffscreenRenderer(avatar, 480, 480) as renderer:
        renderer.look_at(centre, (0.3, -1.0, 0.3), 0.3, up=(0, 0, 1))  # palm side
        iio.imwrite(tmp_path / "photo.png", renderer.render(posed.vertices[0]))
    window = make_window()
    handle = window.lexicon_actions.image_dropped(str(tmp_path / "photo.png"))
    with qtbot.waitSignal(handle.finished, timeout=30000):
        pass
    report = window.prompt.report.toPlainText()
    fist_letters = {letter for letter, shape in LETTER_SHAPES.items() if shape == "fist"}
    assert "closest handshapes in" in report
    assert report.split(": ", 1)[1].split(" (")[0] in fist_letters, report
    # Then each candidate's hand is pictured beside its gloss.
    qtbot.waitUntil(lambda: "data:image/png" in window.prompt.report.toHtml(), timeout=30000)
    html = window.prompt.report.toHtml()
    assert html.count("data:image/png;base64,") >= 3
    assert "closest handshapes in" in window.prompt.report.toPlainText()


def test_tracks_cover_every_channel():
    covered = set().union(*(channels for _, channels in TRACKS))
    from engine.motion.motion import Channel

    assert covered == set(Channel)


@pytest.mark.slow
@pytest.mark.gl
def test_video_export_from_the_dialog_function_is_a_white_background_mp4(tmp_path):
    import imageio.v3 as iio

    from engine.jobs import CancelToken
    from engine.motion import Motion, Project, Segment
    from engine.workflows.export import ExportOptions
    from studio.dialogs.export_dialog import export_project

    project = Project(motion=Motion.zeros(4), segments=(Segment("A", "ase", 0, 4),))
    out = export_project(project, tmp_path / "clip.mp4",
                         ExportOptions(width=160, height=120, camera="front", captions=True),
                         progress=lambda *a: None, cancel=CancelToken()).path
    frames = iio.imread(out, plugin="pyav")
    assert frames.shape == (4, 120, 160, 3)
    assert frames[:, :10, :10].mean() > 240  # the default background is white


def test_undo_redo_keyboard_shortcuts(generated, qtbot):
    window, doc = generated, generated.document
    generated_project = doc.project
    frames = [k.frame for k in generated_project.keyframes]
    free = next(f for f in range(generated_project.motion.num_frames) if f not in frames)
    doc.set_frame(free)
    window.edit_actions.add_key_at_playhead()
    keyed = doc.project
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=3000)
    ctrl, shift = Qt.KeyboardModifier.ControlModifier, Qt.KeyboardModifier.ShiftModifier
    qtbot.keyClick(window.timeline, Qt.Key.Key_Z, ctrl)
    assert doc.project.equals(generated_project) and doc.undo_stack.index() == 1
    qtbot.keyClick(window.timeline, Qt.Key.Key_Z, ctrl)
    assert doc.undo_stack.index() == 0 and not doc.project.keyframes
    qtbot.keyClick(window.timeline, Qt.Key.Key_Z, ctrl | shift)
    assert doc.project.equals(generated_project)
    qtbot.keyClick(window.timeline, Qt.Key.Key_Z, ctrl | shift)
    assert doc.project.equals(keyed) and doc.undo_stack.index() == 2
    qtbot.keyClick(window.timeline, Qt.Key.Key_Z, ctrl | shift)  # nothing left to redo
    assert doc.project.equals(keyed)


def test_recent_files_menu(generated, make_window, tmp_path, qtbot, monkeypatch):
    window = generated
    first, second = tmp_path / "first.signstudio", tmp_path / "second.signstudio"
    assert window.files.recent_menu.actions() == [] and not window.files.recent_menu.isEnabled()
    assert window.files.save_as(first) and window.files.save_as(second)
    actions = window.files.recent_menu.actions()
    assert [a.text() for a in actions] == ["&1 second.signstudio", "&2 first.signstudio"]
    assert [a.data() for a in actions] == [str(second), str(first)]
    assert window.files.save_as(first)  # most recent first, never twice
    assert [a.data() for a in window.files.recent_menu.actions()] == [str(first), str(second)]
    # Kept in (the test's) QSettings: the next window has the same menu ...
    other = make_window()
    assert [a.data() for a in other.files.recent_menu.actions()] == [str(first), str(second)]
    # ... and choosing an entry opens that file.
    other.files.recent_menu.actions()[1].trigger()
    assert other.document.path == second
    assert other.document.project.equals(window.document.project)
    # A recent file that has gone is reported and leaves the menu.
    errors = []
    monkeypatch.setattr(other, "show_error", lambda title, text: errors.append(text))
    first.unlink()
    other.files.recent_menu.actions()[1].trigger()
    assert len(errors) == 1 and "first.signstudio" in errors[0]
    assert [a.data() for a in other.files.recent_menu.actions()] == [str(second)]
    assert other.document.path == second


def drop_files(window, *paths):
    """What Qt delivers when files are dropped on the window (here over a part of it
    that takes no drops itself, so the window gets them)."""
    from PySide6.QtCore import QMimeData, QPointF, QUrl
    from PySide6.QtGui import QDragEnterEvent, QDropEvent
    from PySide6.QtWidgets import QApplication

    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    centre = window.rect().center()
    enter = QDragEnterEvent(centre, Qt.DropAction.CopyAction, mime,
                            Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(window, enter)
    assert enter.isAccepted()
    drop = QDropEvent(QPointF(centre), Qt.DropAction.CopyAction, mime,
                      Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(window, drop)
    assert drop.isAccepted()


@pytest.mark.slow
@pytest.mark.gl
def test_dropping_a_video_adds_a_sign_to_the_lexicon(make_window, qtbot, tmp_path,
                                                     lexicon_path, monkeypatch):
    from engine.data.lexicon import LexiconStore
    from tests.engine.test_video_import import render_avatar_video

    video = render_avatar_video(tmp_path / "wave.mp4", frames=4, size=320)
    window = make_window()
    asked = []
    monkeypatch.setattr(window, "ask_text",
                        lambda title, label, default="": asked.append(default) or "WAVE")
    started = []
    window.runner.job_started.connect(started.append)

    def entries():
        with LexiconStore(lexicon_path) as store:
            return [(s.gloss, s.language, s.kind) for s in store.list("ase")]

    letters = entries()

    # Cancel: the import stops and the lexicon is unchanged.
    drop_files(window, video)
    assert asked == ["WAVE"] and started[-1].title == "Reconstruct wave.mp4"
    assert window.job_status.cancel_button.isVisible() and window.job_status.progress.isVisible()
    with qtbot.waitSignal(started[-1].cancelled, timeout=30000):
        qtbot.mouseClick(window.job_status.cancel_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not window.job_status.cancel_button.isVisible(), timeout=5000)
    assert entries() == letters

    # Import: progress in the status bar, then the entry is in the lexicon.
    drop_files(window, video)
    handle = started[-1]
    seen = []
    handle.progressed.connect(lambda done, total, message: seen.append(
        (done, total, window.job_status.progress.value(), window.job_status.label.text())))
    with qtbot.waitSignal(handle.finished, timeout=120000):
        pass
    assert seen and seen[-1][:3] == (1000, 1000, 1000)
    assert any("fitting" in label for *_, label in seen)
    assert sorted(entries()) == sorted(letters + [("WAVE", "ase", "sign")])
    assert "Added 'WAVE'" in window.prompt.report.toPlainText()
    # The language list was reloaded from the grown lexicon and the word now signs.
    after_import = started[started.index(handle) + 1:]
    assert [h.title for h in after_import][:1] == ["Open lexicon"]
    qtbot.waitUntil(lambda: not window.runner.busy, timeout=10000)
    assert window.prompt.language_code() == "ase"  # the choice survives the reload
    generation = window.lexicon_actions.generate("wave", "ase")
    with qtbot.waitSignal(generation.finished, timeout=10000):
        pass
    qtbot.waitUntil(lambda: window.lexicon_actions.last_generation is not None, timeout=5000)
    assert [s.gloss for s in window.document.project.segments] == ["WAVE"]
    assert "wave sign: WAVE" in window.prompt.report.toPlainText()


def test_image_matches_are_reported_per_route():
    from types import SimpleNamespace

    from studio.window.lexicon_actions import image_match_text

    def match(gloss, score, route=None):
        found = SimpleNamespace(entry=SimpleNamespace(gloss=gloss), score=score)
        if route:
            found.route = route
        return found
    text = image_match_text("hand.png", "ASL", [match("A", 0.9), match("S", 0.7),
                                                 match("A", 0.95, "clip")])
    first, second = text.splitlines()
    assert first == "hand.png, closest handshapes in ASL: A (0.90), S (0.70)"
    assert second == "hand.png, closest by CLIP image similarity in ASL: A (0.95)"
    assert "no matching sign" in image_match_text("hand.png", "ASL", [])


def _two_sign_recording(path):
    """Two letter-like signs with a rest between them, as a motion file on disk."""
    from engine.export.motion_files import write_npz
    from engine.motion import Motion
    from tests.conftest import letter_clip

    rest = letter_clip("flat", frames=12)
    motion = Motion.concatenate([rest, letter_clip("fist", 20), rest, letter_clip("asl_v", 20), rest])
    write_npz(motion, path)
    return motion


def test_import_recording_opens_a_new_project_with_keyframes(make_window, qtbot, tmp_path,
                                                             monkeypatch):
    window = make_window()
    motion = _two_sign_recording(tmp_path / "recording.npz")
    window.files.import_recording(tmp_path / "recording.npz")
    qtbot.waitUntil(lambda: window.document.project.title == "recording", timeout=30000)
    project = window.document.project
    assert project.title == "recording"
    assert np.array_equal(project.motion.body_pose, motion.body_pose)
    frames = [key.frame for key in project.keyframes]
    assert len(frames) >= 3 and frames == sorted(frames)
    assert 0 <= frames[0] and frames[-1] < motion.num_frames
    assert "Imported recording.npz" in window.statusBar().currentMessage()
    assert window.document.path is None  # a new, unsaved project

    errors = []
    monkeypatch.setattr(window, "show_error", lambda title, text: errors.append(text))
    (tmp_path / "broken.npz").write_bytes(b"not a motion")
    before = window.document.project
    window.files.import_recording(tmp_path / "broken.npz")
    qtbot.waitUntil(lambda: bool(errors), timeout=10000)
    assert "broken.npz" in errors[0] and window.document.project is before


def test_save_over_a_file_changed_elsewhere_asks_before_overwriting(make_window, tmp_path,
                                                                    monkeypatch):
    from engine.motion import load_project, save_project
    path = tmp_path / "p.signstudio"
    window = make_window()
    assert window.files.save_as(path)
    elsewhere = load_project(path).replace(title="saved elsewhere")
    save_project(elsewhere, path)  # another program saves the same file
    from engine.motion.edits import ReplaceProject
    mine = window.document.project.replace(title="mine")
    window.document.apply_edit(ReplaceProject(mine), "Edit")
    answers = [QMessageBox.StandardButton.Cancel, QMessageBox.StandardButton.Save]
    asked = []
    monkeypatch.setattr(window, "ask", lambda title, *a: asked.append(title) or answers.pop(0))
    assert not window.files.save()  # cancelled: the other program's version stays
    assert load_project(path).title == "saved elsewhere" and window.document.dirty
    assert window.files.save()  # overwrite
    assert asked == ["File changed on disk"] * 2
    assert load_project(path).title == "mine" and not window.document.dirty


def test_the_export_dialog_offers_the_photoreal_signer_only_with_a_model(qtbot, tmp_path):
    from engine.motion import Motion
    from engine.motion.project import Project
    from studio.dialogs.export_dialog import ExportDialog

    plain = ExportDialog(Project(motion=Motion.zeros(3)), runner=None)
    qtbot.addWidget(plain)
    assert plain.signer.count() == 1 and plain.options().renderer == "avatar"

    model = str(tmp_path / "me.pt")
    dialog = ExportDialog(Project(motion=Motion.zeros(3)), runner=None, photoreal_model=model)
    qtbot.addWidget(dialog)
    assert dialog.signer.count() == 2 and not dialog.side_by_side.isEnabled()
    dialog.signer.setCurrentIndex(dialog.signer.findData("photoreal"))
    dialog.side_by_side.setChecked(True)
    assert not dialog.width_box.isEnabled()          # the model draws at its own size
    options = dialog.options()
    assert (options.renderer, options.photoreal_model, options.side_by_side) == (
        "photoreal", model, True)
    dialog.signer.setCurrentIndex(dialog.signer.findData("avatar"))
    assert dialog.options().photoreal_model is None and dialog.width_box.isEnabled()
