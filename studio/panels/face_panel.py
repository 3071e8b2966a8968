"""The face of a keyframe as sliders: the 52 ARKit weights grouped by region.

Shows one region at a time (brows, eyes, cheeks and nose, mouth, jaw and tongue) so the
panel stays short; each slider is 0 to 100 % of the shape. It only reports edits
(``weight_edited``); the properties panel turns them into a key edit.
"""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox, QFormLayout, QGroupBox, QLabel, QScrollArea, QSlider, QVBoxLayout, QWidget,
)

from engine.motion.face import FACE_BLENDSHAPE_INDEX, FACE_BLENDSHAPE_NAMES

#: region -> the ARKit shapes it holds, in the order ARKit lists them.
FACE_REGIONS: dict[str, tuple[str, ...]] = {
    "Brows": tuple(n for n in FACE_BLENDSHAPE_NAMES if n.startswith("brow")),
    "Eyes": tuple(n for n in FACE_BLENDSHAPE_NAMES if n.startswith("eye")),
    "Cheeks and nose": tuple(n for n in FACE_BLENDSHAPE_NAMES
                             if n.startswith(("cheek", "nose"))),
    "Mouth": tuple(n for n in FACE_BLENDSHAPE_NAMES if n.startswith("mouth")),
    "Jaw and tongue": tuple(n for n in FACE_BLENDSHAPE_NAMES if n.startswith(("jaw", "tongue"))),
}
assert sorted(n for names in FACE_REGIONS.values() for n in names) == sorted(FACE_BLENDSHAPE_NAMES)


def _label(name: str) -> str:
    """'mouthSmileLeft' -> 'smile left' (the region already says 'mouth')."""
    words, word = [], ""
    for char in name:
        if char.isupper() and word:
            words.append(word)
            word = ""
        word += char.lower()
    words.append(word)
    return " ".join(words[1:]) or words[0]


SLIDERS_HEIGHT = 190  # px: about eight sliders show at once


class FacePanel(QGroupBox):
    weight_edited = Signal(str, float)  # ARKit name, weight 0..1

    def __init__(self, parent: QWidget | None = None):
        super().__init__("Face (this key's expression)", parent)
        self.setToolTip("The key's own face, shape by shape (0 to 100 %); the face markers "
                        "on the timeline's face rows add on top of it")
        layout = QVBoxLayout(self)
        self.region = QComboBox()
        self.region.addItems(list(FACE_REGIONS))
        self.region.setToolTip("Which part of the face the sliders below show")
        self.region.currentIndexChanged.connect(self._build_sliders)
        top = QFormLayout()
        top.addRow("Region", self.region)
        layout.addLayout(top)
        # The mouth has 23 shapes: they scroll, so the panel never makes the window
        # taller than a laptop screen.
        holder = QWidget()
        self._form = QFormLayout(holder)
        self._form.setContentsMargins(0, 0, 0, 0)
        scroll = QScrollArea()
        scroll.setWidget(holder)
        scroll.setWidgetResizable(True)
        scroll.setMaximumHeight(SLIDERS_HEIGHT)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        layout.addWidget(scroll)
        self.sliders: dict[str, QSlider] = {}
        self._weights = None
        self._build_sliders()

    def _build_sliders(self) -> None:
        while self._form.rowCount():
            self._form.removeRow(0)
        self.sliders = {}
        for name in FACE_REGIONS[self.region.currentText()]:
            slider = QSlider(Qt.Orientation.Horizontal)
            slider.setRange(0, 100)
            slider.setToolTip(f"{name}: 0 to 100 %; the motion around the key follows")
            slider.setTracking(False)  # one edit when released, not one per pixel
            slider.valueChanged.connect(lambda value, n=name: self.weight_edited.emit(n, value / 100))
            self.sliders[name] = slider
            self._form.addRow(QLabel(_label(name)), slider)
        if self._weights is not None:
            self.show_weights(self._weights)

    def show_weights(self, weights) -> None:
        """Show ``weights`` (52,) in 0..1 without emitting edits."""
        self._weights = weights
        for name, slider in self.sliders.items():
            slider.blockSignals(True)
            slider.setValue(round(100 * float(weights[FACE_BLENDSHAPE_INDEX[name]])))
            slider.blockSignals(False)
