"""A synthetic SMPL-X model file with the real keys and shapes (no licensed data).

The template's first 55 vertices sit exactly on the given rest joints, the joint
regressor picks them, and every other vertex is rigidly skinned to its nearest joint,
so joint positions are known exactly. Hand means are random on purpose: the adapter
must ignore them (flat_hand_mean=True). Shape component 0 scales
the body, so betas change its proportions but not its bone directions.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.body.skeleton import PARENTS

NUM_VERTICES = 10475  # SMPL-X's count: smplx selects extra joints by vertex id
NUM_FACES = 20908


@dataclass(frozen=True)
class SyntheticFace:
    """A head surface for the synthetic model: ``vertices`` (N, 3) metres, ``joints``
    (N,) the joint each is skinned to, ``expression_dirs`` (N, 3, 10) its movement per
    expression coefficient. The model's other vertices then stay off the head joints."""

    vertices: np.ndarray
    joints: np.ndarray
    expression_dirs: np.ndarray


HEAD_JOINTS = (15, 22, 23, 24)


def write_synthetic_smplx(path: Path, rest_joints: np.ndarray, seed: int = 0,
                          face: SyntheticFace | None = None) -> Path:
    rng = np.random.default_rng(seed)
    rest_joints = np.asarray(rest_joints, np.float32)
    extra = NUM_VERTICES - 55
    owner = rng.integers(0, 55, extra)
    if face is not None:
        body_joints = np.setdiff1d(np.arange(55), HEAD_JOINTS)
        owner = body_joints[rng.integers(0, len(body_joints), extra)]
    v_template = np.concatenate(
        [rest_joints, rest_joints[owner] + rng.normal(0, 0.02, (extra, 3))]).astype(np.float32)
    if face is not None:
        head = slice(55, 55 + len(face.vertices))
        v_template[head] = face.vertices
        owner[: len(face.vertices)] = face.joints
    weights = np.zeros((NUM_VERTICES, 55), np.float32)
    weights[np.arange(55), np.arange(55)] = 1.0
    weights[55 + np.arange(extra), owner] = 1.0
    regressor = np.zeros((55, NUM_VERTICES), np.float32)
    regressor[np.arange(55), np.arange(55)] = 1.0
    faces = rng.integers(0, NUM_VERTICES, (NUM_FACES, 3)).astype(np.int64)
    kintree = np.stack([PARENTS, np.arange(55)]).astype(np.int64)
    kintree[0, 0] = 4294967295  # as in the real files (uint32 -1)
    shapedirs = rng.normal(0, 0.002, (NUM_VERTICES, 3, 20)).astype(np.float32)
    # Components 10-19 are expression: like SMPL-X's, they move the face surface,
    # not the skeleton, so they are zero on the joint vertices.
    shapedirs[:55, :, 10:] = 0.0
    # Shape component 0 scales the whole body (proportions change, bone directions do
    # not); the other shape components only move the surface, not the joints.
    shapedirs[:55, :, 1:10] = 0.0
    shapedirs[:, :, 0] = 0.05 * v_template
    if face is not None:
        shapedirs[:, :, 10:] = 0.0
        shapedirs[head, :, 10:] = face.expression_dirs
    arrays = dict(
        v_template=v_template, f=faces, J_regressor=regressor, weights=weights,
        kintree_table=kintree,
        shapedirs=shapedirs,
        posedirs=np.zeros((NUM_VERTICES, 3, 486), np.float32),
        hands_componentsl=np.eye(45, dtype=np.float32),
        hands_componentsr=np.eye(45, dtype=np.float32),
        hands_meanl=rng.normal(0, 0.3, 45).astype(np.float32),
        hands_meanr=rng.normal(0, 0.3, 45).astype(np.float32),
        lmk_faces_idx=rng.integers(0, NUM_FACES, 51).astype(np.int64),
        lmk_bary_coords=np.full((51, 3), 1 / 3, np.float32),
        dynamic_lmk_faces_idx=rng.integers(0, NUM_FACES, (79, 17)).astype(np.int64),
        dynamic_lmk_bary_coords=np.full((79, 17, 3), 1 / 3, np.float32),
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, **arrays)
    return path
