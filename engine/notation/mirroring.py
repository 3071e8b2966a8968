"""The non-dominant (left) hand as the dominant hand's mirror image across the
midline: positions, rotations and finger poses, anchors, tracks, and the directions a
movement's names give (``movel`` <-> ``mover``)."""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from engine.body.reference_poses import mirror_hand_pose
from engine.notation.anchors import Anchor
from engine.notation.hamnosys import Action, ActionGroup, Movement
from engine.notation.phases import HandState, Track
from engine.notation.placement import mirrored
from engine.notation.symbols import BY_NAME, SYMBOLS, Kind

#: Multiplies a point or direction (3,) to reflect it across the body's midline (x = 0).
MIRROR = np.array([-1.0, 1.0, 1.0])


def as_right_hand(fingers: np.ndarray, side: str) -> np.ndarray:
    """A finger pose (15, 3) of hand ``side`` as the right hand would hold it."""
    return fingers if side == "right" else mirror_hand_pose(fingers)


def mirror_state(state: HandState) -> HandState:
    """The same hand state mirrored across the midline, as the other hand."""
    return HandState(state.position * MIRROR, mirrored(state.rotation),
                     mirror_hand_pose(state.fingers), state.shape, state.against_other)


def mirror_anchor(anchor: Anchor) -> Anchor:
    return Anchor(anchor.position * MIRROR, anchor.normal * MIRROR)


_MIRRORED_LETTERS = str.maketrans("lr", "rl")
_DIRECTED = (Kind.STRAIGHT_MOVE, Kind.CIRCLE, Kind.EXTENDED_FINGER, Kind.PALM, Kind.ARC,
             Kind.CLOCK)


def mirror_name(name: str) -> str:
    """A symbol's name with the direction it gives mirrored (``movel`` -> ``mover``,
    ``stircw`` -> ``stirccw``); names without a left or right stay as they are."""
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


def mirror_actions(actions: Sequence[Action]) -> tuple[Action, ...]:
    """Actions with left and right swapped in every direction they name."""
    out: list[Action] = []
    for action in actions:
        if isinstance(action, Movement):
            out.append(Movement(tuple(mirror_name(n) for n in action.names)))
        else:
            out.append(ActionGroup(action.kind, tuple(mirror_actions(b)
                                                      for b in action.branches)))
    return tuple(out)


def mirror_track(track: Track) -> Track:
    """A track of one hand as the other hand's: its states, path and in-place change."""
    offset = None if track.offset is None else (
        lambda s, f=track.offset: f(s) * MIRROR[None])

    def mirrored_local(s, rotations, fingers, f=track.local):
        turned, bent = f(s, mirrored(rotations), mirror_hand_pose(fingers))
        return mirrored(np.asarray(turned)), mirror_hand_pose(bent)

    local = mirrored_local if track.local is not None else None
    return Track(mirror_state(track.start), mirror_state(track.end), offset, local)
