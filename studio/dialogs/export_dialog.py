"""ExportDialog: every format the engine writes, run as a job with progress and cancel.

The formats, their descriptions and the export itself come from the engine
(``engine.io`` and ``engine.workflows.export``): the dialog only gathers the options,
so an export here and ``signstudio-cli export`` with the same options write the same
file. Every engine writer is atomic: a cancelled or failed export leaves no file.
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import (
    QCheckBox, QComboBox, QDialog, QDialogButtonBox, QFileDialog, QFormLayout, QGroupBox,
    QHBoxLayout, QLabel, QLineEdit, QProgressBar, QPushButton, QSpinBox, QVBoxLayout,
)

from engine.io import Kind
from engine.io.formats import formats
from engine.motion.project import Project
from engine.workflows.export import ANTI_ALIASING, CAMERAS, VIDEO_PIXELS, ExportOptions, export_project

#: What the dialog offers, in this order: everything a project can be exported to
#: (saving the project itself is File > Save As).
EXPORT_KINDS = (Kind.VIDEO, Kind.MOTION, Kind.KEYPOINTS, Kind.NOTATION)


class ExportDialog(QDialog):
    def __init__(self, project: Project, runner, default_folder: Path | None = None,
                 parent=None, photoreal_model: str | None = None):
        """``photoreal_model``: the Settings' photoreal model; when given, a video can show
        the signer it learned instead of the avatar."""
        super().__init__(parent)
        self.setWindowTitle("Export")
        self._project = project
        self._runner = runner
        self.handle = None
        stem = (project.title or "signing").strip().replace(" ", "_")[:40] or "signing"
        self._folder = default_folder or Path.home()
        self.format = QComboBox()
        # Videos first (what most exports are), then the kinds in EXPORT_KINDS' order.
        ordered = sorted(formats(EXPORT_KINDS, "write"), key=lambda f: EXPORT_KINDS.index(f.kind))
        self._formats = {fmt.suffix: fmt for fmt in ordered}
        for suffix, fmt in self._formats.items():
            self.format.addItem(f"{suffix}  {fmt.description}", suffix)
        self.path = QLineEdit(str(self._folder / f"{stem}.mp4"))
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        self.format.currentIndexChanged.connect(self._format_changed)
        path_row = QHBoxLayout()
        path_row.addWidget(self.path, 1)
        path_row.addWidget(browse)

        self.video_group = QGroupBox("Video")
        video = QFormLayout(self.video_group)
        defaults = ExportOptions()
        low, high = VIDEO_PIXELS
        self.width_box = QSpinBox(minimum=low, maximum=high, value=defaults.width, singleStep=16)
        self.height_box = QSpinBox(minimum=low, maximum=high, value=defaults.height,
                                   singleStep=16)
        self.camera = QComboBox()
        self.camera.addItems(CAMERAS)
        self.camera.setCurrentText(defaults.camera)
        self.anti_aliasing = QComboBox()
        self.anti_aliasing.addItems(ANTI_ALIASING)
        self.anti_aliasing.setCurrentText(defaults.anti_aliasing)
        self.anti_aliasing.setToolTip("Smoother edges, slower: none keeps 720p real time")
        self.captions = QCheckBox("Captions (the glosses)")
        self.captions.setChecked(defaults.captions)
        self._photoreal_model = photoreal_model
        self.signer = QComboBox()
        self.signer.addItem("The avatar", "avatar")
        self.side_by_side = QCheckBox("Side by side with the avatar")
        if photoreal_model:
            self.signer.addItem(f"You, drawn by {Path(photoreal_model).name}", "photoreal")
            self.signer.setToolTip("The photoreal model draws at its own size (128 x 128 by "
                                   "default); width, height, camera and captions are the "
                                   "avatar's")
            # First: the choice decides which of the options below apply.
            video.addRow("Who signs", self.signer)
            video.addRow(self.side_by_side)
            self.signer.currentIndexChanged.connect(self._signer_changed)
        video.addRow("Width", self.width_box)
        video.addRow("Height", self.height_box)
        video.addRow("Camera", self.camera)
        video.addRow("Anti-aliasing", self.anti_aliasing)
        video.addRow(self.captions)
        self._signer_changed()

        self.progress = QProgressBar()
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.status = QLabel(f"{project.motion.num_frames} frames at {project.motion.fps:g} fps")
        self.status.setWordWrap(True)
        self.buttons = QDialogButtonBox()
        self.export_button = self.buttons.addButton("Export", QDialogButtonBox.ButtonRole.AcceptRole)
        self.cancel_button = self.buttons.addButton(QDialogButtonBox.StandardButton.Close)
        self.export_button.clicked.connect(self.start)
        self.cancel_button.clicked.connect(self._cancel_or_close)

        form = QFormLayout()
        form.addRow("Format", self.format)
        form.addRow("File", path_row)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.video_group)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        layout.addWidget(self.buttons)
        self.resize(520, 0)

    def selected_format(self) -> str:
        return self.format.currentData()

    def set_format(self, fmt: str) -> None:
        """Select a format by its extension ("mp4" or ".mp4"); ValueError if the dialog
        does not offer it."""
        index = self.format.findData("." + fmt.lstrip("."))
        if index < 0:
            raise ValueError(f"export: no format {fmt!r}; offered: {', '.join(self._formats)}")
        self.format.setCurrentIndex(index)

    def _format_changed(self) -> None:
        fmt = self.selected_format()
        self.video_group.setVisible(self._formats[fmt].kind is Kind.VIDEO)
        self.adjustSize()  # no empty band where the video options were
        current = Path(self.path.text() or "signing")
        self.path.setText(str(current.with_suffix(fmt)))

    def _browse(self) -> None:
        fmt = self.selected_format()
        name, _ = QFileDialog.getSaveFileName(self, "Export to", self.path.text(),
                                              f"{self._formats[fmt].description} (*{fmt})")
        if name:
            self.path.setText(name if name.endswith(fmt) else f"{name}{fmt}")

    def _signer_changed(self) -> None:
        photoreal = self.signer.currentData() == "photoreal"
        self.side_by_side.setEnabled(photoreal)
        for box in (self.width_box, self.height_box, self.camera, self.anti_aliasing,
                    self.captions):
            box.setEnabled(not photoreal)

    def options(self) -> ExportOptions:
        photoreal = self.signer.currentData() == "photoreal"
        return ExportOptions(width=self.width_box.value(), height=self.height_box.value(),
                             camera=self.camera.currentText(),
                             captions=self.captions.isChecked(),
                             anti_aliasing=self.anti_aliasing.currentText(),
                             renderer="photoreal" if photoreal else "avatar",
                             photoreal_model=self._photoreal_model if photoreal else None,
                             side_by_side=photoreal and self.side_by_side.isChecked())

    def start(self):
        """Start the export job; returns its JobHandle (None when the path is empty)."""
        if self.handle is not None:
            return self.handle
        text = self.path.text().strip()
        if not text:
            self.status.setText("Choose a file name first.")
            return None
        path, fmt = Path(text).expanduser(), self.selected_format()
        if path.suffix.lower() != fmt:
            path = path.with_suffix(fmt)
        self.handle = self._runner.submit(f"Export {path.name}", export_project, self._project,
                                          path, self.options())
        self.export_button.setEnabled(False)
        self.cancel_button.setText("Cancel")
        self.status.setText(f"Exporting {path}…")
        self.progress.setRange(0, 0)  # busy until the first progress report
        self.handle.progressed.connect(self._on_progress)
        self.handle.finished.connect(
            lambda result: self._done(" ".join((f"Saved {result.path}.", *result.notes))))
        self.handle.failed.connect(lambda message: self._done(message))
        self.handle.cancelled.connect(lambda: self._done("Cancelled: no file was written."))
        return self.handle

    def _on_progress(self, done: int, total: int, message: str) -> None:
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(done)
        if message:
            self.status.setText(message)

    def _done(self, message: str) -> None:
        self.handle = None
        self.progress.setRange(0, 1)
        self.progress.setValue(1 if message.startswith("Saved") else 0)
        self.status.setText(message)
        self.export_button.setEnabled(True)
        self.cancel_button.setText("Close")

    def _cancel_or_close(self) -> None:
        if self.handle is not None:
            self.status.setText("Cancelling…")
            self.handle.cancel()
        else:
            self.reject()

    def reject(self) -> None:  # Esc or the window's close button
        if self.handle is not None:
            self.handle.cancel()
        super().reject()
