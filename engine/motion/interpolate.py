"""In-betweens between two poses: slerp for rotations, linear for everything else."""
from __future__ import annotations

import numpy as np

from engine.motion.motion import FRAME_FIELDS, ROTATION_FIELDS, Motion
from engine.motion.rotations import slerp


def inbetween(start: Motion, end: Motion, num_frames: int) -> Motion:
    """``num_frames`` frames strictly between the 1-frame poses ``start`` and ``end``.

    Frame k (1-based) sits at t = k / (num_frames + 1), so neither endpoint is
    repeated and the result can be spliced between them without a duplicate frame.
    Returns a Motion with ``start``'s fps and betas.
    """
    if start.num_frames != 1 or end.num_frames != 1:
        raise ValueError("inbetween: expected two 1-frame poses")
    if num_frames < 1:
        raise ValueError(f"inbetween: expected at least one frame, got {num_frames}")
    t = np.arange(1, num_frames + 1, dtype=np.float64) / (num_frames + 1)
    fields = {}
    for name in FRAME_FIELDS:
        a, b = getattr(start, name)[0], getattr(end, name)[0]
        if name in ROTATION_FIELDS:
            fields[name] = slerp(a, b, t).astype(np.float32)
        else:
            shape = (-1,) + (1,) * a.ndim
            fields[name] = ((1 - t).reshape(shape) * a + t.reshape(shape) * b).astype(np.float32)
    return start.replace(**fields)


def hold(pose: Motion, num_frames: int) -> Motion:
    """A 1-frame pose repeated ``num_frames`` times."""
    return Motion.concatenate([pose] * num_frames)


def chain(poses: list[Motion], hold_frames: int, transition_frames: int) -> Motion:
    """Hold each 1-frame pose, with slerp transitions between consecutive ones."""
    parts: list[Motion] = []
    for index, pose in enumerate(poses):
        if index and transition_frames:
            parts.append(inbetween(poses[index - 1], pose, transition_frames))
        parts.append(hold(pose, hold_frames))
    return Motion.concatenate(parts)
