"""MainWindow: wires the Document, the JobRunner and the widgets; owns the actions.

Layout: prompt panel (left), 3D viewport with the transport bar (centre), properties
(right), timeline (bottom), job progress and Cancel in the status bar.

Widgets never talk to each other: each reads the Document and redraws on its signals.
The window turns the timeline's intents into edits (``KeyDragController`` for keyframe
drags, ``set_segment_hold`` for hold drags, ``stretch_segment`` for the left-edge
time-stretch) and runs the slow things as jobs (generation, video import, handshape
presets, the release of a drag, deleting and pasting keyframes through KF2P, exports).
Media files dropped anywhere on the window go to the prompt panel (a video becomes a
lexicon entry, an image looks a sign up).

User-facing questions and errors go through ``show_error``, ``ask``, ``ask_text``,
``ask_open_path`` and ``ask_save_path`` so tests can answer them.
"""
from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import QSettings, Qt, QTimer
from PySide6.QtGui import QAction, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (QFileDialog, QInputDialog, QLabel, QMainWindow, QMessageBox,
                               QProgressBar, QPushButton, QSplitter, QTabWidget, QVBoxLayout,
                               QWidget)

from engine.generate.key_edits import (KeyEdit, delete_key_edit, pasted_key, set_key_edit,
                                        stretch_edit)
from engine.generate.retime import set_segment_hold, stretch_segment
from engine.motion.edits import ReplaceProject, SetKey
from engine.motion.errors import MotionError, ProjectFileError
from engine.motion.project_io import ProjectChangedOnDisk
from engine.motion.project import Keyframe, Project
from studio.dialogs.export_dialog import ExportDialog
from studio.dialogs.settings_dialog import SettingsDialog
from studio.document import Document
from studio.jobs import JobHandle, JobRunner
from studio.key_drag import EditLane, KeyDragController
from studio.lexicon_service import Generation, LexiconService, language_label
from studio.panels.lexicon_browser import LexiconBrowser
from studio.panels.prompt_panel import PromptPanel
from studio.panels.properties_panel import PropertiesPanel
from studio.panels.transport_bar import TransportBar
from studio.playback import PlaybackController
from studio.recovery import RecoveryStore
from studio.timeline import TimelineView

PROJECT_FILTER = "Sign Studio projects (*.signstudio)"
MAX_RECENT = 8


def gl_available() -> bool:
    """Whether this Qt platform can host the VTK viewport (not 'offscreen'/'minimal')."""
    return QGuiApplication.platformName() not in ("offscreen", "minimal")


