"""ContactDialog: which point of which hand to hold on which body site, over which
frames (a contact lock, ``engine.motion.contacts``)."""
from __future__ import annotations

from PySide6.QtWidgets import (
    QComboBox, QDialog, QDialogButtonBox, QFormLayout, QLabel, QSpinBox, QVBoxLayout,
)

from engine.motion.contacts import CONTACT_POINTS, CONTACT_SITES, ContactLock

#: How a site reads in the dialog where its notation name does not.
SITE_WORDS = {"headtop": "top of the head", "underchin": "under the chin",
              "shouldertop": "top of the shoulder", "belowstomach": "below the stomach",
              "earlobe": "ear lobe"}


class ContactDialog(QDialog):
    """``frames``: the motion's length; ``span``: (first, last) frames offered, both
    inclusive (the selected keys or sign, or the playhead onwards)."""

    def __init__(self, frames: int, span: tuple[int, int], parent=None):
        super().__init__(parent)
        self.setWindowTitle("Hold a hand on the body")
        self.hand = QComboBox()
        for side in ("right", "left"):
            self.hand.addItem(f"{side.capitalize()} hand", side)
        self.point = QComboBox()
        for point in CONTACT_POINTS:
            self.point.addItem("wrist" if point == "wrist" else f"{point} fingertip", point)
        self.point.setCurrentIndex(CONTACT_POINTS.index("index"))
        self.site = QComboBox()
        for site in CONTACT_SITES:
            self.site.addItem(SITE_WORDS.get(site, site), site)
        self.site.setCurrentIndex(CONTACT_SITES.index("chin"))
        self.first, self.last = QSpinBox(), QSpinBox()
        for box, value in ((self.first, span[0]), (self.last, span[1])):
            box.setRange(0, frames - 1)
            box.setValue(value)
        self.first.valueChanged.connect(lambda v: self.last.setValue(max(v, self.last.value())))
        self.last.valueChanged.connect(lambda v: self.first.setValue(min(v, self.first.value())))
        form = QFormLayout()
        form.addRow("Hand", self.hand)
        form.addRow("Point", self.point)
        form.addRow("On", self.site)
        form.addRow("From frame", self.first)
        form.addRow("To frame", self.last)
        for widget, tip in ((self.hand, "The hand to hold"),
                            (self.point, "The point of the hand that touches"),
                            (self.site, "The body site it touches (it follows the head "
                                        "and trunk as they move)"),
                            (self.first, "The first frame of the contact"),
                            (self.last, "The last frame of the contact (included)")):
            widget.setToolTip(tip)
        note = QLabel("The arm moves so the point stays on the site over these frames, "
                      "easing in and out around them; every later edit keeps it there. "
                      "Edit > Release hand holds at the playhead removes it.")
        note.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        self.ok_button = buttons.button(QDialogButtonBox.StandardButton.Ok)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(note)
        layout.addWidget(buttons)

    def lock(self) -> ContactLock:
        return ContactLock(self.hand.currentData(), self.point.currentData(),
                           self.site.currentData(), self.first.value(), self.last.value() + 1)
