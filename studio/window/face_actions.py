"""The face's edits in the studio: markers dragged and resized on the timeline's face
rows, added and removed from their right-click menu, grammatical presets applied to the
selected sign, mouthing switched on and off. Each lands as one undo step through the
workflow functions the CLI's ``face`` command calls (``engine.workflows.face``)."""
from __future__ import annotations

from PySide6.QtCore import QPoint
from PySide6.QtWidgets import QMenu, QWidget

from engine.face.presets import all_presets, preset_from_markers, save_user_preset
from engine.motion.edits import ReplaceProject
from engine.motion.errors import MotionError
from engine.motion.markers import MARKER_TRACK, FaceMarker, MarkerKind, Track
from engine.workflows import face
from studio.window.context import WindowContext

#: Frames a marker added away from any sign covers (a second at 30 fps).
LOOSE_MARKER_SECONDS = 1.0
#: A blink is a moment, never a sign long: a spontaneous blink lasts 0.1 to 0.4 s.
BLINK_SECONDS = 0.25


class FaceActions:
    def __init__(self, ctx: WindowContext, parent: QWidget):
        self._ctx = ctx
        self._parent = parent
        timeline = ctx.timeline
        timeline.marker_drag_moved.connect(self.marker_drag_moved)
        timeline.marker_drag_finished.connect(self.marker_drag_finished)
        timeline.marker_drag_cancelled.connect(ctx.document.cancel_preview)
        timeline.face_menu_requested.connect(self.show_menu)

    # ------------------------------------------------------------ helpers
    def _edit(self, project, text: str) -> bool:
        try:
            self._ctx.document.apply_edit(ReplaceProject(project), text)
        except MotionError as error:
            self._ctx.host.status_message(str(error))
            return False
        return True

    def _span_for(self, frame: int) -> tuple[int, int]:
        """The selected sign's frames if ``frame`` lies in it (or no frame is given),
        else a second from ``frame``."""
        project = self._ctx.document.committed_project
        index = self._ctx.document.selected_segment
        if index is not None and index < len(project.segments):
            segment = project.segments[index]
            if frame < 0 or segment.start <= frame < segment.end:
                return segment.start, segment.end
        frame = max(frame, 0)
        length = max(2, round(LOOSE_MARKER_SECONDS * project.motion.fps))
        end = min(project.motion.num_frames, frame + length)
        return max(0, end - length), end

    # ------------------------------------------------------------ drags
    def _moved(self, index: int, start: int, end: int):
        project = self._ctx.document.committed_project
        marker = project.markers[index].spanning(start, end)
        return face.with_marker(project, marker, replacing=index), marker

    def marker_drag_moved(self, index: int, start: int, end: int) -> None:
        self._ctx.playback.pause()
        try:
            project, marker = self._moved(index, start, end)
        except ValueError as error:
            self._ctx.host.status_message(str(error))
            return
        self._ctx.document.set_preview(project)
        self._ctx.host.status_message(f"{marker.kind.label}: frames {start}–{end - 1}; release "
                                      "to keep, Esc to cancel", 0)

    def marker_drag_finished(self, index: int, start: int, end: int) -> None:
        try:
            project, marker = self._moved(index, start, end)
        except ValueError as error:
            self._ctx.document.cancel_preview()
            self._ctx.host.status_message(str(error))
            return
        if self._edit(project, f"{marker.kind.label}: frames {start}–{end - 1}"):
            self._ctx.document.select_marker(project.markers.index(marker))
            self._ctx.host.status_message(f"{marker.kind.label} now over frames {start}–{end - 1}"
                                          " (Ctrl+Z undoes)")

    # ------------------------------------------------------------ commands
    def add_marker(self, kind: MarkerKind, frame: int = -1) -> bool:
        project = self._ctx.document.committed_project
        start, end = self._span_for(frame)
        if kind is MarkerKind.BLINK:  # at the pointer, or at the start of the sign
            start = max(frame, 0) if frame >= 0 else start
            end = min(project.motion.num_frames, start + round(BLINK_SECONDS * project.motion.fps))
            start = max(0, min(start, end - 2))
        try:
            marker = face.marker_over(kind, start, end, 1.0, project.motion.fps)
            edited = face.with_marker(project, marker)
        except ValueError as error:
            self._ctx.host.status_message(str(error))
            return False
        if self._edit(edited, f"Add {kind.label}"):
            self._ctx.document.select_marker(edited.markers.index(marker))
            return True
        return False

    def apply_preset(self, name: str, frame: int = -1) -> bool:
        project = self._ctx.document.committed_project
        if not project.segments and frame < 0:
            self._ctx.host.status_message("Generate or select a sign first: a preset covers "
                                          "the selected sign")
            return False
        start, end = self._span_for(frame)
        try:
            edited = face.apply_preset(project, name, start, end)
        except ValueError as error:
            self._ctx.host.status_message(str(error))
            return False
        label = next(p.label for p in all_presets() if p.name == name)
        return self._edit(edited, f"{label} over frames {start}–{end - 1}")

    def delete_selected_marker(self) -> bool:
        """Remove the selected marker; False when none is selected (Delete then falls
        through to the selected keyframe)."""
        index = self._ctx.document.selected_marker
        if index is None:
            return False
        project = self._ctx.document.committed_project
        kind = project.markers[index].kind
        if self._edit(face.without_markers(project, {index}), f"Delete {kind.label}"):
            self._ctx.document.select_marker(None)
        return True

    def set_intensity(self) -> None:
        index = self._ctx.document.selected_marker
        if index is None:
            return
        project = self._ctx.document.committed_project
        marker = project.markers[index]
        text = self._ctx.host.ask_text("Marker intensity", f"{marker.kind.label}: intensity "
                                       "from 0 to 100 %", f"{marker.intensity * 100:.0f}")
        if text is None:
            return
        try:
            value = float(text.rstrip("% ")) / 100.0
            changed = FaceMarker(marker.kind, marker.start, marker.end, value, marker.onset,
                                 marker.offset)
        except ValueError:
            self._ctx.host.status_message(f"Intensity: expected a number from 0 to 100, got "
                                          f"{text!r}")
            return
        self._edit(face.with_marker(project, changed, replacing=index),
                   f"{marker.kind.label} intensity {value:.0%}")

    def toggle_mouthing(self) -> None:
        project = self._ctx.document.committed_project
        on = not project.mouthing
        self._edit(project.replace(mouthing=on), f"Mouthing {'on' if on else 'off'}")

    def save_preset(self) -> None:
        """Save the markers over the selected sign as the user's own preset."""
        project = self._ctx.document.committed_project
        start, end = self._span_for(-1)
        inside = tuple(m for m in project.markers if start <= m.start and m.end <= end)
        if not inside:
            self._ctx.host.status_message("No face markers lie over the selected sign to save")
            return
        label = self._ctx.host.ask_text("Save face preset", "Name of the preset:")
        if label is None:
            return
        try:
            path = save_user_preset(preset_from_markers(label, inside, project.motion.fps))
        except (ValueError, OSError) as error:
            self._ctx.host.show_error("Save face preset", str(error))
            return
        self._ctx.host.status_message(f"Saved preset '{label}' ({len(inside)} markers) to {path}")

    # ------------------------------------------------------------ menus
    def fill_presets_menu(self, menu: QMenu, frame: int = -1) -> None:
        menu.clear()
        try:
            presets = all_presets()
        except ValueError as error:  # a damaged presets file: say so, offer the built-ins
            self._ctx.host.status_message(str(error))
            from engine.face.presets import BUILT_IN

            presets = BUILT_IN
        for preset in presets:
            action = menu.addAction(preset.label)
            action.triggered.connect(lambda _=False, n=preset.name: self.apply_preset(n, frame))

    def show_menu(self, track: str, frame: int, where: QPoint) -> QMenu:
        menu = QMenu(self._parent)
        for kind in (k for k, t in MARKER_TRACK.items() if t is Track(track)):
            action = menu.addAction(f"Add {kind.label.lower()}")
            action.triggered.connect(lambda _=False, k=kind: self.add_marker(k, frame))
        menu.addSeparator()
        self.fill_presets_menu(menu.addMenu("Apply grammatical preset"), frame)
        if self._ctx.document.selected_marker is not None:
            menu.addSeparator()
            menu.addAction("Intensity…").triggered.connect(lambda _=False: self.set_intensity())
            menu.addAction("Delete marker").triggered.connect(
                lambda _=False: self.delete_selected_marker())
        menu.popup(where)
        return menu
