"""The Document: the one observable model the widgets share.

Widgets never talk to each other: they read the Document, change it through undoable
commands (``apply_edit``), and redraw when it signals. QtCore/QtGui only, so it is
tested without widgets.

Two-phase edits (drags): ``set_preview(project)`` shows a candidate with no history;
``commit_preview(op, text)`` lands it as ONE undo step; ``cancel_preview()`` (Esc)
restores the committed project.
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoStack

from engine.motion import Motion, Project, load_project, save_project
from engine.motion.edits import Op
from engine.motion.project_io import FileStamp
from studio.commands import EditCommand


def empty_project() -> Project:
    """A new document: one second of the rest pose (arms down would need the body
    package; the rest pose keeps the document free of engine.body)."""
    return Project(motion=Motion.zeros(30), title="Untitled")


class Document(QObject):
    project_changed = Signal()        # the visible project changed (commit, undo, preview)
    frame_changed = Signal(int)       # the current frame
    selection_changed = Signal()      # selected keyframe, segment or face marker
    file_changed = Signal()           # path or dirty state

    def __init__(self, project: Project | None = None, parent: QObject | None = None):
        super().__init__(parent)
        self.undo_stack = QUndoStack(self)
        self._committed = project or empty_project()
        self._preview: Project | None = None
        self._frame = 0
        self.selected_key: int | None = None       # frame of the selected keyframe
        # Every selected keyframe (the timeline's multi-selection); holds selected_key,
        # the one clicked last, which the properties panel shows.
        self.selected_keys: frozenset[int] = frozenset()
        self.selected_segment: int | None = None   # index into project.segments
        self.selected_marker: int | None = None    # index into project.markers
        self.path: Path | None = None
        self._stamp: FileStamp | None = None  # the file's version when opened or saved
        self.undo_stack.cleanChanged.connect(self._on_clean_changed)

    def _on_clean_changed(self, _clean: bool) -> None:
        self.file_changed.emit()

    # ------------------------------------------------------------------ reading
    @property
    def project(self) -> Project:
        """What the views show: the live preview during a drag, else the committed one."""
        return self._preview if self._preview is not None else self._committed

    @property
    def committed_project(self) -> Project:
        return self._committed

    @property
    def frame(self) -> int:
        return self._frame

    @property
    def dirty(self) -> bool:
        return not self.undo_stack.isClean()

    @property
    def in_preview(self) -> bool:
        return self._preview is not None

    # ------------------------------------------------------------------ editing
    def apply_edit(self, op: Op, text: str, merge_key: str = "") -> None:
        """Apply ``op`` as one undoable step (raises MotionError if it does not fit;
        then nothing changes)."""
        from engine.motion.edits import apply

        apply(op, self._committed)  # validate first: a failing push would corrupt the stack
        self._preview = None
        self.undo_stack.push(EditCommand(lambda: self._committed, self._set_project, op,
                                         text, merge_key))

    def _set_project(self, project: Project) -> None:
        """Called by this document's EditCommands only (redo/undo)."""
        self._committed = project
        self._after_change()

    def set_preview(self, project: Project) -> None:
        self._preview = project
        self._after_change()

    def cancel_preview(self) -> None:
        if self._preview is not None:
            self._preview = None
            self._after_change()

    def commit_preview(self, op: Op, text: str) -> None:
        """Land the drag's result: ``op`` applied to the committed project, one step."""
        self.apply_edit(op, text)

    def _after_change(self) -> None:
        project = self.project
        last = project.motion.num_frames - 1
        if self._frame > last:
            self._frame = last
            self.frame_changed.emit(self._frame)
        present = self.existing_keys(self.selected_keys)
        if present != self.selected_keys:
            self.selected_keys = present
            if self.selected_key not in present:
                self.selected_key = max(present) if present else None
            self.selection_changed.emit()
        if self.selected_segment is not None and self.selected_segment >= len(project.segments):
            self.selected_segment = None
            self.selection_changed.emit()
        if self.selected_marker is not None and self.selected_marker >= len(project.markers):
            self.selected_marker = None
            self.selection_changed.emit()
        self.project_changed.emit()

    # --------------------------------------------------------- frame, selection
    def set_frame(self, frame: int) -> None:
        frame = max(0, min(int(frame), self.project.motion.num_frames - 1))
        if frame != self._frame:
            self._frame = frame
            self.frame_changed.emit(frame)

    def select_key(self, frame: int | None) -> None:
        if frame is not None and self.project.keyframe_at(frame) is None:
            raise ValueError(f"no keyframe at frame {frame}")
        self.selected_key, self.selected_segment, self.selected_marker = frame, None, None
        self.selected_keys = frozenset() if frame is None else frozenset({frame})
        self.selection_changed.emit()

    def select_keys(self, frames, primary: int | None = None) -> None:
        """Select the keyframes at ``frames``; ``primary`` (default: the last of them) is
        the one the properties panel shows."""
        frames = frozenset(int(f) for f in frames)
        missing = sorted(f for f in frames if self.project.keyframe_at(f) is None)
        if missing:
            raise ValueError(f"no keyframe at frame {missing[0]}")
        self.selected_keys = frames
        self.selected_key = primary if primary in frames else (max(frames) if frames else None)
        self.selected_segment = self.selected_marker = None
        self.selection_changed.emit()

    def existing_keys(self, frames) -> frozenset[int]:
        """Those of ``frames`` that have a keyframe in the project shown now (a selection
        remembered across an edit that deleted or moved some of its keys)."""
        project = self.project
        return frozenset(f for f in frames if project.keyframe_at(f) is not None)

    def select_all_keys(self) -> None:
        self.select_keys(k.frame for k in self.project.keyframes)

    def toggle_key(self, frame: int) -> None:
        """Shift+click: add the keyframe at ``frame`` to the selection, or take it out."""
        if frame in self.selected_keys:
            rest = self.selected_keys - {frame}
            self.select_keys(rest, self.selected_key if self.selected_key != frame else None)
        else:
            self.select_keys(self.selected_keys | {frame}, frame)

    def select_marker(self, index: int | None) -> None:
        """Select face marker ``index``. The selected sign stays selected (a preset or a
        new marker goes over it); a selected keyframe does not, so Delete removes what
        was clicked last."""
        if index is not None and not 0 <= index < len(self.project.markers):
            raise ValueError(f"no face marker {index}")
        if index != self.selected_marker or (index is not None and self.selected_key is not None):
            self.selected_marker = index
            if index is not None:
                self.selected_key, self.selected_keys = None, frozenset()
            self.selection_changed.emit()

    def select_segment(self, index: int | None) -> None:
        if index is not None and not 0 <= index < len(self.project.segments):
            raise ValueError(f"no segment {index}")
        self.selected_segment, self.selected_key, self.selected_marker = index, None, None
        self.selected_keys = frozenset()
        self.selection_changed.emit()

    # -------------------------------------------------------------------- files
    def open(self, path: str | Path) -> None:
        """Load a project (ProjectFileError leaves this document unchanged)."""
        stamp = FileStamp.of(path)
        self._start_over(load_project(path), Path(path))
        self._stamp = stamp

    def save(self, path: str | Path | None = None, overwrite_changes: bool = False) -> Path:
        """Save atomically to ``path`` (or the current path) and mark clean.

        Saving over this document's own file raises ``ProjectChangedOnDisk`` when another
        window or program saved it since it was opened (or last saved) here, unless
        ``overwrite_changes``; saving to another path overwrites what is there (the
        file dialog has asked).
        """
        target = Path(path) if path is not None else self.path
        if target is None:
            raise ValueError("no file name: use Save As")
        own_file = self.path is not None and target.resolve() == self.path.resolve()
        check = own_file and not overwrite_changes
        self._stamp = save_project(self._committed, target,
                                   opened_as=self._stamp if check else None)
        self.path = target
        self.undo_stack.setClean()
        self.file_changed.emit()
        return target

    def set_path(self, path: str | Path | None) -> None:
        """Make ``path`` this document's file, as it is on disk now (recovered work:
        a later save over it checks for changes made after this moment)."""
        self.path = Path(path) if path is not None else None
        self._stamp = FileStamp.of(self.path) if self.path is not None else None
        self.file_changed.emit()

    def new(self, project: Project | None = None) -> None:
        self._start_over(project or empty_project(), None)

    def _start_over(self, project: Project, path: Path | None) -> None:
        """Make ``project`` the document, with no history, selection or preview."""
        self._preview = None
        self._committed = project
        self.undo_stack.clear()
        self.path = path
        self._stamp: FileStamp | None = None
        self._frame = 0
        self.selected_key = self.selected_segment = self.selected_marker = None
        self.selected_keys = frozenset()
        self.frame_changed.emit(0)
        self.selection_changed.emit()
        self.project_changed.emit()
        self.file_changed.emit()
