"""The File menu's work on the Document: new, open, import a recording, save, the
recent files, autosave and crash recovery.

Every way of replacing the project first asks to save unsaved work (``maybe_save``)
and drops a drag in progress; a file that cannot be read or written is reported and
leaves the open project as it was.
"""
from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import QObject, QSettings, QTimer
from PySide6.QtWidgets import QFileDialog, QMenu, QMessageBox

from engine.io import Kind, dialog_filter, format_for
from engine.motion.edits import ReplaceProject
from engine.motion.errors import MotionError, ProjectFileError
from engine.motion.project_io import PROJECT_SUFFIX, ProjectChangedOnDisk
from engine.workflows.recording import RECORDING_KINDS
from studio.jobs import JobHandle
from studio.recovery import RecoveryStore
from studio.window.context import WindowContext, confirm

#: File-dialog filters, from the engine's file-format registry.
PROJECT_FILTER = dialog_filter(Kind.PROJECT, "read", "Sign Studio projects")
RECORDING_FILTER = dialog_filter(RECORDING_KINDS, "read", "Recordings and motion files")
MAX_RECENT = 8


class ProjectFiles(QObject):
    """Opens, imports and saves the Document's project; keeps the recent-files menu
    and the autosave timer."""

    def __init__(self, ctx: WindowContext, recovery: RecoveryStore, qsettings: QSettings,
                 autosave_seconds: float = 30.0):
        super().__init__(ctx.host)
        self._ctx = ctx
        self.recovery = recovery
        self._qsettings = qsettings
        self.recent_menu = QMenu("Open &Recent", ctx.host)
        self.rebuild_recent_menu()
        self.autosave_timer = QTimer(self)
        self.autosave_timer.setInterval(int(autosave_seconds * 1000))
        self.autosave_timer.timeout.connect(self.autosave)
        self.autosave_timer.start()

    # ------------------------------------------------------------ file dialogs
    def folder(self) -> Path:
        """Where file dialogs open: the project's folder, else the last one used."""
        if self._ctx.document.path is not None:
            return self._ctx.document.path.parent
        recent = self.recent_files()
        return Path(recent[0]).parent if recent else Path.home()

    def ask_open_path(self) -> str | None:
        name, _ = QFileDialog.getOpenFileName(self._ctx.host, "Open project", str(self.folder()),
                                              PROJECT_FILTER)
        return name or None

    def ask_recording_path(self) -> str | None:
        name, _ = QFileDialog.getOpenFileName(self._ctx.host, "Import recording",
                                              str(self.folder()), RECORDING_FILTER)
        return name or None

    def ask_save_path(self) -> str | None:
        stem = (self._ctx.document.project.title or "Untitled").strip().replace(" ", "_")[:40]
        name, _ = QFileDialog.getSaveFileName(self._ctx.host, "Save project as",
                                              str(self.folder() / f"{stem}{PROJECT_SUFFIX}"),
                                              PROJECT_FILTER)
        if not name:
            return None
        return name if name.endswith(PROJECT_SUFFIX) else name + PROJECT_SUFFIX

    # ------------------------------------------------------------ recent files
    def recent_files(self) -> list[str]:
        value = self._qsettings.value("recent_files", [])
        if isinstance(value, str):
            value = [value]
        return [str(v) for v in (value or [])]

    def _set_recent(self, files: list[str]) -> None:
        self._qsettings.setValue("recent_files", files[:MAX_RECENT])
        self.rebuild_recent_menu()

    def rebuild_recent_menu(self) -> None:
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

    # ------------------------------------------------------------ replacing the project
    def maybe_save(self) -> bool:
        """True when it is fine to drop the current project (saved, or the user said so)."""
        doc = self._ctx.document
        if not doc.dirty:
            return True
        buttons = QMessageBox.StandardButton
        name = doc.path.name if doc.path else "this project"
        answer = self._ctx.host.ask("Unsaved changes", f"Save the changes to {name} first?",
                                    buttons.Save | buttons.Discard | buttons.Cancel, buttons.Save)
        if answer == buttons.Save:
            return self.save()
        return answer == buttons.Discard

    def new_project(self) -> None:
        if self.maybe_save():
            self._ctx.drag.cancel()
            self._ctx.document.new()
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
        handle = self._ctx.runner.submit(f"Import {name}", import_recording, str(path))

        def landed(project) -> None:
            self._ctx.drag.cancel()
            self._ctx.document.new(project)
            self.recovery.discard()
            self._ctx.timeline.fit_to_width()
            if format_for(path).kind is Kind.VIDEO:  # the recording beside the avatar
                self._ctx.host.open_reference_video(str(path))
            signs = len(project.keyframes) // 3
            self._ctx.host.status_message(
                f"Imported {name}: {project.motion.num_frames} frames, {len(project.keyframes)} "
                f"keyframes at about {signs} sign(s); save it to keep it", 0)

        handle.finished.connect(landed)
        handle.failed.connect(
            lambda text: self._ctx.host.show_error(f"Could not import {name}", text))
        return handle

    def open_project(self, path: str | Path | None = None) -> bool:
        if not self.maybe_save():
            return False
        path = path or self.ask_open_path()
        if not path:
            return False
        self._ctx.drag.cancel()
        try:
            self._ctx.document.open(path)
        except (ProjectFileError, MotionError, OSError) as error:
            if not Path(path).exists() and str(path) in self.recent_files():
                # A recent file that was moved or deleted: drop it from the menu.
                self._set_recent([f for f in self.recent_files() if f != str(path)])
            self._ctx.host.show_error("Could not open the project", str(error))
            return False
        self._add_recent(Path(path))
        self._ctx.timeline.fit_to_width()
        self.recovery.discard()
        self._ctx.host.status_message(f"Opened {path}")
        return True

    def _add_recent(self, path: Path) -> None:
        self._set_recent([str(path)] + [f for f in self.recent_files() if f != str(path)])

    # ------------------------------------------------------------ saving
    def save(self) -> bool:
        if self._ctx.document.path is None:
            return self.save_as()
        return self._save_to(self._ctx.document.path)

    def save_as(self, path: str | Path | None = None) -> bool:
        path = path or self.ask_save_path()
        return bool(path) and self._save_to(Path(path))

    def _save_to(self, path: Path, overwrite_changes: bool = False) -> bool:
        try:
            saved = self._ctx.document.save(path, overwrite_changes=overwrite_changes)
        except ProjectChangedOnDisk:
            buttons = QMessageBox.StandardButton
            return confirm(
                self._ctx.host, "File changed on disk",
                f"{path.name} was saved by another window or program since you opened it. "
                "Overwrite it with your version? (Cancel, then Save As, keeps both.)",
                buttons.Save, buttons.Cancel) and self._save_to(path, overwrite_changes=True)
        except (OSError, MotionError, ValueError) as error:
            text = str(error)  # ours already start with the path
            self._ctx.host.show_error("Could not save the project",
                                      text if text.startswith(str(path)) else f"{path}: {text}")
            return False
        self._add_recent(saved)
        self.recovery.discard()
        self._ctx.host.status_message(f"Saved {saved}")
        return True

    # ------------------------------------------------------------ autosave, recovery
    def autosave(self) -> bool:
        """Write the committed project to the recovery file if it has unsaved changes."""
        if not self._ctx.document.dirty:
            return False
        try:
            self.recovery.write(self._ctx.document.committed_project, self._ctx.document.path)
        except OSError as error:
            self._ctx.host.status_message(f"Autosave failed: {error}")
            return False
        return True

    def offer_recovery(self) -> bool:
        """At start: if the last session left autosaved work, offer it back."""
        if not self.recovery.exists():
            return False
        buttons = QMessageBox.StandardButton
        stamp = time.strftime("%Y-%m-%d %H:%M",
                              time.localtime(self.recovery.project_path.stat().st_mtime))
        answer = self._ctx.host.ask("Recover unsaved work?",
                                    f"Sign Studio did not close cleanly last time. Recover the "
                                    f"work autosaved at {stamp}?", buttons.Yes | buttons.No,
                                    buttons.Yes)
        if answer != buttons.Yes:
            self.recovery.discard()
            return False
        try:
            project, original = self.recovery.load()
        except (ProjectFileError, MotionError, OSError) as error:
            # Keep the file: the user may want to send it to us or try again.
            self._ctx.host.show_error("Could not recover",
                                      f"{error}\nThe recovery file stays at "
                                      f"{self.recovery.project_path}.")
            return False
        doc = self._ctx.document
        doc.new()
        doc.set_path(original)
        doc.apply_edit(ReplaceProject(project), "Recovered work")
        self._ctx.timeline.fit_to_width()
        self._ctx.host.status_message("Recovered the autosaved work: save it to keep it")
        return True

    def close(self) -> None:
        """The window closes cleanly: no autosave left behind to offer next time."""
        self.autosave_timer.stop()
        self.recovery.discard()
