"""Capsule proxies of a body: what the hands must stay out of, and the hands themselves.

A capsule is a segment with a radius: every point within the radius of the segment is
inside. Each segment's ends are fixed to joints of the skeleton, so the capsules follow
any pose; the radii are measured once per body on its rest mesh (both body models: the
default avatar's and SMPL-X's), as the median distance to the segment of the mesh's
vertices nearest to it.

- the body (``BODY_CAPSULES``): head, neck, and the trunk as two upright capsules side
  by side (a trunk is half again as wide as it is deep; one capsule as wide would
  stick out a hand's width in front of the chest);
- each hand and forearm (``LIMB_CAPSULES``): the forearm's elbow half (``forearm``) and
  wrist half (``wrist_forearm``), palm, and the three phalanges of every finger, the
  last one to the fingertip.

``penetration`` says how deep, per frame, a limb capsule is inside a body capsule;
``engine.body.penetration`` pushes the hands back out.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.body.lbs import forward_kinematics
from engine.body.skeleton import FINGER_NAMES, JOINT_INDEX, PARENTS, skeleton_key
from engine.motion.motion import Motion

#: The fingertip continues the last phalanx this far beyond its joint, as a share of
#: the phalanx before it (the default avatar's mesh: the tip vertices lie 0.7 to 0.9
#: of the middle phalanx beyond the last joint).
TIP_EXTENSION = 0.8
#: Percentile of the distances of a capsule's own vertices taken as its radius: the
#: median, so a capsule neither swells to the farthest vertex nor shrinks into the mesh.
RADIUS_PERCENTILE = 50
#: Percentile of a body capsule's band of the surface taken as its radius (see
#: ``_measured``): 10, so the capsule is inside the skin almost everywhere.
BODY_INSIDE_PERCENTILE = 10


@dataclass(frozen=True)
class CapsuleSet:
    """Capsules fixed to a skeleton: ``names`` (N,); each end is a joint and an offset
    in that joint's rest frame (``joints`` (N, 2) int, ``offsets`` (N, 2, 3) metres);
    ``radii`` (N,) metres."""

    names: tuple[str, ...]
    joints: np.ndarray
    offsets: np.ndarray
    radii: np.ndarray

    def segments(self, rotations: np.ndarray, positions: np.ndarray) -> np.ndarray:
        """(F, N, 2, 3) world ends of every capsule, from FK's world joint
        ``rotations`` (F, 55, 3, 3) and ``positions`` (F, 55, 3)."""
        rot = rotations[:, self.joints]                     # (F, N, 2, 3, 3)
        return np.einsum("fnkab,nkb->fnka", rot, self.offsets) + positions[:, self.joints]

    def subset(self, names) -> CapsuleSet:
        """The capsules ``names`` (in that order) alone."""
        rows = np.array([self.names.index(name) for name in names], np.intp)
        return CapsuleSet(tuple(names), self.joints[rows], self.offsets[rows], self.radii[rows])


def _ends(rest: np.ndarray, joint: str, point: np.ndarray) -> tuple[int, np.ndarray]:
    index = JOINT_INDEX[joint]
    return index, point - rest[index]


def _segment_distances(points: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(P, N) distance of every point (P, 3) to every segment a (N, 3) -> b (N, 3)."""
    ab = b - a
    t = np.einsum("pnk,nk->pn", points[:, None] - a[None], ab) / np.maximum(
        np.einsum("nk,nk->n", ab, ab), 1e-12)
    closest = a[None] + np.clip(t, 0.0, 1.0)[..., None] * ab[None]
    return np.linalg.norm(points[:, None] - closest, axis=-1)


