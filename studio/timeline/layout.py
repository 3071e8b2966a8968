"""Where things are on the timeline: its rows, top to bottom, and their sizes in pixels
(scene coordinates; x counts from the left edge of the row names)."""
from engine.motion.motion import Channel

#: (label, channels shown in that track)
TRACKS: tuple[tuple[str, frozenset[Channel]], ...] = (
    ("Body", frozenset({Channel.ROOT, Channel.BODY})),
    ("Left hand", frozenset({Channel.LEFT_HAND})),
    ("Right hand", frozenset({Channel.RIGHT_HAND})),
    ("Face", frozenset({Channel.FACE})),
)

LABEL_WIDTH = 116     # px: the fixed column of row names and track toggles
RULER_HEIGHT = 28
SEGMENT_TOP, SEGMENT_HEIGHT = 32, 28
TRACK_TOP, TRACK_HEIGHT = 66, 24
FACE_TOP = TRACK_TOP + len(TRACKS) * TRACK_HEIGHT + 6  # the face rows, below the key tracks
KEY_RADIUS = 6
EDGE_GRAB = 5         # px either side of a block edge that grabs it
DRAG_THRESHOLD = 3    # px before a press on a key becomes a drag (else it is a click)
