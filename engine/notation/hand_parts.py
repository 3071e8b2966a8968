"""Hand parts a location can name (fingertips, palm, edges, wrist and forearm sites):
their offsets and outward normals in the wrist frame for any finger pose of one body,
and the parts a run of notation names gives."""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from engine.notation.handshapes import FINGER_OF_NAME, FOUR_FINGERS, HAND_ORDER, HandGeometry, finger_points
from engine.notation.mirroring import MIRROR, as_right_hand
from engine.notation.phases import UnsupportedNotation

#: A hand part as (part, finger or None): ("fingertip", "index"), ("palm", None).
Part = tuple[str, str | None]
#: Hand parts a location can name, as (finger or None, part).
_PART_NAMES = {"fingertip", "fingernail", "fingerpad", "fingermidjoint", "fingerbase",
               "fingerside"}
_HAND_AREAS = {"palm", "handback", "thumbside", "pinkyside", "thumbball", "heel"}
#: Sites on the forearm, placed from the wrist as if the wrist were straight: metres
#: toward the elbow and out from the back (+) or the inside (-) of the forearm.
_ARM_AREAS = {"wristback": (0.015, 0.025), "wristpulse": (0.015, -0.02),
              "lowerarm": (0.11, 0.03), "elbow": (0.225, 0.03), "elbowinside": (0.215, -0.03)}


class HandParts:
    """Hand-part offsets in the wrist frame for any finger pose of one body."""

    def __init__(self, geometry: HandGeometry):
        self.geometry = geometry
        joints = geometry.joints
        bases = joints[[0, 3, 6, 9]]
        self.centre = np.array([bases[:, 0].mean() * 0.62, -0.004, bases[:, 2].mean()])
        self.half_thickness = 0.018

    def centre_of(self, side: str) -> np.ndarray:
        """(3,) the middle of the palm in the wrist frame of hand ``side``."""
        return self.centre * (MIRROR if side == "left" else 1.0)

    def part(self, name: str, finger: str | None, fingers: np.ndarray,
             side: str) -> tuple[np.ndarray, np.ndarray]:
        """(offset (3,), outward normal (3,)) of a hand part in the wrist frame."""
        points = finger_points(self.geometry, as_right_hand(fingers, side))
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
            return offset * MIRROR, normal * MIRROR
        return offset, normal

    def candidates(self, fingers: np.ndarray, side: str) -> list[tuple[str, str | None]]:
        """The parts that can touch when the notation names none: the palm, the back,
        both edges, the heel of the hand, the thumb's tip, the tips of the fingers that
        are extended and the middle joints of those curled (a fist's front). The one
        furthest toward what is touched is the hand's nearest point to it."""
        parts: list[tuple[str, str | None]] = [(n, None) for n in (
            "palm", "handback", "thumbside", "pinkyside", "heel")]
        parts.append(("fingertip", "thumb"))
        right = as_right_hand(fingers, side)
        for finger in FOUR_FINGERS:
            base = 3 * HAND_ORDER.index(finger)
            curled = right[base, 2] + right[base + 1, 2] > 1.2
            parts.append(("fingermidjoint" if curled else "fingertip", finger))
        return parts


def hand_site(names: Sequence[str]) -> tuple[Part, ...] | None:
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


def part_offset(hands: HandParts, parts: Sequence[Part], fingers: np.ndarray,
                side: str) -> tuple[np.ndarray, np.ndarray]:
    """The mean offset and normal of ``parts`` in the wrist frame."""
    offsets, normals = zip(*(hands.part(p, f, fingers, side) for p, f in parts))
    normal = np.sum(normals, axis=0)
    norm = np.linalg.norm(normal)
    return np.mean(offsets, axis=0), normal / norm if norm > 1e-9 else normals[0]
