"""Other takes of a span: the learned in-betweener draws several versions of the motion
between the keys around the playhead, the user steps through them as a preview, and
the one kept lands as one undo step (keys and every other frame unchanged).

The picker is a bar in the status bar while it is open: "Take 2 of 4", previous, next,
Keep and Cancel. It previews through the Document's preview (as a key drag does), so
nothing reaches the history until Keep; any other edit landing first closes it.
"""
from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QWidget

from engine.generate.key_edits import KeyEdit, span_takes
from engine.motion.errors import MotionError
from studio.jobs import JobHandle
from studio.window.context import WindowContext


class TakePicker(QWidget):
    """The bar that steps through the takes and keeps one."""

    def __init__(self, ctx: WindowContext, parent=None):
        super().__init__(parent)
        self._ctx = ctx
        self.takes: list[KeyEdit] = []
        self.index = 0
        self._base = None   # the committed project the takes were drawn from
        self.label = QLabel()
        self.previous = QPushButton("◀", toolTip="Show the previous take")
        self.next = QPushButton("▶", toolTip="Show the next take")
        self.keep = QPushButton("Keep", toolTip="Keep the take shown (one undo step)")
        self.cancel = QPushButton("Cancel", toolTip="Keep the motion as it was")
        for button in (self.previous, self.next):
            button.setFixedWidth(32)
        self.previous.clicked.connect(lambda: self.show_take(self.index - 1))
        self.next.clicked.connect(lambda: self.show_take(self.index + 1))
        self.keep.clicked.connect(self.keep_shown)
        self.cancel.clicked.connect(self.close_takes)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for widget in (self.label, self.previous, self.next, self.keep, self.cancel):
            layout.addWidget(widget)
        ctx.document.project_changed.connect(self._drop_if_stale)
        self.hide()

    def _drop_if_stale(self) -> None:
        if self.takes and self._ctx.document.committed_project is not self._base:
            self._still_current()

    # ------------------------------------------------------------ drawing takes
    def draw(self, frame: int | None = None) -> JobHandle | None:
        """Draw other takes of the span around ``frame`` (default: the playhead) in a
        job; the picker opens on the first when they are ready."""
        doc = self._ctx.document
        self.close_takes()
        self._ctx.hold_still()
        frame = doc.frame if frame is None else frame
        project = doc.committed_project
        try:
            from engine.generate.key_edits import span_around

            start, stop = span_around(project, frame)
        except MotionError as error:
            self._ctx.host.status_message(str(error))
            return None
        handle = self._ctx.runner.submit(f"Other takes of frames {start}–{stop - 1}",
                                         span_takes, project, frame)
        handle.finished.connect(lambda takes: self._open(takes, project))
        handle.failed.connect(lambda text: self._ctx.host.show_error("Could not draw takes", text))
        return handle

    def _open(self, takes: list[KeyEdit], project) -> None:
        if self._ctx.document.committed_project is not project:
            self._ctx.host.status_message("The project changed while the takes were drawn: "
                                          "draw them again")
            return
        self.takes, self._base = takes, project
        self.show()
        self.show_take(0)
        start, stop = takes[0].frame_range
        self._ctx.timeline.flash_range(start, stop)
        if not start <= self._ctx.document.frame < stop:   # show the span that changes
            self._ctx.document.set_frame((start + stop) // 2)

    # ------------------------------------------------------------ stepping, keeping
    @property
    def active(self) -> bool:
        return bool(self.takes)

    def _still_current(self) -> bool:
        if self._ctx.document.committed_project is self._base:
            return True
        self.takes, self._base = [], None
        self.hide()
        self._ctx.host.status_message("Another edit landed: the takes were dropped")
        return False

    def show_take(self, index: int) -> None:
        """Preview take ``index`` (wrapping around)."""
        if not self.takes or not self._still_current():
            return
        self.index = index % len(self.takes)
        take = self.takes[self.index]
        self._ctx.document.set_preview(take.project)
        start, stop = take.frame_range
        self.label.setText(f"Take {self.index + 1} of {len(self.takes)} "
                           f"(frames {start}–{stop - 1})")

    def keep_shown(self) -> None:
        """Land the take shown as one undo step."""
        if not self.takes or not self._still_current():
            return
        take = self.takes[self.index]
        start, stop = take.frame_range
        self._ctx.document.commit_preview(
            take.op, f"Take {self.index + 1} of frames {start}–{stop - 1}")
        self.takes, self._base = [], None
        self.hide()

    def close_takes(self) -> None:
        """Close the picker, the motion as it was."""
        if self.takes and self._ctx.document.committed_project is self._base:
            self._ctx.document.cancel_preview()
        self.takes, self._base = [], None
        self.hide()
