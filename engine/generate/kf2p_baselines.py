"""The KF2P baselines, and the pieces of the contract every backend shares.

``slerp_backend`` and ``smooth_backend`` interpolate a range between its border frames
and the keys pinning each channel (``engine.generate.kf2p`` documents both and the
contract); ``pin_keys`` pins keys bit-exactly and keeps blendshapes in [0, 1], which
``regenerate`` also imposes on any other backend's result; ``checked_labels`` checks
per-frame gloss labels. A learned backend (``engine.generate.flow_backend``) builds on
the smooth baseline, so this module sits below both it and ``kf2p``'s registry.

Units: rotations are axis-angle radians, translation metres, time in frames.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.interpolate import CubicSpline
from scipy.spatial.transform import Rotation

from engine.motion.errors import MotionError
from engine.motion.motion import CHANNEL_FIELDS, ROTATION_FIELDS, Channel, Motion
from engine.motion.project import Keyframe
from engine.motion.rotations import (
    align_quaternions, continuous_quaternions, quat_to_axis_angle_fast,
)

_BLENDSHAPES = "face_blendshapes"


# --------------------------------------------------------------------------- anchors
@dataclass(frozen=True)
class _Track:
    """One group of channels that share anchor frames, flattened for interpolation.

    ``times`` (A,) anchor frames, increasing. ``rotvecs`` (A, J, 3) the anchors as
    given (axis-angle, radians). ``quats`` (A, J, 4) unit quaternions
    (x, y, z, w), sign-aligned so consecutive anchors lie in the same hemisphere (the
    short way round). ``linear`` (A, D) the non-rotation values. ``before``/``after``:
    the input frames one further out than the border anchors (start - 2 and stop + 1),
    as (J, 4) aligned quaternions and (D,) values, or None where that frame does not
    exist; the smooth backend reads the input's velocity at the border from them.
    """

    times: np.ndarray
    rotvecs: np.ndarray
    quats: np.ndarray
    linear: np.ndarray
    rot_fields: tuple[str, ...]
    lin_fields: tuple[str, ...]
    before: tuple[np.ndarray, np.ndarray] | None
    after: tuple[np.ndarray, np.ndarray] | None
    hold_start: bool  # no border anchor before the range: hold the first anchor
    hold_end: bool


def _rotvec_rows(motion: Motion, fields: tuple[str, ...], rows) -> np.ndarray:
    """Rotations of ``fields`` at frame indices ``rows`` as (len(rows), J, 3) float64.

    Single-joint fields such as ``global_orient`` (F, 3) count as one joint.
    """
    blocks = [getattr(motion, f)[rows] for f in fields]
    return np.concatenate(
        [b[:, None, :] if b.ndim == 2 else b for b in blocks], axis=1
    ).astype(np.float64)


def _linear_rows(motion: Motion, fields: tuple[str, ...], rows) -> np.ndarray:
    """Non-rotation values of ``fields`` at ``rows`` as (len(rows), D) float64."""
    if not fields:
        return np.zeros((len(rows), 0))
    return np.concatenate([getattr(motion, f)[rows] for f in fields], axis=1).astype(np.float64)


def _to_quat(rotvecs: np.ndarray) -> np.ndarray:
    """(A, J, 3) axis-angle -> (A, J, 4) quaternions, consecutive rows hemisphere-aligned
    (else slerp and spline between the anchors would go the long way)."""
    count, joints = rotvecs.shape[:2]
    quats = Rotation.from_rotvec(rotvecs.reshape(-1, 3)).as_quat().reshape(count, joints, 4)
    return continuous_quaternions(quats)


def _build_tracks(motion: Motion, keys: Sequence[Keyframe], start: int,
                  stop: int) -> list[_Track]:
    """Group channels by their anchor frames and gather the anchor values."""
    total = motion.num_frames
    has_before, has_after = start > 0, stop < total
    groups: dict[tuple[int, ...], list[Channel]] = {}
    for channel in Channel:
        key_frames = tuple(k.frame for k in keys if channel in k.channels)
        groups.setdefault(key_frames, []).append(channel)

    tracks = []
    for key_frames, channels in groups.items():
        fields = [f for c in channels for f in CHANNEL_FIELDS[c]]
        rot_fields = tuple(f for f in fields if f in ROTATION_FIELDS)
        lin_fields = tuple(f for f in fields if f not in ROTATION_FIELDS)
        pinning = [k for k in keys if k.frame in key_frames]  # keys are sorted by frame
        border_rows = ([start - 1] if has_before else []) + ([stop] if has_after else [])
        rot_border = _rotvec_rows(motion, rot_fields, border_rows)
        lin_border = _linear_rows(motion, lin_fields, border_rows)
        if pinning:
            rot_keys = np.concatenate(
                [np.stack([getattr(k.pose, f).reshape(-1, 3) for k in pinning]) for f in rot_fields],
                axis=1,
            ).astype(np.float64)
            lin_keys = (np.concatenate(
                [np.stack([getattr(k.pose, f)[0] for k in pinning]) for f in lin_fields], axis=1,
            ).astype(np.float64) if lin_fields else np.zeros((len(pinning), 0)))
        else:
            rot_keys = np.zeros((0,) + rot_border.shape[1:])
            lin_keys = np.zeros((0, lin_border.shape[1]))
        b = int(has_before)
        rotvecs = np.concatenate([rot_border[:b], rot_keys, rot_border[b:]])
        linear = np.concatenate([lin_border[:b], lin_keys, lin_border[b:]])
        times = np.array(([start - 1] if has_before else []) + list(key_frames)
                         + ([stop] if has_after else []), dtype=np.float64)
        quats = _to_quat(rotvecs)

        before = after = None
        if has_before and start >= 2:
            q = _to_quat(_rotvec_rows(motion, rot_fields, [start - 2]))[0]
            before = (align_quaternions(q, quats[0]), _linear_rows(motion, lin_fields, [start - 2])[0])
        if has_after and stop + 1 < total:
            q = _to_quat(_rotvec_rows(motion, rot_fields, [stop + 1]))[0]
            after = (align_quaternions(q, quats[-1]), _linear_rows(motion, lin_fields, [stop + 1])[0])
        tracks.append(_Track(times, rotvecs, quats, linear, rot_fields, lin_fields, before, after,
                             hold_start=not has_before, hold_end=not has_after))
    return tracks


# --------------------------------------------------------------------- interpolators
def _segments(times: np.ndarray, frames: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Segment index (T,) and fraction in [0, 1] (T,) of each frame among ``times``.

    Frames before the first / after the last anchor clamp to 0 / 1 (hold).
    """
    index = np.clip(np.searchsorted(times, frames, side="right") - 1, 0, len(times) - 2)
    alpha = (frames - times[index]) / (times[index + 1] - times[index])
    return index, np.clip(alpha, 0.0, 1.0)


