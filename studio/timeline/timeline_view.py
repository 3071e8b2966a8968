"""TimelineView: a QGraphicsView of the Document's project.

Rows, top to bottom: a ruler (frames, and seconds at the motion's fps), the segment
track (one block per gloss or letter; its darker tail is the hold: drag the block's right
edge to change the hold, its left edge to time-stretch the sign's movement), then one
keyframe track per channel group (body, left hand, right hand, face): a keyframe shows a
diamond in every track whose channels it pins; then the face rows (``face_tracks``), one
per non-manual track, with the project's markers as blocks.

It never edits. Clicks select (Document selection) and scrub (Document frame), which
are view state rather than project changes; drags are emitted as intents
(``key_drag_*``, ``hold_drag_*``, ``stretch_drag_*``, ``marker_drag_*``) that the main
window turns into undoable commands.
The scene is rebuilt from ``document.project`` on every ``project_changed``: during a
drag that is the live preview, so the diamond follows the mouse through the Document.
"""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPoint, QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QBrush, QColor, QFont, QPainter, QPen, QPolygonF, QStatusTipEvent
from PySide6.QtWidgets import QApplication, QGraphicsScene, QGraphicsView

from engine.generate.retime import movement_frames
from engine.motion.motion import Channel
from studio.document import Document
from studio.timeline import track_states
from studio.timeline.face_tracks import MARKER_HINT, FaceRows, dragged_span
from studio.timeline.style import (
    GENERATED_KEY_COLOUR, HOLD_EDGE_HINT, KEY_COLOUR, KEY_HINT, PLAYHEAD_COLOUR,
    SEGMENT_COLOURS, SELECTED_COLOUR, STRETCH_EDGE_HINT,
)

#: (label, channels shown in that track)
TRACKS: tuple[tuple[str, frozenset[Channel]], ...] = (
    ("Body", frozenset({Channel.ROOT, Channel.BODY})),
    ("Left hand", frozenset({Channel.LEFT_HAND})),
    ("Right hand", frozenset({Channel.RIGHT_HAND})),
    ("Face", frozenset({Channel.FACE})),
)

LABEL_WIDTH = 116     # px: the fixed column of row names and track toggles
RULER_HEIGHT = 28
SEGMENT_TOP, SEGMENT_HEIGHT = 32, 28
TRACK_TOP, TRACK_HEIGHT = 66, 24
FACE_TOP = TRACK_TOP + len(TRACKS) * TRACK_HEIGHT + 6  # the face rows, below the key tracks
KEY_RADIUS = 6
EDGE_GRAB = 5         # px either side of a block edge that grabs it
DRAG_THRESHOLD = 3    # px before a press on a key becomes a drag (else it is a click)