def _measured(rest_joints: np.ndarray, rest_vertices: np.ndarray) -> tuple[CapsuleSet, CapsuleSet]:
    rest = np.asarray(rest_joints, np.float64)
    vertices = np.asarray(rest_vertices, np.float64)
    j = {name: rest[index] for name, index in JOINT_INDEX.items()}
    body_names, body_ends, limb_names, limb_ends = [], [], [], []

    # Trunk: spine1 to spine3 height, split into two capsules about the midline.
    # Its half-width and half-depth come from the rest mesh between those heights
    # (arms excluded: within the shoulder joints).
    trunk = vertices[(vertices[:, 1] > j["spine1"][1]) & (vertices[:, 1] < j["spine3"][1])
                     & (np.abs(vertices[:, 0] - j["spine3"][0]) < abs(j["right_shoulder"][0]
                                                                    - j["spine3"][0]))]
    # Middle and half-depth from the 5th and 95th percentiles: a dense face or chest
    # region would pull a median forward.
    front, back = np.percentile(trunk[:, 2], [95, 5]) if len(trunk) else (0.1, -0.1)
    centre_z, half_depth = float(front + back) / 2, float(front - back) / 2
    half_width = float(np.percentile(np.abs(trunk[:, 0] - j["spine3"][0]), 95)) if len(trunk) else 0.15
    side_offset = max(0.0, half_width - half_depth)
    for side, sign in (("left", 1.0), ("right", -1.0)):
        low = np.array([j["spine1"][0] + sign * side_offset, j["spine1"][1], centre_z])
        high = np.array([j["spine3"][0] + sign * side_offset, j["spine3"][1], centre_z])
        body_names.append(f"trunk_{side}")
        body_ends.append((_ends(rest, "spine1", low), _ends(rest, "spine3", high)))
    # Neck: upright from its joint to below the chin (a capsule up to the head joint
    # would fill the space under the chin where a hand touches it), as thick as the
    # mesh across and set back from the throat by that much. Head: upright from the
    # chin to the crown, as wide as the head.
    above = vertices[(vertices[:, 1] > j["neck"][1])
                     & (np.abs(vertices[:, 0] - j["neck"][0]) < half_width)]
    neck_band = above[(above[:, 1] > j["neck"][1] + 0.02) & (above[:, 1] < j["neck"][1] + 0.06)
                      & (np.abs(above[:, 0] - j["neck"][0]) < 0.5 * half_width)]
    neck_radius = (float(np.percentile(np.abs(neck_band[:, 0] - j["neck"][0]), 95))
                   if len(neck_band) else 0.05)
    neck_z = float(np.percentile(neck_band[:, 2], 5)) + neck_radius if len(neck_band) \
        else j["neck"][2]
    body_names.append("neck")
    body_ends.append((_ends(rest, "neck", np.array([j["neck"][0], j["neck"][1], neck_z])),
                      _ends(rest, "neck", np.array([j["neck"][0], j["neck"][1] + 0.06, neck_z]))))
    head = above[above[:, 1] > j["head"][1] - 0.1]
    head_radius = float(np.percentile(np.abs(head[:, 0] - j["head"][0]), 95)) if len(head) else 0.085
    head_z = float(head[:, 2].min() + head[:, 2].max()) / 2 if len(head) else j["head"][2]
    bottom = float(head[:, 1].min()) + head_radius if len(head) else j["head"][1]
    top = float(head[:, 1].max()) - head_radius if len(head) else j["head"][1] + 0.07
    body_names.append("head")
    body_ends.append((_ends(rest, "head", np.array([j["head"][0], bottom, head_z])),
                      _ends(rest, "head", np.array([j["head"][0], max(top, bottom), head_z]))))

    for side in ("left", "right"):
        # The forearm in two halves: it tapers from elbow to wrist (one capsule as thick
        # as its middle stood 2 cm proud of the wrist, deeper in the body than the palm
        # beside it).
        middle = (j[f"{side}_elbow"] + j[f"{side}_wrist"]) / 2
        limb_names.append(f"{side}_forearm")
        limb_ends.append((_ends(rest, f"{side}_elbow", j[f"{side}_elbow"]),
                          _ends(rest, f"{side}_elbow", middle)))
        limb_names.append(f"{side}_wrist_forearm")
        limb_ends.append((_ends(rest, f"{side}_elbow", middle),
                          _ends(rest, f"{side}_wrist", j[f"{side}_wrist"])))
        limb_names.append(f"{side}_palm")
        limb_ends.append((_ends(rest, f"{side}_wrist", j[f"{side}_wrist"]),
                          _ends(rest, f"{side}_wrist", j[f"{side}_middle1"])))
        for finger in FINGER_NAMES:
            names = [f"{side}_{finger}{k}" for k in (1, 2, 3)]
            points = [j[name] for name in names]
            points.append(points[2] + TIP_EXTENSION * (points[2] - points[1]))
            for k in range(3):
                limb_names.append(f"{names[k]}")
                limb_ends.append((_ends(rest, names[k], points[k]),
                                  _ends(rest, names[k], points[k + 1])))

    names = body_names + limb_names
    ends = body_ends + limb_ends
    starts = np.array([rest[a] + oa for (a, oa), _ in ends])
    stops = np.array([rest[b] + ob for _, (b, ob) in ends])
    distances = _segment_distances(vertices, starts, stops)
    nearest = distances.argmin(axis=1)
    # The forearm's elbow half is measured on the vertices beside it, not beyond its
    # elbow end: the upper arm has no capsule, and its vertices made the half 5 cm thick.
    along = np.einsum("pnk,nk->pn", vertices[:, None] - starts[None], stops - starts) / \
        np.maximum(np.einsum("nk,nk->n", stops - starts, stops - starts), 1e-12)
    beside = np.ones_like(distances, bool)
    for n, name in enumerate(names):
        if name.endswith("_forearm") and not name.endswith("wrist_forearm"):
            beside[:, n] = along[:, n] >= 0.0
    radii = np.array([np.percentile(distances[(nearest == n) & beside[:, n], n],
                                    RADIUS_PERCENTILE)
                      if np.any((nearest == n) & beside[:, n]) else 0.01
                      for n in range(len(names))])
    # The body's capsules lie inside the skin: each one's radius is the distance to its
    # axis that only BODY_INSIDE_PERCENTILE of its band's surface comes closer than
    # (the bands above; nearest-segment shares would give the neck the chin). A body
    # is no capsule: one as wide as the chest stands 4 cm proud of the sternum, and a
    # hand touching the sternum (a written contact) would be pushed 9 cm off it. Inside
    # the skin, a touch is a touch and a hand deep in the body is still caught.
    bands = [trunk, trunk, neck_band, head]
    for n in range(len(body_names)):
        band = bands[n]
        if len(band):
            near = _segment_distances(band, starts[n:n + 1], stops[n:n + 1])[:, 0]
            if n < 2:  # the trunk: each half measured on the vertices nearer to it
                other = _segment_distances(band, starts[1 - n:2 - n], stops[1 - n:2 - n])[:, 0]
                near = near[near <= other]
            radii[n] = np.percentile(near, BODY_INSIDE_PERCENTILE)

    def capsule_set(selected: range) -> CapsuleSet:
        return CapsuleSet(
            names=tuple(names[i] for i in selected),
            joints=np.array([[ends[i][0][0], ends[i][1][0]] for i in selected], np.intp),
            offsets=np.array([[ends[i][0][1], ends[i][1][1]] for i in selected], np.float64),
            radii=radii[list(selected)].astype(np.float64))

    count = len(body_names)
    return capsule_set(range(count)), capsule_set(range(count, len(names)))


