"""Keyframe-to-Pose (KF2P): regenerate a frame range so it passes through keyframes.

``regenerate(motion, keyframes, frame_range)`` returns candidate motions that differ
from ``motion`` only inside ``frame_range = (start, stop)`` (half-open frame indices).

The contract every backend is held to (``regenerate`` enforces the first three itself,
so a plugged-in learned backend cannot break them):

1. Pinned keys are exact: for each keyframe with ``start <= frame < stop``, the fields of
   its ``channels`` equal ``keyframe.pose`` bit for bit (float32) at ``frame``.
2. Frames outside ``[start, stop)`` are bit-identical to ``motion``; ``betas`` and
   ``fps`` are unchanged.
3. Face blendshape weights stay in [0, 1].
4. No jump at the borders: frames ``start - 1`` and ``stop`` (when they exist) are
   implicit keyframes on every channel, and the built-in backends interpolate from them.
5. Channels that no keyframe in the range pins are interpolated between those border
   anchors (or held, if only one border exists; left as they were if neither does).

Backends (``BACKENDS``, name -> callable with ``regenerate``'s signature minus
``backend``):

``"slerp"``  per joint, constant-speed slerp between consecutive anchors (the border
             frames and the keys pinning that channel); linear for translation,
             expression and blendshapes. C0: speed changes at each anchor.
``"smooth"`` a C2 cubic spline through the same anchors, per joint, on hemisphere-
             aligned unit quaternions (renormalised), and on the linear tracks. At a
             border the spline's velocity is clamped to the input's finite-difference
             velocity there, so the motion enters and leaves the range without a kink.
             Where a range has no outside neighbour (it starts at frame 0 or ends at the
             last frame) the first/last anchor is held, with zero velocity into the hold.

Both baselines are deterministic: ``num_candidates > 1`` returns that many identical
candidates and ``seed`` is ignored. A learned backend (registered under its own name)
is expected to return different candidates for different ``seed`` values.

What is signed where: ``regenerate(..., labels=...)`` takes one label per frame of the
motion, ``"<language>:<gloss>"`` or None (``Project.frame_labels()``), and hands them on
as the keyword argument ``labels=`` (a tuple of F entries, the whole motion's, not only
the range's) to a backend that declares a parameter named ``labels``, such as "flow"
(``engine.generate.flow_backend``), which conditions on the gloss. A backend that does
not declare one never sees them; the baselines do not, since interpolation has no use
for a gloss. The declaration is read with ``inspect.signature``: the parameter list IS
the declaration, so it cannot drift from what the code accepts, and functions, bound
methods, callable objects and ``functools.partial`` wrappers declare it alike.

Units: rotations are axis-angle radians (SMPL-X local joint rotations), translation
metres, time in frames. All the work is vectorised over joints and frames; one
300-frame range with about 10 keyframes takes a few milliseconds (``bench/kf2p.py``).
"""
from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Callable, Iterable, Sequence

import numpy as np
from scipy.interpolate import CubicSpline
from scipy.spatial.transform import Rotation

from engine.motion.edits import ReplaceRange
from engine.motion.errors import MotionError
from engine.motion.motion import CHANNEL_FIELDS, ROTATION_FIELDS, Channel, Motion
from engine.motion.project import Keyframe
from engine.motion.rotations import align_quaternions, continuous_quaternions

#: A backend takes (motion, keyframes, frame_range, num_candidates, seed) and returns
#: ``num_candidates`` Motions of ``motion``'s length. ``keyframes`` are already filtered
#: to the range and validated. One that declares a ``labels`` parameter also gets the
#: per-frame labels, when the caller has them (see the module docstring).
Backend = Callable[[Motion, Sequence[Keyframe], tuple[int, int], int, "int | None"],
                   list[Motion]]

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


def _quat_to_rotvec(quats: np.ndarray) -> np.ndarray:
    """(..., 4) quaternions (x, y, z, w), any norm > 0 -> (..., 3) axis-angle, angle <= pi.

    Plain numpy rather than ``Rotation.from_quat(q).as_rotvec()``: with scipy 1.17 on
    the 2-core dev machine, ``as_rotvec`` took ~12 ms for the 16.5k rotations of a
    300-frame range (the whole budget is 20 ms); this takes ~2 ms, same result to 1e-15.
    """
    # Canonical sign (w >= 0) so the angle 2*atan2(|v|, w) lies in [0, pi].
    quats = quats * np.where(quats[..., 3:] < 0.0, -1.0, 1.0)
    vector, w = quats[..., :3], quats[..., 3]
    sin_half = np.sqrt(np.einsum("...k,...k->...", vector, vector))
    angle = 2.0 * np.arctan2(sin_half, w)
    # angle / |v|, with its limit 2 / w as |v| -> 0 (no division by zero at identity).
    tiny = sin_half < 1e-12
    # (w >= 0 here; the floor only guards the degenerate all-zero quaternion.)
    scale = np.where(tiny, 2.0 / np.maximum(w, 1e-12), angle / np.where(tiny, 1.0, sin_half))
    return vector * scale[..., None]