class MainWindow(QMainWindow):
    def __init__(self, document: Document, runner: JobRunner, lexicon: LexiconService, *,
                 body=None, with_viewport: bool | None = None,
                 qsettings: QSettings | None = None, recovery: RecoveryStore | None = None,
                 autosave_seconds: float = 30.0):
        super().__init__()
        from engine.settings import read_settings

        self.document = document
        self.runner = runner
        self.lexicon = lexicon
        self.qsettings = qsettings or QSettings("signstudio", "studio")
        self.recovery = recovery or RecoveryStore()
        saved = read_settings()
        self.settings = saved.settings
        if saved.problem:
            QTimer.singleShot(0, lambda: self.show_error(
                "Settings file damaged",
                f"{saved.problem}.\n\nSign Studio is using the default settings. Saving "
                "the settings (Settings..., then OK) writes a good file and keeps the "
                "damaged one beside it as a backup."))
        if body is None:
            from engine.body import default_avatar

            body = default_avatar()
        self.body = body
        self._clipboard: Keyframe | None = None
        self._languages: list[str] = []
        self._jobs: list[JobHandle] = []
        self.last_generation: Generation | None = None
        self.generate_started_at: float | None = None
        self.export_dialog: ExportDialog | None = None
        self.settings_dialog: SettingsDialog | None = None
        self._stretch_valid: tuple[int, int] | None = None  # last previewable stretch
        self._first_setup: JobHandle | None = None  # the first launch's lexicon setup

        self.playback = PlaybackController(document, self)
        self.drag = KeyDragController(document, runner, parent=self)
        self.edits = EditLane(document, runner, parent=self)
        self.setAcceptDrops(True)
        self.prompt = PromptPanel()
        self.browser = LexiconBrowser()
        self.properties = PropertiesPanel(document)
        self.timeline = TimelineView(document)
        self.transport = TransportBar(document, self.playback)
        if with_viewport is None:
            with_viewport = gl_available()
        if with_viewport:
            from studio.viewport import ViewportWidget

            self.viewport = ViewportWidget(document, body, quality=self.settings.render_quality)
        else:
            self.viewport = None
        self._build_layout()
        self._build_status_bar()
        self._build_actions()
        self._connect()
        self._update_title()

        self.autosave_timer = QTimer(self)
        self.autosave_timer.setInterval(int(autosave_seconds * 1000))
        self.autosave_timer.timeout.connect(self.autosave)
        self.autosave_timer.start()
        geometry = self.qsettings.value("geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        else:
            self.resize(1400, 900)
        self.load_lexicon()

    # ------------------------------------------------------------ building
    def _build_layout(self) -> None:
        centre = QWidget()
        column = QVBoxLayout(centre)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(2)
        if self.viewport is not None:
            column.addWidget(self.viewport, 1)
        else:
            placeholder = QLabel("The 3D viewport needs an OpenGL display.\n"
                                 "(This session runs without one; everything else works.)")
            placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
            placeholder.setStyleSheet("background: #eef0f4; color: #555")
            column.addWidget(placeholder, 1)
        column.addWidget(self.transport)
        top = QSplitter(Qt.Orientation.Horizontal)
        self.left_tabs = QTabWidget()
        self.left_tabs.addTab(self.prompt, "Text")
        self.left_tabs.addTab(self.browser, "Lexicon")
        top.addWidget(self.left_tabs)
        top.addWidget(centre)
        top.addWidget(self.properties)
        top.setStretchFactor(0, 0)
        top.setStretchFactor(1, 1)
        top.setStretchFactor(2, 0)
        top.setSizes([300, 800, 330])
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(top)
        split.addWidget(self.timeline)
        split.setStretchFactor(0, 1)
        split.setSizes([640, 200])
        self.setCentralWidget(split)

    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        self.job_label = QLabel()
        self.job_progress = QProgressBar()
        self.job_progress.setMaximumWidth(220)
        self.job_cancel = QPushButton("Cancel")
        self.job_cancel.clicked.connect(self.cancel_current_job)
        for widget in (self.job_label, self.job_progress, self.job_cancel):
            bar.addPermanentWidget(widget)
            widget.hide()

    def _action(self, menu, text: str, slot, shortcut=None, tip: str = "") -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        if tip:
            action.setStatusTip(tip)
        action.triggered.connect(lambda _=False: slot())
        menu.addAction(action)
        return action

    def _build_actions(self) -> None:
        menus = self.menuBar()
        file = menus.addMenu("&File")
        self._action(file, "&New", self.new_project, QKeySequence.StandardKey.New)
        self._action(file, "&Open…", self.open_project, QKeySequence.StandardKey.Open)
        self._action(file, "&Import recording…", self.import_recording, "Ctrl+I",
                     "Open a video, .pose or motion file as a new project, with keyframes "
                     "at each sign found in it")
        self.recent_menu = file.addMenu("Open &Recent")
        self._action(file, "&Save", self.save, QKeySequence.StandardKey.Save)
        self._action(file, "Save &As…", self.save_as, "Ctrl+Shift+S")
        file.addSeparator()
        self._action(file, "&Export…", self.open_export_dialog, "Ctrl+E")
        self._action(file, "Se&ttings…", self.open_settings)
        file.addSeparator()
        self._action(file, "&Quit", self.close, QKeySequence.StandardKey.Quit)

        edit = menus.addMenu("&Edit")
        undo = self.document.undo_stack.createUndoAction(self, "&Undo")
        undo.setShortcut(QKeySequence("Ctrl+Z"))
        redo = self.document.undo_stack.createRedoAction(self, "&Redo")
        redo.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
        edit.addAction(undo)
        edit.addAction(redo)
        edit.addSeparator()
        self._action(edit, "Add &keyframe at playhead", self.add_key_at_playhead, "K")
        self._action(edit, "&Delete keyframe", self.delete_selected_key, QKeySequence.StandardKey.Delete)
        self._action(edit, "&Copy keyframe", self.copy_key, QKeySequence.StandardKey.Copy)
        self._action(edit, "&Paste keyframe at playhead", self.paste_key, QKeySequence.StandardKey.Paste)

        view = menus.addMenu("&View")
        self._action(view, "&Play / pause", self.playback.toggle, "Space")
        self._action(view, "Previous frame", lambda: self.playback.step(-1), "Left")
        self._action(view, "Next frame", lambda: self.playback.step(1), "Right")
        self._action(view, "First frame", lambda: self.document.set_frame(0), "Home")
        self._action(view, "Last frame",
                     lambda: self.document.set_frame(self.document.project.motion.num_frames - 1),
                     "End")
        view.addSeparator()
        self._action(view, "Zoom timeline in", lambda: self.timeline.set_zoom(
            self.timeline.pixels_per_frame * 1.25), "Ctrl+=")
        self._action(view, "Zoom timeline out", lambda: self.timeline.set_zoom(
            self.timeline.pixels_per_frame * 0.8), "Ctrl+-")
        self._action(view, "Fit timeline", self.timeline.fit_to_width, "Ctrl+0")
        if self.viewport is not None:
            view.addSeparator()
            for label, preset, key in (("Front", "front", "1"), ("Side", "side", "2"),
                                       ("Hands close-up", "hands", "3")):
                self._action(view, f"Camera: {label}",
                             lambda p=preset: self.viewport.set_camera(p), key)
        self._rebuild_recent_menu()

    def _connect(self) -> None:
        doc = self.document
        doc.file_changed.connect(self._update_title)
        doc.project_changed.connect(self._update_title)
        self.runner.job_started.connect(self._on_job_started)
        self.runner.job_ended.connect(self._on_job_ended)
        self.prompt.generate_requested.connect(self.generate)
        self.prompt.language_changed.connect(self.load_handshape_presets)
        self.prompt.language_changed.connect(self.load_lexicon_signs)
        self.browser.insert_requested.connect(self.insert_sign_at_playhead)
        self.properties.notation.submitted.connect(self.edit_notation)
        self.prompt.video_dropped.connect(self.import_video)
        self.prompt.image_dropped.connect(self.image_dropped)
        self.properties.error_raised.connect(self.status_message)
        if self.viewport is not None:
            self.viewport.avatar_message.connect(self.status_message)
        self.timeline.key_drag_started.connect(self._key_drag_started)
        self.timeline.key_drag_moved.connect(self._key_drag_moved)
        self.timeline.key_drag_finished.connect(self._key_drag_finished)
        self.timeline.key_drag_cancelled.connect(self._key_drag_cancelled)
        self.timeline.hold_drag_moved.connect(self._hold_drag_moved)
        self.timeline.hold_drag_finished.connect(self._hold_drag_finished)
        self.timeline.hold_drag_cancelled.connect(doc.cancel_preview)
        self.timeline.stretch_drag_moved.connect(self._stretch_drag_moved)
        self.timeline.stretch_drag_finished.connect(self._stretch_drag_finished)
        self.timeline.stretch_drag_cancelled.connect(self._stretch_drag_cancelled)
        self.drag.landed.connect(self._key_drag_landed)
        self.drag.rejected.connect(self.status_message)
        self.edits.rejected.connect(self.status_message)

    # ------------------------------------------------------------ questions, errors
    def show_error(self, title: str, text: str) -> None:
        QMessageBox.critical(self, title, text)

    def ask(self, title: str, text: str, buttons, default):
        return QMessageBox.question(self, title, text, buttons, default)

    def ask_text(self, title: str, label: str, default: str = "") -> str | None:
        text, ok = QInputDialog.getText(self, title, label, text=default)
        return text.strip() if ok and text.strip() else None

    def ask_open_path(self) -> str | None:
        name, _ = QFileDialog.getOpenFileName(self, "Open project", str(self._folder()),
                                              PROJECT_FILTER)
        return name or None

    def ask_recording_path(self) -> str | None:
        from engine.workflows.recording import recording_suffixes

        patterns = " ".join(f"*{suffix}" for suffix in recording_suffixes())
        name, _ = QFileDialog.getOpenFileName(self, "Import recording", str(self._folder()),
                                              f"Recordings and motion files ({patterns})")
        return name or None

    def ask_save_path(self) -> str | None:
        stem = (self.document.project.title or "Untitled").strip().replace(" ", "_")[:40]
        name, _ = QFileDialog.getSaveFileName(self, "Save project as",
                                              str(self._folder() / f"{stem}.signstudio"),
                                              PROJECT_FILTER)
        if not name:
            return None
        return name if name.endswith(".signstudio") else name + ".signstudio"

    def status_message(self, text: str, timeout_ms: int = 8000) -> None:
        self.statusBar().showMessage(text, timeout_ms)

    def _folder(self) -> Path:
        if self.document.path is not None:
            return self.document.path.parent
        recent = self.recent_files()
        return Path(recent[0]).parent if recent else Path.home()

    # ------------------------------------------------------------ title, jobs
    def _update_title(self) -> None:
        doc = self.document
        name = doc.path.name if doc.path else (doc.project.title or "Untitled")
        self.setWindowTitle(f"Sign Studio — {name}{'*' if doc.dirty else ''}")

    def _on_job_started(self, handle: JobHandle) -> None:
        self._jobs.append(handle)
        handle.progressed.connect(lambda d, t, m, h=handle: self._on_job_progress(h, d, t, m))
        handle.failed.connect(self.status_message)
        self._show_job(handle)

    def _show_job(self, handle: JobHandle) -> None:
        self.job_label.setText(handle.title)
        self.job_progress.setRange(0, 0)  # busy until it reports
        for widget in (self.job_label, self.job_progress, self.job_cancel):
            widget.show()

    def _on_job_progress(self, handle: JobHandle, done: int, total: int, message: str) -> None:
        if self._jobs and self._jobs[-1] is handle:
            self.job_progress.setRange(0, max(total, 1))
            self.job_progress.setValue(done)
            self.job_label.setText(f"{handle.title}: {message}" if message else handle.title)

    def _on_job_ended(self, handle: JobHandle) -> None:
        if handle in self._jobs:
            self._jobs.remove(handle)
        if self._jobs:
            self._show_job(self._jobs[-1])
        else:
            for widget in (self.job_label, self.job_progress, self.job_cancel):
                widget.hide()

    def cancel_current_job(self) -> None:
        if self._jobs:
            self._jobs[-1].cancel()
            self.status_message(f"Cancelling {self._jobs[-1].title}…")

    # ------------------------------------------------------------ lexicon, generation
    def load_lexicon(self) -> JobHandle:
        handle = self.runner.submit("Open lexicon", self.lexicon.languages)

        def loaded(languages: list[str]) -> None:
            self._languages = languages
            labels = {code: language_label(code) for code in languages}
            self.prompt.set_languages(languages, labels, self.settings.default_language)
            if not languages:
                self.set_up_first_lexicon()

        handle.finished.connect(loaded)
        handle.failed.connect(lambda message: self.prompt.show_message(message))
        return handle

    def load_handshape_presets(self, language: str) -> JobHandle | None:
        if not language:
            return None
        handle = self.runner.submit(f"Handshapes of {language_label(language)}",
                                    self.lexicon.handshape_presets, language)
        handle.finished.connect(self.properties.set_handshape_presets)
        return handle

    def set_up_first_lexicon(self) -> JobHandle | None:
        """First launch (a lexicon without any alphabet): fit the default language's
        letters from the package's real recordings (and make the DSGS signs for
        ``sgg``) as a job with progress and cancel, then open the lexicon again."""
        if self._first_setup is not None:
            return None  # once per window: a failure is reported, not retried in a loop
        language = self.settings.default_language or "ase"
        self.prompt.show_message(
            f"Setting up the lexicon for the first time ({self.lexicon.path}): fitting the "
            f"{language_label(language)} alphabet from real recordings"
            + (" and making the DSGS signs from their notation" if language == "sgg" else "")
            + ". This takes a minute or two, once; the progress is in the status bar.")
        handle = self.runner.submit(f"Set up the {language_label(language)} lexicon",
                                    self.lexicon.first_lexicon, language)
        self._first_setup = handle

        def done(summary: str) -> None:
            self.prompt.show_message(f"Lexicon ready: {summary}. Type text to sign it."
                                     if summary else "Lexicon ready.")
            self.load_lexicon()

        handle.finished.connect(done)
        handle.failed.connect(lambda message: self.prompt.show_message(
            f"The lexicon could not be set up: {message}. `signstudio-cli lexicon build` "
            "builds it from the command line; a video of a sign dropped here adds one."))
        handle.cancelled.connect(lambda: self.prompt.show_message(
            "Lexicon setup cancelled; what was fitted is kept. Restart Sign Studio or run "
            "`signstudio-cli lexicon build` to finish it."))
        return handle

    def load_lexicon_signs(self, language: str) -> JobHandle | None:
        """Fill the lexicon browser with ``language``'s signs."""
        if not language:
            return None
        handle = self.runner.submit(f"Signs of {language_label(language)}",
                                    self.lexicon.list_signs, language)
        handle.finished.connect(lambda signs: self.browser.set_entries(
            language_label(language), signs))
        handle.failed.connect(self.browser.show_message)
        return handle

    def insert_sign_at_playhead(self, entry_id: int, gloss: str) -> JobHandle:
        """Read the sign on the job lane, then splice it in at the playhead as one undo
        step (``engine.generate.splice.insert_sign``)."""
        handle = self.runner.submit(f"Insert '{gloss}'", self.lexicon.sign_entry, entry_id)

        def landed(entry) -> None:
            from engine.generate.splice import insert_sign, inserted_index
            from engine.motion.project import SegmentKind

            self.playback.pause()
            self.drag.cancel()
            frame = self.document.frame
            before = self.document.committed_project
            project = insert_sign(
                before, frame, entry.motion, gloss=entry.gloss, language=entry.language,
                kind=SegmentKind.NOTATION if entry.notation else SegmentKind.LEXICON,
                notation=entry.notation)
            self.document.apply_edit(ReplaceProject(project), f"Insert '{entry.gloss}'")
            self.document.select_segment(inserted_index(before, frame))
            self.timeline.fit_to_width()
            self.status_message(f"Inserted '{entry.gloss}' at frame {frame}")

        handle.finished.connect(landed)
        handle.failed.connect(self.status_message)
        return handle

    def edit_notation(self, index: int, written: str) -> bool:
        """Make segment ``index`` again from ``written`` HamNoSys as one undo step; a
        string that cannot be made is underlined in the panel and changes nothing."""
        from engine.generate.from_notation import bad_name_span, error_span, resynthesised
        from engine.notation.hamnosys import NotationError
        from engine.notation.synthesis import UnsupportedNotation

        panel = self.properties.notation
        self.playback.pause()
        self.drag.cancel()
        project = self.document.committed_project
        from engine.notation.synthesis import timing_for

        try:
            timing = timing_for(self.settings, project.motion.fps)
        except ValueError as error:  # a damaged setting: say so, change nothing
            panel.show_error(str(error), None)
            return False
        try:
            edited = resynthesised(project, index, written, body=self.body, timing=timing)
        except NotationError as error:
            panel.show_error(f"{error}", error_span(written, error.position))
            return False
        except UnsupportedNotation as error:
            panel.show_error(f"{error}; the sign is unchanged", None)
            return False
        except ValueError as error:  # a word that is not a HamNoSys name
            panel.show_error(f"{error}", bad_name_span(written))
            return False
        gloss = project.segments[index].gloss
        self.document.apply_edit(ReplaceProject(edited), f"Notation of '{gloss}'")
        self.document.select_segment(index)  # the same place in the order of signs
        self.status_message(f"Made '{gloss}' again from its notation")
        return True

    def generate(self, text: str, language: str) -> JobHandle:
        self.generate_started_at = time.perf_counter()
        self.prompt.set_busy(True)
        handle = self.runner.submit(f"Generate “{text}”", self.lexicon.generate, text, language)

        def done(generation: Generation) -> None:
            self.prompt.set_busy(False)
            self.playback.pause()
            self.drag.cancel()
            self.last_generation = generation
            self.document.apply_edit(ReplaceProject(generation.project), f"Generate “{text}”")
            self.document.set_frame(0)
            self.prompt.show_report(generation.report)
            self.timeline.fit_to_width()
            project = generation.project
            self.status_message(f"Generated {len(project.segments)} signs, "
                                f"{project.motion.num_frames} frames "
                                f"({project.motion.duration:.1f} s)")

        def failed(message: str) -> None:
            self.prompt.set_busy(False)
            self.prompt.show_message(message)

        handle.finished.connect(done)
        handle.failed.connect(failed)
        handle.cancelled.connect(lambda: self.prompt.set_busy(False))
        return handle

    def import_video(self, path: str) -> JobHandle | None:
        language = self.prompt.language_code() or self.settings.default_language
        gloss = self.ask_text("Add a sign to the lexicon",
                              f"Gloss for {Path(path).name} in {language_label(language)} "
                              "(e.g. HELLO):", Path(path).stem.upper())
        if gloss is None:
            return None
        handle = self.runner.submit(f"Reconstruct {Path(path).name}", self.lexicon.add_video,
                                    path, gloss, language)
        handle.finished.connect(lambda entry: self.prompt.show_message(
            f"Added '{gloss}' to the lexicon (entry {entry}). Type the word "
            f"'{gloss.lower()}' to use it."))
        handle.failed.connect(self.prompt.show_message)
        self.load_lexicon_after(handle)
        return handle

    def load_lexicon_after(self, handle: JobHandle) -> None:
        handle.finished.connect(lambda *_: self.load_lexicon())

    def image_dropped(self, path: str) -> JobHandle:
        """Find the lexicon signs whose handshape matches a dropped photo."""
        language = self.prompt.language_code() or self.settings.default_language
        handle = self.runner.submit(f"Find a sign for {Path(path).name}",
                                    self.lexicon.match_image, path, language)
        handle.finished.connect(lambda matches: self.prompt.show_message(
            _image_match_text(Path(path).name, language_label(language), matches)))
        handle.failed.connect(self.prompt.show_message)
        return handle

    # ------------------------------------------------------------ keyframe drags
    def _key_drag_started(self, frame: int) -> None:
        self.playback.pause()
        if self.drag.pending is not None:
            self.status_message("Still landing the previous move; try again in a moment")
            return
        self.drag.begin(frame)

    def _key_drag_moved(self, to_frame: int) -> None:
        if not self.drag.dragging:
            return
        self.drag.update(to_frame)
        self.status_message(f"Moving the keyframe from frame {self.drag._from} to {to_frame}: "
                            "release to regenerate the motion around it, Esc to cancel", 0)
        shown = self.document.project
        if shown.keyframe_at(to_frame) is not None:
            self.document.select_key(to_frame)
            self.document.set_frame(to_frame)

    def _key_drag_finished(self, to_frame: int) -> None:
        self.statusBar().clearMessage()
        if self.drag.dragging:
            self.drag.finish(to_frame)

    def _key_drag_cancelled(self) -> None:
        frame = self.drag._from
        self.drag.cancel()
        if frame is not None and self.document.project.keyframe_at(frame) is not None:
            self.document.select_key(frame)
        self.status_message("Move cancelled")

    def _key_drag_landed(self, from_frame: int, to_frame: int) -> None:
        if self.document.project.keyframe_at(to_frame) is not None:
            self.document.select_key(to_frame)
        self.status_message(f"Keyframe moved {from_frame} → {to_frame}; the motion around it "
                            "was regenerated (Ctrl+Z undoes)")
        if self.drag.last_range is not None:
            self.timeline.flash_range(*self.drag.last_range)

    def _hold_drag_moved(self, index: int, hold: int) -> None:
        try:
            self.document.set_preview(set_segment_hold(self.document.committed_project, index, hold))
        except MotionError as error:
            self.status_message(str(error))

    def _hold_drag_finished(self, index: int, hold: int) -> None:
        project = self.document.committed_project
        try:
            retimed = set_segment_hold(project, index, hold)
        except MotionError as error:
            self.document.cancel_preview()
            self.status_message(str(error))
            return
        if retimed is project:
            self.document.cancel_preview()
            return
        gloss = project.segments[index].gloss
        self.document.apply_edit(ReplaceProject(retimed), f"Hold of '{gloss}': {hold} frames")

    def _stretch_text(self, index: int, frames: int) -> str:
        segment = self.document.committed_project.segments[index]
        was = segment.num_frames - segment.hold
        speed = was / frames
        pace = "slower" if speed < 1 else "faster" if speed > 1 else "as recorded"
        return f"'{segment.gloss}': {was} → {frames} frames of movement (×{speed:.2f}, {pace})"

    def _stretch_drag_moved(self, index: int, frames: int) -> None:
        self.playback.pause()
        try:
            preview = stretch_segment(self.document.committed_project, index, frames)
        except MotionError as error:
            self.status_message(str(error), 0)  # the last valid preview stays
            return
        self._stretch_valid = (index, frames)
        self.document.set_preview(preview)
        self.status_message(f"Stretching {self._stretch_text(index, frames)}. The sign keeps "
                            "its start, later signs shift. Release to apply, Esc to cancel", 0)

    def _stretch_drag_finished(self, index: int, frames: int) -> JobHandle | None:
        """Release: the stretch (resample + KF2P transitions) runs as a job and lands as
        one ReplaceProject step; the preview shows until then. A release where the
        stretch cannot be made (keyframes would collide) lands the last valid preview,
        as a keyframe drag does."""
        valid, self._stretch_valid = self._stretch_valid, None
        if valid is None or valid[0] != index:
            self.document.cancel_preview()
            return None
        frames = valid[1]
        project = self.document.committed_project
        segment = project.segments[index]
        if frames == segment.num_frames - segment.hold:
            self.document.cancel_preview()
            self.statusBar().clearMessage()
            return None
        text = f"Stretch {self._stretch_text(index, frames)}"

        def landed(edit: KeyEdit) -> None:
            self.status_message(f"{text}; the transitions around it were regenerated "
                                "(Ctrl+Z undoes)")
            segments = edit.project.segments
            first = segments[index - 1].end if index > 0 else segments[index].start
            last = segments[index + 1].start if index + 1 < len(segments) \
                else segments[index].end
            self.timeline.flash_range(first, last)

        return self.edits.submit(f"Stretch '{segment.gloss}'", text, stretch_edit, index,
                                 frames, ends_preview=True, on_landed=landed)

    def _stretch_drag_cancelled(self) -> None:
        self._stretch_valid = None
        self.document.cancel_preview()
        self.status_message("Stretch cancelled")

    # ------------------------------------------------------------ keyframe commands
    def add_key_at_playhead(self) -> None:
        doc = self.document
        frame = doc.frame
        if doc.committed_project.keyframe_at(frame) is not None:
            doc.select_key(frame)
            self.status_message(f"Frame {frame} already has a keyframe")
            return
        key = Keyframe.from_motion(doc.committed_project.motion, frame)
        doc.apply_edit(SetKey(key), f"Add keyframe at {frame}")
        doc.select_key(frame)

    def delete_selected_key(self) -> JobHandle | None:
        """Delete the selected key; the span between its neighbours is regenerated with
        KF2P on the job lane and lands with the deletion as one undo step."""
        frame = self.document.selected_key
        if frame is None:
            self.status_message("Select a keyframe to delete (click a diamond)")
            return None
        def landed(edit: KeyEdit) -> None:
            start, stop = edit.frame_range
            self.status_message(f"Deleted the keyframe at frame {frame}; frames {start}–"
                                f"{stop - 1} (shaded) were regenerated between its "
                                "neighbours (Ctrl+Z undoes)")
            self.timeline.flash_range(start, stop)

        return self.edits.submit(f"Delete keyframe {frame}", f"Delete keyframe at {frame}",
                                 delete_key_edit, frame, on_landed=landed)

    def copy_key(self) -> None:
        frame = self.document.selected_key
        key = None if frame is None else self.document.project.keyframe_at(frame)
        if key is None:
            self.status_message("Select a keyframe to copy")
            return
        self._clipboard = key
        self.status_message(f"Copied the keyframe at {frame}")

    def paste_key(self) -> JobHandle | None:
        """Paste the copied key at the playhead; the span between its new neighbours is
        regenerated on the job lane so the motion passes through it (one undo step)."""
        if self._clipboard is None:
            self.status_message("Nothing to paste: copy a keyframe first")
            return None
        doc = self.document
        try:
            key = pasted_key(self._clipboard, doc.frame, doc.committed_project)
        except MotionError as error:
            self.status_message(str(error))
            return None
        def landed(edit: KeyEdit) -> None:
            if doc.project.keyframe_at(key.frame) is not None:
                doc.select_key(key.frame)
            start, stop = edit.frame_range
            self.status_message(f"Pasted the keyframe at frame {key.frame}; frames {start}–"
                                f"{stop - 1} (shaded) were regenerated through it "
                                "(Ctrl+Z undoes)")
            self.timeline.flash_range(start, stop)

        return self.edits.submit(f"Paste keyframe at {key.frame}",
                                 f"Paste keyframe at {key.frame}", set_key_edit, key,
                                 on_landed=landed)

    # ------------------------------------------------------------ files
    def recent_files(self) -> list[str]:
        value = self.qsettings.value("recent_files", [])
        if isinstance(value, str):
            value = [value]
        return [str(v) for v in (value or [])]

    def _add_recent(self, path: Path) -> None:
        files = [str(path)] + [f for f in self.recent_files() if f != str(path)]
        self.qsettings.setValue("recent_files", files[:MAX_RECENT])
        self._rebuild_recent_menu()

    def _rebuild_recent_menu(self) -> None:
        self.recent_menu.clear()
        files = self.recent_files()
        for number, name in enumerate(files, start=1):
            # Short names read faster; the full path is in the status tip and data.
            action = self.recent_menu.addAction(f"&{number} {Path(name).name}")
            action.setData(name)
            action.setStatusTip(name)
            action.setToolTip(name)
            action.triggered.connect(lambda _=False, n=name: self.open_project(n))
        self.recent_menu.setEnabled(bool(files))

    def maybe_save(self) -> bool:
        """True when it is fine to drop the current project (saved, or the user said so)."""
        if not self.document.dirty:
            return True
        buttons = QMessageBox.StandardButton
        name = self.document.path.name if self.document.path else "this project"
        answer = self.ask("Unsaved changes", f"Save the changes to {name} first?",
                          buttons.Save | buttons.Discard | buttons.Cancel, buttons.Save)
        if answer == buttons.Save:
            return self.save()
        return answer == buttons.Discard

    def new_project(self) -> None:
        if self.maybe_save():
            self.drag.cancel()
            self.document.new()
            self.recovery.discard()

    def import_recording(self, path: str | Path | None = None) -> JobHandle | None:
        """A recording (video, .pose) or motion file as a new, unsaved project.

        Reconstruction runs as a job (MediaPipe and fitting take seconds per second of
        video); the segmenter then places keyframes at each sign's onset, midpoint and
        offset so editing starts from real sign boundaries. The current project is only
        replaced when the import succeeds, after the usual save prompt.
        """
        if not self.maybe_save():
            return None
        path = path or self.ask_recording_path()
        if not path:
            return None
        from engine.workflows.recording import import_recording

        name = Path(path).name
        handle = self.runner.submit(f"Import {name}", import_recording, str(path))

        def landed(project) -> None:
            self.drag.cancel()
            self.document.new(project)
            self.recovery.discard()
            self.timeline.fit_to_width()
            signs = len(project.keyframes) // 3
            self.status_message(
                f"Imported {name}: {project.motion.num_frames} frames, {len(project.keyframes)} "
                f"keyframes at about {signs} sign(s); save it to keep it", 0)

        handle.finished.connect(landed)
        handle.failed.connect(lambda text: self.show_error(f"Could not import {name}", text))
        return handle

    def open_project(self, path: str | Path | None = None) -> bool:
        if not self.maybe_save():
            return False
        path = path or self.ask_open_path()
        if not path:
            return False
        self.drag.cancel()
        try:
            self.document.open(path)
        except (ProjectFileError, MotionError, OSError) as error:
            if not Path(path).exists() and str(path) in self.recent_files():
                # A recent file that was moved or deleted: drop it from the menu.
                self.qsettings.setValue("recent_files",
                                        [f for f in self.recent_files() if f != str(path)])
                self._rebuild_recent_menu()
            self.show_error("Could not open the project", str(error))
            return False
        self._add_recent(Path(path))
        self.timeline.fit_to_width()
        self.recovery.discard()
        self.status_message(f"Opened {path}")
        return True

    def save(self) -> bool:
        if self.document.path is None:
            return self.save_as()
        return self._save_to(self.document.path)

    def save_as(self, path: str | Path | None = None) -> bool:
        path = path or self.ask_save_path()
        return bool(path) and self._save_to(Path(path))

    def _save_to(self, path: Path, overwrite_changes: bool = False) -> bool:
        try:
            saved = self.document.save(path, overwrite_changes=overwrite_changes)
        except ProjectChangedOnDisk:
            buttons = QMessageBox.StandardButton
            answer = self.ask(
                "File changed on disk",
                f"{path.name} was saved by another window or program since you opened it. "
                "Overwrite it with your version? (Cancel, then Save As, keeps both.)",
                buttons.Save | buttons.Cancel, buttons.Cancel)
            return answer == buttons.Save and self._save_to(path, overwrite_changes=True)
        except (OSError, MotionError, ValueError) as error:
            text = str(error)  # ours already start with the path
            self.show_error("Could not save the project",
                            text if text.startswith(str(path)) else f"{path}: {text}")
            return False
        self._add_recent(saved)
        self.recovery.discard()
        self.status_message(f"Saved {saved}")
        return True

    def autosave(self) -> bool:
        """Write the committed project to the recovery file if it has unsaved changes."""
        if not self.document.dirty:
            return False
        try:
            self.recovery.write(self.document.committed_project, self.document.path)
        except OSError as error:
            self.status_message(f"Autosave failed: {error}")
            return False
        return True

    def offer_recovery(self) -> bool:
        """At start: if the last session left autosaved work, offer it back."""
        if not self.recovery.exists():
            return False
        buttons = QMessageBox.StandardButton
        stamp = time.strftime("%Y-%m-%d %H:%M",
                              time.localtime(self.recovery.project_path.stat().st_mtime))
        answer = self.ask("Recover unsaved work?",
                          f"Sign Studio did not close cleanly last time. Recover the work "
                          f"autosaved at {stamp}?", buttons.Yes | buttons.No, buttons.Yes)
        if answer != buttons.Yes:
            self.recovery.discard()
            return False
        try:
            project, original = self.recovery.load()
        except (ProjectFileError, MotionError, OSError) as error:
            # Keep the file: the user may want to send it to us or try again.
            self.show_error("Could not recover", f"{error}\nThe recovery file stays at "
                                                 f"{self.recovery.project_path}.")
            return False
        self.document.new()
        self.document.set_path(original)
        self.document.apply_edit(ReplaceProject(project), "Recovered work")
        self.timeline.fit_to_width()
        self.status_message("Recovered the autosaved work: save it to keep it")
        return True

    # ------------------------------------------------------------ dialogs
    def open_export_dialog(self) -> ExportDialog:
        self.export_dialog = ExportDialog(self.document.committed_project, self.runner,
                                          self._folder(), self)
        self.export_dialog.open()
        return self.export_dialog

    def open_settings(self) -> SettingsDialog:
        """Show the settings dialog (window-modal, not blocking); OK saves and applies."""
        labels = {code: language_label(code) for code in self._languages}
        dialog = SettingsDialog(self.settings, self._languages, labels, self)
        dialog.accepted.connect(lambda: self.apply_settings(dialog.settings()))
        self.settings_dialog = dialog
        dialog.open()
        return dialog

    def apply_settings(self, settings) -> bool:
        """Save ``settings`` to the file shared with the CLI and apply what applies now
        (the default sign language, render quality and SMPL-X folder now; the lexicon path at next start)."""
        from engine.settings import save_settings

        self.settings = settings
        try:
            save_settings(settings)
        except OSError as error:
            self.show_error("Could not save the settings", str(error))
            return False
        if self._languages:
            labels = {code: language_label(code) for code in self._languages}
            self.prompt.set_languages(self._languages, labels, settings.default_language)
        self.status_message("Settings saved")
        if self.viewport is not None:
            self.viewport.set_quality(settings.render_quality)
            self.viewport.use_avatar()  # re-reads the SMPL-X folder (env var, then settings)
        return True

    # ------------------------------------------------------------ drops
    # Media dropped anywhere on the window (not only on the prompt panel) is handled
    # the same way; widgets that take drops themselves are asked first by Qt.
    def dragEnterEvent(self, event) -> None:  # noqa: N802
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:  # noqa: N802
        for url in event.mimeData().urls():
            if url.isLocalFile():
                self.prompt.handle_dropped_file(url.toLocalFile())
        event.acceptProposedAction()

    # ------------------------------------------------------------ closing
    def closeEvent(self, event) -> None:  # noqa: N802
        self.playback.pause()
        if self.drag.dragging or self.document.in_preview:
            self.drag.cancel()
        if not self.maybe_save():
            event.ignore()
            return
        self.autosave_timer.stop()
        self.recovery.discard()
        self.qsettings.setValue("geometry", self.saveGeometry())
        self.runner.cancel_all()
        if self.viewport is not None:
            self.viewport.close_view()
        event.accept()


__all__ = ["MainWindow", "Project", "gl_available"]


def _image_match_text(name: str, language: str, matches) -> str:
    """One line per route (handshape landmarks, then CLIP when configured), best first,
    so the same gloss found by both routes reads as agreement, not as a duplicate."""
    routes: dict[str, list[str]] = {}
    for match in matches:
        routes.setdefault(getattr(match, "route", "mediapipe"), []).append(
            f"{match.entry.gloss} ({match.score:.2f})")
    titles = {"mediapipe": "closest handshapes", "clip": "closest by CLIP image similarity"}
    lines = [f"{name}, {titles.get(route, route)} in {language}: " + ", ".join(found)
             for route, found in routes.items()]
    return "\n".join(lines) if lines else f"{name}: no matching sign found in {language}"

