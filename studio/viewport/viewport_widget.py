"""ViewportWidget: the avatar at the Document's current frame, in a pyvistaqt view.

Has-a ``pyvistaqt.QtInteractor`` (orbit with the left mouse button, pan with the middle
or Shift+left, zoom with the wheel). The mesh is built once; each change updates its
points (and our numpy normals) in place and renders once. Changes are coalesced: a
project change and a frame change in the same event-loop pass cost one render.

Only the current frame is skinned (one ``body.forward`` of 1 frame, a few ms), so a
live drag preview or a new generation shows without skinning the whole motion.
"""
from __future__ import annotations

import numpy as np
from scipy import sparse
from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import QHBoxLayout, QToolButton, QVBoxLayout, QWidget

from engine.export.render import CAMERA_PRESETS, REGION_COLOURS, SKIN_COLOUR, focus_point
from studio.document import Document

#: Buttons shown over the view: label -> preset name in CAMERA_PRESETS.
CAMERA_BUTTONS = {"Front": "front", "3/4": "three_quarter", "Side": "side", "Hands": "hands",
                  "Full body": "full_body"}


class ViewportWidget(QWidget):
    frame_shown = Signal(int)   # after the frame's render call returned

    def __init__(self, document: Document, body, multi_samples: int = 4, parent=None):
        """``multi_samples``: MSAA samples (0 for draft quality: on software GL, e.g.
        Xvfb, 4x MSAA triples the render time)."""
        super().__init__(parent)
        import pyvista as pv  # with a display: VTK's default (X) window, not EGL
        from pyvistaqt import QtInteractor

        self._document = document
        self.body = body
        self.plotter = QtInteractor(self, multi_samples=multi_samples)
        self.plotter.set_background("#eef0f4", top="#ffffff")
        faces = np.asarray(body.faces, dtype=np.int64)
        cells = np.hstack([np.full((len(faces), 1), 3, np.int64), faces]).ravel()
        self._faces = faces
        # Vertex normals as one sparse product (area-weighted face normals summed per
        # vertex): ~1 ms instead of ~10 ms for np.add.at in vertex_normals, per frame.
        rows = faces.ravel()
        cols = np.repeat(np.arange(len(faces)), 3)
        self._incidence = sparse.csr_matrix(
            (np.ones(len(rows), np.float32), (rows, cols)), shape=(body.num_vertices, len(faces)))
        self._mesh = pv.PolyData(np.zeros((body.num_vertices, 3), np.float32), cells)
        regions = getattr(body, "vertex_region", None)
        colours = (REGION_COLOURS[np.minimum(regions, len(REGION_COLOURS) - 1)]
                   if regions is not None else np.tile(SKIN_COLOUR, (body.num_vertices, 1)))
        self._mesh.point_data["colour"] = colours
        # Our own normals on this dataset: pyvista's smooth_shading would shade a copy
        # that in-place point updates never reach (same reason as OffscreenRenderer).
        self._mesh.point_data.set_array(np.zeros((body.num_vertices, 3), np.float32), "Normals")
        self._mesh.point_data.active_normals_name = "Normals"
        self.plotter.add_mesh(self._mesh, scalars="colour", rgb=True, interpolation="phong",
                              specular=0.15, diffuse=0.85, ambient=0.15)
        self.plotter.add_axes(interactive=False)
        self._shown: tuple[int, int] | None = None   # (id of the motion, frame) on screen
        self._joints: np.ndarray | None = None
        self._aimed = False
        self.camera_preset = "front"
        self.frames_rendered = 0

        buttons = QHBoxLayout()
        buttons.setContentsMargins(4, 2, 4, 2)
        for label, preset in CAMERA_BUTTONS.items():
            button = QToolButton(text=label, toolTip=f"Camera: {label.lower()}")
            button.clicked.connect(lambda _=False, p=preset: self.set_camera(p))
            buttons.addWidget(button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addLayout(buttons)
        layout.addWidget(self.plotter.interactor, 1)

        self._pending = QTimer(self)
        self._pending.setSingleShot(True)
        self._pending.setInterval(0)
        self._pending.timeout.connect(self.show_frame)
        document.project_changed.connect(self._schedule)
        document.frame_changed.connect(self._schedule)
        self._pending.start()

    def _schedule(self, *_: object) -> None:
        # Never restart a pending update: under a fast stream of changes (playback
        # ticks) a restarted zero timer can be postponed again and again.
        if not self._pending.isActive():
            self._pending.start()

    def show_frame(self) -> None:
        """Pose the mesh at the current frame and render once (no-op if unchanged)."""
        self._pending.stop()
        motion = self._document.project.motion
        frame = min(self._document.frame, motion.num_frames - 1)
        key = (id(motion), frame)
        if key == self._shown:
            return
        output = self.body.forward(motion, frames=np.array([frame]))
        vertices = np.asarray(output.vertices[0], np.float32)
        self._joints = np.asarray(output.joints[0])
        self._mesh.points = vertices
        self._mesh.point_data["Normals"] = self._normals(vertices)
        if not self._aimed:
            self._aimed = True
            self._aim(self.camera_preset)
        self.plotter.renderer.ResetCameraClippingRange()
        self.plotter.render()
        self._shown = key
        self.frames_rendered += 1
        self.frame_shown.emit(frame)

    def _normals(self, vertices: np.ndarray) -> np.ndarray:
        corners = vertices[self._faces]
        face_normals = np.cross(corners[:, 1] - corners[:, 0], corners[:, 2] - corners[:, 0])
        normals = self._incidence @ face_normals
        return normals / np.maximum(np.linalg.norm(normals, axis=1, keepdims=True), 1e-12)

    def set_camera(self, preset: str) -> None:
        """Aim a preset of ``engine.export.render.CAMERA_PRESETS`` at the current pose."""
        if preset not in CAMERA_PRESETS:
            raise ValueError(f"camera preset: expected one of {sorted(CAMERA_PRESETS)}, "
                             f"got {preset!r}")
        self.camera_preset = preset
        if self._joints is None:
            self._aimed = False
            return
        self._aim(preset)
        self.plotter.render()

    def _aim(self, preset: str) -> None:
        spec = CAMERA_PRESETS[preset]
        focus = focus_point(self._joints, spec.focus)
        direction = np.asarray(spec.direction, np.float64)
        direction /= np.linalg.norm(direction)
        camera = self.plotter.camera
        camera.view_angle = 30.0
        distance = spec.height / 2 / np.tan(np.radians(camera.view_angle / 2))
        camera.position = tuple(focus + distance * direction)
        camera.focal_point = tuple(np.asarray(focus, np.float64))
        camera.up = (0.0, 1.0, 0.0)
        self.plotter.renderer.ResetCameraClippingRange()

    def screenshot(self) -> np.ndarray:
        """(H, W, 3) uint8 of what the view shows now."""
        self.plotter.render()
        return np.asarray(self.plotter.screenshot(return_img=True))[..., :3].copy()

    def close_view(self) -> None:
        self.plotter.close()
