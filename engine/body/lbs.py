"""Forward kinematics and linear blend skinning (LBS) in numpy.

The rest pose is a T-pose whose joint frames are all world-aligned (identity), the
SMPL-X convention: a joint's axis-angle rotates its child bones about the joint, in the
parent's rest frame. With R_j the local rotation and J_j the rest position:

    G_j = G_parent(j) * [R_j | J_j - J_parent(j)]      (world transform of joint j)
    A_j = G_j * [I | -J_j]                              (rest space -> posed space)
    v'  = sum_j w_vj * A_j * v + transl
"""
from __future__ import annotations

import numpy as np

from engine.motion.rotations import axis_angle_to_matrix


def forward_kinematics(
    full_pose: np.ndarray, rest_joints: np.ndarray, parents: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """World joint frames for each frame.

    full_pose: (F, J, 3) axis-angle radians, skeleton order (root first).
    rest_joints: (J, 3) metres. parents: (J,) with parents[j] < j, parents[0] = -1.
    Returns (rotations (F, J, 3, 3) float32, positions (F, J, 3) float32), before
    the root translation is added.
    """
    local = axis_angle_to_matrix(full_pose).astype(np.float32)  # (F, J, 3, 3)
    num_frames, num_joints = local.shape[:2]
    rest_joints = np.asarray(rest_joints, np.float32)
    offsets = rest_joints - rest_joints[np.maximum(parents, 0)]
    offsets[0] = rest_joints[0]
    rotations = np.empty_like(local)
    positions = np.empty((num_frames, num_joints, 3), np.float32)
    rotations[:, 0] = local[:, 0]
    positions[:, 0] = offsets[0]
    for j in range(1, num_joints):
        p = parents[j]
        rotations[:, j] = rotations[:, p] @ local[:, j]
        positions[:, j] = positions[:, p] + rotations[:, p] @ offsets[j]
    return rotations, positions


def skinning_transforms(rotations: np.ndarray, positions: np.ndarray,
                        rest_joints: np.ndarray) -> np.ndarray:
    """(F, J, 3, 4) transforms taking rest-pose points to posed points per joint."""
    translation = positions - np.einsum("fjab,jb->fja", rotations, rest_joints.astype(np.float32))
    return np.concatenate([rotations, translation[..., None]], axis=-1)


# Frames per skinning chunk: bounds the (V, chunk, 12) temporary to ~40 MB for 14k
# vertices while keeping the matrix product large enough to run at BLAS speed.
_CHUNK_FRAMES = 64


def blend_skin(transforms: np.ndarray, weights: np.ndarray, rest_vertices: np.ndarray,
               vertex_offsets: tuple[np.ndarray, np.ndarray] | None = None) -> np.ndarray:
    """Skin rest vertices with per-joint transforms.

    transforms: (F, J, 3, 4). weights: (V, J) float32 dense, rows summing to 1.
    rest_vertices: (V, 3). vertex_offsets: optional (ids (N,), deltas (F, N, 3)): extra
    rest-space offsets (blendshapes) added to vertices ``ids`` before skinning.
    Returns (F, V, 3) float32.
    """
    num_frames, num_joints = transforms.shape[:2]
    num_vertices = rest_vertices.shape[0]
    out = np.empty((num_frames, num_vertices, 3), np.float32)
    rest = rest_vertices.astype(np.float32)
    for start in range(0, num_frames, _CHUNK_FRAMES):
        stop = min(start + _CHUNK_FRAMES, num_frames)
        chunk = transforms[start:stop].astype(np.float32, copy=False)
        # One GEMM blends all joints for all vertices and frames: (V, J) @ (J, f*12).
        flat = chunk.transpose(1, 0, 2, 3).reshape(num_joints, -1)
        blended = (weights @ flat).reshape(num_vertices, stop - start, 3, 4)
        posed = blended[..., 3].copy()  # (V, f, 3)
        for c in range(3):
            posed += blended[..., c] * rest[:, None, c, None]
        out[start:stop] = posed.transpose(1, 0, 2)
        if vertex_offsets is not None:
            ids, deltas = vertex_offsets
            linear = blended[ids][..., :3]  # (N, f, 3, 3)
            out[start:stop, ids] += np.einsum("nfab,fnb->fna", linear, deltas[start:stop])
    return out
