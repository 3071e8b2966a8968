"""The ARKit face on SMPL-X: each blendshape re-expressed as SMPL-X's own jaw turn and
expression coefficients, measured from the user's model file.

SMPL-X has no ARKit blendshapes. Its face moves by ``jaw_pose`` and by ``expression``,
a PCA space that exists only in the licensed model file, so the mapping is made from
that file (once per model and expression size, a fraction of a second):

1. **Align** SMPL-X's rest head onto the avatar's: a similarity from the neck, head, jaw
   and eye joints, refined by a few rounds of closest points over the head.
2. **Correspond**: each SMPL-X head vertex takes the nearest avatar vertex on the same
   side of the mouth (both skinned to the jaw, or neither), so an upper lip never takes
   the lower lip's movement. A vertex with no avatar vertex within ``MAX_MATCH_M`` is
   left out.
3. **Solve**, for all 52 shapes at once: the jaw turn (linearised about SMPL-X's jaw
   joint, weighted by its own jaw skin weights) plus the expression coefficients that best
   reproduce the shape's avatar deltas at the corresponding vertices (ridge least
   squares). Vertices a shape does not move count too: they keep SMPL-X from moving
   what the shape leaves still. Coefficients are bounded, and a shape SMPL-X's space
   cannot show (``UNSHOWABLE``) is not mapped.

Weights then map linearly: ``expression += w @ expression_map``, ``jaw_pose += w @
jaw_map``. Adding axis-angles is exact for turns about one axis (opening the jaw, which
the mouthing and ``jawOpen`` both do, turns about x) and close for the small sideways
jaw turns.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.spatial import cKDTree

from engine.body.skeleton import JOINT_INDEX
from engine.motion.face import NUM_FACE_BLENDSHAPES
from engine.motion.motion import Motion
from engine.motion.rotations import similarity

#: Joints whose rest positions align the two heads (both skeletons are SMPL-X's).
ALIGN_JOINTS = tuple(JOINT_INDEX[name] for name in ("neck", "head", "jaw", "left_eye_smplhf",
                                                     "right_eye_smplhf"))
HEAD_JOINTS = ALIGN_JOINTS[1:]
JAW = JOINT_INDEX["jaw"]
#: Farther than this from any avatar vertex after alignment, a SMPL-X vertex is not used.
MAX_MATCH_M = 0.01
ICP_ROUNDS = 6
#: Ridge on each coefficient, relative to its own column's weight in the normal
#: equations: a shape SMPL-X can show exactly comes out 0.1 % short, one it cannot show
#: does not borrow huge coefficients from directions that barely help.
RIDGE = 1e-3
#: Per unit ARKit weight, no expression coefficient beyond this (SMPL-X's coefficients
#: stay within about +-3 in its own fits) and no jaw turn beyond this (radians).
EXPRESSION_LIMIT = 3.0
JAW_LIMIT = 0.6
#: A shape whose movement SMPL-X's space leaves this much of unexplained (a tongue, a
#: gaze the mesh has no eyes for) is not mapped at all: a fraction of it would be noise.
UNSHOWABLE = 0.9


@dataclass(frozen=True)
class FaceRetarget:
    """``jaw_map`` (52, 3): SMPL-X jaw axis-angle (radians) per unit ARKit weight;
    ``expression_map`` (52, E): expression coefficients per unit weight; ``unexplained``
    (52,): each shape's movement left over, as a fraction of it (0: reproduced exactly,
    1: not at all; NaN for a shape the avatar does not move)."""

    jaw_map: np.ndarray
    expression_map: np.ndarray
    unexplained: np.ndarray

    def apply(self, motion: Motion) -> Motion:
        """``motion`` with its ARKit weights added to ``expression`` and ``jaw_pose``.

        The expression width must be this map's (raises ValueError otherwise)."""
        if motion.expression_dims != self.expression_map.shape[1]:
            raise ValueError(f"expression has {motion.expression_dims} coefficients, the "
                             f"face map {self.expression_map.shape[1]}")
        if not motion.face_blendshapes.any():
            return motion
        expression, jaw = self.fold(motion.face_blendshapes, motion.expression, motion.jaw_pose)
        return motion.replace(expression=expression, jaw_pose=jaw)

    def fold(self, weights: np.ndarray, expression: np.ndarray, jaw_pose: np.ndarray
             ) -> tuple[np.ndarray, np.ndarray]:
        """(expression (F, E), jaw_pose (F, 3)) float32 with ``weights`` (F, 52) added."""
        return ((expression + weights @ self.expression_map).astype(np.float32),
                (jaw_pose + weights @ self.jaw_map).astype(np.float32))


def _head_vertices(skin_weights: np.ndarray) -> np.ndarray:
    """Indices of the vertices skinned mostly to the head, jaw and eyes."""
    return np.flatnonzero(skin_weights[:, list(HEAD_JOINTS)].sum(axis=1) > 0.5)


