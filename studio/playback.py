"""Playback: advances the Document's frame in real time at the motion's fps.

QtCore only (a QTimer). The frame shown is computed from the wall clock since play
started, not by counting ticks, so playback keeps real time even when a frame takes
longer to draw than a tick (frames are then skipped rather than slowed down). The
viewport draws whatever frame is current when it gets to paint, so frames it cannot
draw in time are dropped there too; ``frames_skipped`` counts only the frames this
clock jumped over.
"""
from __future__ import annotations

import time

from PySide6.QtCore import QObject, QTimer, Signal

from studio.document import Document

SPEEDS = (0.25, 0.5, 1.0, 1.5, 2.0)


class PlaybackController(QObject):
    playing_changed = Signal(bool)
    settings_changed = Signal()  # loop or speed

    def __init__(self, document: Document, parent: QObject | None = None):
        super().__init__(parent)
        self._document = document
        self._timer = QTimer(self)
        self._timer.setInterval(8)  # poll faster than any fps we play; the clock decides
        self._timer.timeout.connect(self._tick)
        self.loop = True
        self.speed = 1.0
        self._origin_frame = 0
        self._origin_time = 0.0
        self.frames_set = 0       # frames made current by this play (since play())
        self.frames_skipped = 0   # frames this play's clock jumped over

    @property
    def playing(self) -> bool:
        return self._timer.isActive()

    def set_speed(self, speed: float) -> None:
        if not 0.25 <= speed <= 2.0:
            raise ValueError(f"playback speed: expected 0.25 to 2, got {speed}")
        self._restart_clock()
        self.speed = float(speed)
        self.settings_changed.emit()

    def set_loop(self, loop: bool) -> None:
        self.loop = bool(loop)
        self.settings_changed.emit()

    def play(self) -> None:
        if self.playing:
            return
        last = self._document.project.motion.num_frames - 1
        if self._document.frame >= last:
            self._document.set_frame(0)  # play from the start after reaching the end
        self._restart_clock()
        self.frames_set = self.frames_skipped = 0
        self._timer.start()
        self.playing_changed.emit(True)

    def pause(self) -> None:
        if self.playing:
            self._timer.stop()
            self.playing_changed.emit(False)

    def toggle(self) -> None:
        self.pause() if self.playing else self.play()

    def step(self, frames: int) -> None:
        self.pause()
        self._document.set_frame(self._document.frame + frames)

    def _restart_clock(self) -> None:
        self._origin_frame = self._document.frame
        self._origin_time = time.perf_counter()

    def expected_frame(self) -> int:
        """The frame real time asks for now (what the next tick will show)."""
        motion = self._document.project.motion
        elapsed = time.perf_counter() - self._origin_time
        frame = self._origin_frame + int(elapsed * motion.fps * self.speed)
        # Looping takes the frame modulo the length instead of restarting the clock at
        # each wrap, which would lose the fraction of a frame every loop.
        return frame % motion.num_frames if self.loop else min(frame, motion.num_frames - 1)

    def _tick(self) -> None:
        motion = self._document.project.motion
        elapsed = time.perf_counter() - self._origin_time
        unbounded = self._origin_frame + int(elapsed * motion.fps * self.speed)
        if not self.loop and unbounded >= motion.num_frames:
            self._advance(motion.num_frames - 1, motion.num_frames)
            self.pause()
            return
        self._advance(self.expected_frame(), motion.num_frames)

    def _advance(self, frame: int, total: int) -> None:
        current = self._document.frame
        if frame == current:
            return
        self.frames_skipped += max(0, (frame - current) % total - 1)
        self.frames_set += 1
        self._document.set_frame(frame)
