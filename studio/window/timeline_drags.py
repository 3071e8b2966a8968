"""The timeline's drags turned into edits: a keyframe (or a selection of them) moved in
time, a selection scaled in time (its bracket's handles), a sign's hold (its block's
right edge) and a time-stretch of its movement (the left edge).

The timeline only emits intents ("key 12 dragged to 20"). While the mouse moves, each
drag shows a live preview on the Document with no history; on release it lands as one
undo step (the keyframe move and the stretch regenerate with KF2P as a job first); Esc
restores the committed project.
"""
from __future__ import annotations

from PySide6.QtWidgets import QStatusBar

from engine.generate.key_edits import PREVIEW_BACKEND, KeyEdit, stretch_edit
from engine.generate.key_selection import scale_keys_edit, scaled_frames
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
        self._scale_group: tuple[int, ...] = ()              # the keys a scale drag spreads
        self._scale_valid: tuple[int, float] | None = None   # last previewable (pivot, factor)
        # Each intent goes to the method of the same name; a hold drag's preview
        # needs nothing but dropping.
        for intent in ("key_drag_started", "key_drag_moved", "key_drag_finished",
                       "key_drag_cancelled", "hold_drag_moved", "hold_drag_finished",
                       "stretch_drag_moved", "stretch_drag_finished",
                       "stretch_drag_cancelled", "track_toggled", "keys_scale_moved",
                       "keys_scale_finished", "keys_scale_cancelled", "keys_scale_refused"):
            getattr(ctx.timeline, intent).connect(getattr(self, intent))
        ctx.timeline.hold_drag_cancelled.connect(ctx.document.cancel_preview)
        ctx.drag.landed.connect(self.key_drag_landed)

    def track_toggled(self, row: int, which: str) -> None:
        """Lock or mute (``which``) the keyframe track ``row`` on or off: one undo step."""
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
        selection = self._ctx.document.selected_keys
        self._ctx.drag.begin(frame, tuple(selection) if frame in selection else ())

    def _select_group(self, group: tuple[int, ...], grabbed: int, offset: int) -> None:
        """Keep a dragged selection (``group``, the key ``grabbed`` among it) selected
        where its keys are shown now, ``offset`` frames from where they were."""
        if len(group) > 1:
            frames = [f + offset for f in group]
            if all(self._ctx.document.project.keyframe_at(f) is not None for f in frames):
                self._ctx.document.select_keys(frames, grabbed + offset)

    def key_drag_moved(self, to_frame: int) -> None:
        drag, doc = self._ctx.drag, self._ctx.document
        if not drag.dragging:
            return
        drag.update(to_frame)
        # The playhead follows the key, to where it would land (never onto another key).
        landing = drag.to_frame
        doc.set_frame(landing)
        self._select_group(drag.group, drag.from_frame, landing - drag.from_frame)
        if len(drag.group) > 1:
            self._ctx.host.status_message(
                f"Moving {len(drag.group)} keyframes by {landing - drag.from_frame:+d} frames "
                "with the motion between them: release to regenerate the gaps around them, "
                "Esc to cancel" + ("" if landing == to_frame or not drag.refusal else
                                   f" (not {to_frame - drag.from_frame:+d}: {drag.refusal})"),
                0)
        elif to_frame != drag.from_frame and doc.committed_project.keyframe_at(to_frame):
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
        frame, group = self._ctx.drag.from_frame, self._ctx.drag.group
        self._ctx.drag.cancel()
        self._select_key_if_there(frame)
        self._select_group(group, frame, 0)
        self._ctx.host.status_message("Move cancelled")

    def key_drag_landed(self, from_frame: int, to_frame: int) -> None:
        self._select_key_if_there(to_frame)
        group = self._ctx.drag.group
        self._select_group(group, from_frame, to_frame - from_frame)
        self._ctx.host.status_message(
            (f"Keyframe moved {from_frame} → {to_frame}; the motion around it was "
             if len(group) == 1 else
             f"{len(group)} keyframes moved by {to_frame - from_frame:+d} frames with their "
             "motion; the gaps around them were ") + "regenerated (Ctrl+Z undoes)")
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

    # ------------------------------------------------------------ scaling a selection
    def keys_scale_refused(self, pivot: int) -> None:
        """The handle went onto or past the pivot: say so; the last scale stays."""
        self._ctx.host.status_message(
            f"A scale cannot turn the keys round frame {pivot}: drag the handle back "
            "(release keeps the last scale shown, Esc cancels)", 0)

    def keys_scale_moved(self, pivot: int, factor: float) -> None:
        doc = self._ctx.document
        self._ctx.playback.pause()
        if not self._scale_group:
            self._scale_group = tuple(sorted(doc.selected_keys))
        try:
            edit = scale_keys_edit(doc.committed_project, self._scale_group, pivot, factor,
                                   PREVIEW_BACKEND)
        except MotionError as error:
            self._ctx.host.status_message(f"{error} (release keeps the last scale shown)", 0)
            return
        self._scale_valid = (pivot, factor)
        doc.set_preview(edit.project)
        doc.select_keys(scaled_frames(self._scale_group, pivot, factor).values())
        self._ctx.host.status_message(
            f"Scaling {len(self._scale_group)} keyframes ×{factor:.2f} about frame {pivot}: "
            "release to apply, Esc to cancel", 0)

    def keys_scale_finished(self, pivot: int, factor: float) -> JobHandle | None:
        group, valid = self._scale_group, self._scale_valid
        self._scale_group, self._scale_valid = (), None
        if valid is None or all(f == t for f, t in scaled_frames(group, *valid).items()):
            # Back where it started: nothing to land (a x1.00 step would still redraw
            # the gaps around the keys).
            self._ctx.document.cancel_preview()
            self._restore_selection(group)
            self._status_bar.clearMessage()
            return None
        pivot, factor = valid
        text = f"Scale {len(group)} keyframes ×{factor:.2f} in time about frame {pivot}"
        new_frames = list(scaled_frames(group, pivot, factor).values())

        def landed(edit: KeyEdit) -> None:
            self._ctx.document.select_keys(new_frames)
            self._ctx.host.status_message(f"{text}; the gaps around them were regenerated "
                                          "(Ctrl+Z undoes)")
            self._ctx.timeline.flash_range(*edit.frame_range)

        handle = self._edits.submit(text, text, scale_keys_edit, group, pivot, factor,
                                    ends_preview=True, on_landed=landed)
        handle.failed.connect(lambda *_: self._restore_selection(group))
        handle.cancelled.connect(lambda: self._restore_selection(group))
        return handle

    def keys_scale_cancelled(self) -> None:
        group, self._scale_group, self._scale_valid = self._scale_group, (), None
        self._ctx.document.cancel_preview()
        self._restore_selection(group)
        self._ctx.host.status_message("Scale cancelled")

    def _restore_selection(self, frames: tuple[int, ...]) -> None:
        self._ctx.document.select_keys(self._ctx.document.existing_keys(frames))