_MEASURED: dict[bytes, tuple[CapsuleSet, CapsuleSet]] = {}


def body_capsules(body) -> tuple[CapsuleSet, CapsuleSet]:
    """(body capsules, limb capsules) of ``body`` (a ``BodyModel``), measured once per
    skeleton on its rest mesh (zero pose)."""
    key = skeleton_key(body)
    if key not in _MEASURED:
        rest = body.forward(Motion.zeros(1))
        _MEASURED[key] = _measured(rest.joints[0], rest.vertices[0])
    return _MEASURED[key]


def _array_ops(x):
    """(dot over the last axis, where, clip) for numpy arrays (numpy's own: einsum and
    where beat generic operator code by 7 % here, and assembly measures often) or for
    torch tensors (torch is imported already when ``x`` is one)."""
    if isinstance(x, np.ndarray):
        return (lambda a, b: np.einsum("...k,...k->...", a, b)), np.where, np.clip
    import torch

    return (lambda a, b: (a * b).sum(-1)), torch.where, torch.clamp


def closest_between_segments(p0, p1, q0, q1):
    """Closest points (..., 3) on segments p0-p1 and q0-q1 (all (..., 3), broadcast):
    numpy arrays, or torch tensors (the fitter's loss differentiates through it)."""
    dot, where, clip = _array_ops(p0)
    d1, d2, r = p1 - p0, q1 - q0, p0 - q0
    a, e, f, c, b = dot(d1, d1), dot(d2, d2), dot(d2, r), dot(d1, r), dot(d1, d2)
    denominator = a * e - b * b
    parallel = denominator <= 1e-12  # no single closest pair: s = 0
    s = where(parallel, 0.0, clip((b * f - c * e) / where(parallel, 1.0, denominator), 0.0, 1.0))
    t = (b * s + f) / clip(e, 1e-12, None)
    # t outside [0, 1]: clamp it and recompute s for the clamped t.
    t_clamped = clip(t, 0.0, 1.0)
    s = where(t == t_clamped, s, clip((t_clamped * b - c) / clip(a, 1e-12, None), 0.0, 1.0))
    return p0 + s[..., None] * d1, q0 + t_clamped[..., None] * d2


