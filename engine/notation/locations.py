"""Where a hand goes: the anchor of a written location (body sites, neutral space,
a part of the other hand), the distance its contact asks for (touch, close,
interlock), and the hand placed there with the right part facing it."""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from engine.notation.anchors import HEAD_SITES, Anchor
from engine.notation.hand_parts import Part, hand_site, part_offset
from engine.notation.phases import HandState, SynthesisContext, UnsupportedNotation
from engine.notation.symbols import BY_NAME, SYMBOLS, Kind

_OTHER = {"right": "left", "left": "right"}
#: How far (metres) interlocking hands reach into each other.
INTERLOCK_DEPTH = 0.03


def contact_distance(contact: Sequence[str], context: SynthesisContext, default: float) -> float:
    """Metres between a hand part and what it is at: what the last ``contact`` written
    asks for, or ``default`` (a fraction of the reach) without one."""
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


def location_anchor(names: Sequence[str], context: SynthesisContext, side: str,
                    spread: bool = False, written_from: str | None = None) -> Anchor | None:
    """The anchor of a run of location names (sites, laterality, between) or None when
    it names no body site. ``spread``: a site written without laterality is taken at
    the hand's own side of it (each hand of a symmetric sign at its own side).
    ``written_from``: the hand whose sides the written laterality names (default
    ``side``). A mirrored hand reads its laterality from its own side; the
    non-dominant hand's own location in a location pair is written from the signer's
    (the dominant hand's): "lrbeside chest" there is beside the chest on the
    non-dominant side (ZIMMERMANN, EINLADEN: read from the left hand, it put that hand
    beside the right of the chest, the arm through the trunk)."""
    written_from = written_from or side
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
                written_from if after else _OTHER[written_from])
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


def place_hand(state: HandState, side: str, anchor: Anchor, distance: float,
               parts: Sequence[Part] | None, context: SynthesisContext) -> HandState:
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
    offset, normal = part_offset(hands, parts, state.fingers, side)
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


def site_distance(names: Sequence[str], contact: Sequence[str], context: SynthesisContext) -> float:
    """The distance a contact asks for; without one, the unspecified distance of the
    region (closer at the head than at the trunk)."""
    default = (context.timing.unspecified_head if any(n in HEAD_SITES for n in names)
               else context.timing.unspecified)
    return contact_distance(contact, context, default)


def meet_hands(states: dict[str, HandState], point: np.ndarray, gap: float,
               context: SynthesisContext) -> None:
    """Both hands at ``point`` from either side, the parts facing each other
    ``gap`` metres apart (0: touching)."""
    states["right"] = place_hand(states["right"], "right", Anchor(point, np.array([-1.0, 0, 0])),
                                 gap / 2, None, context)
    states["left"] = place_hand(states["left"], "left", Anchor(point, np.array([1.0, 0, 0])),
                                gap / 2, None, context)
    for side in ("right", "left"):
        states[side].against_other = True


def neutral_anchor(side: str, context: SynthesisContext, two: bool) -> Anchor:
    """Where hand ``side`` is in neutral space: in front of the body, a little to its own
    side (further apart when ``two`` hands sign)."""
    lateral = 0.09 if two else 0.05
    x = -lateral if side == "right" else lateral
    return Anchor(context.anchors.neutral + np.array([x, 0.0, 0.0]), np.array([0.0, 0.0, 1.0]))


def centre_at(state: HandState, side: str, anchor: Anchor, context: SynthesisContext) -> HandState:
    """The hand's centre at ``anchor`` (neutral space has no surface to touch)."""
    centre = context.hands.centre_of(side)
    placed = state.copy()
    placed.position = anchor.position - state.rotation @ centre
    return placed


def hand_part_anchor(state: HandState, side: str, parts: Sequence[Part] | None,
                     context: SynthesisContext, toward: HandState | None = None) -> Anchor:
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
    offset, normal = part_offset(hands, parts, state.fingers, side)
    return Anchor(state.position + state.rotation @ offset, state.rotation @ normal)


def movement_target(names: Sequence[str], context: SynthesisContext
                    ) -> tuple[list[str], Anchor | None, float | None, tuple[Part, ...] | None]:
    """A movement's target as written after it: (site names, the body anchor, the
    contact distance, the hand parts named)."""
    sites = [n for n in names if SYMBOLS[BY_NAME[n]].kind in (
        Kind.BODY_SITE, Kind.LATERALITY, Kind.NEUTRAL_SPACE, Kind.BETWEEN)]
    contact = [n for n in names if SYMBOLS[BY_NAME[n]].kind is Kind.CONTACT]
    anchor = location_anchor(sites, context, "right") if any(
        SYMBOLS[BY_NAME[n]].kind in (Kind.BODY_SITE, Kind.NEUTRAL_SPACE) for n in sites) else None
    parts = hand_site([n for n in names if SYMBOLS[BY_NAME[n]].kind in (
        Kind.HAND_SITE, Kind.FINGER, Kind.FINGER_PART, Kind.BETWEEN)])
    distance = contact_distance(contact, context, context.timing.close) if contact else None
    return sites, anchor, distance, parts
