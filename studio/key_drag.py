"""The two-phase keyframe drag: live preview while dragging, one undo step on release.

While the mouse moves, the preview (MoveKey + KF2P over the span between the moved
key's neighbours) is computed on the GUI thread: the baseline in-betweener takes a few
milliseconds for a 300-frame span (bench/kf2p.py), which keeps the drag live without a
queue of stale jobs. On release the same edit is computed again as a job on the lane
(a learned backend would take longer) and lands as ONE ``Macro(MoveKey, ReplaceRange)``
command. Esc cancels: the preview is dropped and the committed project shows again.
A key grabbed among several selected ones drags them all by the same number of frames
(``engine.generate.key_selection.shift_keys_edit``: they carry the motion between
them), and never onto or past a key that is not selected.

``EditLane`` does the same landing for one-shot edits that need KF2P (deleting or
pasting a keyframe, a time-stretch): the edit is computed as a job from a snapshot of
the committed project and lands as ONE command, or is discarded with a message if the
project changed meanwhile.

QtCore only: it drives the Document and the JobRunner; the timeline only emits intents.
"""
from __future__ import annotations

import functools
from collections.abc import Callable

from PySide6.QtCore import QObject, Signal

from engine.generate.key_edits import PREVIEW_BACKEND, KeyEdit, move_key_edit, release_backend
from engine.generate.key_selection import shift_keys_edit
from engine.motion.errors import MotionError
from engine.motion.project import Project
from studio.document import Document
from studio.jobs import JobHandle, JobRunner


def _moved(project: Project, group: tuple[int, ...], from_frame: int, to_frame: int,
           backend) -> KeyEdit:
    """One key moved (it may pass over others), or a selection of several moved by the
    same number of frames, carrying the motion between them."""
    if len(group) > 1:
        return shift_keys_edit(project, group, to_frame - from_frame, backend)
    return move_key_edit(project, from_frame, to_frame, backend)


def _move_job(project: Project, group: tuple[int, ...], from_frame: int, to_frame: int,
              backend, *, progress, cancel) -> KeyEdit:
    progress(0, 1, f"regenerating around frame {to_frame}")
    edit = _moved(project, group, from_frame, to_frame, backend)
    cancel.raise_if_cancelled()
    progress(1, 1, "done")
    return edit


class KeyDragController(QObject):
    landed = Signal(int, int)      # from_frame, to_frame: the command is on the stack
    rejected = Signal(str)         # why a drop did not land (shown in the status bar)

    def __init__(self, document: Document, runner: JobRunner, backend=None,
                 parent: QObject | None = None):
        super().__init__(parent)
        self._document = document
        self._runner = runner
        self.backend = backend or release_backend()  # on release, in the job
        self.preview_backend = PREVIEW_BACKEND        # while dragging, on the GUI thread
        self._snapshot: Project | None = None
        self._from: int | None = None
        self._to: int | None = None
        self.group: tuple[int, ...] = ()  # every key the drag moves (the grabbed one among them)
        self.refusal = ""                 # why the last frame asked for could not be shown
        self.pending: JobHandle | None = None
        self.last_range: tuple[int, int] | None = None  # frames the last landing regenerated

    @property
    def dragging(self) -> bool:
        return self._snapshot is not None

    @property
    def from_frame(self) -> int | None:
        """The frame of the key being dragged (None when no drag is going on)."""
        return self._from

    @property
    def to_frame(self) -> int | None:
        """Where the dragged key is previewed now: the last frame it could go to."""
        return self._to if self._snapshot is not None else None

    def begin(self, frame: int, group: tuple[int, ...] = ()) -> None:
        """Grab the key at ``frame``; ``group``: the selected keys that move with it."""
        if self._document.committed_project.keyframe_at(frame) is None:
            raise ValueError(f"no keyframe at frame {frame} to drag")
        self._snapshot = self._document.committed_project
        self._from = self._to = frame
        self.group = tuple(sorted(set(group) | {frame}))
        self.refusal = ""

    def update(self, to_frame: int) -> None:
        """Preview the key at ``to_frame`` (clamped to the motion). Landing on another
        keyframe is refused by MoveKey: the last valid preview stays."""
        if self._snapshot is None:
            return
        to_frame = max(0, min(int(to_frame), self._snapshot.motion.num_frames - 1))
        if to_frame == self._to:
            return
        if to_frame == self._from:
            self._to = to_frame
            self._document.set_preview(self._snapshot)
            return
        try:
            edit = _moved(self._snapshot, self.group, self._from, to_frame,
                          self.preview_backend)
        except MotionError as error:
            self.refusal = str(error)
            return
        self.refusal = ""
        self._to = to_frame
        self._document.set_preview(edit.project)

    def finish(self, to_frame: int | None = None) -> JobHandle | None:
        """Release: regenerate on the job lane; the result lands as one command."""
        if self._snapshot is None:
            return None
        if to_frame is not None:
            self.update(to_frame)
        snapshot, from_frame, target = self._snapshot, self._from, self._to
        self._snapshot = None
        if target == from_frame:
            self._document.cancel_preview()
            return None
        group = self.group
        title = (f"Move keyframe {from_frame} to {target}" if len(group) == 1 else
                 f"Move {len(group)} keyframes by {target - from_frame:+d} frames")
        handle = self._runner.submit(title, _move_job, snapshot, group, from_frame, target,
                                     self.backend)
        self.pending = handle

        def land(edit: KeyEdit) -> None:
            self.pending = None
            if self._document.committed_project is not snapshot:
                # Something else (undo, a generation) changed the project meanwhile:
                # landing this edit would apply it to a project it was not made for.
                self._document.cancel_preview()
                self.rejected.emit("keyframe move discarded: the project changed meanwhile")
                return
            self._document.commit_preview(edit.op, f"Move keyframe {from_frame} → {target}"
                                          if len(group) == 1 else title)
            self.last_range = edit.frame_range
            self.landed.emit(from_frame, target)

        def dropped(*_: object) -> None:
            self.pending = None
            self._document.cancel_preview()

        handle.finished.connect(land)
        handle.failed.connect(dropped)
        handle.failed.connect(self.rejected)
        handle.cancelled.connect(dropped)
        return handle

    def cancel(self) -> None:
        """Esc: forget the drag, show the committed project again."""
        if self.pending is not None:
            self.pending.cancel()
        self._snapshot = None
        self._from = self._to = None
        self._document.cancel_preview()


