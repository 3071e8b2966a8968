"""Body locations as anchor points measured on the active body model's own mesh.

HamNoSys places a hand at a body site (forehead, chin, chest ...), optionally to one
side of it (laterality), with contact or at a distance. Each site here is an anchor:
a point on the body's surface and its outward normal, in the world frame of the
rest pose (metres, Y up, the body facing +Z). They are measured, not tabulated:
heights come from the skeleton (eyes, jaw, neck, shoulders, spine) and the chin
and top of the head from the mesh, and each point is then put on the frontmost
surface of the mesh there. So a sign lands on whichever body is active (the default
avatar or the user's SMPL-X shape).

Sides are the signer's: "right" is -X. With a right-dominant signer the dominant
hand's own side ("ipsilateral") is the right.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.body.skeleton import JOINT_INDEX, skeleton_key
from engine.motion.motion import Motion
from engine.notation.placement import Torso


@dataclass(frozen=True)
class Anchor:
    """A point on (or beside) the body and the direction away from it (unit)."""

    position: np.ndarray
    normal: np.ndarray


#: Every body site the synthesiser knows (HamNoSys names).
BODY_SITES = ("head", "headtop", "forehead", "eyebrows", "eyes", "nose", "nostrils", "ear",
              "earlobe", "cheek", "lips", "tongue", "teeth", "chin", "underchin", "neck",
              "shouldertop", "shoulders", "chest", "stomach", "belowstomach")
#: The sites on the head, face and neck (a hand near them is nearer than at the trunk).
HEAD_SITES = frozenset(BODY_SITES[:BODY_SITES.index("neck") + 1])
#: Sites that are on one side of the body anyway: without laterality they are on the
#: hand's own side.
_SIDED = {"ear", "earlobe", "cheek", "shouldertop"}


@dataclass(frozen=True)
class _Site:
    x: float          # metres from the midline, toward the signer's right when sided
    y: float          # height, metres
    normal: tuple[float, float, float]
    half_width: float  # how far "at the side" of this site is from its middle


class BodyAnchors:
    """Anchors of one body (see the module docstring). ``reach``: shoulder to wrist
    length of the arm (metres), the unit of the distances the notation implies."""

    def __init__(self, vertices: np.ndarray, joints: np.ndarray):
        self._vertices = np.asarray(vertices, np.float64)
        joints = np.asarray(joints, np.float64)
        self.joints = joints
        at = {name: joints[JOINT_INDEX[name]] for name in JOINT_INDEX}
        self.reach = float(np.linalg.norm(at["right_elbow"] - at["right_shoulder"])
                           + np.linalg.norm(at["right_wrist"] - at["right_elbow"]))
        eyes = (at["left_eye_smplhf"] + at["right_eye_smplhf"]) / 2
        midline = np.abs(self._vertices[:, 0]) < 0.05
        top = float(self._vertices[midline, 1].max())
        chin_y = self._chin_bottom(eyes, float(at["jaw"][1]))
        face = eyes[1] - chin_y  # eyes to the bottom of the chin, metres
        head_half = float(np.abs(self._vertices[np.abs(self._vertices[:, 1] - eyes[1]) < 0.01, 0]
                                 ).max())
        shoulder_x = float(abs(at["right_shoulder"][0]))
        shoulder_y = float(at["right_shoulder"][1])
        chest_y = float(at["spine3"][1] + 0.25 * (shoulder_y - at["spine3"][1]))
        trunk_half = shoulder_x * 0.9
        forward = (0.0, 0.0, 1.0)
        self._sites: dict[str, _Site] = {
            "headtop": _Site(0.0, top, (0.0, 1.0, 0.0), head_half * 0.5),
            "head": _Site(0.0, eyes[1] + 0.6 * (top - eyes[1]), forward, head_half * 0.8),
            "forehead": _Site(0.0, eyes[1] + 0.35 * (top - eyes[1]), forward, head_half * 0.6),
            "eyebrows": _Site(0.0, eyes[1] + 0.12 * (top - eyes[1]), forward, head_half * 0.5),
            "eyes": _Site(0.0, eyes[1], forward, abs(at["right_eye_smplhf"][0])),
            # Down the face from the eyes, in eyes-to-chin lengths, near where MediaPipe's
            # face landmarks lie on the default avatar (nose tip 0.36, subnasale 0.42,
            # the lips' middle 0.62, the chin's front 0.88).
            "nose": _Site(0.0, eyes[1] - 0.30 * face, forward, head_half * 0.3),
            "nostrils": _Site(0.0, eyes[1] - 0.42 * face, forward, head_half * 0.2),
            "lips": _Site(0.0, eyes[1] - 0.65 * face, forward, head_half * 0.35),
            "tongue": _Site(0.0, eyes[1] - 0.65 * face, forward, head_half * 0.2),
            "teeth": _Site(0.0, eyes[1] - 0.65 * face, forward, head_half * 0.3),
            "chin": _Site(0.0, chin_y + 0.1 * face, forward, head_half * 0.35),
            "underchin": _Site(0.0, chin_y - 0.005, (0.0, -0.7, 0.7), head_half * 0.3),
            "cheek": _Site(head_half * 0.62, eyes[1] - 0.35 * face, (-0.6, 0.0, 0.8),
                           head_half * 0.62),
            "ear": _Site(head_half * 0.98, eyes[1] - 0.1 * face, (-1.0, 0.0, 0.0), head_half),
            "earlobe": _Site(head_half * 0.95, eyes[1] - 0.45 * face, (-1.0, 0.0, 0.0),
                             head_half),
            "neck": _Site(0.0, float(at["neck"][1]) + 0.012, forward, 0.04),
            "shouldertop": _Site(shoulder_x * 0.8, shoulder_y + 0.02, (0.0, 1.0, 0.0),
                                 shoulder_x),
            "shoulders": _Site(0.0, shoulder_y, forward, shoulder_x),
            "chest": _Site(0.0, chest_y, forward, trunk_half * 0.7),
            "stomach": _Site(0.0, float(at["spine2"][1]), forward, trunk_half * 0.7),
            "belowstomach": _Site(0.0, float(at["spine1"][1] - 0.03), forward, trunk_half * 0.7),
        }
        trunk = np.abs(self._vertices[:, 0]) < shoulder_x * 0.95
        chest_band = trunk & (np.abs(self._vertices[:, 1] - chest_y) < 0.03)
        self.torso = Torso(half_width=shoulder_x * 1.05,
                           centre_z=float(self._vertices[chest_band, 2].mean()),
                           half_depth=float(np.ptp(self._vertices[chest_band, 2])) / 2 + 0.02,
                           bottom=float(at["pelvis"][1] - 0.1), top=shoulder_y)
        # Neutral signing space: in front of the chest-stomach midpoint.
        self.neutral = np.array([0.0, (chest_y + at["spine2"][1]) / 2,
                                 self._front_z(0.0, (chest_y + at["spine2"][1]) / 2)
                                 + 0.37 * self.reach])

    def _chin_bottom(self, eyes: np.ndarray, jaw_y: float) -> float:
        """Height (metres) of the bottom of the chin: the lowest point of the face's
        midline profile that still stands forward (within 3.5 cm of the nose tip's
        depth) before the profile falls back to the neck. (The jaw bone's end vertex,
        used before, lay at the lips: every site below the nose was 1 to 3 cm high.)"""
        v = self._vertices
        midline = np.abs(v[:, 0]) < 0.01
        nose = midline & (v[:, 1] < eyes[1]) & (v[:, 1] > eyes[1] - 0.08)
        if not nose.any():
            return jaw_y - 0.04
        forward = (midline & (v[:, 1] < eyes[1] - 0.03) & (v[:, 1] > eyes[1] - 0.16)
                   & (v[:, 2] >= v[nose, 2].max() - 0.035))
        return float(v[forward, 1].min()) if forward.any() else jaw_y - 0.04

    def _front_z(self, x: float, y: float, radius: float = 0.012) -> float:
        """The frontmost surface (largest z) of the mesh near (x, y), within the trunk
        and head (never an outstretched arm of the rest pose)."""
        v = self._vertices
        near = (np.abs(v[:, 0] - x) < radius) & (np.abs(v[:, 1] - y) < radius)
        if not near.any():
            near = (np.abs(v[:, 0] - x) < radius * 3) & (np.abs(v[:, 1] - y) < radius * 3)
        return float(v[near, 2].max())

    def site(self, name: str, side: str | None = None, beside: bool = False,
             hand: str = "right") -> Anchor:
        """The anchor of body site ``name``: at its middle (``side`` None), or at its
        "right"/"left" part (or ``beside`` it, out from the body); a one-sided site
        (ear, cheek ...) without ``side`` is on the ``hand``'s own side."""
        if name not in self._sites:
            raise KeyError(f"body site {name!r}: expected one of {', '.join(self._sites)}")
        spec = self._sites[name]
        if name in _SIDED and side is None:
            side = hand
        sign = {None: 0.0, "right": -1.0, "left": 1.0}[side]
        normal = np.array(spec.normal, np.float64)
        if name in _SIDED:
            x = sign * spec.x
            normal[0] *= -sign
        else:
            x = sign * spec.half_width
        if beside and side is not None:
            x = sign * (spec.half_width + 0.06)
            position = np.array([x, spec.y, self._front_z(0.0, spec.y) - 0.03])
            normal = np.array([sign, 0.0, 0.3])
        elif normal[1] > 0.9:  # a top: the highest surface there
            v = self._vertices
            near = (np.abs(v[:, 0] - x) < 0.02) & (np.abs(v[:, 2] - self.joints[
                JOINT_INDEX["neck"], 2]) < 0.05)
            position = np.array([x, float(v[near, 1].max()) if near.any() else spec.y,
                                 float(self.joints[JOINT_INDEX["neck"], 2])])
        elif abs(normal[0]) > 0.9:  # the side of the head
            v = self._vertices
            band = (np.abs(v[:, 1] - spec.y) < 0.012) & (np.abs(v[:, 2] - self.joints[
                JOINT_INDEX["head"], 2]) < 0.03)
            extreme = float((v[band, 0] * np.sign(x)).max()) if band.any() else abs(x)
            position = np.array([np.sign(x) * extreme, spec.y,
                                 float(self.joints[JOINT_INDEX["head"], 2])])
        else:
            position = np.array([x, spec.y, self._front_z(x, spec.y)])
        return Anchor(position, normal / np.linalg.norm(normal))


def _measure(body) -> BodyAnchors:
    out = body.forward(Motion.zeros(1))
    return BodyAnchors(out.vertices[0], out.joints[0])


_MEASURED: dict[bytes, BodyAnchors] = {}


def body_anchors(body=None) -> BodyAnchors:
    """The anchors of ``body`` (the default avatar when None), measured once per
    skeleton."""
    if body is None:
        from engine.body.default_avatar import default_avatar

        body = default_avatar()
    key = skeleton_key(body)
    if key not in _MEASURED:
        _MEASURED[key] = _measure(body)
    return _MEASURED[key]
