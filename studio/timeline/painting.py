"""The timeline's drawn pieces that carry no state: the ruler, a key's glyph, the band
a time-stretch drag shows, the shade over what an edit regenerated. Each draws into a
``QGraphicsScene`` at ``ppf`` pixels per frame (``studio.timeline.layout`` rows)."""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QPen, QPolygonF
from PySide6.QtWidgets import QGraphicsScene

from engine.motion.project import Segment
from studio.timeline.layout import (
    KEY_RADIUS, LABEL_WIDTH, RULER_HEIGHT, SEGMENT_HEIGHT, SEGMENT_TOP, TRACK_HEIGHT, TRACK_TOP,
    TRACKS,
)
from studio.timeline.style import SELECTED_COLOUR


def draw_ruler(scene: QGraphicsScene, frames: int, fps: float, ppf: float) -> None:
    """Ticks every few frames, a label ``frame  seconds`` on round numbers ~70 px apart."""
    scene.addRect(QRectF(LABEL_WIDTH, 0, frames * ppf, RULER_HEIGHT),
                  QPen(Qt.PenStyle.NoPen), QBrush(QColor(238, 238, 242)))
    step = next((s for s in (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 1200)
                 if s * ppf >= 70), 3000)
    minor = max(1, step // 5)
    pen = QPen(QColor(120, 120, 130))
    font = QFont()
    font.setPointSizeF(8)
    for frame in range(0, frames + 1, minor):
        x = LABEL_WIDTH + frame * ppf
        major = frame % step == 0
        scene.addLine(x, RULER_HEIGHT - (10 if major else 4), x, RULER_HEIGHT, pen)
        if major:
            label = scene.addSimpleText(f"{frame}  {frame / fps:.1f}s")
            label.setFont(font)
            label.setBrush(QBrush(QColor(60, 60, 70)))
            label.setPos(x + 2, 1)


def draw_key_glyph(scene: QGraphicsScene, x: float, y: float, colour: QColor, selected: bool,
                   small: bool = False, interpolation: str = "auto") -> None:
    """A key's glyph, shaped by how it interpolates to the next key: a diamond
    ("auto"; "learned" with a white dot), a square (hold), a triangle (linear), a
    circle (spline). ``small``: a generator's key, lighter and smaller than the
    user's, so the keys a user set stand out."""
    r = KEY_RADIUS + (1.5 if selected else 0) - (1.5 if small else 0)
    if interpolation == "hold":
        corners = [(-0.8, -0.8), (0.8, -0.8), (0.8, 0.8), (-0.8, 0.8)]
    elif interpolation == "linear":
        corners = [(0.0, -1.0), (1.0, 0.8), (-1.0, 0.8)]
    elif interpolation == "spline":
        corners = [(np.cos(a), np.sin(a)) for a in np.linspace(0, 2 * np.pi, 12, False)]
    else:
        corners = [(0.0, -1.0), (1.0, 0.0), (0.0, 1.0), (-1.0, 0.0)]
    polygon = QPolygonF([QPointF(x + r * cx, y + r * cy) for cx, cy in corners])
    item = scene.addPolygon(polygon, QPen(colour.darker(150)), QBrush(colour))
    item.setZValue(5)
    if interpolation == "learned":
        dot = scene.addEllipse(x - 1.5, y - 1.5, 3, 3, QPen(Qt.PenStyle.NoPen),
                               QBrush(QColor(255, 255, 255)))
        dot.setZValue(6)


def draw_key_ghost(scene: QGraphicsScene, x: float) -> None:
    """Where a dragged key came from: a hollow dashed diamond in every track, so a drag
    shows its distance."""
    ghost = QPen(SELECTED_COLOUR, 1.5, Qt.PenStyle.DashLine)
    r = KEY_RADIUS
    for index in range(len(TRACKS)):
        y = TRACK_TOP + (index + 0.5) * TRACK_HEIGHT
        scene.addPolygon(QPolygonF([QPointF(x, y - r), QPointF(x + r, y),
                                    QPointF(x, y + r), QPointF(x - r, y)]),
                         ghost, QBrush(Qt.BrushStyle.NoBrush))


def draw_pivot(scene: QGraphicsScene, x: float) -> None:
    """The frame a scale is about: a solid line across the key tracks with a small
    triangle on top."""
    bottom = TRACK_TOP + len(TRACKS) * TRACK_HEIGHT
    scene.addLine(x, TRACK_TOP - 4, x, bottom, QPen(SELECTED_COLOUR.darker(150), 2)).setZValue(8)
    scene.addPolygon(QPolygonF([QPointF(x - 5, TRACK_TOP - 9), QPointF(x + 5, TRACK_TOP - 9),
                                QPointF(x, TRACK_TOP - 3)]),
                     QPen(Qt.PenStyle.NoPen), QBrush(SELECTED_COLOUR.darker(150))).setZValue(8)


def draw_stretch_band(scene: QGraphicsScene, segment: Segment, drag: dict, ppf: float) -> None:
    """During a left-edge drag: a dashed ghost of the block's extent before the drag
    (so the growth or shrink shows against it, as the hollow diamond does for a key
    drag), a thin arrow from the pointer to the grabbed edge (how far it was pulled)
    and a label with the new length and speed. The block keeps its start."""
    x0 = LABEL_WIDTH + segment.start * ppf
    ghost_x1 = x0 + drag["total"] * ppf
    ghost = scene.addRect(QRectF(x0, SEGMENT_TOP - 2, ghost_x1 - x0, SEGMENT_HEIGHT + 4),
                          QPen(SELECTED_COLOUR, 1.5, Qt.PenStyle.DashLine),
                          QBrush(Qt.BrushStyle.NoBrush))
    ghost.setZValue(3)
    pointer, y = drag["pointer"], SEGMENT_TOP + SEGMENT_HEIGHT / 2
    if abs(pointer - x0) >= 2:
        pen = QPen(SELECTED_COLOUR, 2)
        scene.addLine(pointer, y, x0, y, pen).setZValue(4)
        scene.addLine(pointer, SEGMENT_TOP + 4, pointer,
                      SEGMENT_TOP + SEGMENT_HEIGHT - 4, pen).setZValue(4)
    was, now = drag["frames"], drag["value"]
    speed = was / now
    label = scene.addSimpleText(
        f"{segment.gloss}: {was} → {now} frames  ×{speed:.2f} "
        f"{'slower' if speed < 1 else 'faster' if speed > 1 else 'speed'}")
    font = QFont()
    font.setPointSizeF(8.5)
    font.setBold(True)
    label.setFont(font)
    label.setBrush(QBrush(QColor(40, 40, 50)))
    rect = label.boundingRect()
    # On the ruler row, not below the block: the diamonds under it are what the
    # user watches move during a stretch.
    top = (RULER_HEIGHT - rect.height()) / 2 - 1
    back = scene.addRect(QRectF(x0 + 4, top, rect.width() + 8, rect.height() + 2),
                         QPen(SELECTED_COLOUR), QBrush(QColor(255, 248, 235)))
    back.setZValue(11)
    label.setPos(x0 + 8, top + 1)
    label.setZValue(12)


def draw_flash(scene: QGraphicsScene, start: int, stop: int, frames: int, ppf: float) -> None:
    """Shade frames ``[start, stop)`` across the keyframe tracks: what an edit
    regenerated."""
    start, stop = max(0, start), min(stop, frames)
    if stop <= start:
        return
    item = scene.addRect(
        QRectF(LABEL_WIDTH + start * ppf, TRACK_TOP, (stop - start) * ppf,
               len(TRACKS) * TRACK_HEIGHT),
        QPen(QColor(230, 160, 30), 1, Qt.PenStyle.DotLine), QBrush(QColor(255, 200, 60, 60)))
    item.setZValue(1)
    item.setToolTip(f"Regenerated by the last edit: frames {start}–{stop - 1}")
    # Said in words on the band: an unlabelled shade read as a second selection.
    label = scene.addSimpleText("regenerated")
    font = QFont()
    font.setPointSizeF(7.5)
    label.setFont(font)
    label.setBrush(QBrush(QColor(170, 110, 10)))
    if label.boundingRect().width() + 6 < (stop - start) * ppf:
        label.setPos(LABEL_WIDTH + start * ppf + 3, TRACK_TOP + len(TRACKS) * TRACK_HEIGHT
                     - label.boundingRect().height() - 1)
        label.setZValue(3)
    else:
        label.setVisible(False)


CONTACT_COLOUR = QColor(20, 150, 140)


def draw_contacts(scene: QGraphicsScene, project, ppf: float) -> None:
    """Each contact lock as a teal band over its span in its hand's track (under the
    keys' glyphs, so it hides none), named in its tooltip."""
    rows = {name: index for index, (name, _) in enumerate(TRACKS)}
    for lock in project.contacts:
        row = rows["Right hand" if lock.side == "right" else "Left hand"]
        x, y = LABEL_WIDTH + lock.start * ppf, TRACK_TOP + row * TRACK_HEIGHT
        width = (lock.end - lock.start) * ppf
        # The whole row tinted under the keys (a thin bar on its edge read as belonging
        # to either of two tracks), with a solid strip along its top.
        tint = QColor(CONTACT_COLOUR)
        tint.setAlpha(70)
        bar = scene.addRect(QRectF(x, y + 1, width, TRACK_HEIGHT - 2),
                            QPen(Qt.PenStyle.NoPen), QBrush(tint))
        bar.setZValue(2)
        scene.addRect(QRectF(x, y + 1, width, 3), QPen(Qt.PenStyle.NoPen),
                      QBrush(CONTACT_COLOUR)).setZValue(2)
        bar.setToolTip(f"Held: {lock.label}, frames {lock.start}–{lock.end - 1} "
                       "(Edit > Release hand holds at the playhead)")
