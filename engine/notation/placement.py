"""Orientation and placement: HamNoSys directions -> a wrist rotation, and an arm IK
that puts the wrist where the sign needs it with a plausible elbow.

Directions are the signer's: u up (+Y), d down, l the signer's left (+X), r right
(-X), o away from the body (+Z), i toward it (-Z); names combine them (``extfingerul``
is up and to the left).

Palm orientation is written relative to the extended-finger direction: its eight
symbols name the palm's direction as if the fingers pointed away from the body
(``palmd`` with ``extfingero``: palm down), then turned with the fingers to where they
really point, first about the vertical (yaw), then up or down (pitch). So with the
fingers up, ``palmd`` faces away from the signer and ``palmu`` toward them; the DSGS
data's SignWriting agrees (with ``extfingeru palmd`` 85 of 106 hand symbols show the
back of the hand to the signer, with ``extfingeru palmu`` 31 of 41 the palm).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.spatial.transform import Rotation

from engine.body.skeleton import JOINT_INDEX
from engine.motion.rotations import axis_angle_to_matrix, matrix_to_axis_angle

_LETTERS = {"u": (0, 1, 0), "d": (0, -1, 0), "l": (1, 0, 0), "r": (-1, 0, 0), "o": (0, 0, 1),
            "i": (0, 0, -1)}
_PREFIXES = ("extfinger", "palm", "move", "circle")


def direction(name: str) -> np.ndarray:
    """(3,) unit vector of a direction name (``extfingerul``, ``palmd``, ``moveo``, or
    bare letters ``"ul"``)."""
    letters = name
    for prefix in _PREFIXES:
        if name.startswith(prefix):
            letters = name[len(prefix):]
            break
    if not letters or any(c not in _LETTERS for c in letters):
        raise ValueError(f"direction {name!r}: expected letters from u, d, l, r, o, i")
    vector = np.sum([_LETTERS[c] for c in letters], axis=0).astype(np.float64)
    return vector / np.linalg.norm(vector)


def combined(names: tuple[str, ...], between: tuple[str, ...] | None = None) -> np.ndarray:
    """A written direction: one or two names together (their 3D middle), optionally
    "between" a second such direction (the middle of both)."""
    vector = np.sum([direction(n) for n in names], axis=0)
    vector /= np.linalg.norm(vector)
    if between:
        other = combined(between)
        mixed = vector + other
        vector = mixed / np.linalg.norm(mixed) if np.linalg.norm(mixed) > 1e-6 else vector
    return vector


def _view_frame(finger: np.ndarray) -> np.ndarray:
    """(3, 3) rotation taking the fingers-away frame to the one whose fingers point
    along ``finger``: a yaw about +Y, then a pitch up or down (module docstring)."""
    horizontal = np.array([finger[0], 0.0, finger[2]])
    if np.linalg.norm(horizontal) < 1e-6:
        yaw_dir = np.array([0.0, 0.0, 1.0])  # straight up or down: no yaw
    else:
        yaw_dir = horizontal / np.linalg.norm(horizontal)
    side = np.cross(np.array([0.0, 1.0, 0.0]), yaw_dir)  # +X when facing +Z
    up = np.cross(yaw_dir, side)
    yaw = np.column_stack([side, up, yaw_dir])  # maps (X, Y, Z) to (side, up, forward)
    pitch_angle = np.arctan2(finger[1], np.dot(finger, yaw_dir))
    c, s = np.cos(pitch_angle), np.sin(pitch_angle)
    # Pitch about the local side axis: forward tips up toward +Y for positive angles.
    pitch = np.array([[1, 0, 0], [0, c, s], [0, -s, c]], np.float64)
    return yaw @ pitch


def palm_vector(finger: np.ndarray, palm_written: np.ndarray) -> np.ndarray:
    """The palm's world direction for a written palm direction (fingers-away frame),
    made perpendicular to the finger direction."""
    palm = _view_frame(finger) @ palm_written
    palm = palm - np.dot(palm, finger) * finger
    norm = np.linalg.norm(palm)
    if norm < 1e-6:
        raise ValueError("palm orientation along the extended-finger direction")
    return palm / norm


#: Rest-pose directions of each hand in the wrist's frame (SMPL-X T-pose).
REST_FINGER = {"right": np.array([-1.0, 0.0, 0.0]), "left": np.array([1.0, 0.0, 0.0])}
REST_PALM = np.array([0.0, -1.0, 0.0])


def wrist_rotation(finger: np.ndarray, palm: np.ndarray, side: str) -> np.ndarray:
    """(3, 3) world rotation of a hand ("right"/"left") whose extended fingers point
    along ``finger`` and palm faces ``palm`` (both unit, perpendicular)."""
    rest_finger = REST_FINGER[side]
    rest = np.column_stack([rest_finger, REST_PALM, np.cross(rest_finger, REST_PALM)])
    target = np.column_stack([finger, palm, np.cross(finger, palm)])
    return target @ rest.T


def mirrored(rotation: np.ndarray) -> np.ndarray:
    """A world rotation mirrored across the body's midline (x -> -x): how the other
    hand holds the same orientation in a left-right symmetric sign."""
    flip = np.diag([-1.0, 1.0, 1.0])
    return flip @ rotation @ flip


def minimal_turn(source: np.ndarray, target: np.ndarray) -> np.ndarray:
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


# ------------------------------------------------------------------------ arm IK
def _axis_rotation(axis: np.ndarray, angles: np.ndarray) -> np.ndarray:
    """(F, 3, 3) rotations by ``angles`` (F,) about the fixed unit ``axis``."""
    return axis_angle_to_matrix(angles[:, None] * axis[None])


#: Forearm twist the elbow takes (radians either way from the rest pose, whose palm
#: faces down: a forearm turns through about 150 degrees from palm down to palm up);
#: the wrist takes what is left of the hand's rotation about the forearm.
FOREARM_TWIST_LIMIT = 2.6
#: Wrist bend (radians) past which the elbow's swivel is chosen to spare the wrist:
#: beyond about 60 degrees a wrist is at the end of its range (and skinning folds).
WRIST_COMFORT = 1.05
#: The most a wrist turns (radians, ~109 degrees) whatever the hand's orientation asks
#: (at 100 degrees a written orientation, fingers up-right palm toward the signer, was
#: no longer reached within 15 degrees: docs/notation.md).
WRIST_LIMIT = 1.9


@dataclass(frozen=True)
class ArmPose:
    """Per-frame local axis-angles (F, 3) of one arm's shoulder, elbow and wrist."""

    shoulder: np.ndarray
    elbow: np.ndarray
    wrist: np.ndarray


