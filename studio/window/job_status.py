"""The running job in the status bar: its title and progress, and Cancel.

Several jobs can be queued on the lane; the bar shows the latest one started that has
not ended, and Cancel cancels that one. All three widgets hide when no job runs.
"""
from __future__ import annotations

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QLabel, QProgressBar, QPushButton, QStatusBar

from studio.jobs import JobHandle, JobRunner
from studio.window.context import Host


class JobStatus(QObject):
    def __init__(self, host: Host, status_bar: QStatusBar, runner: JobRunner):
        super().__init__(status_bar)
        self._host = host
        self._jobs: list[JobHandle] = []
        self.label = QLabel()
        self.progress = QProgressBar()
        self.progress.setMaximumWidth(220)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop the running job; what it finished is kept")
        self.cancel_button.clicked.connect(self.cancel_current_job)
        for widget in self._widgets():
            status_bar.addPermanentWidget(widget)
            widget.hide()
        runner.job_started.connect(self._on_job_started)
        runner.job_ended.connect(self._on_job_ended)

    def _widgets(self) -> tuple:
        return self.label, self.progress, self.cancel_button

    def _on_job_started(self, handle: JobHandle) -> None:
        self._jobs.append(handle)
        handle.progressed.connect(lambda d, t, m, h=handle: self._on_job_progress(h, d, t, m))
        handle.failed.connect(self._host.status_message)
        self._show_job(handle)

    def _show_job(self, handle: JobHandle) -> None:
        self.label.setText(handle.title)
        self.progress.setRange(0, 0)  # busy until it reports
        for widget in self._widgets():
            widget.show()

    def _on_job_progress(self, handle: JobHandle, done: int, total: int, message: str) -> None:
        if self._jobs and self._jobs[-1] is handle:
            self.progress.setRange(0, max(total, 1))
            self.progress.setValue(done)
            self.label.setText(f"{handle.title}: {message}" if message else handle.title)

    def _on_job_ended(self, handle: JobHandle) -> None:
        if handle in self._jobs:
            self._jobs.remove(handle)
        if self._jobs:
            self._show_job(self._jobs[-1])
        else:
            for widget in self._widgets():
                widget.hide()

    def cancel_current_job(self) -> None:
        if self._jobs:
            self._jobs[-1].cancel()
            self._host.status_message(f"Cancelling {self._jobs[-1].title}…")
