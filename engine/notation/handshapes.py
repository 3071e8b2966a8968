"""The handshape inventory: a HamNoSys handshape -> 15 finger joint rotations per hand.

Built compositionally, as HamNoSys writes handshapes: one of 12 base forms, then a
thumb modifier (out, across, open), a bending of the selected fingers (straight, bent
at the base joint, hooked, double-bent, double-hooked), the fingers selected when not
the base form's own (``finger2 pinky``: the little finger instead of the index) and
"between" two shapes (the joint angles half way). Fingers are set as angles within
anatomical ranges; the thumb is placed against its target on the body model's own
hand (its tip on the index tip for a pinch, across the curled fingers' middle
phalanges for an S-fist), by a small least-squares solve.

The inventory is not tied to the notation parser's types beyond ``Handshape``'s names:
``HandSpec`` is plain data, so recording fitters can use the same shapes as a prior.

Right-hand convention (SMPL-X rest, see ``engine.body.reference_poses``): fingers along
-X, palm facing -Y, thumb side +Z; flexion toward the palm is +Z, spreading the index
away from the middle finger +Y. The left hand is the mirror image.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache

import numpy as np
from scipy.optimize import least_squares
from scipy.spatial.transform import Rotation

from engine.body.reference_poses import mirror_hand_pose
from engine.body.skeleton import JOINT_INDEX, skeleton_key
from engine.notation.hamnosys import Handshape

FOUR_FINGERS = ("index", "middle", "ring", "pinky")
#: SMPL-X hand joint order: index1-3, middle1-3, pinky1-3, ring1-3, thumb1-3.
#: The fingers in SMPL-X hand joint order (3 joints each).
HAND_ORDER = ("index", "middle", "pinky", "ring", "thumb")
#: HamNoSys finger names -> finger.
FINGER_OF_NAME = {"thumb": "thumb", "indexfinger": "index", "middlefinger": "middle",
                   "ringfinger": "ring", "pinky": "pinky"}

#: Anatomical ranges in radians (flexion toward the palm positive): metacarpophalangeal
#: (MCP) 0-90 deg, proximal (PIP) 0-108 deg, distal (DIP) 0-90 deg, finger spread
#: +-20 deg. The inventory never leaves them (tested).
MCP_RANGE = (-0.35, np.radians(90))
PIP_RANGE = (0.0, np.radians(108))
DIP_RANGE = (-0.1, np.radians(90))
SPREAD_LIMIT = np.radians(20)
#: Largest rotation of any thumb joint, radians.
THUMB_LIMIT = 1.6


@dataclass(frozen=True)
class Curl:
    """One finger's flexion at its three joints (radians)."""

    mcp: float
    pip: float
    dip: float


STRAIGHT = Curl(0.0, 0.0, 0.0)
#: Closed into the palm (a fist's fingers).
CURLED = Curl(1.45, 1.6, 1.1)
#: The bendings HamNoSys writes for the selected fingers.
BENDINGS: dict[str, Curl] = {
    "fingerstraightmod": STRAIGHT,
    "fingerbendmod": Curl(1.5, 0.0, 0.05),        # bent at the base joint only
    "fingerhookmod": Curl(0.0, 1.55, 1.25),        # hooked: base straight, the rest bent
    "doublebent": Curl(0.8, 0.95, 0.55),           # rounded at every joint
    "doublehooked": Curl(0.35, 1.7, 1.35),         # clawed tightly
}
#: Fingers curved to meet the thumb in a pinch, and to form a C.
PINCH_CURL = Curl(0.75, 0.75, 0.35)
CEE_CURL = Curl(0.45, 0.55, 0.25)
SPREAD = 0.16  # radians each finger turns away from the middle finger when spread


@dataclass(frozen=True)
class HandSpec:
    """A handshape as plain data: each finger's ``curls`` (index, middle, ring, pinky),
    whether the fingers are ``spread``, and the thumb's ``thumb`` mode with the
    ``thumb_target`` finger it touches or opposes: "alongside" (against the index
    side), "across" (over the curled fingers), "out" (stretched away), "open" (half
    way), "pinch" (tip on the target's tip), "cee" (opposite the target's tip, a C's
    gap apart), "extended" (straight, as a selected finger) or "tucked" (bent in, tip
    against the ring finger's base: fingers up with the thumb folded in)."""

    curls: tuple[Curl, Curl, Curl, Curl]
    spread: bool = False
    thumb: str = "alongside"
    thumb_target: str = "index"
    cee_gap: float = 0.04  # metres between thumb tip and target tip in a C


class UnsupportedHandshape(ValueError):
    """A handshape the inventory cannot make; the message names the feature."""


