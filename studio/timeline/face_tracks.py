"""The timeline's face rows: one row per non-manual track (brows, eyes, head, shoulders,
mouth), each marker a block whose sloped ends are its onset and offset ramps.

Drawing and hit-testing live here so the TimelineView only routes the mouse: a press
on a block's body moves it, on an edge resizes it (ramps shrink to fit), and both end
as one ``marker_drag_finished`` intent that the window lands as one undo step.
"""
from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QPen, QPolygonF
from PySide6.QtWidgets import QGraphicsScene

from engine.motion.markers import FaceMarker, Track
from engine.motion.project import Project

FACE_TRACKS: tuple[tuple[str, Track], ...] = (
    ("Brows", Track.BROWS), ("Eyes", Track.EYES), ("Head", Track.HEAD),
    ("Shoulders", Track.SHOULDERS), ("Mouth", Track.MOUTH),
)
FACE_ROW_HEIGHT = 20
FACE_GAP = 6          # px between the keyframe tracks and the face rows
FACE_EDGE_GRAB = 5    # px either side of a marker's end that grabs it
MIN_MARKER_FRAMES = 2
TRACK_COLOURS = {
    Track.BROWS: QColor(214, 150, 72), Track.EYES: QColor(120, 150, 210),
    Track.HEAD: QColor(150, 120, 190), Track.SHOULDERS: QColor(130, 160, 120),
    Track.MOUTH: QColor(205, 110, 120),
}
MARKER_HINT = ("{label} over frames {start}–{end}, intensity {intensity:.0%}: drag to move, "
               "drag an end to resize, Delete removes it, right-click for more.")


class FaceRows:
    """Geometry, drawing and hit tests of the face rows, whose top is at scene ``top``."""

    def __init__(self, top: float, label_width: float):
        self.top = top
        self.label_width = label_width

    @property
    def height(self) -> float:
        return len(FACE_TRACKS) * FACE_ROW_HEIGHT

    def row_of(self, track: Track) -> int:
        return next(i for i, (_, t) in enumerate(FACE_TRACKS) if t is track)

    def row_at(self, y: float) -> int | None:
        row = int((y - self.top) // FACE_ROW_HEIGHT) if y >= self.top else -1
        return row if 0 <= row < len(FACE_TRACKS) else None

    def track_at(self, y: float) -> Track | None:
        row = self.row_at(y)
        return None if row is None else FACE_TRACKS[row][1]

    def marker_rect(self, marker: FaceMarker, ppf: float) -> QRectF:
        y = self.top + self.row_of(marker.track) * FACE_ROW_HEIGHT + 2
        x0 = self.label_width + marker.start * ppf
        return QRectF(x0, y, (marker.end - marker.start) * ppf, FACE_ROW_HEIGHT - 4)

    def labels(self) -> list[tuple[str, float, float]]:
        return [(name, self.top + i * FACE_ROW_HEIGHT, FACE_ROW_HEIGHT)
                for i, (name, _) in enumerate(FACE_TRACKS)]

    def draw(self, scene: QGraphicsScene, project: Project, ppf: float, width: float,
             selected: int | None) -> None:
        grid = QPen(QColor(225, 225, 230))
        scene.addRect(QRectF(self.label_width, self.top, width - self.label_width, self.height),
                      QPen(Qt.PenStyle.NoPen), QBrush(QColor(250, 247, 244)))
        for row in range(len(FACE_TRACKS) + 1):
            y = self.top + row * FACE_ROW_HEIGHT
            scene.addLine(self.label_width, y, width, y, grid)
        font = QFont()
        font.setPointSizeF(8)
        for index, marker in enumerate(project.markers):
            rect = self.marker_rect(marker, ppf)
            colour = TRACK_COLOURS[marker.track]
            fill = QColor(colour)
            fill.setAlpha(90 + int(140 * marker.intensity))  # stronger markers read darker
            # The block's outline slopes over the ramps: onset up, offset down.
            rise, fall = marker.onset * ppf, marker.offset * ppf
            shape = QPolygonF([QPointF(rect.left(), rect.bottom()),
                               QPointF(rect.left() + rise, rect.top()),
                               QPointF(rect.right() - fall, rect.top()),
                               QPointF(rect.right(), rect.bottom())])
            is_selected = index == selected
            pen = QPen(QColor(255, 150, 30) if is_selected else colour.darker(150),
                       2 if is_selected else 1)
            item = scene.addPolygon(shape, pen, QBrush(fill))
            item.setZValue(3)
            item.setToolTip(MARKER_HINT.format(label=marker.kind.label, start=marker.start,
                                               end=marker.end - 1, intensity=marker.intensity))
            text = scene.addSimpleText(marker.kind.label)
            text.setFont(font)
            text.setBrush(QBrush(QColor(40, 30, 30)))
            if text.boundingRect().width() < rect.width() - rise - fall:
                text.setPos(rect.left() + rise + 2,
                            rect.top() + (rect.height() - text.boundingRect().height()) / 2)
                text.setZValue(4)
            else:
                text.setVisible(False)

    def hit(self, project: Project, pos: QPointF, ppf: float) -> tuple[int | None, str | None]:
        """(marker index under ``pos``, "start" | "end" | "body"), the latest drawn first."""
        track = self.track_at(pos.y())
        if track is None:
            return None, None
        for index in reversed(range(len(project.markers))):
            marker = project.markers[index]
            if marker.track is not track:
                continue
            rect = self.marker_rect(marker, ppf)
            if abs(pos.x() - rect.left()) <= FACE_EDGE_GRAB:
                return index, "start"
            if abs(pos.x() - rect.right()) <= FACE_EDGE_GRAB:
                return index, "end"
            if rect.left() <= pos.x() <= rect.right():
                return index, "body"
        return None, None


def dragged_span(marker: FaceMarker, edge: str, frames_moved: int,
                 num_frames: int) -> tuple[int, int]:
    """The ``[start, end)`` a marker drag asks for: the body moves the whole span (kept
    inside the motion), an edge moves that end (the marker keeps at least two frames)."""
    start, end = marker.start, marker.end
    if edge == "body":
        shift = max(-start, min(frames_moved, num_frames - end))
        return start + shift, end + shift
    if edge == "start":
        return max(0, min(start + frames_moved, end - MIN_MARKER_FRAMES)), end
    return start, min(num_frames, max(end + frames_moved, start + MIN_MARKER_FRAMES))
