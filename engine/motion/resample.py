"""Resampling a Motion to another frame rate (slerp for rotations, linear otherwise)."""
from __future__ import annotations

import math

import numpy as np

from engine.motion.errors import MotionError
from engine.motion.motion import FRAME_FIELDS, ROTATION_FIELDS, Motion, split_full_pose
from engine.motion.rotations import slerp_along


def resample(motion: Motion, fps: float) -> Motion:
    """Return ``motion`` sampled at ``fps``, keeping its first frame and its timing.

    Output frame k sits at time k / fps; there are floor((F-1) * fps / motion.fps) + 1
    frames, so the last output frame never extrapolates past the last input frame.
    Rotations are slerped per joint; translation, expression and blendshape weights are
    interpolated linearly (weights stay in [0, 1]).
    """
    if not (isinstance(fps, (int, float)) and math.isfinite(fps) and fps > 0):
        raise MotionError(f"resample: expected a positive target fps, got {fps!r}")
    if math.isclose(fps, motion.fps):
        return motion.replace(fps=fps)
    # The small epsilon keeps e.g. 25 -> 30 fps from losing the last frame to rounding.
    count = int(math.floor((motion.num_frames - 1) * fps / motion.fps + 1e-9)) + 1
    positions = np.arange(count, dtype=np.float64) * (motion.fps / fps)
    positions = np.minimum(positions, motion.num_frames - 1)
    return sample_at(motion, positions, fps=float(fps))


def sample_at(motion: Motion, positions: np.ndarray, fps: float | None = None) -> Motion:
    """``motion`` read at fractional frame ``positions`` (T,) in [0, F-1], labelled
    ``fps`` (default: ``motion.fps``).

    Rotations are slerped per joint; translation, expression and blendshape weights are
    interpolated linearly (weights stay in [0, 1]). An integer position returns that
    source frame bit for bit, which keeps keyframes exact when the studio re-times a sign.
    """
    # All 55 joints in one slerp call (one scipy batch, not one per field).
    rotations = slerp_along(motion.full_pose(), positions).astype(np.float32)
    last = motion.num_frames - 1
    lower = np.minimum(np.floor(positions).astype(np.int64), last)
    upper = np.minimum(lower + 1, last)
    alpha = (positions - lower).astype(np.float32)
    changes: dict[str, np.ndarray] = {}
    for name in FRAME_FIELDS:
        if name in ROTATION_FIELDS:
            continue
        source = getattr(motion, name)
        weight = alpha.reshape((-1,) + (1,) * (source.ndim - 1))
        changes[name] = (1 - weight) * source[lower] + weight * source[upper]
    return motion.replace(**changes, **split_full_pose(rotations),
                          fps=motion.fps if fps is None else fps)