def _edit_job(build: Callable[..., KeyEdit], project: Project, *args, backend, progress,
              cancel) -> KeyEdit:
    progress(0, 1, "regenerating")
    edit = build(project, *args, backend=backend)
    cancel.raise_if_cancelled()
    progress(1, 1, "done")
    return edit


class EditLane(QObject):
    """Computes edits on the job lane and lands each as one undo step.

    ``submit(title, text, build, *args)`` runs ``build(committed project, *args)`` (an
    ``engine.generate.key_edits`` builder returning a ``KeyEdit``) as a job. On success
    the edit's op is applied with undo text ``text`` and ``landed(text, edit)`` is
    emitted; if the committed project changed while the job ran (an undo, another edit),
    applying the op would change a project it was not computed for, so it is dropped and
    ``rejected`` says why. A build error (``MotionError``) also comes as ``rejected``.
    """

    landed = Signal(str, object)   # undo text, the KeyEdit
    rejected = Signal(str)

    def __init__(self, document: Document, runner: JobRunner, backend=None,
                 parent: QObject | None = None):
        super().__init__(parent)
        self._document = document
        self._runner = runner
        self.backend = backend or release_backend()
        self.pending: list[JobHandle] = []

    def submit(self, title: str, text: str, build: Callable[..., KeyEdit], *args,
               ends_preview: bool = False,
               on_landed: Callable[[KeyEdit], None] | None = None) -> JobHandle:
        """``ends_preview``: the edit finishes a drag whose preview is showing; if the
        edit does not land, the preview is dropped (the committed project shows).
        ``on_landed(edit)`` is called only when the edit did land (``handle.finished``
        also fires for a result that was discarded)."""
        snapshot = self._document.committed_project
        handle = self._runner.submit(title, functools.partial(_edit_job, backend=self.backend),
                                     build, snapshot, *args)
        self.pending.append(handle)

        def done(landed: bool = False) -> None:
            if handle in self.pending:
                self.pending.remove(handle)
            if ends_preview and not landed:
                self._document.cancel_preview()

        def land(edit: KeyEdit) -> None:
            if self._document.committed_project is not snapshot:
                done()
                self.rejected.emit(f"{title}: discarded, the project changed while it ran; "
                                   "try again")
                return
            done(landed=True)
            self._document.apply_edit(edit.op, text)
            if on_landed is not None:
                on_landed(edit)
            self.landed.emit(text, edit)

        handle.finished.connect(land)
        handle.failed.connect(lambda message: (done(), self.rejected.emit(message)))
        handle.cancelled.connect(lambda: done())
        return handle
