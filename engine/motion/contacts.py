"""Contact locks: a point of a hand held on a body site over a span of frames (the
index fingertip on the chin while the sign says so), kept there by every edit
(``engine.notation.contact_hold`` does the holding; this module is the saved value).

Sites are the notation's body sites (``engine.notation.anchors.BODY_SITES``); a
one-sided site (ear, cheek, shouldertop) is on the locked hand's own side.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

from engine.motion.errors import MotionError

#: The points of a hand a lock can hold: the wrist and the five fingertips.
CONTACT_POINTS = ("wrist", "thumb", "index", "middle", "ring", "pinky")
#: The notation's body sites (``engine.notation.anchors.BODY_SITES``, checked equal in
#: the tests: the motion layer does not import the notation).
CONTACT_SITES = ("head", "headtop", "forehead", "eyebrows", "eyes", "nose", "nostrils",
                 "ear", "earlobe", "cheek", "lips", "tongue", "teeth", "chin", "underchin",
                 "neck", "shouldertop", "shoulders", "chest", "stomach", "belowstomach")
#: More locks than any sign needs: a bound a damaged file cannot exceed.
MAX_CONTACTS = 1_000


@dataclass(frozen=True)
class ContactLock:
    """``side``'s hand ``point`` held on body ``site`` over frames ``[start, end)``."""

    side: str
    point: str
    site: str
    start: int
    end: int

    def __post_init__(self) -> None:
        checks = (("side", ("left", "right")), ("point", CONTACT_POINTS),
                  ("site", CONTACT_SITES))
        for name, allowed in checks:
            value = getattr(self, name)
            if value not in allowed:
                raise MotionError(f"ContactLock.{name}: expected one of {', '.join(allowed)}, "
                                  f"got {value!r:.40}")
        for name in ("start", "end"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise MotionError(f"ContactLock.{name}: expected a frame index >= 0, "
                                  f"got {value!r:.40}")
        if self.end <= self.start:
            raise MotionError(f"ContactLock: expected start < end, got frames {self.start} "
                              f"to {self.end}")

    @property
    def label(self) -> str:
        """E.g. "right index on chin"."""
        point = "wrist" if self.point == "wrist" else f"{self.point} tip"
        return f"{self.side} {point} on {self.site}"

    def spanning(self, start: int, end: int) -> ContactLock:
        return replace(self, start=start, end=end)

