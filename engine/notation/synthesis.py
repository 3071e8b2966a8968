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
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
from scipy.spatial.transform import Rotation, Slerp

from engine.body.reference_poses import ARM_DOWN_RADIANS, arms_down, mirror_hand_pose
from engine.body.skeleton import JOINT_INDEX
from engine.motion.motion import Motion
from engine.notation.anchors import HEAD_SITES, Anchor, BodyAnchors, body_anchors
from engine.notation.handshapes import (FINGER_OF_NAME, FOUR_FINGERS, HAND_ORDER,
                                        HandGeometry, UnsupportedHandshape, finger_points,
                                        hand_geometry, hand_pose)
from engine.notation.hamnosys import (Action, ActionGroup, Handshape, LocationPair, Movement,
                                      Orientation, Sign,
                                      SignPart, parse_sign)
from engine.notation.placement import (ArmSolver, combined, direction, mirrored,
                                       palm_vector, wrist_rotation)
from engine.notation.symbols import BY_NAME, SYMBOLS, Kind


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
    ``fingers`` (15, 3) axis-angles, and the ``shape`` it is in."""

    position: np.ndarray
    rotation: np.ndarray
    fingers: np.ndarray
    shape: Handshape | None

    def copy(self) -> "HandState":
        return HandState(self.position.copy(), self.rotation.copy(), self.fingers.copy(),
                         self.shape)


#: A path: s in [0, 1] (F,) -> wrist offsets (F, 3) from the straight line's point.
Detour = Callable[[np.ndarray], np.ndarray]
#: An in-place change: (s (F,), rotations (F, 3, 3), fingers (F, 15, 3)) -> the same two.
InPlace = Callable[[np.ndarray, np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]


@dataclass
class _Track:
    """One phase of one hand: from ``start`` to ``end`` along ``offset`` (added to the
    straight interpolation), with an optional in-place ``local`` change: it takes the
    phase's interpolated rotations (F, 3, 3) and fingers (F, 15, 3) and returns them
    changed (a nod turns the wrist, finger play bends the fingers)."""

    start: HandState
    end: HandState
    offset: Detour | None = None
    local: "InPlace | None" = None


@dataclass
class _Phase:
    frames: int
    tracks: dict[str, _Track]
    ease: bool | str = True  # True, False or "halt" (see ``_ease``)
    #: The head's rotation (axis-angle, radians) at the phase's start and end, when
    #: the phase moves the head (``head movedr``: the head tilts, the hands hold).
    head: tuple[np.ndarray, np.ndarray] | None = None


@dataclass(frozen=True)
class SignMotion:
    """A synthesised sign: ``motion`` (rest -> sign -> rest) and ``key_frames``, the
    frame of every posture (the rest frames at both ends included)."""

    motion: Motion
    key_frames: tuple[int, ...]
    text: str


# ----------------------------------------------------------------- hand sites
#: Hand parts a location can name, as (finger or None, part).
_PART_NAMES = {"fingertip", "fingernail", "fingerpad", "fingermidjoint", "fingerbase",
               "fingerside"}
_HAND_AREAS = {"palm", "handback", "thumbside", "pinkyside", "thumbball", "heel"}
#: Sites on the forearm, placed from the wrist as if the wrist were straight: metres
#: toward the elbow and out from the back (+) or the inside (-) of the forearm.
_ARM_AREAS = {"wristback": (0.015, 0.025), "wristpulse": (0.015, -0.02),
              "lowerarm": (0.11, 0.03), "elbow": (0.225, 0.03), "elbowinside": (0.215, -0.03)}


class _Hands:
    """Hand-part offsets in the wrist frame for any finger pose of one body."""

    def __init__(self, geometry: HandGeometry):
        self.geometry = geometry
        joints = geometry.joints
        bases = joints[[0, 3, 6, 9]]
        self.centre = np.array([bases[:, 0].mean() * 0.62, -0.004, bases[:, 2].mean()])
        self.half_thickness = 0.018

    def centre_of(self, side: str) -> np.ndarray:
        """(3,) the middle of the palm in the wrist frame of hand ``side``."""
        return self.centre * (_MIRROR if side == "left" else 1.0)

    def part(self, name: str, finger: str | None, fingers: np.ndarray,
             side: str) -> tuple[np.ndarray, np.ndarray]:
        """(offset (3,), outward normal (3,)) of a hand part in the wrist frame."""
        points = finger_points(self.geometry, _as_right(fingers, side))
        palm = np.array([0.0, -1.0, 0.0])
        if name in _ARM_AREAS:
            along, out = _ARM_AREAS[name]
            offset = np.array([along, out, 0.0])  # +X runs from a right wrist to its elbow
            normal = np.array([0.0, np.sign(out), 0.0])
        elif name in _HAND_AREAS:
            if name == "palm":
                offset, normal = self.centre + palm * self.half_thickness, palm
            elif name == "handback":
                offset, normal = self.centre - palm * self.half_thickness, -palm
            elif name == "thumbside":
                offset = points[0, 0] + np.array([0.02, 0.0, 0.012])
                normal = np.array([0.0, 0.0, 1.0])
            elif name == "pinkyside":
                offset = points[2, 0] + np.array([0.025, 0.0, -0.012])
                normal = np.array([0.0, 0.0, -1.0])
            elif name == "heel":  # the base of the palm, by the wrist (not a HamNoSys site)
                offset = np.array([-0.012, -0.016, 0.0])
                normal = np.array([1.0, 0.0, 0.0])
            else:  # thumbball
                offset = self.geometry.joints[12] + palm * 0.015
                normal = palm
        else:
            chain = points[HAND_ORDER.index(finger or "index")]
            along = chain[3] - chain[2]
            along /= np.linalg.norm(along)
            pad = np.cross(along, np.array([0.0, 0.0, 1.0]))
            pad = pad if pad @ palm > 0 else -pad
            if name == "fingertip":
                offset, normal = chain[3], along
            elif name == "fingerpad":
                offset, normal = chain[3] - along * 0.006 + pad * 0.006, pad
            elif name == "fingernail":
                offset, normal = chain[3] - along * 0.006 - pad * 0.006, -pad
            elif name == "fingermidjoint":
                offset, normal = chain[1] - pad * 0.008, -pad
            elif name == "fingerbase":
                offset, normal = chain[0] - pad * 0.008, -pad
            else:  # fingerside
                offset, normal = (chain[1] + chain[2]) / 2 + np.array([0, 0, 0.008]), \
                    np.array([0.0, 0.0, 1.0])
        if side == "left":
            flip = np.array([-1.0, 1.0, 1.0])
            return offset * flip, normal * flip
        return offset, normal

    def candidates(self, fingers: np.ndarray, side: str) -> list[tuple[str, str | None]]:
        """The parts that can touch when the notation names none: the palm, the back,
        both edges, the heel of the hand, the thumb's tip, the tips of the fingers that
        are extended and the middle joints of those curled (a fist's front). The one
        furthest toward what is touched is the hand's nearest point to it."""
        parts: list[tuple[str, str | None]] = [(n, None) for n in (
            "palm", "handback", "thumbside", "pinkyside", "heel")]
        parts.append(("fingertip", "thumb"))
        right = _as_right(fingers, side)
        for finger in FOUR_FINGERS:
            base = 3 * HAND_ORDER.index(finger)
            curled = right[base, 2] + right[base + 1, 2] > 1.2
            parts.append(("fingermidjoint" if curled else "fingertip", finger))
        return parts


def _as_right(fingers: np.ndarray, side: str) -> np.ndarray:
    return fingers if side == "right" else mirror_hand_pose(fingers)


# ----------------------------------------------------------------- the synthesiser
_OTHER = {"right": "left", "left": "right"}


@dataclass
class _Context:
    anchors: BodyAnchors
    hands: _Hands
    timing: NotationTiming
    body: object
    symmetry: tuple[str, ...]
    two_handed: bool
    initial_site: Anchor | None = None
    phases: list[_Phase] = field(default_factory=list)
    #: The phases of the action just made: what a repetition repeats.
    last: list[_Phase] = field(default_factory=list)
    #: The head's current rotation (axis-angle), moved by head movements.
    head: np.ndarray = field(default_factory=lambda: np.zeros(3))

    def scratch(self, symmetry: tuple[str, ...] | None = None) -> "_Context":
        """A copy that collects its own phases (for actions made side by side)."""
        return replace(self, symmetry=self.symmetry if symmetry is None else symmetry,
                       phases=[], last=list(self.last))


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
    hands = _Hands(hand_geometry(body))
    phases: list[_Phase] = []
    states: dict[str, HandState] | None = None
    rest = _rest_states(body)
    first_states: dict[str, HandState] = {}
    for part in sign.parts:
        context = _Context(anchors, hands, timing, body, part.symmetry,
                           two_handed=bool(part.symmetry) or part.nondominant is not None)
        start = _initial_states(part, context)
        if states is not None:  # a compound's next part: move on from the last one
            phases.append(_Phase(timing.frames(timing.move), {
                side: _Track(states.get(side, rest[side]), start[side]) for side in start}))
            for side in states:
                if side not in start:
                    start[side] = states[side]
        else:
            first_states = dict(start)
            phases.append(_Phase(timing.frames(timing.settle), {
                side: _Track(state, state) for side, state in start.items()}))
        states = start
        context.phases = phases
        states = _run_actions(part.actions, states, context)
    # From rest into the first posture, and back after the last, as the hand travels
    # (straight, eased), not as the joints turn: turning every joint at once swings the
    # hand 10 cm past the posture and back.
    # (rise: only the hands of the first part; a hand joining later rises into its part)
    phases.insert(0, _Phase(timing.frames(timing.rise), {
        side: _Track(rest[side], state) for side, state in first_states.items()}))
    phases.append(_Phase(timing.frames(timing.hold), {s: _Track(st, st)
                                                      for s, st in states.items()}))
    phases.append(_Phase(timing.frames(timing.relax), {
        side: _Track(state, rest[side]) for side, state in states.items()}))
    return _render(phases, sign.text, body, timing, anchors, rest)


# ----------------------------------------------------------- initial configuration
def _shape_pose(shape: Handshape, side: str, body) -> np.ndarray:
    try:
        return hand_pose(shape, side, body).astype(np.float64)
    except UnsupportedHandshape as error:
        raise UnsupportedNotation(str(error)) from None


def _orientation_rotation(orientation: Orientation, side: str) -> np.ndarray:
    if orientation.relative:
        raise UnsupportedNotation("relative orientation (orirelative)")
    finger = combined(orientation.extended_finger, orientation.extended_finger_between)
    if orientation.palm is None:
        raise UnsupportedNotation("a hand without palm orientation")
    palm_written = combined(orientation.palm, orientation.palm_between)
    try:
        palm = palm_vector(finger, palm_written)
    except ValueError as error:
        raise UnsupportedNotation("palm orientation along the finger direction") from error
    return wrist_rotation(finger, palm, side)


def _configurations(part: SignPart) -> dict[str, tuple[Handshape, np.ndarray]]:
    """Handshape and wrist rotation per hand ("right" dominant, "left" when used)."""
    if part.nondominant_only:
        raise UnsupportedNotation("a sign written for the non-dominant hand alone")
    dominant = part.dominant
    if dominant.handshape is None:
        raise UnsupportedNotation("etc as the dominant hand's shape")
    out = {"right": (dominant.handshape, _orientation_rotation(dominant.orientation, "right"))}
    other = part.nondominant
    if other is not None:
        shape = other.handshape if other.handshape is not None else dominant.handshape
        out["left"] = (shape, _orientation_rotation(other.orientation, "left"))
    elif part.symmetry:
        out["left"] = (dominant.handshape, mirrored(out["right"][1]))
    return out


#: How far (metres) interlocking hands reach into each other.
INTERLOCK_DEPTH = 0.03


def _contact_distance(contact: Sequence[str], context: _Context, default: float) -> float:
    reach = context.anchors.reach
    if not contact:
        return default * reach
    name = contact[-1]
    if name == "touch":
        return 0.0
    if name == "close":
        return context.timing.close * reach
    if name == "armextended":
        return context.timing.unspecified * reach * 1.6
    if name == "interlock":
        return -INTERLOCK_DEPTH  # the parts pass into each other: fingers between fingers
    raise UnsupportedNotation(f"contact {name}")


def _body_anchor(names: Sequence[str], context: _Context, side: str,
                 spread: bool = False) -> Anchor | None:
    """The anchor of a run of location names (sites, laterality, between) or None when
    it names no body site. ``spread``: a site written without laterality is taken at
    the hand's own side of it (each hand of a symmetric sign at its own side)."""
    points: list[Anchor] = []
    index = 0
    names = list(names)
    while index < len(names):
        name = names[index]
        kind = SYMBOLS[BY_NAME[name]].kind
        if kind is Kind.BODY_SITE:
            before = index > 0 and SYMBOLS[BY_NAME[names[index - 1]]].kind is Kind.LATERALITY
            after = index + 1 < len(names) and \
                SYMBOLS[BY_NAME[names[index + 1]]].kind is Kind.LATERALITY
            laterality = names[index + 1] if after else names[index - 1] if before else None
            # Written after the site: the dominant hand's own side; before: the other.
            lateral = (side if spread else None) if laterality is None else (
                side if after else _OTHER[side])
            points.append(context.anchors.site(name, lateral, laterality == "lrbeside",
                                               hand=side))
            index += 2 if after else 1
            continue
        if kind is Kind.NEUTRAL_SPACE:
            points.append(Anchor(context.anchors.neutral, np.array([0.0, 0.0, 1.0])))
        elif kind is Kind.WRIST_SITE:
            raise UnsupportedNotation(f"{kind.value} {name}")
        elif kind is Kind.COREFERENCE:
            raise UnsupportedNotation("coreference (coreftag/corefref)")
        index += 1
    if not points:
        return None
    if len(points) == 1:
        return points[0]
    position = np.mean([p.position for p in points], axis=0)
    normal = np.sum([p.normal for p in points], axis=0)
    return Anchor(position, normal / np.linalg.norm(normal))


Part = tuple[str, str | None]


def _hand_site(names: Sequence[str]) -> tuple[Part, ...] | None:
    """The hand part(s) a run of names gives (several when written "between" them:
    the point half way), each (part, finger); None when it names no hand part."""
    chunks: list[list[str]] = [[]]
    for name in names:
        if name == "between":
            chunks.append([])
        elif name in FINGER_OF_NAME or name in _PART_NAMES or name in _HAND_AREAS \
                or name in _ARM_AREAS:
            chunks[-1].append(name)
        elif name == "upperarm":
            raise UnsupportedNotation("arm location upperarm")
    parts: list[Part] = []
    for chunk in chunks:
        if not chunk:
            continue
        finger = next((FINGER_OF_NAME[n] for n in chunk if n in FINGER_OF_NAME), None)
        part = next((n for n in chunk if n in _PART_NAMES or n in _HAND_AREAS
                     or n in _ARM_AREAS), None)
        if part is None:
            part = "fingertip"
        if part in _PART_NAMES and finger is None:
            finger = "index"
        parts.append((part, finger))
    return tuple(parts) or None


def _part_offset(hands: "_Hands", parts: Sequence[Part], fingers: np.ndarray,
                 side: str) -> tuple[np.ndarray, np.ndarray]:
    """The mean offset and normal of ``parts`` in the wrist frame."""
    offsets, normals = zip(*(hands.part(p, f, fingers, side) for p, f in parts))
    normal = np.sum(normals, axis=0)
    norm = np.linalg.norm(normal)
    return np.mean(offsets, axis=0), normal / norm if norm > 1e-9 else normals[0]


def _place(state: HandState, side: str, anchor: Anchor, distance: float,
           parts: Sequence[Part] | None, context: _Context) -> HandState:
    """``state`` moved so its ``parts`` (or the part facing the anchor) are ``distance``
    metres from ``anchor``: out along the anchor's normal, or, touching or close, on
    the side its part faces from (a palm facing left is to the right of what it is
    near), leaning out along the normal so it never comes from inside the body."""
    hands = context.hands
    if not parts:
        best, best_score = None, -np.inf
        centre = hands.centre_of(side)
        for candidate in hands.candidates(state.fingers, side):
            offset, _ = hands.part(*candidate, state.fingers, side)
            score = float((state.rotation @ (offset - centre)) @ -anchor.normal)
            if score > best_score:
                best, best_score = candidate, score
        parts = (best,)
    offset, normal = _part_offset(hands, parts, state.fingers, side)
    away = anchor.normal
    if distance <= context.timing.close * context.anchors.reach + 1e-9:
        # Touching or close: from the side the part faces. Further out the hand is in
        # the signing space in front of the site.
        away = -(state.rotation @ normal) + 0.5 * anchor.normal
        away[1] = np.clip(away[1], -0.3, 0.3)  # beside or in front, not from above
        if np.linalg.norm(away) < 1e-6 or away @ anchor.normal / np.linalg.norm(away) < 0.3:
            away = anchor.normal
    target = anchor.position + distance * away / np.linalg.norm(away)
    placed = state.copy()
    placed.position = target - state.rotation @ offset
    return placed


def _site_distance(names: Sequence[str], contact: Sequence[str], context: _Context) -> float:
    """The distance a contact asks for; without one, the unspecified distance of the
    region (closer at the head than at the trunk)."""
    default = (context.timing.unspecified_head if any(n in HEAD_SITES for n in names)
               else context.timing.unspecified)
    return _contact_distance(contact, context, default)


def _meet(states: dict[str, HandState], point: np.ndarray, gap: float,
          context: _Context) -> None:
    """Both hands at ``point`` from either side, the parts facing each other
    ``gap`` metres apart (0: touching)."""
    states["right"] = _place(states["right"], "right", Anchor(point, np.array([-1.0, 0, 0])),
                             gap / 2, None, context)
    states["left"] = _place(states["left"], "left", Anchor(point, np.array([1.0, 0, 0])),
                            gap / 2, None, context)


def _neutral(side: str, context: _Context, two: bool) -> Anchor:
    lateral = 0.09 if two else 0.05
    x = -lateral if side == "right" else lateral
    return Anchor(context.anchors.neutral + np.array([x, 0.0, 0.0]), np.array([0.0, 0.0, 1.0]))


def _initial_states(part: SignPart, context: _Context) -> dict[str, HandState]:
    configurations = _configurations(part)
    states: dict[str, HandState] = {}
    for side, (shape, rotation) in configurations.items():
        fingers = _shape_pose(shape, side, context.body)
        states[side] = HandState(np.zeros(3), rotation, fingers, shape)
    two = "left" in states
    location = part.location
    for side in states:  # neutral space unless the location says otherwise
        states[side] = _at_anchor(states[side], side, _neutral(side, context, two), context)
    if location is None:
        return states
    if isinstance(location, LocationPair):
        return _pair_location(location, states, context)
    sites = [n for n in location.names if SYMBOLS[BY_NAME[n]].kind is not Kind.CONTACT]
    contact = location.contact
    contact_first = bool(location.names) and SYMBOLS[BY_NAME[location.names[0]]].kind \
        is Kind.CONTACT
    symmetric = two and bool(part.symmetry)
    anchor = _body_anchor(sites, context, "right")
    part_named = _hand_site(sites)
    if anchor is not None:
        context.initial_site = anchor
        if symmetric and contact_first:
            # "touch shoulders": the hands touch each other, there
            point = anchor.position + _site_distance(sites, (), context) * anchor.normal
            point[0] = 0.0
            _meet(states, point, _contact_distance(contact, context, 0.0), context)
            return states
        distance = _site_distance(sites, contact, context)
        if symmetric:
            anchor = _body_anchor(sites, context, "right", spread=True)
            context.initial_site = anchor
        states["right"] = _place(states["right"], "right", anchor, distance, part_named, context)
        if symmetric and part.nondominant is None:
            states["left"] = _mirror_state(states["right"])  # exactly the mirror image
        elif symmetric:
            states["left"] = _place(states["left"], "left",
                                    _body_anchor(sites, context, "left", spread=True),
                                    distance, part_named, context)
        return states
    if part_named is not None:
        # A location on the other hand: the dominant hand goes to that part of it.
        if not two:
            raise UnsupportedNotation("a location on the other hand in a one-handed sign")
        distance = _contact_distance(contact, context, context.timing.close)
        target = _part_anchor(states["left"], "left", part_named, context)
        context.initial_site = target
        states["right"] = _place(states["right"], "right", target, distance, None, context)
        return states
    if contact:
        # Contact alone: the hands touch each other in front of the body.
        if not two:
            raise UnsupportedNotation("contact without a location in a one-handed sign")
        point = context.anchors.neutral.copy()
        _meet(states, point, _contact_distance(contact, context, 0.0), context)
    return states


def _at_anchor(state: HandState, side: str, anchor: Anchor, context: _Context) -> HandState:
    """The hand's centre at ``anchor`` (neutral space has no surface to touch)."""
    centre = context.hands.centre_of(side)
    placed = state.copy()
    placed.position = anchor.position - state.rotation @ centre
    return placed


def _mirror_anchor(anchor: Anchor) -> Anchor:
    flip = np.array([-1.0, 1.0, 1.0])
    return Anchor(anchor.position * flip, anchor.normal * flip)


def _part_anchor(state: HandState, side: str, parts: Sequence[Part] | None,
                 context: _Context, toward: HandState | None = None) -> Anchor:
    """An anchor on a posed hand: the named part, or the part facing ``toward``."""
    hands = context.hands
    if not parts:
        best, best_score = ("palm", None), -np.inf
        goal = toward.position - state.position if toward is not None else np.array([-1.0, 0, 0])
        for candidate in hands.candidates(state.fingers, side):
            offset, normal = hands.part(*candidate, state.fingers, side)
            score = float((state.rotation @ normal) @ goal)
            if score > best_score:
                best, best_score = candidate, score
        parts = (best,)
    offset, normal = _part_offset(hands, parts, state.fingers, side)
    return Anchor(state.position + state.rotation @ offset, state.rotation @ normal)


def _pair_location(location: LocationPair, states: dict[str, HandState],
                   context: _Context) -> dict[str, HandState]:
    if "left" not in states:
        raise UnsupportedNotation("a location per hand in a one-handed sign")
    after_sites = [n for n in location.after.names if SYMBOLS[BY_NAME[n]].kind is not Kind.CONTACT]
    contact = location.after.contact + location.dominant.contact + location.nondominant.contact
    # Each hand at its own side of a site written without laterality.
    dominant_anchor = _body_anchor(location.dominant.names, context, "right", spread=True)
    other_anchor = _body_anchor(location.nondominant.names, context, "left", spread=True)
    if dominant_anchor is not None or other_anchor is not None:
        # Each hand at its own body site.
        distance = _contact_distance(contact, context, context.timing.unspecified)
        if dominant_anchor is not None:
            states["right"] = _place(states["right"], "right", dominant_anchor, distance, None,
                                     context)
            context.initial_site = dominant_anchor
        if other_anchor is not None:
            states["left"] = _place(states["left"], "left", other_anchor, distance, None, context)
        return states
    # A hand constellation: the dominant part meets the other hand's part, the pair
    # placed at the site written after it (or in neutral space).
    where = _body_anchor(after_sites, context, "right")
    if where is not None:
        shifted = Anchor(where.position + context.timing.unspecified * context.anchors.reach
                         * where.normal + np.array([0.04, 0.0, 0.0]), where.normal)
        states["left"] = _at_anchor(states["left"], "left", shifted, context)
    dominant_part = _hand_site(location.dominant.names)
    other_part = _hand_site(location.nondominant.names)
    target = _part_anchor(states["left"], "left", other_part, context, toward=states["right"])
    distance = _contact_distance(contact, context, context.timing.close)
    states["right"] = _place(states["right"], "right", target, distance, dominant_part, context)
    return states


# ----------------------------------------------------------------- actions
def _names_kind(names: Sequence[str], *kinds: Kind) -> list[str]:
    return [n for n in names if SYMBOLS[BY_NAME[n]].kind in kinds]


def _run_actions(actions: Sequence[Action], states: dict[str, HandState],
                 context: _Context) -> dict[str, HandState]:
    index = 0
    actions = list(actions)
    while index < len(actions):
        action = actions[index]
        if isinstance(action, Movement) and action.kind is Kind.REPETITION:
            before = len(context.phases)
            states = _repeat(action, context.last, states, context)
            context.last = context.phases[before:]
            index += 1
            continue
        if isinstance(action, Movement) and action.head == "replace" \
                and len(action.names) == 1 and index + 1 < len(actions) \
                and isinstance(actions[index + 1], ActionGroup):
            # replace parbegin config plus config parend: a new configuration per hand
            group = actions[index + 1]
            before = len(context.phases)
            states = _replace_per_hand(group, states, context)
            context.last = context.phases[before:]
            index += 2
            continue
        before = len(context.phases)
        states = _action(action, states, context)
        if len(context.phases) > before:
            context.last = context.phases[before:]
        index += 1
    return states


def _action(action: Action, states: dict[str, HandState],
            context: _Context) -> dict[str, HandState]:
    if isinstance(action, ActionGroup):
        if action.kind == "alternatives":  # either is the sign: the first is made
            return _run_actions(action.branches[0], states, context)
        if action.kind == "sequence":
            for branch in action.branches:
                states = _run_actions(branch, states, context)
            return states
        # parallel, or fusion (read the same way: the actions at once, as one)
        if len(action.branches) > 2:
            raise UnsupportedNotation(f"a {action.kind} group of {len(action.branches)} branches")
        if len(action.branches) == 2:
            if "left" not in states:
                raise UnsupportedNotation("actions per hand in a one-handed sign")
            return _per_hand(action.branches, states, context)
        return _simultaneous(action.branches[0], states, context)
    return _movement(action, states, context)


def _simultaneous(actions: Sequence[Action], states: dict[str, HandState],
                  context: _Context) -> dict[str, HandState]:
    """Actions at the same time (``parbegin moveo replace fist parend``): each action
    (with the repetitions written after it) is made from the same start, then they run
    together over the longest one's time: their displacements and paths add, the last
    change of shape or orientation is kept."""
    groups: list[list[Action]] = []
    for action in actions:
        if isinstance(action, Movement) and action.kind is Kind.REPETITION and groups:
            groups[-1].append(action)
        else:
            groups.append([action])
    tracks_list: list[dict[str, _Track]] = []
    frames = 2
    for group in groups:
        scratch = context.scratch()
        _run_actions(group, {s: st.copy() for s, st in states.items()}, scratch)
        if not scratch.phases:
            continue
        frames = max(frames, sum(p.frames for p in scratch.phases))
        tracks_list.append({side: _collapse(scratch.phases, side, states[side])
                            for side in states})
    combined_tracks: dict[str, _Track] = {}
    for side, state in states.items():
        end = state.copy()
        offsets: list[Detour] = []
        locals_ = []
        for tracks in tracks_list:
            track = tracks[side]
            end.position = end.position + (track.end.position - track.start.position)
            if not np.allclose(track.end.rotation, track.start.rotation):
                end.rotation = track.end.rotation
            if not np.allclose(track.end.fingers, track.start.fingers):
                end.fingers, end.shape = track.end.fingers, track.end.shape
            if track.offset is not None:
                offsets.append(track.offset)
            if track.local is not None:
                locals_.append(track.local)
        offset = (lambda s, paths=tuple(offsets): sum(p(s) for p in paths)) if offsets else None
        combined_tracks[side] = _Track(state, end, offset, _composed(locals_))
    context.phases.append(_Phase(frames, combined_tracks, ease=False))
    return {side: track.end for side, track in combined_tracks.items()}


def _composed(changes: list) -> "InPlace | None":
    """In-place changes applied one after the other (a nod while the fingers play)."""
    if not changes:
        return None
    if len(changes) == 1:
        return changes[0]

    def both(s: np.ndarray, rotations: np.ndarray, fingers: np.ndarray):
        for change in changes:
            rotations, fingers = change(s, rotations, fingers)
        return rotations, fingers
    return both


def _collapse(phases: list[_Phase], side: str, start: HandState) -> _Track:
    """Several phases of one hand as one track over their whole time (s from 0 to 1):
    the sampled path as an offset from the straight line, and the sampled rotations
    and fingers as an in-place change when they vary."""
    if any(phase.head is not None for phase in phases):
        raise UnsupportedNotation("a head movement inside a parallel group")
    if len(phases) == 1 and phases[0].ease is False:
        return phases[0].tracks.get(side, _Track(start, start))
    samples = [(start.position[None], start.rotation[None], start.fingers[None])]
    current = start
    for phase in phases:
        samples.append(_sample(phase, side, current))
        if side in phase.tracks:
            current = phase.tracks[side].end
    positions = np.concatenate([p for p, _, _ in samples])
    rotations = np.concatenate([r for _, r, _ in samples])
    fingers = np.concatenate([f for _, _, f in samples])
    times = np.linspace(0.0, 1.0, len(positions))
    line = times[:, None] * (current.position - start.position) + start.position
    detour = positions - line

    def offset(s: np.ndarray) -> np.ndarray:
        return np.stack([np.interp(s, times, detour[:, k]) for k in range(3)], axis=1)

    # What the phases do beyond going evenly from the start to the end state: a turn
    # and a finger change per moment, applied on top of whatever else runs at once.
    line = Slerp([0.0, 1.0], Rotation.from_matrix(np.stack([start.rotation,
                                                             current.rotation])))(times)
    turns = Rotation.from_matrix(rotations) * line.inv()
    bends = fingers - ((1 - times)[:, None, None] * start.fingers
                       + times[:, None, None] * current.fingers)
    if np.allclose(turns.magnitude(), 0.0, atol=1e-6) and np.allclose(bends, 0.0, atol=1e-6):
        return _Track(start, current, offset)
    turning = Slerp(times, turns)
    flat = bends.reshape(len(times), -1)

    def in_place(s: np.ndarray, rotations_now: np.ndarray, fingers_now: np.ndarray):
        extra = np.stack([np.interp(s, times, flat[:, k]) for k in range(flat.shape[1])],
                         axis=1).reshape(len(s), 15, 3)
        return turning(np.clip(s, 0, 1)).as_matrix() @ rotations_now, fingers_now + extra
    return _Track(start, current, offset, in_place)


def _per_hand(branches, states: dict[str, HandState], context: _Context
              ) -> dict[str, HandState]:
    """parbegin actions plus actions parend: the dominant hand does the first branch,
    the other hand the second, at the same time. The other hand's branch is made as if
    it were the dominant hand's mirror image (names mirrored), then mirrored back."""
    right = context.scratch(symmetry=())
    right_end = _run_actions(branches[0], {"right": states["right"].copy()}, right)["right"]
    left = context.scratch(symmetry=())
    left.initial_site = None if context.initial_site is None else _mirror_anchor(
        context.initial_site)
    mirrored_end = _run_actions(_mirror_actions(branches[1]),
                                {"right": _mirror_state(states["left"])}, left)["right"]
    if any(p.head is not None for p in right.phases + left.phases):
        raise UnsupportedNotation("a head movement inside a per-hand group")
    left_phases = [_Phase(p.frames, {"left": _mirror_track(p.tracks["right"])}, p.ease)
                   for p in left.phases]
    ends = {"right": right_end, "left": _mirror_state(mirrored_end)}
    count = max(len(right.phases), len(left_phases))
    for index in range(count):
        tracks: dict[str, _Track] = {}
        frames = 2
        for side, phases, end in (("right", right.phases, right_end),
                                  ("left", left_phases, ends["left"])):
            if index < len(phases):
                tracks[side] = phases[index].tracks[side]
                frames = max(frames, phases[index].frames)
            else:
                tracks[side] = _Track(end, end)
        ease = (right.phases if index < len(right.phases) else left_phases)[index].ease
        context.phases.append(_Phase(frames, tracks, ease))
    return ends


_MIRRORED_LETTERS = str.maketrans("lr", "rl")
_DIRECTED = (Kind.STRAIGHT_MOVE, Kind.CIRCLE, Kind.EXTENDED_FINGER, Kind.PALM, Kind.ARC,
             Kind.CLOCK)


def _mirror_name(name: str) -> str:
    kind = SYMBOLS[BY_NAME[name]].kind
    if name in ("stircw", "stirccw"):
        return "stirccw" if name == "stircw" else "stircw"
    if kind not in _DIRECTED:
        return name
    for prefix in ("extfinger", "palm", "move", "circle", "arc", "clock"):
        if name.startswith(prefix) and name != prefix + "full":
            mirrored_name = prefix + name[len(prefix):].translate(_MIRRORED_LETTERS)
            return mirrored_name if mirrored_name in BY_NAME else name
    return name


def _mirror_actions(actions: Sequence[Action]) -> tuple[Action, ...]:
    """Actions with left and right swapped in every direction they name."""
    out: list[Action] = []
    for action in actions:
        if isinstance(action, Movement):
            out.append(Movement(tuple(_mirror_name(n) for n in action.names)))
        else:
            out.append(ActionGroup(action.kind, tuple(_mirror_actions(b)
                                                      for b in action.branches)))
    return tuple(out)


def _mirror_track(track: _Track) -> _Track:
    offset = None if track.offset is None else (
        lambda s, f=track.offset: f(s) * _MIRROR[None])

    def mirrored_local(s, rotations, fingers, f=track.local):
        turned, bent = f(s, mirrored(rotations), mirror_hand_pose(fingers))
        return mirrored(np.asarray(turned)), mirror_hand_pose(bent)

    local = mirrored_local if track.local is not None else None
    return _Track(_mirror_state(track.start), _mirror_state(track.end), offset, local)


def _size(names: Sequence[str], context: _Context, kind: str) -> float:
    timing = context.timing
    small, normal, large = ((timing.move_small, timing.move_normal, timing.move_large)
                            if kind == "move" else
                            (timing.circle_small, timing.circle_normal, timing.circle_large))
    if "smallmod" in names:
        return small * context.anchors.reach
    if "largemod" in names:
        return large * context.anchors.reach
    return normal * context.anchors.reach


def _duration(names: Sequence[str], seconds: float, context: _Context) -> int:
    if "fast" in names:
        seconds /= context.timing.fast
    if "slow" in names:
        seconds /= context.timing.slow
    return context.timing.frames(seconds)


_MIRROR = np.array([-1.0, 1.0, 1.0])


def _other_hand_vector(vector: np.ndarray, context: _Context) -> np.ndarray:
    """The non-dominant hand's copy of a movement vector under the sign's symmetry."""
    if "symmlr" in context.symmetry:
        vector = vector * _MIRROR
    if "alternatingmotion" in context.symmetry:
        vector = -vector
    return vector


def _unsupported_modifiers(names: Sequence[str]) -> None:
    for name in names:
        kind = SYMBOLS[BY_NAME[name]].kind
        if kind is Kind.CLOCK:
            raise UnsupportedNotation("clock positions of a circle")
        if kind is Kind.SIZE_CHANGE:
            raise UnsupportedNotation(f"size change ({name})")
        if name in ("cross", "behind"):
            raise UnsupportedNotation(f"contact {name}")
        if name in ("tense", "rest", "nonipsi"):
            raise UnsupportedNotation(f"{kind.value} {name}")
        if kind is Kind.COREFERENCE:
            raise UnsupportedNotation("coreference (coreftag/corefref)")
        if kind is Kind.WRIST_SITE or name == "upperarm":
            raise UnsupportedNotation(f"{kind.value} {name}")
        if kind is Kind.NONDOMINANT or kind is Kind.SYMMETRY or kind is Kind.ETC:
            raise UnsupportedNotation(f"{name} inside a movement")


def _movement(movement: Movement, states: dict[str, HandState],
              context: _Context) -> dict[str, HandState]:
    names = movement.names
    _unsupported_modifiers(names)
    kind = movement.kind
    if kind is not None and kind is not Kind.REPLACE:
        before = names[:names.index(movement.head)]
        if before == ("head",):
            return _head_movement(Movement(names[1:]), states, context)
        if any(SYMBOLS[BY_NAME[n]].kind in (Kind.BODY_SITE, Kind.NEUTRAL_SPACE) for n in before):
            # A location written before the movement: the hand goes there first.
            states = _move_to_location(before, states, context, context.timing.move)
            return _movement(Movement(names[len(before):]), states, context)
    if kind is None:
        # Modifiers or a target location without a head: a move to that location.
        return _move_to_location(names, states, context, seconds=context.timing.move)
    if kind is Kind.STRAIGHT_MOVE:
        return _straight(movement, states, context)
    if kind is Kind.CIRCLE:
        return _circle(movement, states, context)
    if kind is Kind.LOCAL_MOVE:
        return _local(movement, states, context)
    if kind is Kind.REPLACE:
        return _replace(movement, states, context)
    if kind is Kind.NO_MOTION:
        frames = _duration(names, context.timing.hold, context)
        context.phases.append(_Phase(frames, {s: _Track(st, st) for s, st in states.items()}))
        return states
    raise UnsupportedNotation(f"{kind.value} ({movement.head})")


#: How far the head turns for a written head movement (radians), by size.
HEAD_TURN = {"smallmod": 0.12, "": 0.22, "largemod": 0.35}


def _head_movement(movement: Movement, states: dict[str, HandState],
                   context: _Context) -> dict[str, HandState]:
    """``head`` then a straight movement: the head tilts that way (its top moves in the
    direction written; down is a nod forward, up a tilt back); the hands hold."""
    if movement.kind is not Kind.STRAIGHT_MOVE:
        raise UnsupportedNotation(f"head movement {movement.head}")
    way = direction(movement.head)
    # The top of the head moves sideways with the direction; down/up become a nod
    # forward/back.
    top_way = np.array([way[0], 0.0, way[2] - way[1]])
    if np.linalg.norm(top_way) < 1e-6:
        raise UnsupportedNotation(f"head movement {movement.head}")
    axis = np.cross([0.0, 1.0, 0.0], top_way / np.linalg.norm(top_way))
    size = next((m for m in ("smallmod", "largemod") if m in movement.names), "")
    end = context.head + axis / np.linalg.norm(axis) * HEAD_TURN[size]
    frames = _duration(movement.names, context.timing.move, context)
    context.phases.append(_Phase(frames, {s: _Track(st, st) for s, st in states.items()},
                                 head=(context.head.copy(), end)))
    context.head = end
    return states


def _target(names: Sequence[str], context: _Context
            ) -> tuple[list[str], Anchor | None, float | None, tuple[Part, ...] | None]:
    """A movement's target as written after it: (site names, the body anchor, the
    contact distance, the hand parts named)."""
    sites = [n for n in names if SYMBOLS[BY_NAME[n]].kind in (
        Kind.BODY_SITE, Kind.LATERALITY, Kind.NEUTRAL_SPACE, Kind.BETWEEN)]
    contact = [n for n in names if SYMBOLS[BY_NAME[n]].kind is Kind.CONTACT]
    anchor = _body_anchor(sites, context, "right") if any(
        SYMBOLS[BY_NAME[n]].kind in (Kind.BODY_SITE, Kind.NEUTRAL_SPACE) for n in sites) else None
    parts = _hand_site([n for n in names if SYMBOLS[BY_NAME[n]].kind in (
        Kind.HAND_SITE, Kind.FINGER, Kind.FINGER_PART, Kind.BETWEEN)])
    distance = _contact_distance(contact, context, context.timing.close) if contact else None
    return sites, anchor, distance, parts


def _move_to_location(names: Sequence[str], states: dict[str, HandState],
                      context: _Context, seconds: float,
                      straight: np.ndarray | None = None, offset: Detour | None = None
                      ) -> dict[str, HandState]:
    """A movement (``straight`` vector and sideways ``offset`` path, if any) ending
    where its target says: at a body site, at a part of the other hand, or in contact
    with what the sign started at. The other hand copies the dominant hand's
    displacement under the sign's symmetry, or holds still."""
    frames = _duration(names, seconds, context)
    brushing = "brushing" in names
    if brushing:  # where the hand would touch: the path passes there half way
        names = tuple("touch" if n == "brushing" else n for n in names)
    sites, anchor, distance, parts = _target(names, context)
    two = "left" in states
    # Parts named with a body site, or in a one-handed sign, are the dominant hand's
    # own; alone in a two-handed sign they are the other hand's.
    own_parts = parts if (anchor is not None or not two) else None
    right = states["right"].copy()
    if straight is not None:
        right.position = right.position + straight
    if brushing:
        touched = _touch_point(right, anchor, distance, parts, own_parts, sites, states,
                               context)
        end = states["right"].copy()
        end.position = states["right"].position + (straight if straight is not None else 0.0)
        middle = (states["right"].position + end.position) / 2
        dip = touched.position - middle
        base = offset
        offset = (lambda s, d=dip, b=base: np.sin(np.pi * s)[:, None] * d[None]  # noqa: E731
                  + (b(s) if b is not None else 0.0))
        right = end
    elif anchor is not None:
        if two and context.symmetry:
            anchor = _body_anchor(sites, context, "right", spread=True)
        right = _place(right, "right", anchor, distance if distance is not None
                       else _site_distance(sites, (), context), own_parts, context)
    elif parts is not None and two:
        target = _part_anchor(states["left"], "left", parts, context)
        right = _place(right, "right", target, distance or 0.0, None, context)
    elif distance is not None:
        right = _contact_end(right, distance, states, context, own_parts)
    ends = {"right": right}
    tracks = {"right": _Track(states["right"], right, offset)}
    if two:
        left = states["left"].copy()
        left_offset = None
        if context.symmetry:
            moved = right.position - states["right"].position
            left.position = left.position + _other_hand_vector(moved, context)
            if offset is not None:
                left_offset = lambda s, f=offset: _other_hand_vector(f(s), context)  # noqa: E731
        ends["left"] = left
        tracks["left"] = _Track(states["left"], left, left_offset)
    context.phases.append(_Phase(frames, tracks, "halt" if "halt" in names else True))
    return ends


def _touch_point(right: HandState, anchor: Anchor | None, distance: float | None,
                 parts, own_parts, sites, states: dict[str, HandState],
                 context: _Context) -> HandState:
    """Where a brushing movement touches: the site written, the other hand's part, or
    what the sign started at."""
    if anchor is not None:
        return _place(right, "right", anchor, distance or 0.0, own_parts, context)
    if parts is not None and "left" in states:
        target = _part_anchor(states["left"], "left", parts, context)
        return _place(right, "right", target, distance or 0.0, None, context)
    return _contact_end(right, distance or 0.0, states, context, own_parts)


def _contact_end(end: HandState, distance: float, states: dict[str, HandState],
                 context: _Context, parts: tuple[Part, ...] | None) -> HandState:
    """A movement that ends in contact: with the other hand in a two-handed sign, else
    with the body site the sign started at (``parts``: the dominant hand's part that
    touches, when written)."""
    if "left" in states and context.two_handed and not context.symmetry:
        target = _part_anchor(states["left"], "left", None, context, toward=end)
        return _place(end, "right", target, distance, None, context)
    if "left" in states and context.symmetry and context.initial_site is None:
        # A symmetric sign's hands meet in the middle (the other hand mirrors this one)
        centre = end.position + end.rotation @ context.hands.centre_of("right")
        middle = Anchor(np.array([0.0, centre[1], centre[2]]), np.array([-1.0, 0.0, 0.0]))
        return _place(end, "right", middle, distance / 2, parts, context)
    if context.initial_site is None:
        raise UnsupportedNotation("contact at the end of a movement with no site to touch")
    return _place(end, "right", context.initial_site, distance, parts, context)


def _straight(movement: Movement, states: dict[str, HandState],
              context: _Context) -> dict[str, HandState]:
    names = movement.names
    heads = [n for n in names if SYMBOLS[BY_NAME[n]].kind is Kind.STRAIGHT_MOVE]
    vector = np.sum([direction(n) for n in heads], axis=0)
    vector = vector / np.linalg.norm(vector) * _size(names, context, "move")
    offset = _curve(names, vector, context)
    return _move_to_location(names, states, context, context.timing.move, straight=vector,
                             offset=offset)


def _curve(names: Sequence[str], vector: np.ndarray, context: _Context) -> Detour | None:
    """The sideways offset of an arc, a wavy or a zigzag path along ``vector``."""
    length = np.linalg.norm(vector)
    along = vector / length
    arcs = _names_kind(names, Kind.ARC)
    waves = _names_kind(names, Kind.WAVE)
    if len(arcs) > 1 or (arcs and waves):
        raise UnsupportedNotation(f"{' and '.join(arcs + waves)} on one movement")
    ellipses = _names_kind(names, Kind.ELLIPSE)
    if ellipses and not waves:
        raise UnsupportedNotation("an ellipse on a straight movement")
    if not arcs and not waves:
        return None
    if arcs:
        side = direction(arcs[0].replace("arc", ""))
        side = side - (side @ along) * along
        if np.linalg.norm(side) < 1e-6:
            side = np.cross(along, [0.0, 0.0, 1.0])
        side = side / np.linalg.norm(side) * length * 0.3
        return lambda s, v=side: np.sin(np.pi * s)[:, None] * v[None]
    # The wave swings across the path: vertically, or in the ellipse's main direction
    # when one is written with it ("zigzag ellipseh": side to side).
    up = _ELLIPSE_AXES[ellipses[0]] if ellipses else np.array([0.0, 1.0, 0.0])
    side = up - (up @ along) * along
    if np.linalg.norm(side) < 1e-6:
        side = np.array([1.0, 0.0, 0.0])
    side = side / np.linalg.norm(side) * 0.02
    cycles = 3.0
    if waves[0] == "wavy":
        return lambda s, v=side: np.sin(2 * np.pi * cycles * s)[:, None] * v[None]
    return lambda s, v=side: (2 / np.pi * np.arcsin(np.sin(2 * np.pi * cycles * s)))[:, None] * v[None]


#: The main axis of each ellipse (HamNoSys: horizontal, vertical, and the diagonals
#: rising to the signer's right and left), before it is laid into the circle's plane.
_ELLIPSE_AXES = {"ellipseh": np.array([1.0, 0.0, 0.0]), "ellipsev": np.array([0.0, 1.0, 0.0]),
                 "ellipseur": np.array([-1.0, 1.0, 0.0]) / np.sqrt(2),
                 "ellipseul": np.array([1.0, 1.0, 0.0]) / np.sqrt(2)}


def _circle(movement: Movement, states: dict[str, HandState],
            context: _Context) -> dict[str, HandState]:
    names = movement.names
    heads = [n for n in names if SYMBOLS[BY_NAME[n]].kind is Kind.CIRCLE]
    axis = np.sum([direction(n) for n in heads], axis=0)
    axis /= np.linalg.norm(axis)
    radius = _size(names, context, "circle")
    for name in names:
        kind = SYMBOLS[BY_NAME[name]].kind
        if kind in (Kind.BODY_SITE, Kind.CONTACT, Kind.HAND_SITE, Kind.WAVE, Kind.ARC):
            raise UnsupportedNotation(f"{name} on a circular movement")
    # The hand starts at the bottom of the circle (or its side for a horizontal one).
    reference = np.array([0.0, -1.0, 0.0]) if abs(axis[1]) < 0.9 else np.array([0.0, 0.0, 1.0])
    first = reference - (reference @ axis) * axis
    first /= np.linalg.norm(first)
    second = np.cross(axis, first)
    squash = None  # an ellipse: the circle half as wide across its main axis
    ellipse = _names_kind(names, Kind.ELLIPSE)
    if ellipse:
        main = _ELLIPSE_AXES[ellipse[0]]
        main = main - (main @ axis) * axis
        if np.linalg.norm(main) < 1e-6:
            raise UnsupportedNotation(f"{ellipse[0]} across the plane of {heads[0]}")
        main /= np.linalg.norm(main)
        squash = np.cross(axis, main)

    def around(s: np.ndarray) -> np.ndarray:
        """(F, 3) points of the circle (ellipse) about its centre."""
        angle = 2 * np.pi * s
        points = radius * (np.cos(angle)[:, None] * first[None]
                           + np.sin(angle)[:, None] * second[None])
        if squash is not None:
            points = points - 0.5 * (points @ squash)[:, None] * squash[None]
        return points

    start_point = around(np.zeros(1))[0]

    def path(s: np.ndarray) -> np.ndarray:
        return around(s) - start_point

    frames = _duration(names, context.timing.circle, context)
    tracks = {"right": _Track(states["right"], states["right"], path)}
    if "left" in states:
        if context.symmetry:
            mirror = _MIRROR if "symmlr" in context.symmetry else np.ones(3)
            half = 0.5 if "alternatingmotion" in context.symmetry else 0.0
            tracks["left"] = _Track(states["left"], states["left"],
                                    lambda s, m=mirror, h=half: (path((s + h) % 1.0) - path(
                                        np.full_like(s, h))) * m[None])
        else:
            tracks["left"] = _Track(states["left"], states["left"])
    context.phases.append(_Phase(frames, tracks, ease=False))
    return states


def _local(movement: Movement, states: dict[str, HandState],
           context: _Context) -> dict[str, HandState]:
    head = movement.head
    for name in movement.names:
        if SYMBOLS[BY_NAME[name]].kind in (Kind.BODY_SITE, Kind.CONTACT, Kind.HAND_SITE,
                                           Kind.STRAIGHT_MOVE, Kind.ARC, Kind.WAVE):
            raise UnsupportedNotation(f"{name} on a local movement ({head})")
    cycles = context.timing.local_cycles
    amplitude = 0.35 if "smallmod" not in movement.names else 0.2
    if "largemod" in movement.names:
        amplitude = 0.55
    frames = _duration(movement.names, context.timing.local, context)

    def wrist_wave(axis_local: np.ndarray) -> InPlace:
        def local(s: np.ndarray, rotations: np.ndarray, fingers: np.ndarray):
            angles = amplitude * np.sin(2 * np.pi * cycles * s)
            turns = Rotation.from_rotvec(angles[:, None] * axis_local[None]).as_matrix()
            return rotations @ turns, fingers
        return local

    if head == "nodding":
        local = wrist_wave(np.array([0.0, 0.0, 1.0]))      # flexion at the wrist
    elif head == "swinging":
        local = wrist_wave(np.array([0.0, 1.0, 0.0]))      # side to side
    elif head == "twisting":
        local = wrist_wave(np.array([1.0, 0.0, 0.0]))      # about the forearm
    elif head in ("stircw", "stirccw"):
        sign = 1.0 if head == "stircw" else -1.0

        def local(s: np.ndarray, rotations: np.ndarray, fingers: np.ndarray):
            angle = 2 * np.pi * cycles * s * sign
            axes = np.stack([np.zeros_like(s), np.cos(angle), np.sin(angle)], axis=1)
            turns = Rotation.from_rotvec(axes * amplitude * 0.5).as_matrix()
            return rotations @ turns, fingers
    elif head == "fingerplay":
        def local(s: np.ndarray, rotations: np.ndarray, fingers: np.ndarray):
            fingers = np.array(fingers, copy=True)
            for k, finger in enumerate(("index", "middle", "ring", "pinky")):
                base = 3 * HAND_ORDER.index(finger)
                # each finger bends and straightens in turn, a fifth of a cycle apart
                wave = 0.5 * (1 - np.cos(2 * np.pi * (cycles * 1.5 * s - k * 0.2)))
                fingers[:, base:base + 3, 2] += (wave * 0.6)[:, None]
            return rotations, fingers
    else:
        raise UnsupportedNotation(f"local movement {head}")
    tracks = {side: _Track(state, state, None, local) for side, state in states.items()
              if side == "right" or context.symmetry}
    for side, state in states.items():
        tracks.setdefault(side, _Track(state, state))
    context.phases.append(_Phase(frames, tracks, ease=False))
    return states


def _configuration_from_names(names: Sequence[str]) -> tuple[Handshape | None,
                                                              Orientation | None]:
    """A handshape and/or orientation written after ``replace``."""
    shape_names = [n for n in names if SYMBOLS[BY_NAME[n]].kind in (
        Kind.HANDSHAPE, Kind.THUMB, Kind.BEND, Kind.FINGER, Kind.FINGER_PART)
        or (n == "between")]
    shape = None
    if any(SYMBOLS[BY_NAME[n]].kind is Kind.HANDSHAPE for n in shape_names):
        text = " ".join(shape_names)
        if text.endswith(" between"):
            text = text[: -len(" between")]
        from engine.notation.handshapes import handshape_from_names

        shape = handshape_from_names(text)
    fingers = [n for n in names if SYMBOLS[BY_NAME[n]].kind is Kind.EXTENDED_FINGER]
    palms = [n for n in names if SYMBOLS[BY_NAME[n]].kind is Kind.PALM]
    orientation = None
    if fingers or palms:
        if "orirelative" in names:
            raise UnsupportedNotation("relative orientation (orirelative)")
        orientation = Orientation(tuple(fingers[:2]) if fingers else (), tuple(palms[:2])
                                  if palms else None)
    return shape, orientation


def _minimal_turn(source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """(3, 3) the smallest rotation taking unit ``source`` to unit ``target``."""
    axis = np.cross(source, target)
    sine, cosine = np.linalg.norm(axis), float(source @ target)
    if sine < 1e-9:
        if cosine > 0:
            return np.eye(3)
        ortho = np.cross(source, [1.0, 0.0, 0.0])
        if np.linalg.norm(ortho) < 1e-6:
            ortho = np.cross(source, [0.0, 1.0, 0.0])
        return Rotation.from_rotvec(np.pi * ortho / np.linalg.norm(ortho)).as_matrix()
    return Rotation.from_rotvec(axis / sine * np.arctan2(sine, cosine)).as_matrix()


def _new_rotation(rotation: np.ndarray, orientation: Orientation) -> np.ndarray:
    """The dominant (right) hand's rotation after a change of orientation. Written in
    full it is absolute; a finger direction alone turns the hand the least way to it;
    a palm alone turns it about its finger direction."""
    if orientation.extended_finger and orientation.palm:
        return _orientation_rotation(orientation, "right")
    finger_now = rotation @ np.array([-1.0, 0.0, 0.0])
    if orientation.extended_finger:
        finger = combined(orientation.extended_finger)
        return _minimal_turn(finger_now, finger) @ rotation
    palm = palm_vector(finger_now, combined(orientation.palm))
    try:
        return wrist_rotation(finger_now, palm, "right")
    except ValueError as error:
        raise UnsupportedNotation("palm orientation along the finger direction") from error


def _turned(state: HandState, side: str, orientation: Orientation,
            symmetric: bool) -> np.ndarray:
    """A hand's new rotation: the right hand's from the notation, the left hand's as
    its mirror image (written once for both hands in a symmetric sign)."""
    if side == "right":
        return _new_rotation(state.rotation, orientation)
    if symmetric:
        return mirrored(_new_rotation(mirrored(state.rotation), orientation))
    return state.rotation


def _replace(movement: Movement, states: dict[str, HandState],
             context: _Context) -> dict[str, HandState]:
    rest = [n for n in movement.names if n != "replace"]
    shape, orientation = _configuration_from_names(rest)
    if shape is None and orientation is None:
        raise UnsupportedNotation("replace without a new handshape or orientation")
    frames = _duration(movement.names, context.timing.replace, context)
    ends = {}
    for side, state in states.items():
        end = state.copy()
        if side == "left" and not context.symmetry:
            ends[side] = end
            continue
        if shape is not None:
            end.fingers = _shape_pose(shape, side, context.body)
            end.shape = shape
        if orientation is not None:
            end.rotation = _turned(state, side, orientation, bool(context.symmetry))
        # Keep the hand where it was: the hand centre stays put as it turns.
        centre = context.hands.centre_of(side)
        end.position = state.position + state.rotation @ centre - end.rotation @ centre
        ends[side] = end
    _move_targets_after_replace(rest, ends, states, context)
    context.phases.append(_Phase(frames, {s: _Track(states[s], ends[s]) for s in states}))
    return ends


def _move_targets_after_replace(names, ends, states, context) -> None:
    sites = [n for n in names if SYMBOLS[BY_NAME[n]].kind in (Kind.BODY_SITE, Kind.CONTACT,
                                                                 Kind.NEUTRAL_SPACE)]
    if sites:
        _, anchor, distance, _ = _target(names, context)
        if anchor is not None:
            ends["right"] = _place(ends["right"], "right", anchor, distance if distance
                                   is not None else context.timing.unspecified
                                   * context.anchors.reach, None, context)


_MOVING_KINDS = frozenset({Kind.STRAIGHT_MOVE, Kind.CIRCLE, Kind.LOCAL_MOVE, Kind.REPETITION,
                           Kind.BODY_SITE, Kind.CONTACT, Kind.CROSS_MOVE})


def _replace_per_hand(group: ActionGroup, states: dict[str, HandState],
                      context: _Context) -> dict[str, HandState]:
    if len(group.branches) != 2 or "left" not in states:
        raise UnsupportedNotation("replace with a group that is not one configuration per hand")
    ends = {}
    for side, branch in zip(("right", "left"), group.branches):
        names = [n for action in branch if isinstance(action, Movement) for n in action.names]
        if any(isinstance(action, ActionGroup) for action in branch):
            raise UnsupportedNotation("nested groups in a per-hand replace")
        moving = [n for n in names if SYMBOLS[BY_NAME[n]].kind in _MOVING_KINDS]
        if moving:
            raise UnsupportedNotation(f"{moving[0]} inside a per-hand replace")
        shape, orientation = _configuration_from_names(names)
        end = states[side].copy()
        if shape is not None:
            end.fingers, end.shape = _shape_pose(shape, side, context.body), shape
        if orientation is not None:
            end.rotation = _absolute_rotation(states[side], orientation, side)
        centre = context.hands.centre_of(side)
        end.position = states[side].position + states[side].rotation @ centre \
            - end.rotation @ centre
        ends[side] = end
    context.phases.append(_Phase(context.timing.frames(context.timing.replace),
                                 {s: _Track(states[s], ends[s]) for s in states}))
    return ends


def _absolute_rotation(state: HandState, orientation: Orientation, side: str) -> np.ndarray:
    """A hand's own written orientation in a per-hand replace (absolute directions, as
    in ``parbegin``): the left hand's is read on its mirror image."""
    if orientation.extended_finger and orientation.palm:
        return _orientation_rotation(orientation, side)
    if side == "right":
        return _new_rotation(state.rotation, orientation)
    mirrored_orientation = Orientation(
        tuple(_mirror_name(n) for n in orientation.extended_finger),
        tuple(_mirror_name(n) for n in orientation.palm) if orientation.palm else None)
    return mirrored(_new_rotation(mirrored(state.rotation), mirrored_orientation))


def _mirror_state(state: HandState) -> HandState:
    """The same hand state mirrored across the midline, as the other hand."""
    return HandState(state.position * _MIRROR, mirrored(state.rotation),
                     mirror_hand_pose(state.fingers), state.shape)


def _repeat(movement: Movement, last: list[_Phase], states: dict[str, HandState],
            context: _Context) -> dict[str, HandState]:
    """A repetition of the phases of the action before it: from the start again (after
    returning there, head included), back the way it came, or on from where it ended;
    "several" makes it three times in all."""
    if not last:
        raise UnsupportedNotation("repetition with nothing before it")
    kind = movement.head
    times = 2 if "several" in kind else 1
    head_turns = [p.head for p in last if p.head is not None]
    for _ in range(times):
        if kind in ("repeatfromstart", "repeatfromstartseveral"):
            first = last[0].tracks
            back = {s: _Track(states[s], first[s].start if s in first else states[s])
                    for s in states}
            head_back = (context.head.copy(), head_turns[0][0]) if head_turns else None
            context.phases.append(_Phase(context.timing.frames(context.timing.repeat_return),
                                         back, head=head_back))
            context.phases.extend(last)
            states = {s: (last[-1].tracks[s].end if s in last[-1].tracks else states[s])
                      for s in states}
            if head_turns:
                context.head = head_turns[-1][1].copy()
        elif kind == "repeatreverse":
            for phase in reversed(last):
                tracks = {s: _Track(t.end, t.start,
                                    (lambda x, f=t.offset: f(1 - x)) if t.offset else None,
                                    _reversed(t.local)) for s, t in phase.tracks.items()}
                turn = None if phase.head is None else (phase.head[1], phase.head[0])
                context.phases.append(_Phase(phase.frames, tracks, phase.ease, turn))
            states = {s: (last[0].tracks[s].start if s in last[0].tracks else states[s])
                      for s in states}
            if head_turns:
                context.head = head_turns[0][0].copy()
        else:  # repeatcontinue(several): the same movement again from where it ended
            if head_turns:
                raise UnsupportedNotation("a head movement repeated onward (repeatcontinue)")
            for phase in last:
                tracks = {}
                for s, t in phase.tracks.items():
                    shift = states[s].position - t.start.position
                    end = t.end.copy()
                    end.position = t.end.position + shift
                    tracks[s] = _Track(states[s], end, t.offset, t.local)
                context.phases.append(_Phase(phase.frames, tracks, phase.ease))
                states = {s: tracks[s].end if s in tracks else states[s] for s in states}
    return states


def _reversed(change: "InPlace | None") -> "InPlace | None":
    """An in-place change played backwards."""
    if change is None:
        return None
    return lambda s, rotations, fingers: change(1.0 - s, rotations, fingers)


# ----------------------------------------------------------------- frames
def _smooth(s: np.ndarray) -> np.ndarray:
    return s * s * (3 - 2 * s)


def _ease(s: np.ndarray, ease: "bool | str") -> np.ndarray:
    """Progress along a phase: eased in and out (True), even (False), or eased in and
    stopped short ("halt": the movement is fastest where it ends)."""
    if ease == "halt":
        return s * s
    return _smooth(s) if ease else s


def _sample(phase: _Phase, side: str, fallback: HandState
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(positions (F, 3), rotations (F, 3, 3), fingers (F, 15, 3)) of one phase, frames
    after its start up to and including its end."""
    track = phase.tracks.get(side, _Track(fallback, fallback))
    s = np.arange(1, phase.frames + 1, dtype=np.float64) / phase.frames
    eased = _ease(s, phase.ease)
    positions = (1 - eased)[:, None] * track.start.position + eased[:, None] * track.end.position
    if track.offset is not None:
        positions = positions + track.offset(eased)
    rotations = Slerp([0.0, 1.0], Rotation.from_matrix(
        np.stack([track.start.rotation, track.end.rotation])))(eased).as_matrix()
    start_q = Rotation.from_rotvec(track.start.fingers)
    delta = (start_q.inv() * Rotation.from_rotvec(track.end.fingers)).as_rotvec()
    fingers = np.stack([(start_q * Rotation.from_rotvec(delta * e)).as_rotvec()
                        for e in eased]) if not np.allclose(delta, 0) else \
        np.repeat(track.start.fingers[None], len(s), 0)
    if track.local is not None:
        rotations, fingers = track.local(s, rotations, fingers)
    return positions, np.asarray(rotations), np.asarray(fingers)


def _body_index(joint: str) -> int:
    return JOINT_INDEX[joint] - 1


def _rest_states(body) -> dict[str, HandState]:
    """Each hand as it hangs at rest (``_rest_like``): where a sign rises from and
    relaxes to, and where a hand first used in a compound's later part waits."""
    rest = _rest_like(Motion.zeros(1))
    out = body.forward(rest)
    states = {}
    for side in ("left", "right"):
        wrist = JOINT_INDEX[f"{side}_wrist"]
        states[side] = HandState(np.asarray(out.joints[0, wrist], np.float64),
                                 np.asarray(out.joint_rotations[0, wrist], np.float64),
                                 np.asarray(getattr(rest, f"{side}_hand_pose")[0], np.float64),
                                 None)
    return states


def _render(phases: list[_Phase], text: str, body, timing: NotationTiming,
            anchors: BodyAnchors, rest: dict[str, HandState]) -> SignMotion:
    sides = sorted({side for phase in phases for side in phase.tracks})
    tracks: dict[str, list[tuple[np.ndarray, np.ndarray, np.ndarray]]] = {s: [] for s in sides}
    key_frames = []
    current = {s: rest[s] for s in sides}  # every sign starts at rest
    # the first posture itself
    for side in sides:
        state = current[side]
        tracks[side].append((state.position[None], state.rotation[None], state.fingers[None]))
    count = 1
    key_frames.append(0)
    head = [np.zeros((1, 3))]
    head_now = np.zeros(3)
    for phase in phases:
        for side in sides:
            sampled = _sample(phase, side, current[side])
            tracks[side].append(sampled)
            if side in phase.tracks:
                current[side] = phase.tracks[side].end
        if phase.head is not None:
            s = _smooth(np.arange(1, phase.frames + 1) / phase.frames)[:, None]
            head.append((1 - s) * phase.head[0] + s * phase.head[1])
            head_now = phase.head[1]
        else:
            head.append(np.repeat(head_now[None], phase.frames, 0))
        count += phase.frames
        key_frames.append(count - 1)
    solver = ArmSolver(body.rest_joints, anchors.torso)
    num = count
    body_pose = np.zeros((num, 21, 3))
    head_turn = np.concatenate(head)
    # The neck takes a third of a head movement, the head the rest.
    body_pose[:, _body_index("neck")] = head_turn / 3
    body_pose[:, _body_index("head")] = head_turn * 2 / 3
    hands = {"left": np.zeros((num, 15, 3)), "right": np.zeros((num, 15, 3))}
    for side in ("left", "right"):
        if side not in sides:  # not signing: hangs at rest
            body_pose[:, _body_index(f"{side}_shoulder"), 2] = \
                ARM_DOWN_RADIANS * (1 if side == "right" else -1)
            hands[side] = np.repeat(rest[side].fingers[None], num, 0)
            continue
        positions = np.concatenate([t[0] for t in tracks[side]])
        rotations = np.concatenate([t[1] for t in tracks[side]])
        fingers = np.concatenate([t[2] for t in tracks[side]])
        arm, _ = solver.solve(side, positions, rotations)
        body_pose[:, _body_index(f"{side}_shoulder")] = arm.shoulder
        body_pose[:, _body_index(f"{side}_elbow")] = arm.elbow
        body_pose[:, _body_index(f"{side}_wrist")] = arm.wrist
        hands[side] = fingers
    signing = Motion.zeros(num, fps=timing.fps).replace(
        body_pose=body_pose.astype(np.float32),
        left_hand_pose=hands["left"].astype(np.float32),
        right_hand_pose=hands["right"].astype(np.float32))

    return SignMotion(signing, tuple(key_frames), text)


def _rest_like(frame: Motion) -> Motion:
    """Both arms down and the fingers relaxed (a little curled): where a sign starts
    and ends."""
    relaxed = np.zeros((1, 15, 3), np.float32)
    for finger in range(4):
        relaxed[0, 3 * finger:3 * finger + 3, 2] = (0.25, 0.2, 0.1)
    return arms_down(frame).replace(right_hand_pose=relaxed,
                                    left_hand_pose=mirror_hand_pose(relaxed))


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
