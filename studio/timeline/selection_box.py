"""The timeline's multi-selection, drawn and hit-tested: the bracket around two or more
selected keys, whose end handles scale the selection in time (the far end stays put,
as in a dope sheet), and the box a drag over empty key tracks draws to select the keys
inside it."""
from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QPen
from PySide6.QtWidgets import QGraphicsScene

from engine.motion.project import Project
from studio.timeline.layout import KEY_RADIUS, TRACK_HEIGHT, TRACK_TOP, TRACKS
from studio.timeline.style import SELECTED_COLOUR

HANDLE_GAP = KEY_RADIUS + 7   # px from the outer keys' centres to the handles
HANDLE_GRAB = 4               # px either side of a handle that grabs it
SCALE_HINT = ("Drag to scale the {count} selected keyframes in time about frame {pivot} "
              "(the other end stays); the motion between them is resampled. Esc cancels.")


def handle_xs(frames: list[int], x_of: Callable[[float], float]) -> tuple[float, float]:
    """Scene x of the (left, right) scale handles of the selection ``frames`` (sorted)."""
    return x_of(frames[0]) - HANDLE_GAP, x_of(frames[-1]) + HANDLE_GAP


def handle_at(pos: QPointF, frames: list[int], x_of) -> str | None:
    """"left" or "right" when scene ``pos`` is on a scale handle of the selection
    ``frames`` (sorted; two or more keys), else None."""
    if len(frames) < 2 or not TRACK_TOP <= pos.y() < TRACK_TOP + len(TRACKS) * TRACK_HEIGHT:
        return None
    left, right = handle_xs(frames, x_of)
    if abs(pos.x() - left) <= HANDLE_GRAB:
        return "left"
    if abs(pos.x() - right) <= HANDLE_GRAB:
        return "right"
    return None


def scale_ends(frames: list[int], handle: str) -> tuple[int, int]:
    """(pivot, grabbed end) of a drag on ``handle``: the far end stays put."""
    return (frames[-1], frames[0]) if handle == "left" else (frames[0], frames[-1])


def scale_factor(pivot: int, end: int, to_frame: int) -> float | None:
    """The factor that takes ``end`` to ``to_frame`` about ``pivot``; None when the
    handle is on or past the pivot (a scale cannot reverse the keys)."""
    factor = (to_frame - pivot) / (end - pivot)
    return factor if factor > 0 else None


def draw_bracket(scene: QGraphicsScene, frames: list[int], x_of) -> None:
    """A light band across the key tracks from the first selected key to the last, with
    a grip at each end."""
    if len(frames) < 2:
        return
    left, right = handle_xs(frames, x_of)
    height = len(TRACKS) * TRACK_HEIGHT
    band = QColor(SELECTED_COLOUR)
    band.setAlpha(28)
    scene.addRect(QRectF(left, TRACK_TOP, right - left, height),
                  QPen(SELECTED_COLOUR, 1, Qt.PenStyle.DashLine), QBrush(band)).setZValue(1)
    tip = SCALE_HINT.format(count=len(frames), pivot="{pivot}")
    for x, pivot in ((left, frames[-1]), (right, frames[0])):
        grip = scene.addRect(QRectF(x - 2.5, TRACK_TOP + 2, 5, height - 4),
                             QPen(SELECTED_COLOUR.darker(140)), QBrush(SELECTED_COLOUR))
        grip.setZValue(7)
        grip.setToolTip(tip.format(pivot=pivot))


def keys_in_box(project: Project, box: QRectF, x_of) -> frozenset[int]:
    """Frames of the keys with a glyph inside scene rectangle ``box`` (a key shows a
    glyph in each track whose channels it pins)."""
    inside = set()
    for key in project.keyframes:
        x = x_of(key.frame)
        for index, (_, channels) in enumerate(TRACKS):
            y = TRACK_TOP + (index + 0.5) * TRACK_HEIGHT
            if key.channels & channels and box.contains(QPointF(x, y)):
                inside.add(key.frame)
    return frozenset(inside)


def draw_box(scene: QGraphicsScene, box: QRectF) -> None:
    fill = QColor(70, 120, 210, 40)
    scene.addRect(box, QPen(QColor(70, 120, 210), 1, Qt.PenStyle.DashLine),
                  QBrush(fill)).setZValue(9)
