"""TransportBar: play/pause, step, loop, speed and the frame/time readout."""
from __future__ import annotations

from PySide6.QtWidgets import QCheckBox, QComboBox, QHBoxLayout, QLabel, QToolButton, QWidget

from studio.document import Document
from studio.playback import SPEEDS, PlaybackController


class TransportBar(QWidget):
    def __init__(self, document: Document, playback: PlaybackController, parent=None):
        super().__init__(parent)
        self._document = document
        self._playback = playback
        self.back = QToolButton(text="◀|", toolTip="Previous frame (Left)")
        self.play = QToolButton(text="▶", toolTip="Play / pause (Space)")
        self.forward = QToolButton(text="|▶", toolTip="Next frame (Right)")
        self.loop = QCheckBox("Loop", toolTip="Play again from the start at the end")
        self.loop.setChecked(playback.loop)
        self.speed = QComboBox(toolTip="Playback speed")
        for speed in SPEEDS:
            self.speed.addItem(f"{speed:g}×", speed)
        self.speed.setCurrentIndex(SPEEDS.index(1.0))
        self.readout = QLabel()
        self.back.clicked.connect(lambda: playback.step(-1))
        self.forward.clicked.connect(lambda: playback.step(1))
        self.play.clicked.connect(playback.toggle)
        self.loop.toggled.connect(playback.set_loop)
        self.speed.currentIndexChanged.connect(lambda _: playback.set_speed(self.speed.currentData()))
        playback.playing_changed.connect(lambda on: self.play.setText("❚❚" if on else "▶"))
        document.frame_changed.connect(self._update)
        document.project_changed.connect(self._update)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 0, 4, 0)
        for widget in (self.back, self.play, self.forward, self.loop, self.speed):
            layout.addWidget(widget)
        layout.addStretch(1)
        layout.addWidget(self.readout)
        self._update()

    def _update(self, *_: object) -> None:
        motion = self._document.project.motion
        frame = self._document.frame
        self.readout.setText(f"frame {frame} / {motion.num_frames - 1}   "
                             f"{frame / motion.fps:5.2f} s / {motion.duration:.2f} s   "
                             f"{motion.fps:g} fps")
