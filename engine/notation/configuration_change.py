"""``replace``: a new handshape and/or orientation, for both hands as written once or
one per hand, the hand centre kept where it was while it turns."""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from engine.notation.hamnosys import ActionGroup, Handshape, Movement, Orientation
from engine.notation.handshapes import handshape_from_names
from engine.notation.locations import movement_target, place_hand
from engine.notation.mirroring import mirror_name
from engine.notation.phases import (
    HandState, Phase, SynthesisContext, Track, UnsupportedNotation, duration_frames,
)
from engine.notation.placement import combined, minimal_turn, mirrored, palm_vector, wrist_rotation
from engine.notation.starting_posture import orientation_rotation, shape_pose
from engine.notation.symbols import BY_NAME, SYMBOLS, Kind


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


def _new_rotation(rotation: np.ndarray, orientation: Orientation) -> np.ndarray:
    """The dominant (right) hand's rotation after a change of orientation. Written in
    full it is absolute; a finger direction alone turns the hand the least way to it;
    a palm alone turns it about its finger direction."""
    if orientation.extended_finger and orientation.palm:
        return orientation_rotation(orientation, "right")
    finger_now = rotation @ np.array([-1.0, 0.0, 0.0])
    if orientation.extended_finger:
        finger = combined(orientation.extended_finger)
        return minimal_turn(finger_now, finger) @ rotation
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


def replace_configuration(movement: Movement, states: dict[str, HandState],
                          context: SynthesisContext) -> dict[str, HandState]:
    """``replace`` and the new shape and/or orientation written after it (and a site it
    moves to, if any), for the dominant hand or both in a symmetric sign."""
    rest = [n for n in movement.names if n != "replace"]
    shape, orientation = _configuration_from_names(rest)
    if shape is None and orientation is None:
        raise UnsupportedNotation("replace without a new handshape or orientation")
    frames = duration_frames(movement.names, context.timing.replace, context)
    ends = {}
    for side, state in states.items():
        end = state.copy()
        if side == "left" and not context.symmetry:
            ends[side] = end
            continue
        if shape is not None:
            end.fingers = shape_pose(shape, side, context.body)
            end.shape = shape
        if orientation is not None:
            end.rotation = _turned(state, side, orientation, bool(context.symmetry))
        # Keep the hand where it was: the hand centre stays put as it turns.
        centre = context.hands.centre_of(side)
        end.position = state.position + state.rotation @ centre - end.rotation @ centre
        ends[side] = end
    _move_targets_after_replace(rest, ends, states, context)
    context.phases.append(Phase(frames, {s: Track(states[s], ends[s]) for s in states}))
    return ends


def _move_targets_after_replace(names, ends, states, context) -> None:
    sites = [n for n in names if SYMBOLS[BY_NAME[n]].kind in (Kind.BODY_SITE, Kind.CONTACT,
                                                                 Kind.NEUTRAL_SPACE)]
    if sites:
        _, anchor, distance, _ = movement_target(names, context)
        if anchor is not None:
            ends["right"] = place_hand(ends["right"], "right", anchor, distance if distance
                                       is not None else context.timing.unspecified
                                       * context.anchors.reach, None, context)


_MOVING_KINDS = frozenset({Kind.STRAIGHT_MOVE, Kind.CIRCLE, Kind.LOCAL_MOVE, Kind.REPETITION,
                           Kind.BODY_SITE, Kind.CONTACT, Kind.CROSS_MOVE})


def replace_per_hand(group: ActionGroup, states: dict[str, HandState],
                     context: SynthesisContext) -> dict[str, HandState]:
    """``replace parbegin config plus config parend``: a new configuration per hand."""
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
            end.fingers, end.shape = shape_pose(shape, side, context.body), shape
        if orientation is not None:
            end.rotation = _absolute_rotation(states[side], orientation, side)
        centre = context.hands.centre_of(side)
        end.position = states[side].position + states[side].rotation @ centre \
            - end.rotation @ centre
        ends[side] = end
    context.phases.append(Phase(context.timing.frames(context.timing.replace),
                                {s: Track(states[s], ends[s]) for s in states}))
    return ends


def _absolute_rotation(state: HandState, orientation: Orientation, side: str) -> np.ndarray:
    """A hand's own written orientation in a per-hand replace (absolute directions, as
    in ``parbegin``): the left hand's is read on its mirror image."""
    if orientation.extended_finger and orientation.palm:
        return orientation_rotation(orientation, side)
    if side == "right":
        return _new_rotation(state.rotation, orientation)
    mirrored_orientation = Orientation(
        tuple(mirror_name(n) for n in orientation.extended_finger),
        tuple(mirror_name(n) for n in orientation.palm) if orientation.palm else None)
    return mirrored(_new_rotation(mirrored(state.rotation), mirrored_orientation))
