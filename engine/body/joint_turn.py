"""Turning one joint about an axis of its parent: what the viewport's rotate gizmo does.

A joint's rotation is stored relative to its parent (axis-angle in the parent's frame,
the same frame the angle boxes and curves show as Euler XYZ), so the gizmo's three
rings are the parent's axes placed at the joint, and a turn by ``angle`` about axis
``a`` makes the local rotation ``R' = Rot(e_a, angle) @ R``: in the world that is a
turn about the ring's own axis, and everything below the joint turns with it.
"""
from __future__ import annotations

import numpy as np
from scipy.spatial.transform import Rotation

from engine.body.capsules import rest_joints_for
from engine.body.lbs import forward_kinematics
from engine.body.skeleton import PARENTS
from engine.motion.motion import Motion


def joint_axes(body, motion: Motion, frame: int, joint: int) -> tuple[np.ndarray, np.ndarray]:
    """(centre (3,) metres, axes (3, 3) whose columns are the parent's x, y, z in the
    world) of skeleton joint ``joint`` at ``frame``, as the avatar ``body`` shows it."""
    one = motion.slice(frame, frame + 1)
    rotations, positions = forward_kinematics(one.full_pose(),
                                              rest_joints_for(body, one.betas), PARENTS)
    centre = positions[0, joint].astype(np.float64) + one.transl[0].astype(np.float64)
    parent = PARENTS[joint]
    axes = (rotations[0, parent].astype(np.float64) if parent >= 0 else np.eye(3))
    return centre, axes


def turned(pose: Motion, joint: int, axis: int, angle: float) -> Motion:
    """``pose`` (1 frame) with ``joint`` turned ``angle`` radians about its parent's
    axis ``axis`` (0 x, 1 y, 2 z)."""
    full = pose.full_pose().copy()
    local = Rotation.from_rotvec(full[0, joint].astype(np.float64))
    turn = Rotation.from_rotvec(np.eye(3)[axis] * float(angle))
    full[0, joint] = (turn * local).as_rotvec()
    return pose.with_full_pose(full)
