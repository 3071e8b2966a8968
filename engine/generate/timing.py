"""The timing model of assembly: how long each kind of piece is shown, how fast its
recorded movement plays, and how long the generated movement into the next one takes.

Every lexicon clip is a citation form: one sign or letter recorded on its own, slowly,
from rest to rest. Fluent signing is much faster (sign.mt's stitching study,
../shared/NOTATION.md: stitched dictionary forms ran about 2.6x too long), and a
fingerspeller keeps the hand in one place while the fingers flow from letter to letter.
So a piece plays only its articulation (``engine.generate.assemble.articulation_span``),
sped up, and the transitions between pieces are short.

The defaults, in seconds at tempo 1 (``Timing.tempo`` divides every duration):

============  ======  =======  ===========  =================================================
kind          form    speed    transition   where the figure comes from
============  ======  =======  ===========  =================================================
letter        0.10    >= 1.5x  0.10         >= 3 letters a second (the fluency issue's
                                            target for fingerspelling); the letter's still
                                            part (its handshape, held) plays in ``form``,
                                            the rest of it at most in ``movement``, unless
                                            that is the letter's meaning (J, Z: sped up)
sign          0.10    1.5x     0.20         NOTATION.md: the notation players start the next
                                            sign 0.2 s after the previous one relaxes, and
                                            play "fast" at x1.5
notation      0.00    1.0x     0.20         the synthesiser's own timing: made at the
                                            ``signing_speed`` tempo (its entry says),
                                            played at the asked tempo relative to it
recording     0.10    1.25x    0.25         a user's own recording, nearer to what they want
============  ======  =======  ===========  =================================================

``word_pause`` (0.10 s): the last letter of a fingerspelled word is shown that much
longer (signers hold a word's last letter; the next word then starts from it), and
``word_transition`` (0.20 s) replaces the letter-to-letter transition between words.
The per-language settings of ``DOUBLE_LETTER_MARKS`` say how a repeated letter is shown.
Measurements of what these give are in docs/fluency.md.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from engine.motion.errors import UsageError


@dataclass(frozen=True)
class PieceTiming:
    """How one kind of piece is timed (seconds at tempo 1).

    ``form``: how long the sign's still part (a letter's handshape) is shown; ``speed``:
    how much faster than recorded its movement plays (1.5 = in two thirds of the time);
    ``movement``: for letters, the most time the movement before and after the form
    may take (0: no limit); ``transition``: the generated movement from this piece into
    the next.
    """

    form: float
    speed: float
    transition: float
    movement: float = 0.0

    def __post_init__(self):
        for name in ("form", "transition", "movement"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value >= 0):
                raise UsageError(f"timing.{name}: expected seconds >= 0, got {value!r}")
        if not (isinstance(self.speed, (int, float)) and 0.1 <= self.speed <= 10):
            raise UsageError(f"timing.speed: expected a factor from 0.1 to 10, got {self.speed!r}")


#: How a language shows the same letter twice in a row: "slide" (the second one moves a
#: little toward the signing hand's side, as in ASL: "ALL", "TOO"), "bounce" (the hand
#: dips and comes back up) or "none". Languages not listed slide: the data does not say
#: (the package's Irish clips carry their own double letters, "bb", "ll", which the text
#: reader prefers when they exist).
DOUBLE_LETTER_MARKS: dict[str, str] = {"ase": "slide"}
DOUBLE_LETTER_DEFAULT = "slide"
#: Metres a double letter's second letter slides sideways (or dips, for a bounce).
DOUBLE_LETTER_SHIFT_M = 0.04


TRANSITION_MAKERS = ("auto", "learned", "spline")


@dataclass(frozen=True)
class Timing:
    """The assembly's timing (see the module docstring for the defaults and sources).

    ``fps``: frames per second of the result; ``tempo``: global speed (2 = twice as
    fast, 0.5 = half), dividing every duration here; ``rest_transition``: the generated
    rise from rest into the first sign and drop back after the last.
    """

    fps: float = 30.0
    tempo: float = 1.0
    letter: PieceTiming = field(default_factory=lambda: PieceTiming(
        form=0.10, speed=1.5, transition=0.10, movement=0.10))
    sign: PieceTiming = field(default_factory=lambda: PieceTiming(
        form=0.10, speed=1.5, transition=0.20))
    notation: PieceTiming = field(default_factory=lambda: PieceTiming(
        form=0.0, speed=1.0, transition=0.20))
    recording: PieceTiming = field(default_factory=lambda: PieceTiming(
        form=0.10, speed=1.25, transition=0.25))
    word_pause: float = 0.10
    word_transition: float = 0.20
    rest_transition: float = 0.40
    #: Who makes the transitions between pieces: "learned" (the shipped KF2P flow
    #: model, all of an utterance's in one batch), "spline" (the C2 baseline, the
    #: handshape formed early), or "auto": learned when the model is installed.
    transitions: str = "auto"

    def __post_init__(self):
        if not (isinstance(self.tempo, (int, float)) and 0.25 <= self.tempo <= 4):
            raise UsageError(f"tempo: expected a factor from 0.25 to 4 (1 is the default "
                             f"pace), got {self.tempo!r}")
        if self.transitions not in TRANSITION_MAKERS:
            raise UsageError(f"transitions: expected one of {', '.join(TRANSITION_MAKERS)}, "
                             f"got {self.transitions!r}")
        for name in ("word_pause", "word_transition", "rest_transition"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value >= 0):
                raise UsageError(f"timing.{name}: expected seconds >= 0, got {value!r}")

    def frames(self, seconds: float) -> int:
        """Whole frames for ``seconds`` at tempo 1 (divided by the tempo)."""
        return max(0, int(round(seconds / self.tempo * self.fps)))

    def speed(self, piece: PieceTiming) -> float:
        """How much faster than recorded a piece's movement plays, tempo included."""
        return piece.speed * self.tempo


def double_letter_mark(language: str) -> str:
    """"slide", "bounce" or "none" for ``language`` (``DOUBLE_LETTER_MARKS``)."""
    return DOUBLE_LETTER_MARKS.get(language, DOUBLE_LETTER_DEFAULT)
