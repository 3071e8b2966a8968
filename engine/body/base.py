"""The BodyModel protocol every avatar implements, and its output type."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np

from engine.body.skeleton import JOINT_NAMES, PARENTS
from engine.motion.motion import Motion


@dataclass(frozen=True)
class BodyOutput:
    """Posed geometry for a range of frames.

    ``vertices``: (F, V, 3) float32 metres, world frame (Y up, facing +Z).
    ``joints``: (F, 55, 3) float32 metres, SMPL-X joint order.
    ``joint_rotations``: (F, 55, 3, 3) float32 world rotation of each joint's frame.
    """

    vertices: np.ndarray
    joints: np.ndarray
    joint_rotations: np.ndarray


@runtime_checkable
class BodyModel(Protocol):
    """Turns a Motion into meshes and joint positions on the 55-joint SMPL-X tree."""

    #: Short human-readable name, e.g. "Default avatar" or "SMPL-X (neutral)".
    name: str

    @property
    def faces(self) -> np.ndarray:
        """(T, 3) int32 triangle vertex indices."""

    @property
    def num_vertices(self) -> int: ...

    @property
    def joint_names(self) -> tuple[str, ...]:
        """The 55 SMPL-X joint names in order."""

    @property
    def parents(self) -> np.ndarray:
        """(55,) parent index per joint, -1 for the pelvis."""

    @property
    def rest_joints(self) -> np.ndarray:
        """(55, 3) float32 joint positions in the rest T-pose (zero pose, zero transl)."""

    def forward(self, motion: Motion, frames: slice | np.ndarray | None = None) -> BodyOutput:
        """Pose ``motion`` (all frames, or the selected ones)."""


class SmplxSkeleton:
    """Mixin for body models on the 55-joint SMPL-X tree (both of ours are)."""

    @property
    def joint_names(self) -> tuple[str, ...]:
        return JOINT_NAMES

    @property
    def parents(self) -> np.ndarray:
        return PARENTS