def _slerp_track(track: _Track, frames: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Piecewise slerp/lerp. Returns rotvecs (T, J, 3) and linear values (T, D).

    Quaternion slerp ``q0 sin((1-a)th)/sin(th) + q1 sin(a th)/sin(th)`` on the
    hemisphere-aligned anchors: per joint, constant angular speed along the shortest
    arc. Written in numpy (not ``Rotation`` composition) for speed, see
    ``_quat_to_rotvec``; the tests compare it with ``engine.motion.rotations.slerp``.
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
    rotvecs = _quat_to_rotvec(blended)  # the norm is 1 up to rounding; atan2 ignores it
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
    # _quat_to_rotvec uses atan2(|v|, w), which needs no renormalisation first.
    rotvecs = _quat_to_rotvec(sampled[:, : joints * 4].reshape(len(frames), joints, 4))
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
    return _finish(motion, changes, keys, start, stop)


def _finish(motion: Motion, changes: dict[str, np.ndarray], keys: Sequence[Keyframe],
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


def _flow_backend(motion: Motion, keyframes: Sequence[Keyframe], frame_range: tuple[int, int],
                  num_candidates: int = 1, seed: int | None = None, *,
                  labels: Sequence[str | None] | None = None) -> list[Motion]:
    """The shipped learned model (``engine.generate.flow_backend``), imported on first
    use so that importing this module stays free of torch."""
    from engine.generate.flow_backend import flow_backend

    return flow_backend(motion, keyframes, frame_range, num_candidates, seed, labels=labels)


#: Name -> backend. The baselines are here, and "flow", the shipped learned model
#: (``assets/models/flow_kf2p.pt``; MotionError when it is absent). Other models are
#: added by the code that loads them or passed to ``regenerate`` as a callable.
BACKENDS: dict[str, Backend] = {"smooth": smooth_backend, "slerp": slerp_backend,
                                "flow": _flow_backend}


def default_backend() -> str:
    """The backend the product should use: "flow" when the shipped learned checkpoint
    (``engine.generate.flow_backend.default_checkpoint_path()``) exists, else "smooth"."""
    from engine.generate.flow_backend import default_checkpoint_path

    return "flow" if default_checkpoint_path().is_file() else "smooth"


# ------------------------------------------------------------------------------ API
def _check_range(motion: Motion, frame_range: object) -> tuple[int, int]:
    try:
        start, stop = frame_range  # type: ignore[misc]
    except (TypeError, ValueError):
        raise MotionError(
            f"regenerate: frame_range: expected (start, stop), got {frame_range!r}"
        ) from None
    for value in (start, stop):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise MotionError(f"regenerate: frame_range: expected integer frames, got {frame_range!r}")
    start, stop = int(start), int(stop)
    if not 0 <= start < stop <= motion.num_frames:
        raise MotionError(
            f"regenerate: frame_range [{start}, {stop}) is not inside the motion's "
            f"{motion.num_frames} frames (expected 0 <= start < stop <= {motion.num_frames})"
        )
    return start, stop


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


def _takes_labels(backend: Backend) -> bool:
    """Whether ``backend`` declares a ``labels`` parameter it can take by keyword."""
    try:
        parameters = inspect.signature(backend).parameters
    except (TypeError, ValueError):  # a callable Python cannot introspect declares nothing
        return False
    parameter = parameters.get("labels")
    return parameter is not None and parameter.kind in (
        inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)


def _keys_in_range(motion: Motion, keyframes: Iterable[Keyframe], start: int,
                   stop: int) -> list[Keyframe]:
    inside = []
    for key in keyframes:
        if not isinstance(key, Keyframe):
            raise MotionError(f"regenerate: expected Keyframes, got {type(key).__name__}")
        if start <= key.frame < stop:
            if key.pose.expression_dims != motion.expression_dims:
                raise MotionError(
                    f"regenerate: keyframe at frame {key.frame} has "
                    f"{key.pose.expression_dims} expression coefficients, the motion has "
                    f"{motion.expression_dims}"
                )
            inside.append(key)
    inside.sort(key=lambda k: k.frame)
    for a, b in zip(inside, inside[1:]):
        if a.frame == b.frame:
            raise MotionError(f"regenerate: two keyframes at frame {a.frame}")
    return inside


def regenerate(motion: Motion, keyframes: Iterable[Keyframe], frame_range: tuple[int, int],
               backend: str | Backend = "smooth", num_candidates: int = 1,
               seed: int | None = None,
               labels: Sequence[str | None] | None = None) -> list[Motion]:
    """Regenerate frames ``[start, stop)`` of ``motion`` through ``keyframes``.

    Args:
        motion: the F-frame input (SMPL-X fields, see ``engine.motion.motion``).
        keyframes: constraints; those with ``start <= frame < stop`` are honoured on
            their ``channels``, the others are ignored (their frames do not change).
        frame_range: ``(start, stop)`` frame indices, half-open, 0 <= start < stop <= F.
        backend: a name in ``BACKENDS`` ("smooth", "slerp") or a callable with the
            ``Backend`` signature.
        num_candidates: how many alternatives to return (>= 1). The baselines are
            deterministic and return identical candidates; a learned backend varies them.
        seed: random seed for stochastic backends (ignored by the baselines).
        labels: what is signed at each frame, F entries of ``"<language>:<gloss>"`` or
            None (``Project.frame_labels()``); given to a backend that declares a
            ``labels`` parameter (module docstring), ignored by the others.

    Returns:
        ``num_candidates`` Motions of F frames each, honouring the module's contract.
        To land one in a project as an undoable edit, use ``as_edit``.

    Raises:
        MotionError: bad range, unknown backend, duplicate keyframes in the range,
            ``labels`` of the wrong length or with an entry that is not a label.
    """
    if not isinstance(motion, Motion):
        raise MotionError(f"regenerate: expected a Motion, got {type(motion).__name__}")
    start, stop = _check_range(motion, frame_range)
    if isinstance(num_candidates, bool) or not isinstance(num_candidates, int) or num_candidates < 1:
        raise MotionError(f"regenerate: num_candidates: expected an integer >= 1, got {num_candidates!r}")
    if isinstance(backend, str):
        if backend not in BACKENDS:
            raise MotionError(
                f"regenerate: unknown backend {backend!r}; expected one of {sorted(BACKENDS)}"
            )
        run = BACKENDS[backend]
    elif callable(backend):
        run = backend
    else:
        raise MotionError(f"regenerate: backend: expected a name or a callable, got {backend!r}")
    keys = _keys_in_range(motion, keyframes, start, stop)
    extra = {}
    if labels is not None:
        labels = checked_labels(labels, motion.num_frames, "regenerate")
        if _takes_labels(run):
            extra["labels"] = labels
    candidates = run(motion, keys, (start, stop), num_candidates, seed, **extra)
    if run in (slerp_backend, smooth_backend):
        return list(candidates)  # built by _finish: the contract holds by construction
    return [_enforce_contract(motion, c, keys, start, stop) for c in candidates]


def _enforce_contract(motion: Motion, candidate: Motion, keys: Sequence[Keyframe],
                      start: int, stop: int) -> Motion:
    """Splice a backend's range into the input, re-pin keys, clip blendshapes.

    A learned backend approximates keys and may touch other frames; users depend on
    exactness, so it is imposed here rather than trusted.
    """
    if not isinstance(candidate, Motion) or candidate.num_frames != motion.num_frames:
        raise MotionError(
            f"regenerate: backend returned {candidate!r}, expected a Motion of "
            f"{motion.num_frames} frames"
        )
    changes = {}
    for name, array in motion.frame_arrays().items():
        values = getattr(candidate, name)
        if values.shape != array.shape:
            raise MotionError(
                f"regenerate: backend returned {name} of shape {values.shape}, expected {array.shape}"
            )
        array = array.copy()
        array[start:stop] = values[start:stop]
        changes[name] = array
    return _finish(motion, changes, keys, start, stop)


def as_edit(candidate: Motion, frame_range: tuple[int, int]) -> ReplaceRange:
    """The undoable edit that lands ``candidate``'s range in a project.

    Returns ``ReplaceRange(start, candidate frames [start, stop))`` for
    ``engine.motion.edits.apply`` (the studio puts it inside a ``Macro``).
    """
    start, stop = _check_range(candidate, frame_range)
    return ReplaceRange(start, candidate.slice(start, stop))
