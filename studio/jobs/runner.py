"""JobRunner: runs Qt-free engine functions on one worker lane.

Why one lane: the worker owns loaded models (the lexicon store, later the learned
models), which load once and serve many jobs, and engine functions need not be
thread-safe against each other. Jobs queue in order.

An engine job is ``fn(*args, progress=..., cancel=..., **kwargs)``. Its progress and
result come back through a ``JobHandle``'s signals, which Qt delivers on the GUI thread
(queued connections: the handle lives in the GUI thread, the worker emits). Workers
never touch widgets or VTK.
"""
from __future__ import annotations

import traceback
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal, Slot

from engine.jobs import Cancelled, CancelToken
from engine.motion.errors import user_message


class JobHandle(QObject):
    """A running job. Its public signals are always emitted on the GUI thread, from the
    event loop, so connecting right after ``submit()`` never misses an early result."""

    progressed = Signal(int, int, str)   # done, total, message
    finished = Signal(object)            # the function's result
    failed = Signal(str)                 # a one-line message for the status bar
    cancelled = Signal()
    # Emitted on the worker thread; queued to _deliver on this object's (GUI) thread.
    _worker_progress = Signal(int, int, str)
    _worker_done = Signal(str, object)

    def __init__(self, title: str, parent: QObject | None = None):
        super().__init__(parent)
        self.title = title
        self.token = CancelToken()
        self.future: Future | None = None
        self.error_details = ""          # full traceback, for a details dialog
        self._worker_progress.connect(self._deliver_progress, Qt.ConnectionType.QueuedConnection)
        self._worker_done.connect(self._deliver, Qt.ConnectionType.QueuedConnection)

    @Slot(int, int, str)
    def _deliver_progress(self, done: int, total: int, message: str) -> None:
        self.progressed.emit(done, total, message)

    @Slot(str, object)
    def _deliver(self, outcome: str, value: object) -> None:
        if outcome == "finished":
            self.finished.emit(value)
        elif outcome == "failed":
            self.failed.emit(value)
        else:
            self.cancelled.emit()

    def cancel(self) -> None:
        self.token.cancel()

    @property
    def running(self) -> bool:
        return self.future is not None and not self.future.done()


class JobRunner(QObject):
    job_started = Signal(object)   # JobHandle
    job_ended = Signal(object)     # JobHandle (finished, failed or cancelled)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="signstudio-job")
        self._handles: set[JobHandle] = set()

    def submit(self, title: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> JobHandle:
        handle = JobHandle(title, self)
        self._handles.add(handle)

        def progress(done: int, total: int, message: str = "") -> None:
            handle._worker_progress.emit(int(done), int(total), str(message))

        def run() -> None:
            try:
                result = fn(*args, progress=progress, cancel=handle.token, **kwargs)
            except Cancelled:
                handle._worker_done.emit("cancelled", None)
            except Exception as error:  # reported to the user, never swallowed silently
                handle.error_details = traceback.format_exc()
                handle._worker_done.emit("failed", f"{handle.title} failed: {user_message(error)}")
            else:
                outcome = "cancelled" if handle.token.cancelled else "finished"
                handle._worker_done.emit(outcome, result)

        handle.finished.connect(self._on_handle_done)
        handle.failed.connect(self._on_handle_done)
        handle.cancelled.connect(self._on_handle_done)
        self.job_started.emit(handle)
        handle.future = self._executor.submit(run)
        return handle

    @Slot()
    def _on_handle_done(self, *_: object) -> None:
        handle = self.sender()
        if handle in self._handles:
            self._handles.discard(handle)
            self.job_ended.emit(handle)

    @property
    def busy(self) -> bool:
        return any(h.running for h in self._handles)

    def cancel_all(self) -> None:
        for handle in list(self._handles):
            handle.cancel()

    def shutdown(self) -> None:
        """Cancel what runs and wait for the lane to stop (on application exit)."""
        self.cancel_all()
        self._executor.shutdown(wait=True, cancel_futures=True)
