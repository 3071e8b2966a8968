"""Lock and mute per keyframe track, shown as two small toggles beside each track's name
in the timeline's label column: L (locked: key edits may not change the track; the
motion there is never redrawn) and M (muted: shown and rendered at rest). The states
are the project's (``Project.locked``, ``Project.muted``), saved with it; toggling one
is one undo step (the window applies ``toggled``)."""
from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QPainter, QPen

from engine.motion.project import Project

TOGGLE_SIZE = 15                      # px, square
TOGGLES = ("mute", "lock")            # left to right, at the right end of the label column
LOCKED_TINT = QColor(120, 120, 140, 40)
ON_COLOURS = {"mute": QColor(230, 160, 40), "lock": QColor(90, 110, 170)}
LETTERS = {"mute": "M", "lock": "L"}
TOGGLE_HINT = {
    "mute": "Mute the {name} track: it is shown and rendered at rest until unmuted "
            "(click again to unmute)",
    "lock": "Lock the {name} track: key edits may not change it, and the motion between "
            "keys is never redrawn there (click again to unlock)",
}


def toggle_rect(label_width: float, row_top: float, row_height: float, which: str) -> QRectF:
    """Where toggle ``which`` of a track row sits (viewport coordinates)."""
    right = label_width - 4 - (len(TOGGLES) - 1 - TOGGLES.index(which)) * (TOGGLE_SIZE + 3)
    return QRectF(right - TOGGLE_SIZE, row_top + (row_height - TOGGLE_SIZE) / 2,
                  TOGGLE_SIZE, TOGGLE_SIZE)


def is_on(project: Project, channels: frozenset, which: str) -> bool:
    return channels <= (project.muted if which == "mute" else project.locked)


def draw_toggles(painter: QPainter, project: Project, label_width: float,
                 rows: list[tuple[float, float, frozenset]]) -> None:
    """Both toggles of each track row ``(top, height, channels)``."""
    for top, height, channels in rows:
        for which in TOGGLES:
            rect = toggle_rect(label_width, top, height, which)
            on = is_on(project, channels, which)
            painter.setPen(QPen(QColor(120, 120, 130)))
            painter.setBrush(QBrush(ON_COLOURS[which] if on else QColor(255, 255, 255)))
            painter.drawRoundedRect(rect, 3, 3)
            painter.setPen(QColor(255, 255, 255) if on else QColor(120, 120, 130))
            painter.drawText(rect, int(Qt.AlignmentFlag.AlignCenter), LETTERS[which])


def toggle_at(point: QPointF, label_width: float,
              rows: list[tuple[float, float, frozenset]]) -> tuple[int, str] | None:
    """(row index, "mute" or "lock") of the toggle under ``point``, if any."""
    for index, (top, height, _) in enumerate(rows):
        for which in TOGGLES:
            if toggle_rect(label_width, top, height, which).adjusted(-2, -2, 2, 2).contains(point):
                return index, which
    return None


def toggled(project: Project, channels: frozenset, which: str) -> Project:
    """``project`` with ``which`` ("mute" or "lock") switched for ``channels``."""
    field = "muted" if which == "mute" else "locked"
    current = getattr(project, field)
    state = current - channels if channels <= current else current | channels
    return project.replace(**{field: state})


def draw_track_tints(scene, project: Project, rows: list[tuple[float, float, frozenset]],
                     left: float, width: float) -> None:
    """Locked tracks tinted grey, muted ones hatched, behind their keys (scene items)."""
    for top, height, channels in rows:
        if is_on(project, channels, "lock"):
            scene.addRect(QRectF(left, top, width, height), QPen(Qt.PenStyle.NoPen),
                          QBrush(LOCKED_TINT))
        if is_on(project, channels, "mute"):
            scene.addRect(QRectF(left, top, width, height), QPen(Qt.PenStyle.NoPen),
                          QBrush(QColor(230, 160, 40, 90), Qt.BrushStyle.BDiagPattern))
