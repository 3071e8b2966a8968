"""The fitter's differentiable pose: bounded Euler angles, local rotations, and the
shared torch forward kinematics (``engine.body.torch_fk``) with bone scales and the
``FitSkeleton``'s extra points."""
from __future__ import annotations

import numpy as np
import roma
import torch

from engine.body.skeleton import NUM_JOINTS
from engine.body.torch_fk import ForwardKinematics, attached_points
from engine.data.fit.skeleton import FitSkeleton


def euler_angles(u: torch.Tensor, lo: torch.Tensor, hi: torch.Tensor) -> torch.Tensor:
    """Bounded angles lo + (hi - lo) * sigmoid(u); shapes broadcast, radians.

    Joint limits as a parametrisation, not a penalty: no value of ``u`` bends a finger
    backwards (docs/fitting.md, "Joint limits")."""
    return lo + (hi - lo) * torch.sigmoid(u)


def inverse_sigmoid(x: np.ndarray) -> np.ndarray:
    """The ``u`` that ``euler_angles`` maps to the fraction ``x`` of a range (clipped
    just inside (0, 1), where the inverse is finite)."""
    x = np.clip(x, 1e-4, 1 - 1e-4)
    return np.log(x / (1 - x))


def euler_to_rotmat(angles: torch.Tensor, skew: torch.Tensor, skew2: torch.Tensor) -> torch.Tensor:
    """(B, E, 3) angles about each joint's 3 fixed axes -> (B, E, 3, 3) = R1 R2 R3.

    ``skew``/``skew2``: (E, 3, 3, 3) cross-product matrices of the axes and their
    squares (Rodrigues: R = I + sin t K + (1 - cos t) K^2).
    """
    eye = torch.eye(3, dtype=angles.dtype)
    s = torch.sin(angles)[..., None, None]
    c = (1 - torch.cos(angles))[..., None, None]
    rot = eye + s * skew + c * skew2  # (B, E, 3, 3, 3)
    return rot[:, :, 0] @ rot[:, :, 1] @ rot[:, :, 2]


def _skew(axes: torch.Tensor) -> torch.Tensor:
    """(..., 3) axes -> (..., 3, 3) cross-product matrices."""
    skew = torch.zeros(axes.shape[:-1] + (3, 3), dtype=axes.dtype)
    skew[..., 0, 1], skew[..., 0, 2] = -axes[..., 2], axes[..., 1]
    skew[..., 1, 0], skew[..., 1, 2] = axes[..., 2], -axes[..., 0]
    skew[..., 2, 0], skew[..., 2, 1] = -axes[..., 1], axes[..., 0]
    return skew


class SkeletonForward:
    """Differentiable posing of a ``FitSkeleton`` over B frames (or hypotheses).

    ``local_rotations(rotvec, euler)`` builds the 55 local rotations from the fitted
    parameters; calling it with those and the three bone-group scales returns world
    rotations (B, 55, 3, 3) and all model points (B, P, 3) in metres.
    """

    def __init__(self, skeleton: FitSkeleton):
        f = torch.float32
        self.skew = _skew(torch.tensor(skeleton.euler_axes, dtype=f))
        self.skew2 = self.skew @ self.skew
        self.lo = torch.tensor(skeleton.euler_limits[..., 0], dtype=f)
        self.hi = torch.tensor(skeleton.euler_limits[..., 1], dtype=f)
        # Where each joint's local rotation comes from in cat([I, rotvec, euler]).
        source = np.zeros(NUM_JOINTS, np.int64)
        source[skeleton.rotvec_joints] = 1 + np.arange(len(skeleton.rotvec_joints))
        source[skeleton.euler_joints] = (1 + len(skeleton.rotvec_joints)
                                         + np.arange(len(skeleton.euler_joints)))
        self.source = torch.tensor(source)
        self.group = torch.tensor(skeleton.group)
        self.extra_parent = torch.tensor(skeleton.extra_parent)
        self.extra_offset = torch.tensor(skeleton.extra_offset, dtype=f)
        self.extra_group = torch.tensor(skeleton.extra_group)
        self.kinematics = ForwardKinematics(skeleton.rest_joints)

    def local_rotations(self, rotvec: torch.Tensor, euler: torch.Tensor) -> torch.Tensor:
        """(B, Nr, 3) axis-angles and (B, E, 3) Euler angles -> (B, 55, 3, 3)."""
        batch = rotvec.shape[0]
        eye = torch.eye(3, dtype=rotvec.dtype).expand(batch, 1, 3, 3)
        parts = torch.cat([eye, roma.rotvec_to_rotmat(rotvec),
                           euler_to_rotmat(euler, self.skew, self.skew2)], dim=1)
        return parts[:, self.source]

    def __call__(self, local: torch.Tensor, scales: torch.Tensor
                 ) -> tuple[torch.Tensor, torch.Tensor]:
        """local (B, 55, 3, 3); scales (3,) per bone group (none, arm, hand).

        Returns world rotations (B, 55, 3, 3) and points (B, 55 + extras, 3) in
        metres (root at its rest position).
        """
        world_rot, world_pos = self.kinematics(local, scales[self.group])
        extra_offset = self.extra_offset * scales[self.extra_group][:, None]
        extra = attached_points(world_rot, world_pos, self.extra_parent, extra_offset)
        return world_rot, torch.cat([world_pos, extra], 1)