class TimelineView(QGraphicsView):
    key_drag_started = Signal(int)        # frame of the grabbed keyframe
    key_drag_moved = Signal(int)          # frame under the mouse
    key_drag_finished = Signal(int)       # frame where it was released
    key_drag_cancelled = Signal()
    hold_drag_moved = Signal(int, int)    # segment index, hold in frames
    hold_drag_finished = Signal(int, int)
    hold_drag_cancelled = Signal()
    stretch_drag_moved = Signal(int, int)     # segment index, movement length in frames
    stretch_drag_finished = Signal(int, int)
    stretch_drag_cancelled = Signal()
    marker_drag_moved = Signal(int, int, int)     # marker index, start, end
    marker_drag_finished = Signal(int, int, int)
    marker_drag_cancelled = Signal()
    face_menu_requested = Signal(str, int, QPoint)  # track, frame, global position
    zoomed = Signal()                     # the frames shown changed with the zoom
    track_toggled = Signal(int, str)      # track row, "mute" or "lock"

    def __init__(self, document: Document, parent=None):
        super().__init__(parent)
        self._document = document
        self.pixels_per_frame = 8.0
        self.setScene(QGraphicsScene(self))
        self.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setMouseTracking(True)
        self.face_rows = FaceRows(FACE_TOP, LABEL_WIDTH)
        self.setMinimumHeight(int(FACE_TOP + self.face_rows.height) + 24)
        self.setToolTip("Click a diamond to select a keyframe, drag it to move it in time "
                        "(Esc cancels). Drag the right edge of a sign to change its hold, "
                        "its left edge to stretch it in time. Click the ruler to scrub; "
                        "Ctrl+wheel zooms.")
        self._hint = ""
        self._flash: tuple[int, int] | None = None
        self._flash_timer = QTimer(self)
        self._flash_timer.setSingleShot(True)
        self._flash_timer.timeout.connect(self._clear_flash)
        self._drag: dict | None = None
        self._playhead = None
        document.project_changed.connect(self.rebuild)
        document.selection_changed.connect(self.rebuild)
        document.frame_changed.connect(self._move_playhead)
        # A flash marks what the latest edit regenerated; after an undo or redo it
        # would point at frames that edit no longer owns.
        document.undo_stack.indexChanged.connect(self._on_history_moved)
        self.rebuild()

    # ------------------------------------------------------------ geometry
    def x_of(self, frame: float) -> float:
        """Scene x of the centre of ``frame``."""
        return LABEL_WIDTH + (frame + 0.5) * self.pixels_per_frame

    def frame_at(self, x: float) -> int:
        frame = int((x - LABEL_WIDTH) // self.pixels_per_frame)
        return max(0, min(frame, self._document.project.motion.num_frames - 1))

    def visible_frames(self) -> tuple[int, int]:
        """(first, last) frames the view shows now (the viewport's trails cover them)."""
        rect = self.viewport().rect()
        left = self.mapToScene(rect.topLeft()).x()
        right = self.mapToScene(rect.topRight()).x()
        first = self.frame_at(max(left, LABEL_WIDTH))
        return first, max(first, self.frame_at(right))

    @staticmethod
    def track_y(index: int) -> float:
        """Scene y of the middle of keyframe track ``index`` (see ``TRACKS``)."""
        return TRACK_TOP + (index + 0.5) * TRACK_HEIGHT

    def view_point(self, frame: float, y: float) -> QPoint:
        """Viewport coordinates of scene point (x of ``frame``, ``y``): for mouse events."""
        return self.mapFromScene(QPointF(self.x_of(frame), y))

    def hold_edge_point(self, index: int) -> QPoint:
        segment = self._document.project.segments[index]
        x = LABEL_WIDTH + segment.end * self.pixels_per_frame
        return self.mapFromScene(QPointF(x - 1, SEGMENT_TOP + SEGMENT_HEIGHT / 2))

    def stretch_edge_point(self, index: int) -> QPoint:
        """Viewport point on the left (time-stretch) edge of segment ``index``."""
        segment = self._document.project.segments[index]
        x = LABEL_WIDTH + segment.start * self.pixels_per_frame
        return self.mapFromScene(QPointF(x + 1, SEGMENT_TOP + SEGMENT_HEIGHT / 2))

    def set_zoom(self, pixels_per_frame: float) -> None:
        self.pixels_per_frame = max(1.0, min(40.0, float(pixels_per_frame)))
        self.rebuild()
        self.zoomed.emit()

    def fit_to_width(self) -> None:
        frames = self._document.project.motion.num_frames
        width = max(100, self.viewport().width() - LABEL_WIDTH - 16)
        self.set_zoom(width / max(frames, 1))

    # ------------------------------------------------------------ drawing
    def rebuild(self) -> None:
        scene = self.scene()
        scene.clear()
        project = self._document.project
        frames = project.motion.num_frames
        ppf = self.pixels_per_frame
        width = LABEL_WIDTH + frames * ppf + 40
        height = FACE_TOP + self.face_rows.height + 8
        scene.setSceneRect(0, 0, width, height)
        self._draw_ruler(frames, project.motion.fps)

        track_states.draw_track_tints(scene, project, self._track_rows(0), LABEL_WIDTH, width)
        grid = QPen(QColor(215, 215, 220))
        for index in range(len(TRACKS) + 1):
            y = TRACK_TOP + index * TRACK_HEIGHT
            scene.addLine(LABEL_WIDTH, y, width, y, grid)
        small = QFont()
        small.setPointSizeF(8.5)
        for number, segment in enumerate(project.segments):
            x0 = LABEL_WIDTH + segment.start * ppf
            x1 = LABEL_WIDTH + segment.end * ppf
            colour = SEGMENT_COLOURS.get(segment.kind, QColor(150, 150, 150))
            selected = self._document.selected_segment == number
            pen = QPen(SELECTED_COLOUR if selected else colour.darker(140), 2 if selected else 1)
            scene.addRect(QRectF(x0, SEGMENT_TOP, x1 - x0, SEGMENT_HEIGHT), pen, QBrush(colour))
            if segment.hold:
                hx = x1 - segment.hold * ppf
                scene.addRect(QRectF(hx, SEGMENT_TOP, x1 - hx, SEGMENT_HEIGHT),
                              QPen(Qt.PenStyle.NoPen), QBrush(colour.darker(130)))
            # Grips: the hold edge (right) and the stretch edge (left), with tooltips.
            right = scene.addRect(QRectF(x1 - 2, SEGMENT_TOP, 3, SEGMENT_HEIGHT),
                                  QPen(Qt.PenStyle.NoPen), QBrush(colour.darker(200)))
            right.setToolTip(HOLD_EDGE_HINT.format(gloss=segment.gloss, hold=segment.hold))
            left = scene.addRect(QRectF(x0, SEGMENT_TOP, 3, SEGMENT_HEIGHT),
                                 QPen(Qt.PenStyle.NoPen), QBrush(colour.darker(200)))
            left.setToolTip(STRETCH_EDGE_HINT.format(gloss=segment.gloss,
                                                     frames=movement_frames(segment)))
            for grip in (left, right):
                grip.setZValue(2)
            text = scene.addSimpleText(segment.gloss)
            text.setFont(small)
            text.setBrush(QBrush(QColor(255, 255, 255)))
            if text.boundingRect().width() < x1 - x0 - 4:
                text.setPos(x0 + 4, SEGMENT_TOP + (SEGMENT_HEIGHT - text.boundingRect().height()) / 2)
            else:
                text.setVisible(False)

        for key in project.keyframes:
            selected = key.frame == self._document.selected_key
            colour = (SELECTED_COLOUR if selected
                      else GENERATED_KEY_COLOUR if key.generated else KEY_COLOUR)
            for index, (_, channels) in enumerate(TRACKS):
                if key.channels & channels:
                    self._diamond(self.x_of(key.frame), self.track_y(index), colour, selected,
                                  small=key.generated and not selected,
                                  interpolation=key.interpolation)

        self.face_rows.draw(scene, project, ppf, width, self._document.selected_marker)
        if self._flash is not None:
            self._draw_flash(frames)
        drag = self._drag
        if drag is not None and drag["kind"] == "stretch" and drag["value"] is not None:
            self._draw_stretch(drag)
        if drag is not None and drag["kind"] == "key" and drag["started"]:
            # Where the key came from: a hollow ghost, so a drag shows its distance.
            ghost = QPen(SELECTED_COLOUR, 1.5, Qt.PenStyle.DashLine)
            for index in range(len(TRACKS)):
                x, y, r = self.x_of(drag["frame"]), self.track_y(index), KEY_RADIUS
                self.scene().addPolygon(QPolygonF([QPointF(x, y - r), QPointF(x + r, y),
                                                   QPointF(x, y + r), QPointF(x - r, y)]),
                                        ghost, QBrush(Qt.BrushStyle.NoBrush))
        self._playhead = scene.addLine(0, 0, 0, height, QPen(PLAYHEAD_COLOUR, 1.5))
        self._playhead.setZValue(10)
        self._move_playhead(self._document.frame)

    def _draw_stretch(self, drag: dict) -> None:
        """During a left-edge drag: a dashed ghost of the block's extent before the drag
        (so the growth or shrink shows against it, as the hollow diamond does for a key
        drag), a thin arrow from the pointer to the grabbed edge (how far it was pulled)
        and a label with the new length and speed. The block keeps its start."""
        scene = self.scene()
        index = drag["index"]
        segments = self._document.project.segments
        if index >= len(segments):
            return
        segment = segments[index]
        ppf = self.pixels_per_frame
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

    def flash_range(self, start: int, stop: int, seconds: float = 4.0) -> None:
        """Shade frames ``[start, stop)`` across the keyframe tracks for a few seconds:
        what an edit regenerated, so a user sees which part of the motion changed."""
        self._flash = (start, stop)
        self._flash_timer.start(int(seconds * 1000))
        self.rebuild()

    def _on_history_moved(self, _index: int) -> None:
        if self._flash is not None:
            self._clear_flash()

    def _clear_flash(self) -> None:
        self._flash = None
        self.rebuild()

    def _draw_flash(self, frames: int) -> None:
        start, stop = self._flash
        start, stop = max(0, start), min(stop, frames)
        if stop <= start:
            return
        ppf = self.pixels_per_frame
        shade = QColor(255, 200, 60, 60)
        item = self.scene().addRect(
            QRectF(LABEL_WIDTH + start * ppf, TRACK_TOP, (stop - start) * ppf,
                   len(TRACKS) * TRACK_HEIGHT),
            QPen(QColor(230, 160, 30), 1, Qt.PenStyle.DotLine), QBrush(shade))
        item.setZValue(1)
        item.setToolTip(f"Regenerated by the last edit: frames {start}–{stop - 1}")

    def _diamond(self, x: float, y: float, colour: QColor, selected: bool,
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
        item = self.scene().addPolygon(polygon, QPen(colour.darker(150)), QBrush(colour))
        item.setZValue(5)
        if interpolation == "learned":
            dot = self.scene().addEllipse(x - 1.5, y - 1.5, 3, 3, QPen(Qt.PenStyle.NoPen),
                                          QBrush(QColor(255, 255, 255)))
            dot.setZValue(6)

    def _draw_ruler(self, frames: int, fps: float) -> None:
        scene = self.scene()
        ppf = self.pixels_per_frame
        scene.addRect(QRectF(LABEL_WIDTH, 0, frames * ppf, RULER_HEIGHT),
                      QPen(Qt.PenStyle.NoPen), QBrush(QColor(238, 238, 242)))
        # A label every `step` frames, at least ~70 px apart, on round numbers.
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

    def _move_playhead(self, frame: int) -> None:
        if self._playhead is not None:
            x = self.x_of(frame)
            self._playhead.setLine(x, 0, x, self.scene().sceneRect().height())

    def drawForeground(self, painter: QPainter, rect: QRectF) -> None:
        # Row names stay put while the tracks scroll: drawn in viewport coordinates.
        painter.save()
        painter.resetTransform()
        top = self.mapFromScene(QPointF(0, 0)).y()
        painter.fillRect(0, 0, LABEL_WIDTH, self.viewport().height(), QColor(246, 246, 248))
        painter.setPen(QColor(50, 50, 60))
        rows = [("frames / s", 0, RULER_HEIGHT), ("Signs", SEGMENT_TOP, SEGMENT_HEIGHT)]
        rows += [(name, TRACK_TOP + i * TRACK_HEIGHT, TRACK_HEIGHT)
                 for i, (name, _) in enumerate(TRACKS)] + self.face_rows.labels()
        for name, y, h in rows:
            painter.drawText(QRectF(6, top + y, LABEL_WIDTH - 8, h),
                             int(Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft), name)
        track_states.draw_toggles(painter, self._document.project, LABEL_WIDTH,
                                  self._track_rows(top))
        painter.restore()

    def _track_rows(self, top: float) -> list[tuple[float, float, frozenset]]:
        """(top, height, channels) of each keyframe track, ``top`` the scene's origin."""
        return [(top + TRACK_TOP + i * TRACK_HEIGHT, TRACK_HEIGHT, channels)
                for i, (_, channels) in enumerate(TRACKS)]

    # ------------------------------------------------------------ hit tests
    def _key_near(self, pos: QPointF) -> int | None:
        row = int((pos.y() - TRACK_TOP) // TRACK_HEIGHT)
        if not 0 <= row < len(TRACKS):
            return None
        channels = TRACKS[row][1]
        best, best_distance = None, KEY_RADIUS + 3
        for key in self._document.project.keyframes:
            distance = abs(self.x_of(key.frame) - pos.x())
            if key.channels & channels and distance <= best_distance:
                best, best_distance = key.frame, distance
        return best

    def _segment_hit(self, pos: QPointF) -> tuple[int | None, str | None]:
        """(segment index under ``pos``, which edge: "hold" (right), "stretch" (left)
        or None). Where two blocks touch, the edge of the block under the pointer wins,
        so both edges stay reachable."""
        ppf = self.pixels_per_frame
        frame = (pos.x() - LABEL_WIDTH) / ppf
        inside = None
        edges = []
        for number, segment in enumerate(self._document.project.segments):
            x0 = LABEL_WIDTH + segment.start * ppf
            x1 = LABEL_WIDTH + segment.end * ppf
            if segment.start <= frame < segment.end:
                inside = number
            if abs(pos.x() - x1) <= EDGE_GRAB:
                edges.append((abs(pos.x() - x1), number != inside, number, "hold"))
            if abs(pos.x() - x0) <= EDGE_GRAB:
                edges.append((abs(pos.x() - x0), number != inside, number, "stretch"))
        if edges:
            # Prefer the block under the pointer, then the nearer edge.
            _, _, number, edge = min(edges, key=lambda e: (e[1], e[0]))
            return number, edge
        return inside, None

    def _hint_at(self, pos: QPointF) -> tuple[str, Qt.CursorShape]:
        """The status-bar hint and the cursor for the pointer at scene ``pos``."""
        toggle = track_states.toggle_at(QPointF(self.mapFromScene(pos)), LABEL_WIDTH,
                                        self._track_rows(self.mapFromScene(QPointF(0, 0)).y()))
        if toggle is not None:
            text = track_states.TOGGLE_HINT[toggle[1]].format(name=TRACKS[toggle[0]][0])
            return text, Qt.CursorShape.PointingHandCursor
        if SEGMENT_TOP <= pos.y() < SEGMENT_TOP + SEGMENT_HEIGHT:
            index, edge = self._segment_hit(pos)
            if index is not None and edge is not None:
                segment = self._document.project.segments[index]
                text = (HOLD_EDGE_HINT.format(gloss=segment.gloss, hold=segment.hold)
                        if edge == "hold" else
                        STRETCH_EDGE_HINT.format(gloss=segment.gloss,
                                                 frames=movement_frames(segment)))
                return text, Qt.CursorShape.SizeHorCursor
        elif pos.y() >= FACE_TOP:
            index, edge = self.face_rows.hit(self._document.project, pos, self.pixels_per_frame)
            if index is not None:
                m = self._document.project.markers[index]
                text = MARKER_HINT.format(label=m.kind.label, start=m.start, end=m.end - 1,
                                          intensity=m.intensity)
                return text, (Qt.CursorShape.OpenHandCursor if edge == "body"
                              else Qt.CursorShape.SizeHorCursor)
        elif pos.y() >= TRACK_TOP:
            frame = self._key_near(pos)
            if frame is not None:
                key = self._document.project.keyframe_at(frame)
                origin = (" Placed by the generator (lighter): editing its pose makes it yours."
                          if key is not None and key.generated else "")
                return KEY_HINT.format(frame=frame, origin=origin), Qt.CursorShape.OpenHandCursor
        return "", Qt.CursorShape.ArrowCursor

    def _show_hint(self, text: str) -> None:
        # A status tip travels up to the main window's status bar (Qt's own route for
        # hover help), so the view needs no reference to the window.
        if text != self._hint:
            self._hint = text
            QApplication.sendEvent(self, QStatusTipEvent(text))

    # ------------------------------------------------------------ mouse and keys
    def mousePressEvent(self, event) -> None:
        top = self.mapFromScene(QPointF(0, 0)).y()
        toggle = track_states.toggle_at(event.position(), LABEL_WIDTH, self._track_rows(top))
        if toggle is not None and event.button() == Qt.MouseButton.LeftButton:
            self.track_toggled.emit(*toggle)
            return
        pos = self.mapToScene(event.position().toPoint())
        track = self.face_rows.track_at(pos.y())
        if event.button() == Qt.MouseButton.RightButton and track is not None:
            index, _ = self.face_rows.hit(self._document.project, pos, self.pixels_per_frame)
            self._document.select_marker(index)
            self.face_menu_requested.emit(track.value, self.frame_at(pos.x()),
                                          event.globalPosition().toPoint())
            event.accept()
            return
        if event.button() != Qt.MouseButton.LeftButton:
            return super().mousePressEvent(event)
        self.setFocus()
        if track is not None:
            index, edge = self.face_rows.hit(self._document.project, pos, self.pixels_per_frame)
            self._document.select_marker(index)
            if index is None:
                self._document.set_frame(self.frame_at(pos.x()))
                self._drag = {"kind": "scrub"}
            else:
                self._drag = {"kind": "marker", "index": index, "edge": edge, "x": pos.x(),
                              "value": None}
                self.viewport().setCursor(Qt.CursorShape.ClosedHandCursor if edge == "body"
                                          else Qt.CursorShape.SizeHorCursor)
        elif pos.y() < RULER_HEIGHT:
            self._drag = {"kind": "scrub"}
            self._document.set_frame(self.frame_at(pos.x()))
        elif pos.y() < SEGMENT_TOP + SEGMENT_HEIGHT:
            index, edge = self._segment_hit(pos)
            if index is not None:
                self._document.select_segment(index)
                segment = self._document.project.segments[index]
                if edge == "hold":
                    self._drag = {"kind": "hold", "index": index, "x": pos.x(),
                                  "hold": segment.hold, "value": None}
                elif edge == "stretch":
                    self._drag = {"kind": "stretch", "index": index, "x": pos.x(),
                                  "pointer": pos.x(), "frames": movement_frames(segment),
                                  "total": segment.num_frames, "value": None}
                if edge is not None:
                    self.viewport().setCursor(Qt.CursorShape.SizeHorCursor)
                else:  # the sign's body: the playhead goes where it was clicked, as a scrub
                    self._document.set_frame(self.frame_at(pos.x()))
        else:
            frame = self._key_near(pos)
            if frame is not None:
                self._document.select_key(frame)
                self._document.set_frame(frame)
                self._drag = {"kind": "key", "frame": frame, "x": pos.x(), "started": False,
                              "to": frame}
                self.viewport().setCursor(Qt.CursorShape.ClosedHandCursor)
            else:
                self._document.select_key(None)
                self._document.set_frame(self.frame_at(pos.x()))
                self._drag = {"kind": "scrub"}
        event.accept()

    def mouseMoveEvent(self, event) -> None:
        drag = self._drag
        pos = self.mapToScene(event.position().toPoint())
        if drag is None:
            text, cursor = self._hint_at(pos)
            self.viewport().setCursor(cursor)
            self._show_hint(text)
            return super().mouseMoveEvent(event)
        if drag["kind"] == "scrub":
            self._document.set_frame(self.frame_at(pos.x()))
        elif drag["kind"] == "key":
            if not drag["started"] and abs(pos.x() - drag["x"]) >= DRAG_THRESHOLD:
                drag["started"] = True
                self.key_drag_started.emit(drag["frame"])
            if drag["started"]:
                to = self.frame_at(pos.x())
                if to != drag["to"]:
                    drag["to"] = to
                    self.key_drag_moved.emit(to)
        elif drag["kind"] == "marker":
            project = self._document.committed_project
            if drag["index"] < len(project.markers):
                span = dragged_span(project.markers[drag["index"]], drag["edge"],
                                    round((pos.x() - drag["x"]) / self.pixels_per_frame),
                                    project.motion.num_frames)
                if span != drag["value"]:
                    drag["value"] = span
                    self.marker_drag_moved.emit(drag["index"], *span)
        elif drag["kind"] == "hold":
            hold = max(0, drag["hold"] + round((pos.x() - drag["x"]) / self.pixels_per_frame))
            if hold != drag["value"]:
                drag["value"] = hold
                self.hold_drag_moved.emit(drag["index"], hold)
        elif drag["kind"] == "stretch":
            # Outwards (left) lengthens the movement: the pointer pulls frames out of
            # the block's left edge while the block keeps its start (ripple stretch).
            pulled = round((drag["x"] - pos.x()) / self.pixels_per_frame)
            frames = max(2, drag["frames"] + pulled)
            drag["pointer"] = pos.x()
            if frames != drag["value"]:
                drag["value"] = frames
                self.stretch_drag_moved.emit(drag["index"], frames)
            else:
                self.rebuild()  # the band follows the pointer
        event.accept()

    def mouseReleaseEvent(self, event) -> None:
        drag, self._drag = self._drag, None
        if drag is None:
            return super().mouseReleaseEvent(event)
        self.viewport().setCursor(Qt.CursorShape.ArrowCursor)
        if drag["kind"] == "key" and drag["started"]:
            self.key_drag_finished.emit(drag["to"])
        elif drag["kind"] == "hold" and drag["value"] is not None:
            self.hold_drag_finished.emit(drag["index"], drag["value"])
        elif drag["kind"] == "marker" and drag["value"] is not None:
            self.marker_drag_finished.emit(drag["index"], *drag["value"])
        elif drag["kind"] == "stretch":
            if drag["value"] is not None:
                self.stretch_drag_finished.emit(drag["index"], drag["value"])
            self.rebuild()  # drop the band
        event.accept()

    def keyPressEvent(self, event) -> None:
        if event.key() == Qt.Key.Key_Escape and self._drag is not None:
            drag, self._drag = self._drag, None
            if drag["kind"] == "key" and drag["started"]:
                self.key_drag_cancelled.emit()
            elif drag["kind"] == "hold" and drag["value"] is not None:
                self.hold_drag_cancelled.emit()
            elif drag["kind"] == "marker" and drag["value"] is not None:
                self.marker_drag_cancelled.emit()
            elif drag["kind"] == "stretch":
                if drag["value"] is not None:
                    self.stretch_drag_cancelled.emit()
                self.rebuild()
            self.viewport().setCursor(Qt.CursorShape.ArrowCursor)
            event.accept()
            return
        super().keyPressEvent(event)

    def wheelEvent(self, event) -> None:
        if event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            factor = 1.25 if event.angleDelta().y() > 0 else 0.8
            self.set_zoom(self.pixels_per_frame * factor)
            event.accept()
            return
        super().wheelEvent(event)

    @property
    def dragging(self) -> bool:
        return self._drag is not None
