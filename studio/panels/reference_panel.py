"""ReferencePanel: a recording beside the viewport, showing the frame at the playhead's
time, for refining a sign against its source.

The recording is decoded in a job (``engine.data.reference_video``) and follows the
Document's frame: frame f of the project shows the recording at f / fps seconds plus
the panel's offset (a recording that starts before the sign). It belongs to the
session, not the project file: reopening a project shows no reference until one is
chosen again (an imported recording brings its own).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import (
    QDoubleSpinBox, QHBoxLayout, QLabel, QSizePolicy, QToolButton, QVBoxLayout, QWidget,
)

from engine.data.reference_video import ReferenceVideo, load_reference_video
from studio.document import Document


class ReferencePanel(QWidget):
    error_raised = Signal(str, str)   # title, text: a recording that could not be read

    def __init__(self, document: Document, runner, parent=None):
        super().__init__(parent)
        self._document = document
        self._runner = runner
        self.video: ReferenceVideo | None = None
        self.shown_index: int | None = None   # the recording's frame on screen
        self.title = QLabel()
        self.offset = QDoubleSpinBox(minimum=-600.0, maximum=600.0, singleStep=0.1,
                                     decimals=2, suffix=" s")
        self.offset.setToolTip("Seconds into the recording shown at the project's first "
                               "frame (for a recording that starts before the sign)")
        self.offset.valueChanged.connect(lambda _value: self.show_frame())
        close = QToolButton(text="×", toolTip="Close the reference video")
        close.clicked.connect(self.clear)
        self.image = QLabel(alignment=Qt.AlignmentFlag.AlignCenter)
        self.image.setMinimumSize(160, 120)
        self.image.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)
        self.image.setStyleSheet("background: #20232a")
        self.image.setToolTip("The reference recording at the playhead's time")
        header = QHBoxLayout()
        header.addWidget(self.title, 1)
        header.addWidget(QLabel("Offset"))
        header.addWidget(self.offset)
        header.addWidget(close)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addLayout(header)
        layout.addWidget(self.image, 1)
        document.frame_changed.connect(lambda _frame: self.show_frame())
        document.project_changed.connect(self.show_frame)
        self.hide()

    def load(self, path: str | Path):
        """Read ``path`` in a job and show it when done; returns the job's handle."""
        name = Path(path).name
        handle = self._runner.submit(f"Read reference video {name}", load_reference_video,
                                     str(path))
        handle.finished.connect(self.set_video)
        handle.failed.connect(
            lambda text: self.error_raised.emit(f"Could not open {name}", text))
        return handle

    def set_video(self, video: ReferenceVideo) -> None:
        self.video = video
        note = f", first {video.duration:.0f} s" if video.truncated else ""
        self.title.setText(f"<b>Reference</b>: {Path(video.path).name} "
                           f"({video.duration:.1f} s at {video.fps:g} fps{note})")
        self.show()
        self.show_frame()

    def clear(self) -> None:
        self.video = None
        self.shown_index = None
        self.image.clear()
        self.hide()

    def seconds_shown(self) -> float:
        """Seconds into the recording that the current frame shows."""
        project = self._document.project
        return self._document.frame / project.motion.fps + self.offset.value()

    def show_frame(self) -> None:
        if self.video is None:
            return
        seconds = self.seconds_shown()
        index = self.video.index_at(seconds)
        if index == self.shown_index and not self.image.pixmap().isNull():
            return
        self.shown_index = index
        pixels = np.ascontiguousarray(self.video.image_at(seconds))
        height, width, _ = pixels.shape
        image = QImage(pixels.data, width, height, 3 * width, QImage.Format.Format_RGB888)
        self.image.setPixmap(QPixmap.fromImage(image.copy()).scaled(
            self.image.size(), Qt.AspectRatioMode.KeepAspectRatio,
            Qt.TransformationMode.SmoothTransformation))

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self.shown_index = None
        self.show_frame()