def _align(smplx_vertices: np.ndarray, smplx_joints: np.ndarray, avatar_vertices: np.ndarray,
           avatar_joints: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """(s, R, t) with ``s R x + t`` taking SMPL-X head points onto the avatar's."""
    index = list(ALIGN_JOINTS)
    scale, rotation, shift = similarity(smplx_joints[index], avatar_joints[index],
                                        np.ones(len(index)))
    tree = cKDTree(avatar_vertices)
    for _ in range(ICP_ROUNDS):
        moved = scale * smplx_vertices @ rotation.T + shift
        distance, nearest = tree.query(moved)
        # The farthest fifth (hair, the back of a differently shaped skull) would pull.
        keep = distance <= np.quantile(distance, 0.8)
        scale, rotation, shift = similarity(smplx_vertices[keep], avatar_vertices[nearest[keep]],
                                            np.ones(int(keep.sum())))
    return scale, rotation, shift


def retarget_face(smplx_rest: np.ndarray, smplx_skin: np.ndarray, smplx_joints: np.ndarray,
                  expression_dirs: np.ndarray, avatar_rest: np.ndarray, avatar_skin: np.ndarray,
                  avatar_joints: np.ndarray, shape_vertex_ids: np.ndarray,
                  shape_deltas: np.ndarray) -> FaceRetarget:
    """The map from the avatar's ARKit shapes to SMPL-X (see the module docstring).

    SMPL-X: ``smplx_rest`` (V, 3) rest vertices (metres), ``smplx_skin`` (V, 55) skin
    weights, ``smplx_joints`` (55, 3) rest joints, ``expression_dirs`` (V, 3, E). Avatar:
    ``avatar_rest`` (W, 3), ``avatar_skin`` (W, 55), ``avatar_joints`` (55, 3), and its
    shapes as ``shape_deltas`` (52, K, 3) at the vertices ``shape_vertex_ids`` (K,).
    """
    smplx_head = _head_vertices(smplx_skin)
    avatar_head = _head_vertices(avatar_skin)
    scale, rotation, shift = _align(smplx_rest[smplx_head], smplx_joints,
                                    avatar_rest[avatar_head], avatar_joints)
    moved = scale * smplx_rest[smplx_head] @ rotation.T + shift
    on_jaw_smplx = smplx_skin[smplx_head, JAW] > 0.5
    on_jaw_avatar = avatar_skin[avatar_head, JAW] > 0.5
    matched = np.full(len(smplx_head), -1)
    distance = np.full(len(smplx_head), np.inf)
    for side in (False, True):  # each side of the mouth matches only its own side
        targets = np.flatnonzero(on_jaw_avatar == side)
        sources = np.flatnonzero(on_jaw_smplx == side)
        if len(targets) and len(sources):
            found, nearest = cKDTree(avatar_rest[avatar_head[targets]]).query(moved[sources])
            matched[sources], distance[sources] = avatar_head[targets[nearest]], found
    use = distance <= MAX_MATCH_M
    vertices, matched = smplx_head[use], matched[use]

    # Each shape's avatar deltas at the matched vertices, in SMPL-X's frame and units.
    dense = np.zeros((len(shape_deltas), len(avatar_rest), 3), np.float64)
    dense[:, shape_vertex_ids] = shape_deltas
    targets = dense[:, matched] @ rotation / scale                  # (52, N, 3)

    # Columns: the jaw turn's 3 components (dv = w_jaw * (axis x (v - jaw))), then E dirs.
    lever = smplx_rest[vertices] - smplx_joints[JAW]
    jaw_weight = smplx_skin[vertices, JAW][:, None]
    jaw_columns = np.stack([np.cross(axis, lever) * jaw_weight for axis in np.eye(3)], -1)
    design = np.concatenate([jaw_columns, expression_dirs[vertices]], axis=-1)
    design = design.reshape(-1, design.shape[-1]).astype(np.float64)   # (3N, 3 + E)
    normal = design.T @ design
    # (+ a tiny absolute ridge: a head that matches nowhere maps every shape to nothing)
    normal[np.diag_indices(len(normal))] += RIDGE * np.diag(normal) + 1e-12
    rhs = design.T @ targets.reshape(len(targets), -1).T               # (3 + E, 52)
    solution = np.linalg.solve(normal, rhs).T                          # (52, 3 + E)
    left = targets.reshape(len(targets), -1) - solution @ design.T
    size = np.linalg.norm(targets.reshape(len(targets), -1), axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        unexplained = np.where(size > 0, np.linalg.norm(left, axis=1) / size, np.nan)
    if len(solution) != NUM_FACE_BLENDSHAPES:
        raise ValueError(f"expected {NUM_FACE_BLENDSHAPES} shapes, got {len(solution)}")
    solution[~(unexplained < UNSHOWABLE)] = 0.0    # NaN (a shape that moves nothing) too
    jaw = np.clip(solution[:, :3], -JAW_LIMIT, JAW_LIMIT)
    expression = np.clip(solution[:, 3:], -EXPRESSION_LIMIT, EXPRESSION_LIMIT)
    maps = [np.asarray(a, np.float32) for a in (jaw, expression, unexplained)]
    for array in maps:
        array.setflags(write=False)
    return FaceRetarget(*maps)