def _slerp_track(track: _Track, frames: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Piecewise slerp/lerp. Returns rotvecs (T, J, 3) and linear values (T, D).

    Quaternion slerp ``q0 sin((1-a)th)/sin(th) + q1 sin(a th)/sin(th)`` on the
    hemisphere-aligned anchors: per joint, constant angular speed along the shortest
    arc. Written in numpy (not ``Rotation`` composition) for speed, see
    ``quat_to_axis_angle_fast``; the tests compare it with ``engine.motion.rotations.slerp``.
    """
    index, alpha = _segments(track.times, frames)
    quats = track.quats
    # Per segment and joint: the half-angle between the anchors (S, J).
    dots = np.clip(np.einsum("sjk,sjk->sj", quats[:-1], quats[1:]), -1.0, 1.0)
    theta = np.arccos(dots)[index]                      # (T, J)
    sin_theta = np.sin(theta)
    a = alpha[:, None]                                  # (T, 1)
    near = sin_theta < 1e-9  # (almost) equal anchors: lerp, the limit of the weights
    safe = np.where(near, 1.0, sin_theta)
    w0 = np.where(near, 1.0 - a, np.sin((1.0 - a) * theta) / safe)
    w1 = np.where(near, a, np.sin(a * theta) / safe)
    blended = w0[..., None] * quats[index] + w1[..., None] * quats[index + 1]
    rotvecs = quat_to_axis_angle_fast(blended)  # the norm is 1 up to rounding; atan2 ignores it
    lin0, lin1 = track.linear[index], track.linear[index + 1]
    linear = lin0 + a * (lin1 - lin0)
    return rotvecs, linear


def _smooth_track(track: _Track, frames: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """C2 cubic spline on quaternion components + linear values, one solve for all.

    Rotations: the spline of aligned quaternions passes through every anchor; it is
    renormalised before conversion, which keeps it smooth (the norm stays near 1
    between nearby anchors). Boundary conditions: clamped to the input's one-sided
    finite-difference velocity at a border anchor, clamped to zero where the range
    touches the start/end of the motion (a smooth ease into the hold), natural where
    the border anchor has no outer neighbour (no velocity to match).
    """
    count, joints = track.quats.shape[:2]
    values = np.concatenate([track.quats.reshape(count, -1), track.linear], axis=1)

    def boundary(neighbour, anchor_value, held, sign):
        if held:
            return (1, np.zeros(values.shape[1]))
        if neighbour is None:
            return (2, np.zeros(values.shape[1]))
        outer = np.concatenate([neighbour[0].reshape(-1), neighbour[1]])
        return (1, sign * (anchor_value - outer))  # per frame: anchors are 1 frame apart

    bc_start = boundary(track.before, values[0], track.hold_start, 1.0)
    bc_end = boundary(track.after, values[-1], track.hold_end, -1.0)
    spline = CubicSpline(track.times, values, axis=0, bc_type=(bc_start, bc_end))
    # Hold outside the anchors instead of extrapolating the end cubics, which diverge.
    sampled = spline(np.clip(frames, track.times[0], track.times[-1]))
    # quat_to_axis_angle_fast uses atan2(|v|, w), which needs no renormalisation first.
    rotvecs = quat_to_axis_angle_fast(sampled[:, : joints * 4].reshape(len(frames), joints, 4))
    return rotvecs, sampled[:, joints * 4:]


def _run_baseline(interpolate, motion: Motion, keys: Sequence[Keyframe],
                  frame_range: tuple[int, int]) -> Motion:
    """Shared driver of the baselines: anchors -> interpolation -> new Motion."""
    start, stop = frame_range
    frames = np.arange(start, stop, dtype=np.float64)
    changes: dict[str, np.ndarray] = {}
    for track in _build_tracks(motion, keys, start, stop):
        count = len(track.times)
        if count == 0:
            continue  # nothing to anchor on: the channel keeps its input values
        if count == 1:
            # One anchor: hold it, as given (no round trip through quaternions).
            rotvecs = np.broadcast_to(track.rotvecs[:1], (len(frames),) + track.rotvecs.shape[1:])
            linear = np.broadcast_to(track.linear[:1], (len(frames), track.linear.shape[1]))
        else:
            rotvecs, linear = interpolate(track, frames)
        joint = 0
        for name in track.rot_fields:
            array = getattr(motion, name).copy()
            width = 1 if array.ndim == 2 else array.shape[1]
            values = rotvecs[:, joint: joint + width]
            array[start:stop] = values[:, 0] if array.ndim == 2 else values
            changes[name] = array
            joint += width
        column = 0
        for name in track.lin_fields:
            array = getattr(motion, name).copy()
            width = array.shape[1]
            array[start:stop] = linear[:, column: column + width]
            changes[name] = array
            column += width
    return pin_keys(motion, changes, keys, start, stop)


def pin_keys(motion: Motion, changes: dict[str, np.ndarray], keys: Sequence[Keyframe],
            start: int, stop: int) -> Motion:
    """Pin the keys exactly, clip blendshapes, and build the Motion once."""
    if _BLENDSHAPES in changes:
        # Splines overshoot; the avatar's blendshape weights are only defined in [0, 1].
        np.clip(changes[_BLENDSHAPES][start:stop], 0.0, 1.0,
                out=changes[_BLENDSHAPES][start:stop])
    for key in keys:
        for channel in key.channels:
            for name in CHANNEL_FIELDS[channel]:
                if name not in changes:
                    changes[name] = getattr(motion, name).copy()
                changes[name][key.frame] = getattr(key.pose, name)[0]
    return motion.replace(**changes)


def slerp_backend(motion: Motion, keyframes: Sequence[Keyframe], frame_range: tuple[int, int],
                  num_candidates: int = 1, seed: int | None = None) -> list[Motion]:
    """Piecewise slerp baseline (deterministic: ``seed`` is ignored)."""
    result = _run_baseline(_slerp_track, motion, keyframes, frame_range)
    return [result] * num_candidates


def smooth_backend(motion: Motion, keyframes: Sequence[Keyframe], frame_range: tuple[int, int],
                   num_candidates: int = 1, seed: int | None = None) -> list[Motion]:
    """C2 cubic-spline baseline (deterministic: ``seed`` is ignored)."""
    result = _run_baseline(_smooth_track, motion, keyframes, frame_range)
    return [result] * num_candidates


def checked_labels(labels: object, num_frames: int, who: str) -> tuple[str | None, ...]:
    """``labels`` as a tuple of ``num_frames`` entries, each a non-empty string such as
    "ase:A" or None; MotionError naming ``who`` and ``labels`` otherwise."""
    if isinstance(labels, str):
        raise MotionError(f"{who}: labels: expected one label per frame ({num_frames}), "
                          f"got the single string {labels!r}")
    try:
        labels = tuple(labels)  # type: ignore[arg-type]
    except TypeError:
        raise MotionError(f"{who}: labels: expected a sequence of {num_frames} per-frame "
                          f"labels, got {type(labels).__name__}") from None
    if len(labels) != num_frames:
        raise MotionError(f"{who}: labels: expected {num_frames} per-frame labels (one per "
                          f"frame of the motion), got {len(labels)}")
    for frame, label in enumerate(labels):
        if label is not None and (not isinstance(label, str) or not label.strip()):
            raise MotionError(f"{who}: labels[{frame}]: expected a label such as 'ase:A' "
                              f"or None, got {label!r}")
    return labels
