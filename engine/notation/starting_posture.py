"""Each hand's first posture: its written handshape and orientation, placed at the
written location (one for both hands, or one per hand) or in neutral space."""
from __future__ import annotations

import numpy as np

from engine.notation.anchors import Anchor
from engine.notation.hamnosys import Handshape, LocationPair, Orientation, SignPart
from engine.notation.hand_parts import hand_site
from engine.notation.handshapes import UnsupportedHandshape, hand_pose
from engine.notation.locations import (
    centre_at, contact_distance, hand_part_anchor, location_anchor, meet_hands, neutral_anchor,
    place_hand, site_distance,
)
from engine.notation.mirroring import mirror_state
from engine.notation.phases import HandState, SynthesisContext, UnsupportedNotation
from engine.notation.placement import combined, mirrored, palm_vector, wrist_rotation
from engine.notation.symbols import BY_NAME, SYMBOLS, Kind


def shape_pose(shape: Handshape, side: str, body) -> np.ndarray:
    """The finger pose (15, 3) of a written handshape on hand ``side`` of ``body``."""
    try:
        return hand_pose(shape, side, body).astype(np.float64)
    except UnsupportedHandshape as error:
        raise UnsupportedNotation(str(error)) from None


def orientation_rotation(orientation: Orientation, side: str) -> np.ndarray:
    """The wrist's world rotation (3, 3) for a fully written orientation of hand ``side``."""
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
    out = {"right": (dominant.handshape, orientation_rotation(dominant.orientation, "right"))}
    other = part.nondominant
    if other is not None:
        shape = other.handshape if other.handshape is not None else dominant.handshape
        out["left"] = (shape, orientation_rotation(other.orientation, "left"))
    elif part.symmetry:
        out["left"] = (dominant.handshape, mirrored(out["right"][1]))
    return out


def initial_states(part: SignPart, context: SynthesisContext) -> dict[str, HandState]:
    """Each hand of a compound part in its first posture: in neutral space unless the
    part's location puts it at a body site, at the other hand, or in contact with it."""
    configurations = _configurations(part)
    states: dict[str, HandState] = {}
    for side, (shape, rotation) in configurations.items():
        fingers = shape_pose(shape, side, context.body)
        states[side] = HandState(np.zeros(3), rotation, fingers, shape)
    two = "left" in states
    location = part.location
    for side in states:  # neutral space unless the location says otherwise
        states[side] = centre_at(states[side], side, neutral_anchor(side, context, two), context)
    if location is None:
        return states
    if isinstance(location, LocationPair):
        return _pair_location(location, states, context)
    sites = [n for n in location.names if SYMBOLS[BY_NAME[n]].kind is not Kind.CONTACT]
    contact = location.contact
    contact_first = bool(location.names) and SYMBOLS[BY_NAME[location.names[0]]].kind \
        is Kind.CONTACT
    symmetric = two and bool(part.symmetry)
    anchor = location_anchor(sites, context, "right")
    part_named = hand_site(sites)
    if anchor is not None:
        context.initial_site = anchor
        if symmetric and contact_first:
            # "touch shoulders": the hands touch each other, there
            point = anchor.position + site_distance(sites, (), context) * anchor.normal
            point[0] = 0.0
            meet_hands(states, point, contact_distance(contact, context, 0.0), context)
            return states
        distance = site_distance(sites, contact, context)
        if symmetric:
            anchor = location_anchor(sites, context, "right", spread=True)
            context.initial_site = anchor
        states["right"] = place_hand(states["right"], "right", anchor, distance, part_named,
                                     context)
        if symmetric and part.nondominant is None:
            states["left"] = mirror_state(states["right"])  # exactly the mirror image
        elif symmetric:
            states["left"] = place_hand(states["left"], "left",
                                        location_anchor(sites, context, "left", spread=True),
                                        distance, part_named, context)
        return states
    if part_named is not None:
        # A location on the other hand: the dominant hand goes to that part of it.
        if not two:
            raise UnsupportedNotation("a location on the other hand in a one-handed sign")
        distance = contact_distance(contact, context, context.timing.close)
        target = hand_part_anchor(states["left"], "left", part_named, context)
        context.initial_site = target
        states["right"] = place_hand(states["right"], "right", target, distance, None, context)
        states["right"].against_other = True
        return states
    if contact:
        # Contact alone: the hands touch each other in front of the body.
        if not two:
            raise UnsupportedNotation("contact without a location in a one-handed sign")
        point = context.anchors.neutral.copy()
        meet_hands(states, point, contact_distance(contact, context, 0.0), context)
    return states


def _pair_location(location: LocationPair, states: dict[str, HandState],
                   context: SynthesisContext) -> dict[str, HandState]:
    if "left" not in states:
        raise UnsupportedNotation("a location per hand in a one-handed sign")
    after_sites = [n for n in location.after.names if SYMBOLS[BY_NAME[n]].kind is not Kind.CONTACT]
    contact = location.after.contact + location.dominant.contact + location.nondominant.contact
    # Each hand at its own side of a site written without laterality; a written one
    # names the signer's sides (the dominant hand's), for either hand.
    dominant_anchor = location_anchor(location.dominant.names, context, "right", spread=True)
    other_anchor = location_anchor(location.nondominant.names, context, "left", spread=True,
                                   written_from="right")
    if dominant_anchor is not None or other_anchor is not None:
        # Each hand at its own body site.
        distance = contact_distance(contact, context, context.timing.unspecified)
        if dominant_anchor is not None:
            states["right"] = place_hand(states["right"], "right", dominant_anchor, distance, None,
                                         context)
            context.initial_site = dominant_anchor
        if other_anchor is not None:
            states["left"] = place_hand(states["left"], "left", other_anchor, distance, None,
                                        context)
        return states
    # A hand constellation: the dominant part meets the other hand's part, the pair
    # placed at the site written after it (or in neutral space).
    where = location_anchor(after_sites, context, "right")
    if where is not None:
        shifted = Anchor(where.position + context.timing.unspecified * context.anchors.reach
                         * where.normal + np.array([0.04, 0.0, 0.0]), where.normal)
        states["left"] = centre_at(states["left"], "left", shifted, context)
    dominant_part = hand_site(location.dominant.names)
    other_part = hand_site(location.nondominant.names)
    target = hand_part_anchor(states["left"], "left", other_part, context, toward=states["right"])
    distance = contact_distance(contact, context, context.timing.close)
    states["right"] = place_hand(states["right"], "right", target, distance, dominant_part, context)
    states["right"].against_other = True
    return states
