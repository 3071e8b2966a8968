"""MainWindow: builds the widgets and wires them to the Document, the JobRunner and the
window's parts (``studio.window``); asks the user questions and shows errors.

Widgets never talk to each other: each reads the Document and redraws on its signals.
What the user can do lives in the parts, one concern each:

- ``files`` (``ProjectFiles``): new, open, import a recording, save, recent files,
  autosave and crash recovery;
- ``lexicon_actions`` (``LexiconActions``): generating from text, the lexicon browser,
  dropped videos and photos, the first launch's lexicon set-up;
- ``timeline_drags`` (``TimelineDrags``): keyframe, hold and stretch drags;
- ``face_actions`` (``FaceActions``): face markers, grammatical presets, mouthing;
- ``edit_actions`` (``EditActions``): the Edit menu's keyframe commands and notation
  edits;
- ``job_status`` (``JobStatus``): the running job and Cancel in the status bar.

The window itself keeps the settings and export dialogs, media dropped anywhere on it
(handed to the prompt panel) and closing. User-facing questions and errors go through
``show_error``, ``ask`` and ``ask_text`` (and the file dialogs through ``files``) so
tests can answer them.
"""
from __future__ import annotations

from PySide6.QtCore import QSettings, QTimer
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QFileDialog, QInputDialog, QMainWindow, QMessageBox

from engine.settings import Settings
from studio.dialogs.export_dialog import ExportDialog
from studio.dialogs.settings_dialog import SettingsDialog
from studio.document import Document
from studio.jobs import JobRunner
from studio.key_drag import EditLane, KeyDragController
from studio.lexicon_service import LexiconService
from studio.panels.lexicon_browser import LexiconBrowser
from studio.panels.prompt_panel import PromptPanel
from studio.panels.properties_panel import PropertiesPanel
from studio.panels.reference_panel import ReferencePanel
from studio.panels.transport_bar import TransportBar
from studio.playback import PlaybackController
from studio.recovery import RecoveryStore
from studio.timeline import TimelineView
from studio.timeline.curve_view import CurveView
from studio.window.context import WindowContext
from studio.window.edit_actions import EditActions
from studio.window.job_status import JobStatus
from studio.window.layout import main_layout
from studio.window.lexicon_actions import LexiconActions
from studio.window.menus import build_menus
from studio.window.project_files import ProjectFiles
from studio.window.face_actions import FaceActions
from studio.window.takes import TakePicker
from studio.window.timeline_drags import TimelineDrags


def gl_available() -> bool:
    """Whether this Qt platform can host the VTK viewport (not 'offscreen'/'minimal')."""
    return QGuiApplication.platformName() not in ("offscreen", "minimal")


