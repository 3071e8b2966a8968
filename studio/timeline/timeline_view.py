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

from PySide6.QtCore import QPoint, QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import (
    QBrush, QColor, QFont, QKeySequence, QPainter, QPen, QStatusTipEvent,
)
from PySide6.QtWidgets import QApplication, QGraphicsScene, QGraphicsView

from engine.generate.retime import movement_frames
from studio.document import Document
from studio.timeline import painting, selection_box, track_states
from studio.timeline.face_tracks import MARKER_HINT, FaceRows, dragged_span
from studio.timeline.layout import (
    DRAG_THRESHOLD, EDGE_GRAB, FACE_TOP, KEY_RADIUS, LABEL_WIDTH, RULER_HEIGHT, SEGMENT_HEIGHT,
    SEGMENT_TOP, TRACK_HEIGHT, TRACK_TOP, TRACKS,
)
from studio.timeline.style import (
    GENERATED_KEY_COLOUR, HOLD_EDGE_HINT, KEY_COLOUR, KEY_HINT, PLAYHEAD_COLOUR,
    SEGMENT_COLOURS, SELECTED_COLOUR, STRETCH_EDGE_HINT,
)



class TimelineView(QGraphicsView):
    key_drag_started = Signal(int)        # frame of the grabbed keyframe
    key_drag_moved = Signal(int)          # frame under the mouse
    key_drag_finished = Signal(int)       # frame where it was released
    key_drag_cancelled = Signal()
    keys_scale_moved = Signal(int, float)     # pivot frame, factor: the selection scaled
    keys_scale_finished = Signal(int, float)
    keys_scale_cancelled = Signal()
    keys_scale_refused = Signal(int)          # pivot: the handle went onto or past it
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
                        "(Esc cancels); Shift+click or a drag over empty tracks selects "
                        "several, which move together, and the ends of their bracket scale "
                        "them in time (Ctrl+A selects all). Drag the right edge of a sign to "
                        "change its hold, its left edge to stretch it in time. Click the "
                        "ruler to scrub; Ctrl+wheel zooms.")
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

    def scale_handle_point(self, side: str) -> QPoint:
        """Viewport point on the selection bracket's "left" or "right" handle."""
        left, right = selection_box.handle_xs(sorted(self._document.selected_keys), self.x_of)
        return self.mapFromScene(QPointF(left if side == "left" else right, self.track_y(0)))

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
        painting.draw_ruler(scene, frames, project.motion.fps, ppf)

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

        selection = sorted(self._document.selected_keys)
        selection_box.draw_bracket(scene, selection, self.x_of)
        for key in project.keyframes:
            selected = key.frame in self._document.selected_keys
            colour = (SELECTED_COLOUR if selected
                      else GENERATED_KEY_COLOUR if key.generated else KEY_COLOUR)
            for index, (_, channels) in enumerate(TRACKS):
                if key.channels & channels:
                    painting.draw_key_glyph(scene, self.x_of(key.frame), self.track_y(index),
                                            colour, selected,
                                            small=key.generated and not selected,
                                            interpolation=key.interpolation)

        painting.draw_contacts(scene, project, ppf)
        self.face_rows.draw(scene, project, ppf, width, self._document.selected_marker)
        if self._flash is not None:
            painting.draw_flash(scene, *self._flash, frames, ppf)
        drag = self._drag
        if (drag is not None and drag["kind"] == "stretch" and drag["value"] is not None
                and drag["index"] < len(project.segments)):
            painting.draw_stretch_band(scene, project.segments[drag["index"]], drag, ppf)
        if drag is not None and (drag["kind"] == "key" and drag["started"]
                                 or drag["kind"] == "scale" and drag["value"] is not None):
            for frame in drag["group"]:
                painting.draw_key_ghost(scene, self.x_of(frame))
            if drag["kind"] == "scale":
                painting.draw_pivot(scene, self.x_of(drag["pivot"]))
        if drag is not None and drag["kind"] == "box" and drag["box"] is not None:
            selection_box.draw_box(scene, drag["box"])
        self._playhead = scene.addLine(0, 0, 0, height, QPen(PLAYHEAD_COLOUR, 1.5))
        self._playhead.setZValue(10)
        self._move_playhead(self._document.frame)

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
            selection = sorted(self._document.selected_keys)
            handle = selection_box.handle_at(pos, selection, self.x_of)
            if handle is not None:
                pivot, _ = selection_box.scale_ends(selection, handle)
                return (selection_box.SCALE_HINT.format(count=len(selection), pivot=pivot),
                        Qt.CursorShape.SizeHorCursor)
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
            self._press_on_keys(pos, bool(event.modifiers() & Qt.KeyboardModifier.ShiftModifier))
        event.accept()

    def _press_on_keys(self, pos: QPointF, shift: bool) -> None:
        """A press on the key tracks: a selection's scale handle, a key (Shift: add it
        to the selection or take it out; a key of a selection drags them all), or empty
        track (the playhead goes there; a drag draws a selection box)."""
        document = self._document
        selection = sorted(document.selected_keys)
        handle = selection_box.handle_at(pos, selection, self.x_of)
        if handle is not None:
            pivot, end = selection_box.scale_ends(selection, handle)
            self._drag = {"kind": "scale", "pivot": pivot, "end": end, "x": pos.x(),
                          "value": None, "group": tuple(selection)}
            self.viewport().setCursor(Qt.CursorShape.SizeHorCursor)
            return
        frame = self._key_near(pos)
        if frame is not None and shift:
            document.toggle_key(frame)
            return
        if frame is not None:
            if frame in document.selected_keys:
                document.select_keys(document.selected_keys, frame)
            else:
                document.select_key(frame)
            document.set_frame(frame)
            self._drag = {"kind": "key", "frame": frame, "x": pos.x(), "started": False,
                          "to": frame, "group": tuple(sorted(document.selected_keys))}
            self.viewport().setCursor(Qt.CursorShape.ClosedHandCursor)
            return
        base = document.selected_keys if shift else frozenset()
        if not shift:
            document.select_key(None)
        document.set_frame(self.frame_at(pos.x()))
        self._drag = {"kind": "box", "origin": pos, "box": None, "base": base}

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
        elif drag["kind"] == "box":
            box = QRectF(drag["origin"], pos).normalized()
            if drag["box"] is not None or max(box.width(), box.height()) >= DRAG_THRESHOLD:
                drag["box"] = box
                # An edit may have landed since the press: only keys that are there.
                drag["base"] = self._document.existing_keys(drag["base"])
                inside = selection_box.keys_in_box(self._document.project, box, self.x_of)
                if drag["base"] | inside != self._document.selected_keys:
                    self._document.select_keys(drag["base"] | inside)
                else:
                    self.rebuild()  # the box follows the pointer
        elif drag["kind"] == "scale":
            # Relative to the press: the grabbed end follows the pointer's movement.
            to = drag["end"] + round((pos.x() - drag["x"]) / self.pixels_per_frame)
            factor = selection_box.scale_factor(drag["pivot"], drag["end"], to)
            if factor is None:
                self.keys_scale_refused.emit(drag["pivot"])
            elif factor != drag["value"]:
                drag["value"] = factor
                self.keys_scale_moved.emit(drag["pivot"], factor)
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
        elif drag["kind"] == "key" and len(drag["group"]) > 1 and \
                self._document.project.keyframe_at(drag["frame"]) is not None:
            self._document.select_key(drag["frame"])   # a click, not a drag: just this key
        elif drag["kind"] == "hold" and drag["value"] is not None:
            self.hold_drag_finished.emit(drag["index"], drag["value"])
        elif drag["kind"] == "marker" and drag["value"] is not None:
            self.marker_drag_finished.emit(drag["index"], *drag["value"])
        elif drag["kind"] == "scale" and drag["value"] is not None:
            self.keys_scale_finished.emit(drag["pivot"], drag["value"])
        elif drag["kind"] == "box" and drag["box"] is not None:
            self.rebuild()  # drop the box
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
            elif drag["kind"] == "scale" and drag["value"] is not None:
                self.keys_scale_cancelled.emit()
            elif drag["kind"] == "box":
                self._document.select_keys(self._document.existing_keys(drag["base"]))
            elif drag["kind"] == "stretch":
                if drag["value"] is not None:
                    self.stretch_drag_cancelled.emit()
                self.rebuild()
            self.viewport().setCursor(Qt.CursorShape.ArrowCursor)
            event.accept()
            return
        if event.matches(QKeySequence.StandardKey.SelectAll):
            self._document.select_all_keys()
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
