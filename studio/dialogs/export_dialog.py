"""ExportDialog: every export format, run as a job with progress and cancel.

Motion files (npz, smpl, bvh, pose) come from ``engine.export.motion_files``; the
skinned avatar (glb) from ``engine.export.gltf``; videos (mp4, gif, webm) from
``engine.export.video``. The last two are imported lazily inside the job, so the
dialog works (and says clearly what is missing) while those modules are optional.
Every engine writer is atomic: a cancelled or failed export leaves no partial file.
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import (QCheckBox, QComboBox, QDialog, QDialogButtonBox, QFileDialog,
                               QFormLayout, QGroupBox, QHBoxLayout, QLabel, QLineEdit,
                               QProgressBar, QPushButton, QSpinBox, QVBoxLayout)

from engine.motion.motion import Motion
from engine.motion.project import Project

#: extension -> what it is (shown in the format list)
FORMATS: dict[str, str] = {
    "mp4": "Video, MP4 (H.264)",
    "webm": "Video, WebM",
    "gif": "Animated GIF",
    "glb": "glTF binary: skinned avatar with animation",
    "npz": "SMPL-X parameters (.npz, AMASS keys)",
    "smpl": "Meshcapade .smpl",
    "bvh": "BVH skeleton (55 joints)",
    "pose": "pose-format keypoints (.pose)",
}
VIDEO_FORMATS = {"mp4", "webm", "gif"}
CAMERAS = ("front", "three_quarter", "side", "hands", "full_body")


def export_project(project: Project, path: str | Path, fmt: str, options: dict | None = None,
                   *, progress, cancel) -> Path:
    """Write ``project``'s motion to ``path`` as ``fmt`` (a key of ``FORMATS``).

    ``options`` (video only): width, height (px), camera (a ``CAMERAS`` name),
    captions (bool: the segment glosses). A side-by-side with source keypoints needs
    the recording's keypoints, which a project does not keep (CLI/engine only). A job
    function: runs on the
    lane, never touches Qt. Raises ValueError for an unknown format.
    """
    options = dict(options or {})
    path = Path(path)
    motion: Motion = project.motion
    cancel.raise_if_cancelled()
    if fmt in VIDEO_FORMATS:
        try:
            from engine.export.video import export_video, signs_span
        except ImportError as error:
            raise RuntimeError(f"video export is not available in this installation "
                               f"({error})") from None
        from engine.body import default_avatar

        captions = ([(s.start, s.end, s.gloss) for s in project.segments]
                    if options.get("captions") else None)
        return export_video(motion, path, body=default_avatar(),
                            width=int(options.get("width", 640)),
                            height=int(options.get("height", 480)), fps=motion.fps,
                            camera=options.get("camera", "front"),
                            background=options.get("background", (255, 255, 255)),
                            captions=captions, aim_frames=signs_span(project.segments),
                            progress=progress, cancel=cancel)
    if fmt == "glb":
        from engine.export.gltf import write_glb

        return write_glb(motion, path, progress=progress, cancel=cancel)
    if fmt in ("npz", "smpl", "bvh", "pose"):
        from engine.export.motion_files import write_motion_file

        progress(0, 1, f"writing {path.name}")
        written = write_motion_file(motion, path)
        progress(1, 1, "done")
        return written
    raise ValueError(f"export: unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")


class ExportDialog(QDialog):
    def __init__(self, project: Project, runner, default_folder: Path | None = None,
                 parent=None):
        super().__init__(parent)
        self.setWindowTitle("Export")
        self._project = project
        self._runner = runner
        self.handle = None
        stem = (project.title or "signing").strip().replace(" ", "_")[:40] or "signing"
        self._folder = default_folder or Path.home()
        self.format = QComboBox()
        for ext, what in FORMATS.items():
            self.format.addItem(f".{ext}  {what}", ext)
        self.path = QLineEdit(str(self._folder / f"{stem}.mp4"))
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        self.format.currentIndexChanged.connect(self._format_changed)
        path_row = QHBoxLayout()
        path_row.addWidget(self.path, 1)
        path_row.addWidget(browse)

        self.video_group = QGroupBox("Video")
        video = QFormLayout(self.video_group)
        self.width_box = QSpinBox(minimum=64, maximum=3840, value=640, singleStep=16)
        self.height_box = QSpinBox(minimum=64, maximum=2160, value=480, singleStep=16)
        self.camera = QComboBox()
        self.camera.addItems(CAMERAS)
        self.captions = QCheckBox("Captions (the glosses)")
        self.captions.setChecked(True)
        video.addRow("Width", self.width_box)
        video.addRow("Height", self.height_box)
        video.addRow("Camera", self.camera)
        video.addRow(self.captions)

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
        self.format.setCurrentIndex(self.format.findData(fmt))

    def _format_changed(self) -> None:
        fmt = self.selected_format()
        self.video_group.setVisible(fmt in VIDEO_FORMATS)
        current = Path(self.path.text() or "signing")
        self.path.setText(str(current.with_suffix(f".{fmt}")))

    def _browse(self) -> None:
        fmt = self.selected_format()
        name, _ = QFileDialog.getSaveFileName(self, "Export to", self.path.text(),
                                              f"{FORMATS[fmt]} (*.{fmt})")
        if name:
            self.path.setText(name if name.endswith(f".{fmt}") else f"{name}.{fmt}")

    def options(self) -> dict:
        return {"width": self.width_box.value(), "height": self.height_box.value(),
                "camera": self.camera.currentText(), "captions": self.captions.isChecked()}

    def start(self):
        """Start the export job; returns its JobHandle (None when the path is empty)."""
        if self.handle is not None:
            return self.handle
        text = self.path.text().strip()
        if not text:
            self.status.setText("Choose a file name first.")
            return None
        path, fmt = Path(text).expanduser(), self.selected_format()
        if path.suffix.lower() != f".{fmt}":
            path = path.with_suffix(f".{fmt}")
        self.handle = self._runner.submit(f"Export {path.name}", export_project, self._project,
                                          path, fmt, self.options())
        self.export_button.setEnabled(False)
        self.cancel_button.setText("Cancel")
        self.status.setText(f"Exporting {path}…")
        self.progress.setRange(0, 0)  # busy until the first progress report
        self.handle.progressed.connect(self._on_progress)
        self.handle.finished.connect(lambda p: self._done(f"Saved {p}"))
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