@dataclass(frozen=True)
class Torso:
    """The trunk as an elliptic cylinder the elbow and forearm keep out of (metres):
    ``half_width`` across, centred at depth ``centre_z`` with ``half_depth``, from
    height ``bottom`` to ``top``."""

    half_width: float
    centre_z: float
    half_depth: float
    bottom: float
    top: float

    def inside(self, points: np.ndarray) -> np.ndarray:
        """(...,) how far inside each point (..., 3) is: > 0 inside, 0 outside."""
        radial = (points[..., 0] / self.half_width) ** 2 + (
            (points[..., 2] - self.centre_z) / self.half_depth) ** 2
        within = (points[..., 1] > self.bottom) & (points[..., 1] < self.top)
        return np.where(within, np.maximum(0.0, 1.0 - radial), 0.0)


#: Share of the trunk's half-width from the midline an elbow keeps to on its own side.
ELBOW_OWN_SIDE = 0.5
#: Swivel angles (radians about the shoulder-wrist line) the elbow may take from its
#: preferred place, tried to keep it and the forearm out of the trunk.
_SWIVELS = np.radians(np.linspace(-120, 120, 25))


class ArmSolver:
    """Analytic two-bone IK on one body's arms (collar and spine at rest).

    ``solve(side, wrist_positions, wrist_rotations)`` returns the local rotations that
    put the wrist at each position (F, 3) metres with each world rotation (F, 3, 3).
    The elbow hangs out and down (a signer's elbow) and swivels about the
    shoulder-wrist line only as far as it must to keep the elbow and forearm out of the
    ``torso`` (a hand at the other shoulder brings the elbow forward) and the wrist in
    its range; the forearm takes the hand's twist up to ``FOREARM_TWIST_LIMIT`` and the
    wrist never turns past ``WRIST_LIMIT``. Targets beyond reach are pulled in
    along the line from the shoulder; the hand then stops short (``reached`` says by
    how much).
    """

    def __init__(self, rest_joints: np.ndarray, torso: Torso | None = None):
        rest = np.asarray(rest_joints, np.float64)
        self._rest = rest
        self.torso = torso
        self.shoulder, self.upper, self.fore = {}, {}, {}
        for side in ("left", "right"):
            s, e, w = (rest[JOINT_INDEX[f"{side}_{j}"]] for j in ("shoulder", "elbow", "wrist"))
            self.shoulder[side] = s
            self.upper[side] = float(np.linalg.norm(e - s))
            self.fore[side] = float(np.linalg.norm(w - e))

    def reach(self, side: str = "right") -> float:
        return self.upper[side] + self.fore[side]

    def solve(self, side: str, positions: np.ndarray,
              rotations: np.ndarray) -> tuple[ArmPose, np.ndarray]:
        """(ArmPose, reached (F,) metres between each target and the wrist placed)."""
        positions = np.asarray(positions, np.float64).reshape(-1, 3)
        rotations = np.asarray(rotations, np.float64).reshape(-1, 3, 3)
        outward = -1.0 if side == "right" else 1.0
        upper, fore = self.upper[side], self.fore[side]
        shoulder = self.shoulder[side]
        offset = positions - shoulder
        distance = np.linalg.norm(offset, axis=1)
        along = offset / np.maximum(distance, 1e-9)[:, None]
        clamped = np.clip(distance, abs(upper - fore) + 0.02, upper + fore - 1e-4)
        reached = np.abs(distance - clamped)
        pole = np.array([outward * 0.45, -1.0, -0.25])
        pole = pole / np.linalg.norm(pole)
        bend = pole[None] - (along @ pole)[:, None] * along
        bend_norm = np.linalg.norm(bend, axis=1)
        fallback = np.cross(along, np.array([0.0, 0.0, 1.0]))
        bend = np.where(bend_norm[:, None] > 1e-6, bend / np.maximum(bend_norm, 1e-9)[:, None],
                        fallback / np.maximum(np.linalg.norm(fallback, axis=1), 1e-9)[:, None])
        cos_alpha = np.clip((upper ** 2 + clamped ** 2 - fore ** 2) / (2 * upper * clamped), -1, 1)
        sin_alpha = np.sin(np.arccos(cos_alpha))
        wrist = shoulder + clamped[:, None] * along
        if self.torso is not None:
            bend = self._swivelled(side, along, bend, cos_alpha, sin_alpha, wrist, rotations)
        shoulder_rot, elbow_rot, local_wrist, _ = self._rotations(
            side, along, bend, cos_alpha, sin_alpha, wrist, rotations)
        # A hand turned further than wrist and forearm can go between two postures
        # (the world-space path from one to the next can ask for it) stops at the
        # wrist's limit instead of folding the mesh at the wrist.
        wrist_rotvec = matrix_to_axis_angle(local_wrist)
        bent = np.linalg.norm(wrist_rotvec, axis=1, keepdims=True)
        wrist_rotvec *= np.minimum(1.0, WRIST_LIMIT / np.maximum(bent, 1e-9))
        return (ArmPose(matrix_to_axis_angle(shoulder_rot), matrix_to_axis_angle(elbow_rot), wrist_rotvec),
                reached)

    def _rotations(self, side, along, bend, cos_alpha, sin_alpha, wrist, rotations):
        """(shoulder, elbow, wrist local rotations (N, 3, 3), elbow positions (N, 3)) for
        an elbow bent toward ``bend``; the forearm takes the twist up to its limit."""
        outward = -1.0 if side == "right" else 1.0
        upper, fore, shoulder = self.upper[side], self.fore[side], self.shoulder[side]
        elbow = shoulder + upper * (cos_alpha[:, None] * along + sin_alpha[:, None] * bend)
        u = (elbow - shoulder) / upper
        v = (wrist - elbow) / fore
        rest_u = np.array([outward, 0.0, 0.0])  # the arm along -X (right) or +X (left)
        rest_h = np.cross(rest_u, np.array([0.0, 0.0, 1.0]))
        hinge = np.cross(u, v)
        hinge_norm = np.linalg.norm(hinge, axis=1)
        straight = hinge_norm < 1e-5
        hinge = np.where(straight[:, None], np.cross(u, bend), hinge)
        hinge /= np.linalg.norm(hinge, axis=1, keepdims=True)
        rest_frame = np.column_stack([rest_u, rest_h, np.cross(rest_u, rest_h)])
        frames = np.stack([u, hinge, np.cross(u, hinge)], axis=2)  # (N, 3, 3) columns
        shoulder_rot = frames @ rest_frame.T
        flexion = np.arctan2(hinge_norm, np.einsum("fi,fi->f", u, v))
        elbow_rot = _axis_rotation(rest_h, flexion)
        parent = shoulder_rot @ elbow_rot
        local_wrist = np.transpose(parent, (0, 2, 1)) @ rotations
        twist = np.clip(_twist_angle(local_wrist, rest_u), -FOREARM_TWIST_LIMIT,
                        FOREARM_TWIST_LIMIT)
        twist_rot = _axis_rotation(rest_u, twist)
        elbow_rot = elbow_rot @ twist_rot
        local_wrist = np.transpose(twist_rot, (0, 2, 1)) @ local_wrist
        return shoulder_rot, elbow_rot, local_wrist, elbow

    def _swivelled(self, side, along, bend, cos_alpha, sin_alpha, wrist, rotations):
        """The bend direction turned about ``along`` by the swivel that keeps the elbow
        and the forearm's middle out of the torso and the wrist within its range (a
        wrist bent past ``WRIST_COMFORT`` costs more the further it goes), nearest to
        the hanging elbow; smoothed over frames so the elbow never jumps."""
        frames, count = len(along), len(_SWIVELS)
        side_axis = np.cross(along, bend)
        cos_s, sin_s = np.cos(_SWIVELS)[None, :, None], np.sin(_SWIVELS)[None, :, None]
        candidates = (cos_s * bend[:, None] + sin_s * side_axis[:, None]).reshape(-1, 3)
        repeat = lambda array: np.repeat(array, count, axis=0)  # noqa: E731
        _, _, local_wrist, elbows = self._rotations(
            side, repeat(along), candidates, repeat(cos_alpha), repeat(sin_alpha),
            repeat(wrist), repeat(rotations))
        bent = np.linalg.norm(matrix_to_axis_angle(local_wrist), axis=1).reshape(frames, count)
        elbows = elbows.reshape(frames, count, 3)
        middles = (elbows + wrist[:, None]) / 2
        inside = self.torso.inside(elbows) + self.torso.inside(middles)
        # Out of reach whatever the trunk's height: an elbow across the body's midline
        # or behind its back (a hand held above its own shoulder swung the elbow behind
        # the neck; a hand close in front of the chest put it across the midline, where
        # the other forearm is).
        outward = -1.0 if side == "right" else 1.0
        torso = self.torso
        across = np.maximum(0.0, ELBOW_OWN_SIDE * torso.half_width - outward * elbows[..., 0])
        behind = np.maximum(0.0, torso.centre_z - torso.half_depth - elbows[..., 2])
        inside = inside + (across / torso.half_width + behind / torso.half_depth) * 2.0
        cost = (inside * 50.0 + np.abs(_SWIVELS)[None] * 0.3
                + np.maximum(0.0, bent - WRIST_COMFORT) * 2.0)
        best = _SWIVELS[np.argmin(cost, axis=1)]
        if len(best) > 2:
            kernel = np.ones(5) / 5
            padded = np.pad(best, 2, mode="edge")
            best = np.convolve(padded, kernel, mode="valid")
        return np.cos(best)[:, None] * bend + np.sin(best)[:, None] * side_axis


def _twist_angle(rotations: np.ndarray, axis: np.ndarray) -> np.ndarray:
    """(F,) radians of each rotation's twist about ``axis`` (swing-twist split)."""
    quats = Rotation.from_matrix(rotations).as_quat()  # x, y, z, w
    quats = quats * np.where(quats[:, 3:] < 0, -1.0, 1.0)  # w >= 0: angles in (-pi, pi]
    projected = quats[:, :3] @ axis
    return 2.0 * np.arctan2(projected, quats[:, 3])
