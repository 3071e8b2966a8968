"""One written movement as a phase: straight (with an arc, wavy or zigzag path),
toward a target (a site, the other hand, contact, brushing past), a circle or
ellipse, a local movement in place (nodding, swinging, twisting, stirring, finger
play), a head movement, or a hold; ``run_movement`` picks which."""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.spatial.transform import Rotation

from engine.notation.anchors import Anchor
from engine.notation.configuration_change import replace_configuration
from engine.notation.hamnosys import Movement
from engine.notation.hand_parts import Part
from engine.notation.handshapes import HAND_ORDER
from engine.notation.locations import (
    hand_part_anchor, location_anchor, movement_target, place_hand, site_distance,
)
from engine.notation.mirroring import MIRROR
from engine.notation.phases import (
    Detour, HandState, InPlace, Phase, SynthesisContext, Track, UnsupportedNotation,
    duration_frames,
)
from engine.notation.placement import direction
from engine.notation.symbols import BY_NAME, SYMBOLS, Kind


def _names_kind(names: Sequence[str], *kinds: Kind) -> list[str]:
    return [n for n in names if SYMBOLS[BY_NAME[n]].kind in kinds]


def _size(names: Sequence[str], context: SynthesisContext, kind: str) -> float:
    timing = context.timing
    small, normal, large = ((timing.move_small, timing.move_normal, timing.move_large)
                            if kind == "move" else
                            (timing.circle_small, timing.circle_normal, timing.circle_large))
    if "smallmod" in names:
        return small * context.anchors.reach
    if "largemod" in names:
        return large * context.anchors.reach
    return normal * context.anchors.reach


def _other_hand_vector(vector: np.ndarray, context: SynthesisContext) -> np.ndarray:
    """The non-dominant hand's copy of a movement vector under the sign's symmetry."""
    if "symmlr" in context.symmetry:
        vector = vector * MIRROR
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


def run_movement(movement: Movement, states: dict[str, HandState],
                 context: SynthesisContext) -> dict[str, HandState]:
    """One movement as written (a path, a local movement, a replace, a hold, or a move to
    a location), appended to ``context.phases``; returns the hands' states at its end."""
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
            return run_movement(Movement(names[len(before):]), states, context)
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
        return replace_configuration(movement, states, context)
    if kind is Kind.NO_MOTION:
        frames = duration_frames(names, context.timing.hold, context)
        context.phases.append(Phase(frames, {s: Track(st, st) for s, st in states.items()}))
        return states
    raise UnsupportedNotation(f"{kind.value} ({movement.head})")


#: How far the head turns for a written head movement (radians), by size.
HEAD_TURN = {"smallmod": 0.12, "": 0.22, "largemod": 0.35}


def _head_movement(movement: Movement, states: dict[str, HandState],
                   context: SynthesisContext) -> dict[str, HandState]:
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
    frames = duration_frames(movement.names, context.timing.move, context)
    context.phases.append(Phase(frames, {s: Track(st, st) for s, st in states.items()},
                                head=(context.head.copy(), end)))
    context.head = end
    return states


def _move_to_location(names: Sequence[str], states: dict[str, HandState],
                      context: SynthesisContext, seconds: float,
                      straight: np.ndarray | None = None, offset: Detour | None = None
                      ) -> dict[str, HandState]:
    """A movement (``straight`` vector and sideways ``offset`` path, if any) ending
    where its target says: at a body site, at a part of the other hand, or in contact
    with what the sign started at. The other hand copies the dominant hand's
    displacement under the sign's symmetry, or holds still."""
    frames = duration_frames(names, seconds, context)
    brushing = "brushing" in names
    if brushing:  # where the hand would touch: the path passes there half way
        names = tuple("touch" if n == "brushing" else n for n in names)
    sites, anchor, distance, parts = movement_target(names, context)
    two = "left" in states
    # Parts named with a body site, or in a one-handed sign, are the dominant hand's
    # own; alone in a two-handed sign they are the other hand's.
    own_parts = parts if (anchor is not None or not two) else None
    right = states["right"].copy()
    right.against_other = False  # unless it ends at the other hand (below)
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
            anchor = location_anchor(sites, context, "right", spread=True)
        right = place_hand(right, "right", anchor, distance if distance is not None
                           else site_distance(sites, (), context), own_parts, context)
    elif parts is not None and two and context.symmetry:
        # Both hands move (the other mirrors this one): the parts meet in the middle.
        # Aimed at where the other hand starts, the two would pass through each other.
        right = _meet_in_middle(right, distance or 0.0, None, context)
    elif parts is not None and two:
        target = hand_part_anchor(states["left"], "left", parts, context)
        right = place_hand(right, "right", target, distance or 0.0, None, context)
        right.against_other = True
    elif distance is not None:
        right = _contact_end(right, distance, states, context, own_parts)
    ends = {"right": right}
    tracks = {"right": Track(states["right"], right, offset)}
    if two:
        left = states["left"].copy()
        left_offset = None
        if context.symmetry:
            moved = right.position - states["right"].position
            left.position = left.position + _other_hand_vector(moved, context)
            if offset is not None:
                left_offset = lambda s, f=offset: _other_hand_vector(f(s), context)  # noqa: E731
        ends["left"] = left
        tracks["left"] = Track(states["left"], left, left_offset)
    context.phases.append(Phase(frames, tracks, "halt" if "halt" in names else True))
    return ends