class MainWindow(QMainWindow):
    def __init__(self, document: Document, runner: JobRunner, lexicon: LexiconService, *,
                 body=None, with_viewport: bool | None = None,
                 qsettings: QSettings | None = None, recovery: RecoveryStore | None = None,
                 autosave_seconds: float = 30.0):
        super().__init__()
        self.document = document
        self.runner = runner
        self.lexicon = lexicon
        self.qsettings = qsettings or QSettings("signstudio", "studio")
        self.settings = self._read_settings()
        if body is None:
            from engine.body import default_avatar

            body = default_avatar()
        self.body = body
        self.export_dialog: ExportDialog | None = None
        self.settings_dialog: SettingsDialog | None = None

        self.playback = PlaybackController(document, self)
        self.drag = KeyDragController(document, runner, parent=self)
        self.edits = EditLane(document, runner, parent=self)
        self._build_widgets(with_viewport)
        self._build_parts(recovery or RecoveryStore(), autosave_seconds)
        build_menus(self)
        self._connect()
        self._update_title()

        geometry = self.qsettings.value("geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        else:
            self.resize(1400, 900)
        self.lexicon_actions.load_lexicon()

    # ------------------------------------------------------------ building
    def _read_settings(self) -> Settings:
        """The settings file shared with the CLI; a damaged one is reported once the
        window shows, and the defaults are used meanwhile."""
        from engine.settings import read_settings

        saved = read_settings()
        if saved.problem:
            QTimer.singleShot(0, lambda: self.show_error(
                "Settings file damaged",
                f"{saved.problem}.\n\nSign Studio is using the default settings. Saving "
                "the settings (Settings..., then OK) writes a good file and keeps the "
                "damaged one beside it as a backup."))
        return saved.settings

    def _build_widgets(self, with_viewport: bool | None) -> None:
        self.setAcceptDrops(True)
        self.prompt = PromptPanel()
        self.browser = LexiconBrowser()
        self.properties = PropertiesPanel(self.document)
        self.timeline = TimelineView(self.document)
        self.curves = CurveView(self.document)
        self.curves.follow_timeline(self.timeline)
        self.reference = ReferencePanel(self.document, self.runner)
        self.transport = TransportBar(self.document, self.playback)
        if with_viewport is None:
            with_viewport = gl_available()
        self.viewport = None
        if with_viewport:
            from studio.viewport import ViewportWidget

            self.viewport = ViewportWidget(self.document, self.body,
                                           quality=self.settings.render_quality)
        self.setCentralWidget(main_layout(
            prompt=self.prompt, browser=self.browser, viewport=self.viewport,
            transport=self.transport, properties=self.properties, timeline=self.timeline,
            curves=self.curves, reference=self.reference))

    def _build_parts(self, recovery: RecoveryStore, autosave_seconds: float) -> None:
        ctx = WindowContext(self, self.document, self.runner, self.playback, self.drag,
                            self.timeline)
        self.job_status = JobStatus(self, self.statusBar(), self.runner)
        self.files = ProjectFiles(ctx, recovery, self.qsettings, autosave_seconds)
        self.lexicon_actions = LexiconActions(
            ctx, self.lexicon, lambda: self.settings, prompt=self.prompt,
            browser=self.browser, properties=self.properties)
        self.timeline_drags = TimelineDrags(ctx, self.edits, self.statusBar())
        self.face_actions = FaceActions(ctx, self)
        self.takes = TakePicker(ctx)
        self.statusBar().addPermanentWidget(self.takes)
        self.hand_drag = self.rotate_gizmo = None
        if self.viewport is not None:
            from studio.viewport.hand_drag import HandDrag

            self.hand_drag = HandDrag(self.viewport, self.document, self.edits, parent=self)
            self.hand_drag.message.connect(lambda text: self.status_message(text, 0))
            from studio.viewport.rotate_gizmo import RotateGizmo

            # Installed after the hand drag: its rings take a press before the hands do.
            self.rotate_gizmo = RotateGizmo(self.viewport, self.document, self.edits,
                                            joint=self.properties.joint.currentData, parent=self)
            self.rotate_gizmo.message.connect(lambda text: self.status_message(text, 0))
            self.properties.joint.currentIndexChanged.connect(self.rotate_gizmo.refresh)
        self.edit_actions = EditActions(ctx, self.edits, self.properties.notation,
                                        settings=lambda: self.settings, body=self.body)

    def _connect(self) -> None:
        self.document.file_changed.connect(self._update_title)
        self.document.project_changed.connect(self._update_title)
        self.properties.error_raised.connect(self.status_message)
        self.reference.error_raised.connect(self.show_error)
        # The curve view draws the joint the key page's Joint box edits.
        self.properties.joint.currentIndexChanged.connect(
            lambda _index: self.curves.set_joint(self.properties.joint.currentData()))
        if self.viewport is not None:
            self.viewport.avatar_message.connect(self.status_message)
            # The trails cover what the timeline shows, and follow its scrolling.
            self.viewport.visible_frames = self.timeline.visible_frames
            self.timeline.horizontalScrollBar().valueChanged.connect(
                lambda _value: self.viewport.refresh_guides())
            self.timeline.zoomed.connect(self.viewport.refresh_guides)
        self.drag.rejected.connect(self.status_message)
        self.edits.rejected.connect(self.status_message)

    def _update_title(self) -> None:
        doc = self.document
        name = doc.path.name if doc.path else (doc.project.title or "Untitled")
        self.setWindowTitle(f"Sign Studio — {name}{'*' if doc.dirty else ''}")

    # ------------------------------------------------------------ questions, errors
    def show_error(self, title: str, text: str) -> None:
        QMessageBox.critical(self, title, text)

    def ask(self, title: str, text: str, buttons, default):
        return QMessageBox.question(self, title, text, buttons, default)

    def ask_text(self, title: str, label: str, default: str = "") -> str | None:
        text, ok = QInputDialog.getText(self, title, label, text=default)
        return text.strip() if ok and text.strip() else None

    def status_message(self, text: str, timeout_ms: int = 8000) -> None:
        self.statusBar().showMessage(text, timeout_ms)

    # ------------------------------------------------------------ dialogs
    def open_export_dialog(self) -> ExportDialog:
        from engine.settings import load_settings

        self.export_dialog = ExportDialog(self.document.committed_project, self.runner,
                                          self.files.folder(), self,
                                          photoreal_model=load_settings().photoreal_model or None)
        self.export_dialog.open()
        return self.export_dialog

    def open_reference_video(self, path: str | None = None):
        """Show a recording beside the viewport, synced to the timeline (``path`` or one
        the user picks); returns the reading job's handle, None when nothing was picked."""
        if path is None:
            from engine.io import Kind, dialog_filter

            path, _ = QFileDialog.getOpenFileName(self, "Reference video",
                                                  str(self.files.folder()),
                                                  dialog_filter(Kind.VIDEO, "read"))
        return self.reference.load(path) if path else None

    def open_settings(self) -> SettingsDialog:
        """Show the settings dialog (window-modal, not blocking); OK saves and applies."""
        languages = self.lexicon_actions.languages
        dialog = SettingsDialog(self.settings, languages,
                                self.lexicon_actions.language_labels(), self)
        dialog.accepted.connect(lambda: self.apply_settings(dialog.settings()))
        self.settings_dialog = dialog
        dialog.open()
        return dialog

    def apply_settings(self, settings: Settings) -> bool:
        """Save ``settings`` to the file shared with the CLI and apply what applies now
        (the default sign language, render quality and SMPL-X folder now; the lexicon
        path at next start)."""
        from engine.settings import save_settings

        self.settings = settings
        try:
            save_settings(settings)
        except OSError as error:
            self.show_error("Could not save the settings", str(error))
            return False
        languages = self.lexicon_actions.languages
        if languages:
            self.prompt.set_languages(languages, self.lexicon_actions.language_labels(),
                                      settings.default_language)
        self.status_message("Settings saved")
        if self.viewport is not None:
            self.viewport.set_quality(settings.render_quality)
            self.viewport.use_avatar()  # re-reads the SMPL-X folder (env var, then settings)
            self.viewport.recolour()    # the clothing colours
        return True

    # ------------------------------------------------------------ drops
    # Media dropped anywhere on the window (not only on the prompt panel) is handled
    # the same way; widgets that take drops themselves are asked first by Qt.
    def dragEnterEvent(self, event) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:
        for url in event.mimeData().urls():
            if url.isLocalFile():
                self.prompt.handle_dropped_file(url.toLocalFile())
        event.acceptProposedAction()

    # ------------------------------------------------------------ closing
    def closeEvent(self, event) -> None:
        self.playback.pause()
        if self.drag.dragging or self.document.in_preview:
            self.drag.cancel()
        if not self.files.maybe_save():
            event.ignore()
            return
        self.files.close()
        self.qsettings.setValue("geometry", self.saveGeometry())
        self.runner.cancel_all()
        if self.viewport is not None:
            self.viewport.close_view()
        event.accept()


__all__ = ["MainWindow", "gl_available"]
