"""Moving a hand to a nearby place while it keeps its shape and its orientation in space.

Used where a recorded hand must sign somewhere slightly different from where it was
recorded: the letters of a fingerspelled word, each recorded on its own, are brought to
one place (``engine.generate.fluency``), and a double letter slides a little.

The arm changes as little as it can (two steps, every frame at once): the elbow bends
or stretches about its own hinge so the shoulder-to-wrist distance matches the target's,
then the shoulder turns the arm by the smallest rotation that points it at the target.
The wrist then takes back whatever the arm's change did to the hand, so the hand's world
orientation (and every finger) is exactly as recorded. For the small shifts this is for
(a few centimetres), the elbow stays where a signer's elbow would be.
"""
from __future__ import annotations

import numpy as np
from scipy.spatial.transform import Rotation

from engine.body.lbs import forward_kinematics
from engine.body.skeleton import JOINT_INDEX
from engine.motion.motion import Motion


def _body_joint(name: str) -> int:
    """Index into ``Motion.body_pose`` (which leaves out the pelvis) of joint ``name``."""
    return JOINT_INDEX[name] - 1


def _rotation_matrices(rotvecs: np.ndarray) -> np.ndarray:
    """(F, 3, 3) from (F, 3) axis-angle, Rodrigues' formula in numpy (scipy's Rotation
    costs more in its per-call checks than this whole computation for a word)."""
    angle = np.linalg.norm(rotvecs, axis=1)
    axis = rotvecs / np.maximum(angle, 1e-12)[:, None]
    k = np.zeros((len(rotvecs), 3, 3))
    k[:, 0, 1], k[:, 0, 2], k[:, 1, 2] = -axis[:, 2], axis[:, 1], -axis[:, 0]
    k[:, 1, 0], k[:, 2, 0], k[:, 2, 1] = axis[:, 2], -axis[:, 1], axis[:, 0]
    sin, cos = np.sin(angle)[:, None, None], np.cos(angle)[:, None, None]
    return np.eye(3)[None] + sin * k + (1 - cos) * (k @ k)


def _turn_between(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(F, 3, 3) smallest rotations taking the directions ``a`` (F, 3) to ``b`` (F, 3)."""
    a = a / np.linalg.norm(a, axis=1, keepdims=True)
    b = b / np.linalg.norm(b, axis=1, keepdims=True)
    axis = np.cross(a, b)
    sin = np.linalg.norm(axis, axis=1)
    angle = np.arctan2(sin, np.einsum("fi,fi->f", a, b))
    axis = np.where(sin[:, None] > 1e-12, axis / np.maximum(sin, 1e-12)[:, None], 0.0)
    return _rotation_matrices(axis * angle[:, None])


def shift_wrist(motion: Motion, rest_joints: np.ndarray, parents: np.ndarray, side: str,
                offsets: np.ndarray, turns: np.ndarray | None = None,
                swivels: np.ndarray | None = None) -> Motion:
    """``motion`` with the ``side`` ("left"/"right") wrist moved by ``offsets``.

    ``offsets``: (F, 3) or (3,) metres in world space (y up, the avatar faces +z);
    ``rest_joints`` (55, 3) and ``parents`` (55,) of the body the motion is posed on.
    Only that arm's shoulder, elbow and wrist rotations change; the hand keeps its world
    orientation, or turns by ``turns`` ((F, 3) world axis-angle, applied after it). A
    target beyond the arm's reach stretches the arm straight toward it. ``swivels``
    ((F,) radians) then turn the elbow about the shoulder-to-wrist line, right-handed
    about the direction toward the wrist: the wrist and the hand stay where they are.
    """
    offsets = np.broadcast_to(np.asarray(offsets, np.float64), (motion.num_frames, 3))
    rotations, positions = forward_kinematics(motion.full_pose(), rest_joints, parents)
    rotations = rotations.astype(np.float64)
    positions = positions.astype(np.float64)
    collar, shoulder, elbow, wrist = (JOINT_INDEX[f"{side}_{name}"]
                                      for name in ("collar", "shoulder", "elbow", "wrist"))
    s, e, w = positions[:, shoulder], positions[:, elbow], positions[:, wrist]
    target = w + offsets
    upper = np.linalg.norm(e - s, axis=1)
    fore = np.linalg.norm(w - e, axis=1)

    # 1. Bend the elbow about its hinge until the wrist is as far from the shoulder as
    #    the target: rotating the forearm by phi about (upper x fore) opens the angle
    #    between them by phi.
    hinge = np.cross(e - s, w - e)
    hinge_norm = np.linalg.norm(hinge, axis=1)
    opening = np.arccos(np.clip(np.einsum("fi,fi->f", e - s, w - e) / (upper * fore), -1, 1))
    distance = np.clip(np.linalg.norm(target - s, axis=1), np.abs(upper - fore) + 1e-3,
                       upper + fore - 1e-6)
    wanted = np.arccos(np.clip((distance ** 2 - upper ** 2 - fore ** 2) / (2 * upper * fore),
                               -1, 1))
    phi = np.where(hinge_norm > 1e-9, wanted - opening, 0.0)
    axis = np.where(hinge_norm[:, None] > 1e-9, hinge / np.maximum(hinge_norm, 1e-12)[:, None], 0.0)
    bend = _rotation_matrices(axis * phi[:, None])
    moved_wrist = e + np.einsum("fab,fb->fa", bend, w - e)

    # 2. Turn the whole arm at the shoulder toward the target.
    turn = _turn_between(moved_wrist - s, target - s)

    if swivels is not None:
        line = target - s
        line /= np.maximum(np.linalg.norm(line, axis=1, keepdims=True), 1e-12)
        turn = _rotation_matrices(line * np.asarray(swivels, np.float64)[:, None]) @ turn
    shoulder_world = turn @ rotations[:, shoulder]
    elbow_world = turn @ bend @ rotations[:, elbow]
    hand_world = rotations[:, wrist]
    if turns is not None:
        hand_world = _rotation_matrices(np.array(np.broadcast_to(turns, (motion.num_frames, 3)),
                                                 np.float64)) @ hand_world
    transpose = (0, 2, 1)
    locals_ = np.stack([rotations[:, collar].transpose(transpose) @ shoulder_world,
                        shoulder_world.transpose(transpose) @ elbow_world,
                        # 3. The hand as it was in space (or as turned).
                        elbow_world.transpose(transpose) @ hand_world])
    rotvecs = Rotation.from_matrix(locals_.reshape(-1, 3, 3)).as_rotvec().reshape(3, -1, 3)
    body_pose = motion.body_pose.copy()
    for rotvec, joint in zip(rotvecs, ("shoulder", "elbow", "wrist")):
        body_pose[:, _body_joint(f"{side}_{joint}")] = rotvec
    return motion.replace(body_pose=body_pose)
