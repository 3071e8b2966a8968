"""How the timeline looks and what it says: the colours of its blocks and keys, and the
tooltips and status-bar hints of what is under the pointer."""
from PySide6.QtGui import QColor

from engine.motion.project import SegmentKind

SEGMENT_COLOURS = {
    SegmentKind.FINGERSPELLED: QColor(92, 142, 204),
    SegmentKind.LEXICON: QColor(96, 170, 120),
    SegmentKind.TRANSITION: QColor(160, 160, 160),
    SegmentKind.RECORDED: QColor(196, 140, 80),
    SegmentKind.MANUAL: QColor(150, 120, 190),
    SegmentKind.NOTATION: QColor(64, 160, 170),  # made from notation: teal
}
KEY_COLOUR = QColor(70, 80, 100)
GENERATED_KEY_COLOUR = QColor(168, 176, 192)  # a generator's key: lighter than the user's
SELECTED_COLOUR = QColor(255, 150, 30)
PLAYHEAD_COLOUR = QColor(220, 40, 40)

HOLD_EDGE_HINT = ("Drag the right edge of '{gloss}' to change its hold (how long its last "
                  "pose stays still; now {hold} frames). Later signs shift. Esc cancels.")
STRETCH_EDGE_HINT = ("Drag the left edge of '{gloss}' to stretch its movement in time: "
                     "outwards (left) plays it slower, inwards (right) faster; now {frames} "
                     "frames. The sign keeps its start, later signs shift. Esc cancels.")
KEY_HINT = ("Keyframe at frame {frame}: click to select (Shift+click: add to the selection), "
            "drag to move it (a selection moves together; Esc cancels), Delete removes it; "
            "the motion around it is regenerated.{origin}")
