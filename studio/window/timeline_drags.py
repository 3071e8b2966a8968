"""The timeline's drags turned into edits: a keyframe moved in time, a sign's hold (its
block's right edge) and a time-stretch of its movement (the left edge).

The timeline only emits intents ("key 12 dragged to 20"). While the mouse moves, each
drag shows a live preview on the Document with no history; on release it lands as one
undo step (the keyframe move and the stretch regenerate with KF2P as a job first); Esc
restores the committed project.
"""
from __future__ import annotations

from PySide6.QtWidgets import QStatusBar

from engine.generate.key_edits import KeyEdit, stretch_edit
from engine.generate.retime import movement_frames, set_segment_hold, stretch_segment
from engine.motion.edits import ReplaceProject
from engine.motion.errors import MotionError
from studio.jobs import JobHandle
from studio.key_drag import EditLane
from studio.window.context import WindowContext


class TimelineDrags:
    """Connects the timeline's drag intents to previews and edits of the Document."""

    def __init__(self, ctx: WindowContext, edits: EditLane, status_bar: QStatusBar):
        self._ctx = ctx
        self._edits = edits
        self._status_bar = status_bar
        self._stretch_valid: tuple[int, int] | None = None  # last previewable stretch
        # Each intent goes to the method of the same name; a hold drag's preview
        # needs nothing but dropping.
        for intent in ("key_drag_started", "key_drag_moved", "key_drag_finished",
                       "key_drag_cancelled", "hold_drag_moved", "hold_drag_finished",
                       "stretch_drag_moved", "stretch_drag_finished",
                       "stretch_drag_cancelled", "track_toggled"):
            getattr(ctx.timeline, intent).connect(getattr(self, intent))
        ctx.timeline.hold_drag_cancelled.connect(ctx.document.cancel_preview)
        ctx.drag.landed.connect(self.key_drag_landed)

    def track_toggled(self, row: int, which: str) -> None:
        """Lock or mute (``which``) the keyframe track ``row`` on or off: one undo step."""
        from engine.motion.edits import ReplaceProject
        from studio.timeline import TRACKS
        from studio.timeline.track_states import is_on, toggled

        doc = self._ctx.document
        if doc.in_preview:
            self._ctx.host.status_message("Finish the drag first (or Esc), then lock or mute")
            return
        name, channels = TRACKS[row]
        project = doc.committed_project
        verb = {("mute", False): "Mute", ("mute", True): "Unmute",
                ("lock", False): "Lock", ("lock", True): "Unlock"}[
            (which, is_on(project, channels, which))]
        doc.apply_edit(ReplaceProject(toggled(project, channels, which)),
                       f"{verb} the {name} track")
        self._ctx.host.status_message(f"{verb}ed the {name} track" if verb.endswith("k")
                                      else f"{verb}d the {name} track")

    def _select_key_if_there(self, frame: int | None) -> None:
        if frame is not None and self._ctx.document.project.keyframe_at(frame) is not None:
            self._ctx.document.select_key(frame)

    # ------------------------------------------------------------ keyframe drags
    def key_drag_started(self, frame: int) -> None:
        self._ctx.playback.pause()
        if self._ctx.drag.pending is not None:
            self._ctx.host.status_message("Still landing the previous move; try again in a moment")
            return
        self._ctx.drag.begin(frame)

    def key_drag_moved(self, to_frame: int) -> None:
        drag, doc = self._ctx.drag, self._ctx.document
        if not drag.dragging:
            return
        drag.update(to_frame)
        # The playhead follows the key, to where it would land (never onto another key).
        landing = drag.to_frame
        doc.set_frame(landing)
        if to_frame != drag.from_frame and doc.committed_project.keyframe_at(to_frame):
            self._ctx.host.status_message(
                f"Frame {to_frame} already has a keyframe: the key stays at frame {landing}; "
                "release to move it there, Esc to cancel", 0)
        else:
            self._ctx.host.status_message(
                f"Moving the keyframe from frame {drag.from_frame} to {landing}: release to "
                "regenerate the motion around it, Esc to cancel", 0)

    def key_drag_finished(self, to_frame: int) -> None:
        self._status_bar.clearMessage()
        if self._ctx.drag.dragging:
            self._ctx.drag.finish(to_frame)

    def key_drag_cancelled(self) -> None:
        frame = self._ctx.drag.from_frame
        self._ctx.drag.cancel()
        self._select_key_if_there(frame)
        self._ctx.host.status_message("Move cancelled")

    def key_drag_landed(self, from_frame: int, to_frame: int) -> None:
        self._select_key_if_there(to_frame)
        self._ctx.host.status_message(f"Keyframe moved {from_frame} → {to_frame}; the motion "
                                      "around it was regenerated (Ctrl+Z undoes)")
        if self._ctx.drag.last_range is not None:
            self._ctx.timeline.flash_range(*self._ctx.drag.last_range)

    # ------------------------------------------------------------ hold drags
    def hold_drag_moved(self, index: int, hold: int) -> None:
        try:
            self._ctx.document.set_preview(
                set_segment_hold(self._ctx.document.committed_project, index, hold))
        except MotionError as error:
            self._ctx.host.status_message(str(error))

    def hold_drag_finished(self, index: int, hold: int) -> None:
        project = self._ctx.document.committed_project
        try:
            retimed = set_segment_hold(project, index, hold)
        except MotionError as error:
            self._ctx.document.cancel_preview()
            self._ctx.host.status_message(str(error))
            return
        if retimed is project:
            self._ctx.document.cancel_preview()
            return
        gloss = project.segments[index].gloss
        self._ctx.document.apply_edit(ReplaceProject(retimed),
                                      f"Hold of '{gloss}': {hold} frames")

    # ------------------------------------------------------------ stretch drags
    def _stretch_text(self, index: int, frames: int) -> str:
        segment = self._ctx.document.committed_project.segments[index]
        was = movement_frames(segment)
        speed = was / frames
        pace = "slower" if speed < 1 else "faster" if speed > 1 else "as recorded"
        return f"'{segment.gloss}': {was} → {frames} frames of movement (×{speed:.2f}, {pace})"

    def stretch_drag_moved(self, index: int, frames: int) -> None:
        self._ctx.playback.pause()
        try:
            preview = stretch_segment(self._ctx.document.committed_project, index, frames)
        except MotionError as error:
            self._ctx.host.status_message(str(error), 0)  # the last valid preview stays
            return
        self._stretch_valid = (index, frames)
        self._ctx.document.set_preview(preview)
        self._ctx.host.status_message(
            f"Stretching {self._stretch_text(index, frames)}. The sign keeps its start, "
            "later signs shift. Release to apply, Esc to cancel", 0)

    def stretch_drag_finished(self, index: int, frames: int) -> JobHandle | None:
        """Release: the stretch (resample + KF2P transitions) runs as a job and lands as
        one ReplaceProject step; the preview shows until then. A release where the
        stretch cannot be made (keyframes would collide) lands the last valid preview,
        as a keyframe drag does."""
        valid, self._stretch_valid = self._stretch_valid, None
        if valid is None or valid[0] != index:
            self._ctx.document.cancel_preview()
            return None
        frames = valid[1]
        segment = self._ctx.document.committed_project.segments[index]
        if frames == movement_frames(segment):
            self._ctx.document.cancel_preview()
            self._status_bar.clearMessage()
            return None
        text = f"Stretch {self._stretch_text(index, frames)}"

        def landed(edit: KeyEdit) -> None:
            self._ctx.host.status_message(f"{text}; the transitions around it were regenerated "
                                          "(Ctrl+Z undoes)")
            segments = edit.project.segments
            first = segments[index - 1].end if index > 0 else segments[index].start
            last = segments[index + 1].start if index + 1 < len(segments) \
                else segments[index].end
            self._ctx.timeline.flash_range(first, last)

        return self._edits.submit(f"Stretch '{segment.gloss}'", text, stretch_edit, index,
                                  frames, ends_preview=True, on_landed=landed)

    def stretch_drag_cancelled(self) -> None:
        self._stretch_valid = None
        self._ctx.document.cancel_preview()
        self._ctx.host.status_message("Stretch cancelled")