_BASES: dict[str, tuple[tuple[str, ...], Curl, str, bool]] = {
    # base: (selected fingers, their curl, thumb mode, spread); the rest curl in
    "fist": ((), CURLED, "alongside", False),  # nothing selected: a bending needs a finger
    "flathand": (FOUR_FINGERS, STRAIGHT, "alongside", False),
    "finger2": (("index",), STRAIGHT, "alongside", False),
    "finger23": (("index", "middle"), STRAIGHT, "alongside", False),
    "finger23spread": (("index", "middle"), STRAIGHT, "alongside", True),
    "finger2345": (FOUR_FINGERS, STRAIGHT, "alongside", True),
    "pinch12": (("index",), PINCH_CURL, "pinch", False),
    "pinchall": (FOUR_FINGERS, PINCH_CURL, "pinch", False),
    "pinch12open": (("index",), PINCH_CURL, "pinch", True),
    "cee12": (("index",), CEE_CURL, "cee", False),
    "ceeall": (FOUR_FINGERS, CEE_CURL, "cee", False),
    "ceeopen": (("index",), CEE_CURL, "cee", True),
}
#: The base forms this synthesiser makes.
BASE_FORMS = tuple(_BASES)
_OPEN_OTHERS = {"pinch12open", "ceeopen"}  # the unselected fingers stay straight
_THUMB_MODIFIERS = {"thumboutmod": "out", "thumbacrossmod": "across", "thumbopenmod": "open"}


def spec_of(shape: Handshape) -> HandSpec:
    """The ``HandSpec`` of a parsed handshape (without its "between" shape: see
    ``hand_pose``). Raises ``UnsupportedHandshape`` naming what it cannot make.

    Fingers named after the base form select fingers: on a one- or two-finger base
    they replace its own (``finger2 pinky``: the little finger, not the index); on a
    four-finger base they are the ones the bending applies to (``finger2345 pinky
    fingerhookmod``: all spread, the little finger hooked); on an open pinch or C the
    ones that stay open. The thumb named alone on a one-finger base is the selected
    digit (the fingers close); named with a thumb modifier it only confirms it.
    """
    if shape.base not in _BASES:
        raise UnsupportedHandshape(f"handshape base {shape.base}")
    selected, curl, thumb, spread = _BASES[shape.base]
    parts = [m for m in shape.modifiers if m in ("fingertip", "fingernail", "fingerpad",
                                                 "fingermidjoint", "fingerbase", "fingerside")]
    if parts and not (shape.base == "pinch12" and parts == ["fingerpad"]):
        raise UnsupportedHandshape(f"finger part {parts[0]} in a handshape")
    named = tuple(FINGER_OF_NAME[m] for m in shape.modifiers if m in FINGER_OF_NAME)
    fingers = tuple(f for f in named if f != "thumb")
    bendings = [m for m in shape.modifiers if m in BENDINGS]
    if len(bendings) > 1:
        raise UnsupportedHandshape(f"two bendings on one handshape ({' '.join(bendings)})")
    bend = BENDINGS[bendings[0]] if bendings else None
    thumb_modifiers = [_THUMB_MODIFIERS[m] for m in shape.modifiers if m in _THUMB_MODIFIERS]
    curls = {f: CURLED for f in FOUR_FINGERS}
    thumb_target = "index"
    if len(selected) == len(FOUR_FINGERS):
        for finger in FOUR_FINGERS:
            curls[finger] = curl
        if fingers:
            if bend is None:
                written = " ".join(m for m in shape.modifiers if m in FINGER_OF_NAME)
                raise UnsupportedHandshape(f"finger selection ({written}) on {shape.base} "
                                           "without a bending")
            for finger in fingers:
                curls[finger] = bend
        elif bend is not None:
            curls = {f: bend for f in FOUR_FINGERS}
    elif shape.base in _OPEN_OTHERS:
        curls["index"] = curl
        for finger in (fingers or ("middle", "ring", "pinky")):
            if finger != "index":
                curls[finger] = bend if (bend is not None and fingers) else STRAIGHT
        if bend is not None and not fingers:
            curls["index"] = bend
    else:
        if "thumb" in named and not fingers and not thumb_modifiers and bend is None:
            # finger2 thumb: the thumb is the selected digit, the fingers close
            return HandSpec(tuple(CURLED for _ in FOUR_FINGERS), False, "extended")
        chosen = fingers or selected
        if thumb in ("pinch", "cee") and fingers:
            thumb_target = fingers[0]
        for finger in chosen:
            curls[finger] = bend if bend is not None else curl
        if bend is not None and not chosen:
            raise UnsupportedHandshape(f"a bending on {shape.base} (no finger to bend)")
    cee_gap = 0.04
    for mode in thumb_modifiers:
        if thumb in ("pinch", "cee"):
            # An open pinch or C widens; "across" closes the thumb under the fingers.
            if mode == "open":
                thumb, cee_gap = "cee", 0.06
            else:
                thumb = mode
        elif mode == "across" and all(curls[f].mcp < 1.0 for f in FOUR_FINGERS):
            thumb = "tucked"
        else:
            thumb = mode
    return HandSpec(tuple(curls[f] for f in FOUR_FINGERS), spread, thumb, thumb_target, cee_gap)


