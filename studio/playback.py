"""Playback: advances the Document's frame in real time at the motion's fps.

QtCore only (a QTimer). The frame shown is computed from the wall clock since play
started, not by counting ticks, so playback keeps real time even when a frame takes
longer to draw than a tick (frames are then skipped rather than slowed down).
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

    def _tick(self) -> None:
        motion = self._document.project.motion
        elapsed = time.perf_counter() - self._origin_time
        frame = self._origin_frame + int(elapsed * motion.fps * self.speed)
        total = motion.num_frames
        if frame >= total:
            if self.loop:
                frame %= total
                self._origin_frame, self._origin_time = frame, time.perf_counter()
            else:
                self._document.set_frame(total - 1)
                self.pause()
                return
        if frame != self._document.frame:
            self._document.set_frame(frame)
