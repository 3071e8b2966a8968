"""CurveView: one joint's rotation channels over the whole motion, with its keys.

The joint is the one the properties panel's Joint box names (the one its angle boxes
edit), drawn as its three Euler angles in degrees (X red, Y green, Z blue, as the
viewport's axes), unwrapped so a curve is continuous where the motion is. Keys that pin
the joint's channel sit on the curves as dots; a click on a dot selects that key, a
click or drag elsewhere moves the playhead.
"""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPoint, QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from engine.body.skeleton import JOINT_NAMES
from engine.motion.curves import joint_channel, rotation_curves
from studio.document import Document
from studio.timeline.timeline_view import LABEL_WIDTH

AXIS_COLOURS = ("#d0453a", "#3a9a4a", "#3a6fd0")
LEFT_MARGIN = LABEL_WIDTH   # the degree labels, as wide as the timeline's label column
TOP_MARGIN = 22      # the title
BOTTOM_MARGIN = 8
#: Pixels from a key's dot a click still selects the key.
PICK_PIXELS = 7


class CurveView(QWidget):
    def __init__(self, document: Document, parent=None):
        super().__init__(parent)
        self._document = document
        self.joint = JOINT_NAMES.index("right_wrist")
        self._curves: np.ndarray | None = None     # (F, 3) degrees
        self._motion = None
        self._scrubbing = False
        self._timeline = None
        self.setMinimumHeight(160)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setToolTip("The selected joint's rotation over time (X red, Y green, Z blue, "
                        "degrees) with its keys: click a dot to select that key, click or "
                        "drag elsewhere to move the playhead. The Joint box on a key's "
                        "page chooses the joint.")
        document.project_changed.connect(self.update)
        document.frame_changed.connect(lambda _frame: self.update())
        document.selection_changed.connect(self.update)

    # ------------------------------------------------------------ data
    def set_joint(self, joint: int) -> None:
        """Show skeleton joint ``joint`` (0..54)."""
        self.joint = int(joint)
        self._motion = None
        self.update()

    def curves(self) -> np.ndarray:
        """(F, 3) degrees drawn now: the joint's X, Y and Z angles per frame."""
        motion = self._document.project.motion
        if motion is not self._motion:
            self._curves = rotation_curves(motion, self.joint)
            self._motion = motion
        return self._curves

    def key_frames(self) -> list[int]:
        """Frames of the keys that pin this joint's channel (the dots)."""
        channel = joint_channel(self.joint)
        return [key.frame for key in self._document.project.keyframes
                if channel in key.channels]

    # ------------------------------------------------------------ geometry
    def _plot_rect(self) -> QRectF:
        return QRectF(LEFT_MARGIN, TOP_MARGIN, max(10, self.width() - LEFT_MARGIN - 8),
                      max(10, self.height() - TOP_MARGIN - BOTTOM_MARGIN))

    def _range(self) -> tuple[float, float]:
        curves = self.curves()
        low, high = float(curves.min()), float(curves.max())
        pad = max(5.0, 0.08 * (high - low))
        return low - pad, high + pad

    def follow_timeline(self, timeline) -> None:
        """Put each frame under the same frame of ``timeline`` (a ``TimelineView`` as
        wide as this view, above it), following its zoom and scrolling: a key's dots
        line up with its diamonds."""
        self._timeline = timeline
        timeline.zoomed.connect(self.update)
        timeline.horizontalScrollBar().valueChanged.connect(lambda _value: self.update())

    def _timeline_offset(self) -> float:
        """This view's x minus the timeline viewport's x, in pixels."""
        timeline = self._timeline.viewport()
        return float(timeline.mapToGlobal(QPoint(0, 0)).x() - self.mapToGlobal(QPoint(0, 0)).x())

    def x_of(self, frame: float) -> float:
        if self._timeline is not None:
            scene = QPointF(self._timeline.x_of(frame), 0)
            return self._timeline.mapFromScene(scene).x() + self._timeline_offset()
        rect = self._plot_rect()
        frames = max(self._document.project.motion.num_frames - 1, 1)
        return rect.left() + rect.width() * frame / frames

    def frame_at(self, x: float) -> int:
        frames = self._document.project.motion.num_frames
        if self._timeline is not None:
            point = QPoint(round(x - self._timeline_offset()), 0)
            scene_x = self._timeline.mapToScene(point).x()
            frame = round((scene_x - self._timeline.x_of(0)) / self._timeline.pixels_per_frame)
        else:
            rect = self._plot_rect()
            frame = round((x - rect.left()) / rect.width() * max(frames - 1, 1))
        return max(0, min(frames - 1, frame))

    def y_of(self, degrees: float) -> float:
        rect = self._plot_rect()
        low, high = self._range()
        return rect.bottom() - rect.height() * (degrees - low) / (high - low)

    def key_point(self, frame: int, axis: int) -> QPointF:
        """Where the dot of the key at ``frame`` sits on curve ``axis`` (0, 1, 2)."""
        return QPointF(self.x_of(frame), self.y_of(float(self.curves()[frame, axis])))

    # ------------------------------------------------------------ drawing
    def paintEvent(self, _event) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.fillRect(self.rect(), QColor("#ffffff"))
        rect = self._plot_rect()
        curves = self.curves()
        low, high = self._range()
        # The title is the legend: each axis named in its curve's colour.
        x = 6.0
        metrics = painter.fontMetrics()
        for text, colour in ((f"{JOINT_NAMES[self.joint].replace('_', ' ')}: rotation ",
                              "#333333"), ("X", AXIS_COLOURS[0]), (" / ", "#333333"),
                             ("Y", AXIS_COLOURS[1]), (" / ", "#333333"),
                             ("Z", AXIS_COLOURS[2]), (", degrees", "#333333")):
            painter.setPen(QColor(colour))
            painter.drawText(QPointF(x, 15), text)
            x += metrics.horizontalAdvance(text)
        grid = QPen(QColor("#e3e6eb"))
        step = _nice_step((high - low) / 5)
        value = np.ceil(low / step) * step
        while value <= high:
            y = self.y_of(value)
            painter.setPen(grid)
            painter.drawLine(QPointF(rect.left(), y), QPointF(rect.right(), y))
            painter.setPen(QColor("#666666"))
            painter.drawText(QRectF(0, y - 8, LEFT_MARGIN - 6, 16),
                             int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter),
                             f"{int(round(value))}°")
            value += step
        painter.setClipRect(QRectF(rect.left() - 6, 0, rect.width() + 12, self.height()))
        xs = [self.x_of(f) for f in range(len(curves))]
        for axis, colour in enumerate(AXIS_COLOURS):
            path = QPainterPath(QPointF(xs[0], self.y_of(float(curves[0, axis]))))
            for frame in range(1, len(curves)):
                path.lineTo(xs[frame], self.y_of(float(curves[frame, axis])))
            painter.setPen(QPen(QColor(colour), 1.6))
            painter.drawPath(path)
        selected = self._document.selected_key
        for frame in self.key_frames():
            for axis, colour in enumerate(AXIS_COLOURS):
                point = self.key_point(frame, axis)
                painter.setPen(QPen(QColor("#222222"), 2 if frame == selected else 1))
                painter.setBrush(QColor("#ffd54a") if frame == selected else QColor(colour))
                radius = 5 if frame == selected else 4
                painter.drawEllipse(point, radius, radius)
        playhead = self.x_of(self._document.frame)
        painter.setPen(QPen(QColor("#e53935"), 1.5))
        painter.drawLine(QPointF(playhead, rect.top()), QPointF(playhead, rect.bottom()))
        painter.end()

    # ------------------------------------------------------------ mouse
    def key_at(self, point: QPointF) -> int | None:
        """The key whose dot is under ``point`` (within ``PICK_PIXELS``), if any."""
        for frame in self.key_frames():
            for axis in range(3):
                dot = self.key_point(frame, axis)
                if abs(dot.x() - point.x()) <= PICK_PIXELS and \
                        abs(dot.y() - point.y()) <= PICK_PIXELS:
                    return frame
        return None

    def mousePressEvent(self, event) -> None:
        if event.button() != Qt.MouseButton.LeftButton:
            return
        point = event.position()
        key = self.key_at(point)
        if key is not None:
            self._document.select_key(key)
            self._document.set_frame(key)
            return
        self._scrubbing = True
        self._document.set_frame(self.frame_at(point.x()))

    def mouseMoveEvent(self, event) -> None:
        if self._scrubbing:
            self._document.set_frame(self.frame_at(event.position().x()))

    def mouseReleaseEvent(self, _event) -> None:
        self._scrubbing = False


def _nice_step(raw: float) -> float:
    """A round grid step (1, 2, 2.5 or 5 times a power of ten) near ``raw`` degrees."""
    raw = max(raw, 1e-6)
    power = 10 ** np.floor(np.log10(raw))
    for factor in (1, 2, 2.5, 5, 10):
        if raw <= factor * power:
            return float(factor * power)
    return float(10 * power)