@dataclass(frozen=True)
class Penetration:
    """Per frame and limb capsule: ``depth`` (F, L) metres inside the deepest body
    capsule (<= 0 outside), ``normal`` (F, L, 3) the unit direction that takes it out,
    ``point`` (F, L, 3) the limb capsule's surface point deepest in (or nearest to) that
    body capsule, ``limb_names`` (L,), ``joints`` (F, 55, 3) the posed joints measured."""

    depth: np.ndarray
    normal: np.ndarray
    point: np.ndarray
    limb_names: tuple[str, ...]
    joints: np.ndarray


def rest_joints_for(body, betas: np.ndarray) -> np.ndarray:
    """(55, 3) rest joints of ``body`` for a motion's ``betas``: SMPL-X's depend on the
    shape, the default avatar's do not."""
    shaped = getattr(body, "_rest_joints_for", None)
    return np.asarray(body.rest_joints if shaped is None else shaped(betas), np.float64)


def penetration(body, motion: Motion, frames: slice | np.ndarray | None = None,
                limbs: tuple[str, ...] | None = None) -> Penetration:
    """How far each hand and forearm capsule (or only those named in ``limbs``) is
    inside the head, neck or trunk."""
    body_set, limb_set = body_capsules(body)
    if limbs is not None:
        limb_set = limb_set.subset(limbs)
    frames = slice(None) if frames is None else frames
    rotations, positions = forward_kinematics(motion.full_pose()[frames],
                                              rest_joints_for(body, motion.betas), PARENTS)
    rotations = rotations.astype(np.float64)
    positions = positions.astype(np.float64) + motion.transl[frames][:, None, :]
    segments = limb_set.segments(rotations, positions)     # (F, L, 2, 3)
    bodies = body_set.segments(rotations, positions)      # (F, B, 2, 3)
    on_limb, on_body = closest_between_segments(
        segments[:, :, None, 0], segments[:, :, None, 1], bodies[:, None, :, 0],
        bodies[:, None, :, 1])
    gap = on_limb - on_body                                # (F, L, B, 3)
    distance = np.linalg.norm(gap, axis=-1)
    depth = limb_set.radii[None, :, None] + body_set.radii[None, None, :] - distance
    deepest = depth.argmax(axis=2)                         # (F, L)
    pick = np.take_along_axis
    best_depth = pick(depth, deepest[..., None], axis=2)[..., 0]
    best_gap = pick(gap, deepest[..., None, None], axis=2)[:, :, 0]
    length = np.linalg.norm(best_gap, axis=-1, keepdims=True)
    # A limb exactly on the body's axis has no direction out: forward (+z) it goes.
    normal = np.where(length > 1e-9, best_gap / np.maximum(length, 1e-9), [0.0, 0.0, 1.0])
    axis_point = pick(on_limb, deepest[..., None, None], axis=2)[:, :, 0]
    point = axis_point - normal * limb_set.radii[None, :, None]
    return Penetration(best_depth, normal, point, limb_set.names, positions)