# ----------------------------------------------------------------- hand geometry
@dataclass(frozen=True)
class HandGeometry:
    """A right hand's rest geometry in the wrist's frame (metres): ``joints`` (15, 3)
    in SMPL-X hand order, ``tips`` (5, 3) fingertip offsets from each finger's last
    joint (index, middle, pinky, ring, thumb)."""

    joints: np.ndarray
    tips: np.ndarray

    @staticmethod
    def of(body) -> HandGeometry:
        from engine.body.tips import end_site_offsets

        rest = np.asarray(body.rest_joints, np.float64)
        wrist = rest[JOINT_INDEX["right_wrist"]]
        start = JOINT_INDEX["right_index1"]
        joints = rest[start:start + 15] - wrist
        ends = end_site_offsets(body)
        tips = np.stack([ends[start + 3 * k + 2] for k in range(5)])
        return HandGeometry(joints, tips)


def finger_points(geometry: HandGeometry, pose: np.ndarray) -> np.ndarray:
    """(5, 4, 3) metres in the wrist frame: each finger's three joints and tip for a
    right-hand ``pose`` (15, 3) axis-angles, fingers in SMPL-X hand order."""
    rotations = Rotation.from_rotvec(np.asarray(pose, np.float64).reshape(15, 3)).as_matrix()
    out = np.empty((5, 4, 3))
    for finger in range(5):
        base = 3 * finger
        joints = geometry.joints[base:base + 3]
        world = np.eye(3)
        point = joints[0]
        out[finger, 0] = point
        for k in range(3):
            world = world @ rotations[base + k]
            offset = joints[k + 1] - joints[k] if k < 2 else geometry.tips[finger]
            point = point + world @ offset
            out[finger, k + 1] = point
    return out


def _finger_pose(spec: HandSpec) -> np.ndarray:
    pose = np.zeros((15, 3))
    spreads = {"index": SPREAD, "middle": 0.0, "ring": -SPREAD * 0.8, "pinky": -SPREAD * 1.6}
    for finger, curl in zip(FOUR_FINGERS, spec.curls):
        base = 3 * HAND_ORDER.index(finger)
        pose[base:base + 3, 2] = (curl.mcp, curl.pip, curl.dip)
        if spec.spread and curl.mcp < 1.0:
            pose[base, 1] = spreads[finger]
    return pose


def _thumb_target(spec: HandSpec, geometry: HandGeometry, fingers: np.ndarray) -> np.ndarray:
    """Where the thumb tip goes, in the wrist frame (metres)."""
    index_of = {f: HAND_ORDER.index(f) for f in FOUR_FINGERS}
    palm_normal = np.array([0.0, -1.0, 0.0])
    radial = np.array([0.0, 0.0, 1.0])
    if spec.thumb in ("pinch", "cee"):
        target_tip = fingers[index_of[spec.thumb_target], 3]
        if spec.thumb_target == "index" and spec.curls[1] == spec.curls[0] \
                and spec.curls[1] != STRAIGHT:
            # pinchall: the thumb meets index and middle tips together
            target_tip = (target_tip + fingers[index_of["middle"], 3]) / 2
        # The pad, not the nail: a finger's thickness toward the palm.
        pad = target_tip + 0.012 * palm_normal
        if spec.thumb == "pinch":
            return pad
        return pad + spec.cee_gap * palm_normal
    closed = [f for f, c in zip(FOUR_FINGERS, spec.curls) if c.mcp > 1.0]
    if spec.thumb == "across":
        over = closed[:2] if closed else ["index", "middle"]
        middles = np.mean([(fingers[index_of[f], 1] + fingers[index_of[f], 2]) / 2
                           for f in over], axis=0)
        # On the outside of the curled fingers (away from the wrist, toward the viewer
        # of the fist's front), a finger's thickness out.
        return middles + 0.012 * np.array([-0.3, -0.95, 0.0])
    if spec.thumb == "tucked":
        return geometry.joints[3 * index_of["ring"]] + 0.025 * palm_normal
    if spec.thumb == "alongside":
        if "index" in closed:
            # A-hand: against the side of the curled index's middle phalanx
            side = (fingers[index_of["index"], 1] + fingers[index_of["index"], 2]) / 2
            return side + 0.016 * radial + 0.004 * palm_normal
        base = geometry.joints[3 * index_of["index"]]
        return base + np.array([-0.022, -0.012, 0.016])
    raise AssertionError(spec.thumb)


