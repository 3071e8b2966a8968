"""Differentiable forward kinematics of the 55-joint SMPL-X tree in torch.

The same tree and formula as the numpy ``engine.body.lbs.forward_kinematics`` (the
rest pose is a world-aligned T-pose), used where gradients are needed: keypoint
fitting (``engine.data.fit``) and flow training (``engine.learn.train_flow``). Joints
are posed one tree level at a time (12 levels instead of 55 joints), which keeps the
autograd graph small. Importing this module loads torch; ``engine.body`` itself does not.
"""
from __future__ import annotations

import numpy as np
import torch

from engine.body.skeleton import PARENTS, tree_levels


def bone_offsets(rest_joints: np.ndarray) -> np.ndarray:
    """(55, 3) offset of each joint from its parent at rest, the root's from the origin.

    Computed in ``rest_joints``' own precision (metres), so float32 and float64 callers
    each get the rounding they had before sharing this module.
    """
    rest = np.asarray(rest_joints)
    offsets = rest - rest[np.maximum(PARENTS, 0)]
    offsets[0] = rest[0]
    return offsets


class ForwardKinematics(torch.nn.Module):
    """World joint frames from local joint rotations, batched per tree level.

    ``rest_joints``: (55, 3) metres. ``forward(local, bone_scale=None)``: ``local``
    (B, 55, 3, 3) rotation of each joint in its parent's rest frame; ``bone_scale``
    optional (55,) factor on each joint's offset from its parent. Returns
    ``(rotations (B, 55, 3, 3), positions (B, 55, 3) metres)``, root at its rest
    position (no translation), in ``local``'s dtype for float32 input.
    """

    def __init__(self, rest_joints: np.ndarray):
        super().__init__()
        offsets = torch.tensor(bone_offsets(rest_joints), dtype=torch.float32)
        self.register_buffer("offsets", offsets, persistent=False)
        levels = tree_levels()
        self.levels = [torch.from_numpy(level) for level in levels]
        # parent_slot[d]: where each joint of level d finds its parent in level d - 1
        # (levels are sorted, so a search finds it).
        self.parent_slot = [None] + [
            torch.from_numpy(np.searchsorted(levels[d - 1], PARENTS[levels[d]]))
            for d in range(1, len(levels))]
        self.unsort = torch.from_numpy(np.argsort(np.concatenate(levels)))

    def forward(self, local: torch.Tensor, bone_scale: torch.Tensor | None = None
                ) -> tuple[torch.Tensor, torch.Tensor]:
        offsets = self.offsets if bone_scale is None else self.offsets * bone_scale[:, None]
        count = local.shape[0]
        # Per level: the parents (all in the previous level) are already posed.
        rot = [local[:, self.levels[0]]]
        pos = [offsets[self.levels[0]].expand(count, -1, -1)]
        for depth in range(1, len(self.levels)):
            level, parent = self.levels[depth], self.parent_slot[depth]
            parent_rot = rot[-1][:, parent]
            rot.append(parent_rot @ local[:, level])
            pos.append(pos[-1][:, parent] + (parent_rot @ offsets[level][..., None])[..., 0])
        return torch.cat(rot, dim=1)[:, self.unsort], torch.cat(pos, dim=1)[:, self.unsort]


def attached_points(rotations: torch.Tensor, positions: torch.Tensor, parent: torch.Tensor,
                    offset: torch.Tensor) -> torch.Tensor:
    """(B, K, 3) points rigidly attached to joints: ``positions[parent] +
    rotations[parent] @ offset``, with ``parent`` (K,) joint indices and ``offset`` (K, 3)
    metres in the parent's rest frame (e.g. fingertips, nose, ears)."""
    return positions[:, parent] + (rotations[:, parent] @ offset[None, :, :, None])[..., 0]