def _touch_point(right: HandState, anchor: Anchor | None, distance: float | None,
                 parts, own_parts, sites, states: dict[str, HandState],
                 context: SynthesisContext) -> HandState:
    """Where a brushing movement touches: the site written, the other hand's part, or
    what the sign started at."""
    if anchor is not None:
        return place_hand(right, "right", anchor, distance or 0.0, own_parts, context)
    if parts is not None and "left" in states:
        target = hand_part_anchor(states["left"], "left", parts, context)
        return place_hand(right, "right", target, distance or 0.0, None, context)
    return _contact_end(right, distance or 0.0, states, context, own_parts)


def _contact_end(end: HandState, distance: float, states: dict[str, HandState],
                 context: SynthesisContext, parts: tuple[Part, ...] | None) -> HandState:
    """A movement that ends in contact: with the other hand in a two-handed sign, else
    with the body site the sign started at (``parts``: the dominant hand's part that
    touches, when written)."""
    if "left" in states and context.two_handed and not context.symmetry:
        target = hand_part_anchor(states["left"], "left", None, context, toward=end)
        placed = place_hand(end, "right", target, distance, None, context)
        placed.against_other = True
        return placed
    if "left" in states and context.symmetry and context.initial_site is None:
        return _meet_in_middle(end, distance, parts, context)
    if context.initial_site is None:
        raise UnsupportedNotation("contact at the end of a movement with no site to touch")
    return place_hand(end, "right", context.initial_site, distance, parts, context)


def _meet_in_middle(end: HandState, distance: float, parts: tuple[Part, ...] | None,
                    context: SynthesisContext) -> HandState:
    """The dominant hand of a symmetric sign placed with its part (``parts``, or the
    part facing the midline) ``distance / 2`` from the body's midline: the other hand
    mirrors it, so the two meet ``distance`` apart."""
    centre = end.position + end.rotation @ context.hands.centre_of("right")
    middle = Anchor(np.array([0.0, centre[1], centre[2]]), np.array([-1.0, 0.0, 0.0]))
    placed = place_hand(end, "right", middle, distance / 2, parts, context)
    placed.against_other = True
    return placed


def _straight(movement: Movement, states: dict[str, HandState],
              context: SynthesisContext) -> dict[str, HandState]:
    names = movement.names
    heads = [n for n in names if SYMBOLS[BY_NAME[n]].kind is Kind.STRAIGHT_MOVE]
    vector = np.sum([direction(n) for n in heads], axis=0)
    vector = vector / np.linalg.norm(vector) * _size(names, context, "move")
    offset = _curve(names, vector, context)
    return _move_to_location(names, states, context, context.timing.move, straight=vector,
                             offset=offset)


def _curve(names: Sequence[str], vector: np.ndarray, context: SynthesisContext) -> Detour | None:
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
    return lambda s, v=side: (2 / np.pi * np.arcsin(np.sin(2 * np.pi * cycles * s)))[:, None] \
        * v[None]


#: The main axis of each ellipse (HamNoSys: horizontal, vertical, and the diagonals
#: rising to the signer's right and left), before it is laid into the circle's plane.
_ELLIPSE_AXES = {"ellipseh": np.array([1.0, 0.0, 0.0]), "ellipsev": np.array([0.0, 1.0, 0.0]),
                 "ellipseur": np.array([-1.0, 1.0, 0.0]) / np.sqrt(2),
                 "ellipseul": np.array([1.0, 1.0, 0.0]) / np.sqrt(2)}


def _circle(movement: Movement, states: dict[str, HandState],
            context: SynthesisContext) -> dict[str, HandState]:
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

    frames = duration_frames(names, context.timing.circle, context)
    tracks = {"right": Track(states["right"], states["right"], path)}
    if "left" in states:
        if context.symmetry:
            mirror = MIRROR if "symmlr" in context.symmetry else np.ones(3)
            half = 0.5 if "alternatingmotion" in context.symmetry else 0.0
            tracks["left"] = Track(states["left"], states["left"],
                                   lambda s, m=mirror, h=half: (path((s + h) % 1.0) - path(
                                        np.full_like(s, h))) * m[None])
        else:
            tracks["left"] = Track(states["left"], states["left"])
    context.phases.append(Phase(frames, tracks, ease=False))
    return states


def _local(movement: Movement, states: dict[str, HandState],
           context: SynthesisContext) -> dict[str, HandState]:
    head = movement.head
    for name in movement.names:
        if SYMBOLS[BY_NAME[name]].kind in (Kind.BODY_SITE, Kind.CONTACT, Kind.HAND_SITE,
                                           Kind.STRAIGHT_MOVE, Kind.ARC, Kind.WAVE):
            raise UnsupportedNotation(f"{name} on a local movement ({head})")
    cycles = context.timing.local_cycles
    amplitude = 0.35 if "smallmod" not in movement.names else 0.2
    if "largemod" in movement.names:
        amplitude = 0.55
    frames = duration_frames(movement.names, context.timing.local, context)

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
    tracks = {side: Track(state, state, None, local) for side, state in states.items()
              if side == "right" or context.symmetry}
    for side, state in states.items():
        tracks.setdefault(side, Track(state, state))
    context.phases.append(Phase(frames, tracks, ease=False))
    return states