#: Thumb poses (thumb1..3 axis-angles, right hand) not solved against a target: "out"
#: is the rest pose's thumb (spread away from the index in the palm's plane), "open"
#: half way between alongside and out, "extended" a thumb pointing along the fist.
_THUMB_FIXED = {"out": np.zeros((3, 3)), "extended": np.array([[0.0, 0.35, 0.0]] + [[0.0] * 3] * 2)}


def _solve_thumb(geometry: HandGeometry, target: np.ndarray) -> np.ndarray:
    """thumb1..3 axis-angles (3, 3) putting the thumb tip on ``target``: least squares
    with a small pull toward the rest pose (a plausible solution among many) and each
    joint within ``THUMB_LIMIT``."""
    joints = geometry.joints[12:15]
    tip = geometry.tips[4]

    def thumb_tip(params: np.ndarray) -> np.ndarray:
        rotations = Rotation.from_rotvec(params.reshape(3, 3)).as_matrix()
        world = np.eye(3)
        point = joints[0]
        for k in range(3):
            world = world @ rotations[k]
            point = point + world @ (joints[k + 1] - joints[k] if k < 2 else tip)
        return point

    def residual(params: np.ndarray) -> np.ndarray:
        # Distal joints bend mostly about one axis: penalise their off-axis parts more.
        return np.concatenate([(thumb_tip(params) - target) * 100.0,
                               params[:3] * 0.5, params[3:] * 1.0])

    bound = THUMB_LIMIT / np.sqrt(3)
    result = least_squares(residual, np.zeros(9), bounds=(-bound, bound), xtol=1e-6)
    return result.x.reshape(3, 3)


def right_hand_pose(spec: HandSpec, geometry: HandGeometry) -> np.ndarray:
    """(15, 3) float32 right-hand axis-angles for ``spec`` on a hand of ``geometry``."""
    pose = _finger_pose(spec)
    if spec.thumb in _THUMB_FIXED:
        pose[12:15] = _THUMB_FIXED[spec.thumb]
    elif spec.thumb == "open":
        alongside = _solve_thumb(geometry, _thumb_target(replace(spec, thumb="alongside"),
                                                         geometry, finger_points(geometry, pose)))
        pose[12:15] = alongside * 0.5
    else:
        target = _thumb_target(spec, geometry, finger_points(geometry, pose))
        pose[12:15] = _solve_thumb(geometry, target)
    return pose.astype(np.float32)


@lru_cache(maxsize=4096)
def _cached_pose(shape: Handshape, body_key: bytes) -> np.ndarray:
    geometry = _GEOMETRIES[body_key]
    pose = right_hand_pose(spec_of(shape), geometry)
    if shape.between is not None:
        # "between": half way in every joint (the thumb too, as axis-angles are close)
        other = _cached_pose(replace(shape.between, between=None), body_key)
        pose = ((pose + other) / 2).astype(np.float32)
    pose.setflags(write=False)
    return pose


_GEOMETRIES: dict[bytes, HandGeometry] = {}


def hand_geometry(body) -> HandGeometry:
    """``HandGeometry.of(body)``, measured once per skeleton."""
    key = skeleton_key(body)
    if key not in _GEOMETRIES:
        _GEOMETRIES[key] = HandGeometry.of(body)
    return _GEOMETRIES[key]


def hand_pose(shape: Handshape, side: str = "right", body=None) -> np.ndarray:
    """(15, 3) float32 axis-angles of ``shape`` on one hand ("right" or "left") of
    ``body`` (the default avatar when None). Raises ``UnsupportedHandshape``."""
    if body is None:
        from engine.body.default_avatar import default_avatar

        body = default_avatar()
    hand_geometry(body)  # measured before the cached pose needs it
    pose = _cached_pose(shape, skeleton_key(body))
    return pose if side == "right" else mirror_hand_pose(pose).astype(np.float32)


def handshape_from_names(names: str) -> Handshape:
    """A handshape from standard names, e.g. ``"finger2 thumboutmod"`` (for people
    and tests; "between" splits two shapes)."""
    first, _, second = names.partition(" between ")
    words = first.split()
    if not words:
        raise ValueError("handshape: expected a base form name such as 'fist'")
    between = handshape_from_names(second) if second else None
    return Handshape(words[0], tuple(words[1:]), between)
