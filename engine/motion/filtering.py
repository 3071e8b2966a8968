"""Low-pass filtering of a motion: the jitter of fitted recordings removed, the signing kept.

A fit of 2D keypoints trembles from frame to frame (its jerk at joins was 172 m/s^3 on
the real clips against a spline's 16), while a signer's movement has little energy
above a few hertz. ``low_pass`` runs a zero-phase Butterworth filter (scipy.signal's
``butter`` + ``filtfilt``: forwards and backwards, so nothing lags) over every channel:

- rotations as unit quaternions, each joint's made continuous in time (q and -q are one
  rotation; a sign flip would be a jump to the filter) and renormalised afterwards,
  which stays close to the rotation manifold for the small frame-to-frame steps of a
  motion;
- translation, expression and blendshape weights as they are (weights clipped back to
  [0, 1]).

The cut-off and its cost are measured in docs/fluency.md.
"""
from __future__ import annotations

import numpy as np
from scipy.signal import butter, filtfilt

from engine.motion.errors import MotionError
from engine.motion.motion import Motion, split_full_pose
from engine.motion.rotations import (
    axis_angle_to_quat, continuous_quaternions, quat_to_axis_angle_fast,
)

#: Filter order: a second-order Butterworth run twice (filtfilt) is a fourth-order
#: zero-phase response, steep enough to separate tremor from signing without ringing.
ORDER = 2
#: The cut-off applied to every fitted recording (``engine.data.fit.fit_keypoints``) and,
#: at assembly, to lexicon entries fitted before it was (docs/fluency.md: on 157
#: fitted letters of 5 languages, 6 Hz moves a fingertip 4.4 mm on average and lowers
#: the jerk inside a clip 1.6x; 4 Hz: 7.7 mm and 2.2x).
FITTED_CUTOFF_HZ = 6.0
#: Fewer frames than this: returned unfiltered (filtfilt pads each end by
#: 3 * (ORDER + 1) frames of the reflected signal and needs more than that).
MIN_FRAMES = 3 * (ORDER + 1) + 1


def low_pass(motion: Motion, cutoff_hz: float) -> Motion:
    """``motion`` with its frame-to-frame changes above ``cutoff_hz`` removed.

    ``cutoff_hz``: the -3 dB frequency (twice-filtered: -6 dB), from 0 to the motion's
    Nyquist frequency (fps / 2, exclusive). A motion under ``MIN_FRAMES`` frames is
    returned as it is. Raises MotionError for a cut-off outside that range.
    """
    nyquist = motion.fps / 2
    if not 0 < cutoff_hz < nyquist:
        raise MotionError(f"low-pass: cut-off expected between 0 and {nyquist:g} Hz (half "
                          f"of {motion.fps:g} fps), got {cutoff_hz!r}")
    if motion.num_frames < MIN_FRAMES:
        return motion
    b, a = butter(ORDER, cutoff_hz / nyquist)
    frames = motion.num_frames
    # Every channel in one array and one filtfilt call (per-field calls cost more in
    # scipy's checks than the filtering): each joint's quaternion, then the rest.
    full_pose = motion.full_pose()                                   # (F, J, 3)
    joints = full_pose.shape[1]
    quats = continuous_quaternions(axis_angle_to_quat(full_pose).astype(np.float64))
    linear = [name for name in ("transl", "expression", "face_blendshapes")
              if getattr(motion, name).size]
    columns = [quats.reshape(frames, -1)] + [
        getattr(motion, name).reshape(frames, -1).astype(np.float64) for name in linear]
    smoothed = filtfilt(b, a, np.concatenate(columns, axis=1), axis=0)
    rotations = smoothed[:, :joints * 4].reshape(frames, joints, 4)
    rotations /= np.linalg.norm(rotations, axis=-1, keepdims=True)
    changes = split_full_pose(quat_to_axis_angle_fast(rotations).astype(np.float32))
    column = joints * 4
    for name in linear:
        width = getattr(motion, name).shape[1]
        changes[name] = smoothed[:, column:column + width].astype(np.float32)
        column += width
    if "face_blendshapes" in changes:
        np.clip(changes["face_blendshapes"], 0.0, 1.0, out=changes["face_blendshapes"])
    return motion.replace(**{name: np.ascontiguousarray(value) for name, value in changes.items()})
