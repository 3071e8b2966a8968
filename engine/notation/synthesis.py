"""The synthesiser: a parsed HamNoSys sign -> a ``Motion`` on the SMPL-X skeleton and
the frames of its postures (keyframes for KF2P, the timeline and exports).

A sign is made as a signer reads it: each hand starts in its written configuration
(handshape from ``handshapes``, wrist rotation from ``placement``) at its written
location (an anchor of ``anchors``, the hand part nearest it at the distance the
contact asks for), then the actions run in order, each a *phase* that moves the
hands along a path (straight, arc, wavy, zigzag, circle), changes handshape or
orientation (replace), or moves the wrist or fingers in place (local movements).
Repetitions replay a phase; symmetry makes the non-dominant hand mirror the dominant
one (``symmlr``) or move parallel to it (``symmpar``), alternating when written.
Every frame's wrist position and rotation then go through the arm IK. The sign rises
from the rest pose into its first posture and relaxes back to it after the last, as
a recorded isolated sign does, so assembly trims and joins it like any lexicon clip.

What this cannot make yet raises ``UnsupportedNotation`` naming the feature: a sign is
never silently approximated (``coverage`` counts the features over the DSGS data).
Signs are right-handed: the dominant hand is the right.

This module assembles a sign; its steps live beside it: ``starting_posture`` (the first
posture), ``actions`` (groups and repetitions), ``movements`` (paths and local
movements), ``configuration_change`` (replace), ``locations`` and ``hand_parts`` (where
a hand goes and which part touches), ``mirroring`` (the other hand), ``phases`` (timing
and the phases a sign is built from) and ``sign_motion`` (phases to frames).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from engine.notation.actions import run_actions
from engine.notation.anchors import body_anchors
from engine.notation.hamnosys import Sign, parse_sign
from engine.notation.hand_parts import HandParts
from engine.notation.handshapes import hand_geometry
from engine.notation.phases import (
    HandState, NotationTiming, Phase, SynthesisContext, Track, UnsupportedNotation, timing_for,
)
from engine.notation.sign_motion import SignMotion, motion_from_phases, rest_states
from engine.notation.starting_posture import initial_states

#: What callers import from here; each is defined in the module named above.
__all__ = ["Coverage", "NotationTiming", "SignMotion", "UnsupportedNotation", "coverage",
           "synthesise", "synthesiser_version", "timing_for"]


def synthesise(sign: Sign | str, body=None, timing: NotationTiming = NotationTiming()
               ) -> SignMotion:
    """``sign`` (parsed, or a HamNoSys string) as a Motion on ``body`` (the default
    avatar when None). Raises ``NotationError`` for an invalid string and
    ``UnsupportedNotation`` naming what cannot be made yet."""
    if isinstance(sign, str):
        sign = parse_sign(sign)
    if body is None:
        from engine.body.default_avatar import default_avatar

        body = default_avatar()
    anchors = body_anchors(body)
    hands = HandParts(hand_geometry(body))
    phases: list[Phase] = []
    states: dict[str, HandState] | None = None
    rest = rest_states(body)
    first_states: dict[str, HandState] = {}
    for part in sign.parts:
        context = SynthesisContext(anchors, hands, timing, body, part.symmetry,
                                   two_handed=bool(part.symmetry) or part.nondominant is not None)
        start = initial_states(part, context)
        if states is not None:  # a compound's next part: move on from the last one
            phases.append(Phase(timing.frames(timing.move), {
                side: Track(states.get(side, rest[side]), start[side]) for side in start}))
            for side in states:
                if side not in start:
                    start[side] = states[side]
        else:
            first_states = dict(start)
            phases.append(Phase(timing.frames(timing.settle), {
                side: Track(state, state) for side, state in start.items()}))
        states = start
        context.phases = phases
        states = run_actions(part.actions, states, context)
    # From rest into the first posture, and back after the last, as the hand travels
    # (straight, eased), not as the joints turn: turning every joint at once swings the
    # hand 10 cm past the posture and back.
    # (rise: only the hands of the first part; a hand joining later rises into its part)
    phases.insert(0, Phase(timing.frames(timing.rise), {
        side: Track(rest[side], state) for side, state in first_states.items()}))
    phases.append(Phase(timing.frames(timing.hold), {s: Track(st, st)
                                                     for s, st in states.items()}))
    phases.append(Phase(timing.frames(timing.relax), {
        side: Track(state, rest[side]) for side, state in states.items()}))
    return motion_from_phases(phases, sign.text, body, timing, anchors, rest)


@lru_cache(maxsize=1)
def synthesiser_version() -> str:
    """A digest of the code that turns notation into motion (this package's modules):
    what a stored sign was made by. Changes with any edit, so nothing made by an
    older synthesiser is mistaken for current."""
    import hashlib

    digest = hashlib.sha256()
    folder = Path(__file__).parent
    for name in sorted(p.name for p in folder.glob("*.py")):
        digest.update(name.encode() + b"\0" + (folder / name).read_bytes())
    return digest.hexdigest()[:16]


# ----------------------------------------------------------------- coverage
@dataclass(frozen=True)
class Coverage:
    """How many strings synthesise, and the features that stop the rest."""

    total: int
    made: int
    unsupported: dict[str, int]
    invalid: dict[str, int]

    @property
    def share(self) -> float:
        return self.made / self.total if self.total else 0.0


def coverage(strings: Sequence[str]) -> Coverage:
    """Try every string; count the successes and each unsupported feature."""
    from collections import Counter

    from engine.notation.hamnosys import NotationError

    unsupported: Counter = Counter()
    invalid: Counter = Counter()
    made = 0
    for text in strings:
        try:
            synthesise(text)
            made += 1
        except UnsupportedNotation as error:
            unsupported[error.feature] += 1
        except NotationError as error:
            invalid[error.expected] += 1
    return Coverage(len(strings), made, dict(unsupported.most_common()),
                    dict(invalid.most_common()))
