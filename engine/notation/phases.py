"""What the synthesiser builds a sign from before it becomes frames: the timing of
its parts, each hand's state, and phases (one ``Track`` per moving hand over a number
of frames). ``UnsupportedNotation`` is what every step raises for a feature it cannot
make yet."""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import numpy as np

from engine.notation.anchors import Anchor, BodyAnchors
from engine.notation.hamnosys import Handshape

if TYPE_CHECKING:
    from engine.notation.hand_parts import HandParts


class UnsupportedNotation(ValueError):
    """A sign uses a feature the synthesiser cannot make yet (``feature``)."""

    def __init__(self, feature: str, detail: str = ""):
        self.feature = feature
        super().__init__(f"cannot synthesise {feature} yet" + (f" ({detail})" if detail else ""))


@dataclass(frozen=True)
class NotationTiming:
    """Durations in seconds of the parts of a sign (at ``speed`` 1), and distances as
    fractions of the arm's reach (shoulder to wrist). ``speed`` divides every duration:
    the ``signing_speed`` setting."""

    rise: float = 0.45          # rest -> first posture
    settle: float = 0.12        # still at the first posture
    move: float = 0.40          # a straight or curved movement of default size
    circle: float = 0.70
    replace: float = 0.30       # a change of handshape or orientation
    local: float = 0.75         # a local movement (fingerplay, nodding, twisting ...)
    local_cycles: float = 2.0   # oscillations in one local movement
    repeat_return: float = 0.22  # back to the start before a repetition
    hold: float = 0.30          # still at the last posture
    relax: float = 0.45         # last posture -> rest
    fast: float = 1.5           # speed factor of "fast"
    slow: float = 0.5           # ... and of "slow"
    speed: float = 1.0
    fps: float = 30.0
    # distances (fractions of reach)
    close: float = 0.10
    unspecified: float = 0.40   # in front of the trunk when no contact is written
    unspecified_head: float = 0.20  # ... of the head, face and neck
    move_small: float = 0.12
    move_normal: float = 0.24
    move_large: float = 0.40
    circle_small: float = 0.05
    circle_normal: float = 0.11
    circle_large: float = 0.20

    def frames(self, seconds: float) -> int:
        return max(2, int(round(seconds / self.speed * self.fps)))


def timing_for(settings, fps: float = 30.0) -> NotationTiming:
    """The default timing at the ``signing_speed`` of ``settings``
    (``engine.settings.Settings``); ValueError naming the setting when it is damaged."""
    from engine.settings import signing_speed

    return NotationTiming(fps=fps, speed=signing_speed(settings))


@dataclass
class HandState:
    """One hand at one instant: wrist ``position`` (3,) m, world ``rotation`` (3, 3),
    ``fingers`` (15, 3) axis-angles, the ``shape`` it is in, and whether the notation
    placed it ``against_other`` hand (touching, close, interlocked: the two may overlap
    there, ``engine.body.hands_apart``)."""

    position: np.ndarray
    rotation: np.ndarray
    fingers: np.ndarray
    shape: Handshape | None
    against_other: bool = False

    def copy(self) -> HandState:
        return HandState(self.position.copy(), self.rotation.copy(), self.fingers.copy(),
                         self.shape, self.against_other)


#: A path: s in [0, 1] (F,) -> wrist offsets (F, 3) from the straight line's point.
Detour = Callable[[np.ndarray], np.ndarray]
#: An in-place change: (s (F,), rotations (F, 3, 3), fingers (F, 15, 3)) -> the same two.
InPlace = Callable[[np.ndarray, np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]


@dataclass
class Track:
    """One phase of one hand: from ``start`` to ``end`` along ``offset`` (added to the
    straight interpolation), with an optional in-place ``local`` change: it takes the
    phase's interpolated rotations (F, 3, 3) and fingers (F, 15, 3) and returns them
    changed (a nod turns the wrist, finger play bends the fingers)."""

    start: HandState
    end: HandState
    offset: Detour | None = None
    local: InPlace | None = None


@dataclass
class Phase:
    """``frames`` of a sign in which each hand in ``tracks`` follows its track (a hand
    not in it holds still)."""

    frames: int
    tracks: dict[str, Track]
    ease: bool | str = True  # True, False or "halt" (see ``sign_motion._ease``)
    #: The head's rotation (axis-angle, radians) at the phase's start and end, when
    #: the phase moves the head (``head movedr``: the head tilts, the hands hold).
    head: tuple[np.ndarray, np.ndarray] | None = None


@dataclass
class SynthesisContext:
    """What the steps of one compound part share: the body's measurements, the timing,
    the part's symmetry, the site it started at, and the phases made so far."""

    anchors: BodyAnchors
    hands: HandParts
    timing: NotationTiming
    body: object
    symmetry: tuple[str, ...]
    two_handed: bool
    initial_site: Anchor | None = None
    phases: list[Phase] = field(default_factory=list)
    #: The phases of the action just made: what a repetition repeats.
    last: list[Phase] = field(default_factory=list)
    #: The head's current rotation (axis-angle), moved by head movements.
    head: np.ndarray = field(default_factory=lambda: np.zeros(3))

    def scratch(self, symmetry: tuple[str, ...] | None = None) -> SynthesisContext:
        """A copy that collects its own phases (for actions made side by side)."""
        return replace(self, symmetry=self.symmetry if symmetry is None else symmetry,
                       phases=[], last=list(self.last))


def duration_frames(names: Sequence[str], seconds: float, context: SynthesisContext) -> int:
    """Frames of an action of ``seconds`` at the context's speed, written "fast" or "slow"
    when ``names`` say so."""
    if "fast" in names:
        seconds /= context.timing.fast
    if "slow" in names:
        seconds /= context.timing.slow
    return context.timing.frames(seconds)
