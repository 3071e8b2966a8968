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
``backend``; the two baselines live in ``engine.generate.kf2p_baselines``):

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
from collections.abc import Callable, Iterable, Sequence

import numpy as np

from engine.generate.kf2p_baselines import checked_labels, pin_keys, slerp_backend, smooth_backend
from engine.motion.edits import ReplaceRange
from engine.motion.errors import MotionError
from engine.motion.motion import Channel, Motion
from engine.motion.project import Keyframe

#: A backend takes (motion, keyframes, frame_range, num_candidates, seed) and returns
#: ``num_candidates`` Motions of ``motion``'s length. ``keyframes`` are already filtered
#: to the range and validated. One that declares a ``labels`` parameter also gets the
#: per-frame labels, when the caller has them (see the module docstring).
Backend = Callable[[Motion, Sequence[Keyframe], tuple[int, int], int, "int | None"],
                   list[Motion]]


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
               labels: Sequence[str | None] | None = None,
               keep_out: bool = True, body=None) -> list[Motion]:
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
        keep_out: swing the forearms and move the hands out of the head, neck and
            trunk, and keep the two arms out of each other, where the result put them
            there (``engine.body.penetration``, ``engine.body.hands_apart``), on the
            range's frames (a keyframe that pins the body keeps its arm; each step
            eases toward it and toward the range's borders; ``_kept_out``).
        body: the body model whose capsules ``keep_out`` uses (None: the embedded
            avatar); a project shown on SMPL-X passes that body
            (``engine.body.shown_body``).

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
    if run not in (slerp_backend, smooth_backend):  # (those pin keys by construction)
        candidates = [_enforce_contract(motion, c, keys, start, stop) for c in candidates]
    if keep_out:
        candidates = [_kept_out(c, keys, start, stop, body) for c in candidates]
    return list(candidates)


def _kept_out(candidate: Motion, keys: Sequence[Keyframe], start: int, stop: int,
              body=None) -> Motion:
    """``candidate`` with the forearms swung and the hands moved out of the body, then
    the two arms out of each other, inside ``[start, stop)`` (keyframes that pin the
    body and every frame outside the range kept as they are).

    A forearm may stay as deep as the written frames have it (the border frames and the
    keys that pin the body; interpolated between them, held past the last): only what
    the generator put in is taken out. So a free channel still holds where the borders
    agree, and a user's own pose with a forearm against the chest is theirs to change.
    The hands are kept out of the body once more after the arms are pushed apart."""
    from engine.body.capsules import penetration
    from engine.body.default_avatar import default_avatar
    from engine.body.hands_apart import keep_hands_apart
    from engine.body.penetration import keep_forearms_out, resolve_penetration

    body = default_avatar() if body is None else body
    window = original = candidate.slice(start, stop)
    changeable = np.ones(stop - start, bool)
    for key in keys:
        # The push moves only the arm: a key that does not pin the body lets it move.
        if Channel.BODY in key.channels:
            changeable[key.frame - start] = False
    # As written: the border frames and the keys that pin the body.
    written = sorted({f for f in (start - 1, stop) if 0 <= f < candidate.num_frames}
                     | {start + int(f) for f in np.flatnonzero(~changeable)})
    tolerated = np.zeros((stop - start, 2))
    if written:
        found = penetration(body, candidate, frames=np.array(written),
                            limbs=("left_forearm", "right_forearm"))
        depth = np.maximum(found.depth, 0.0)                     # (written, 2)
        frames = np.arange(start, stop)
        tolerated = np.stack([np.interp(frames, written, depth[:, column])
                              for column in range(2)], axis=1)
    window = keep_forearms_out(window, body, changeable=changeable, fixed_ends=True,
                               tolerated=tolerated)
    resolved = resolve_penetration(window, body, changeable=changeable, fixed_ends=True)
    # Then the two arms out of each other, as in assembly's transitions: the frames
    # either side of the range and the keys that pin the body are as written, and the
    # overlap they have may stay (on the line between them) and fade.
    low, high = max(0, start - 1), min(candidate.num_frames, stop + 1)
    movable = np.zeros(high - low, bool)
    movable[start - low:stop - low] = changeable
    around = candidate.slice(low, high)
    around_pose = around.body_pose.copy()
    around_pose[start - low:stop - low] = resolved.body_pose
    around = around.replace(body_pose=around_pose)
    apart = keep_hands_apart(around, body, written=~movable, changeable=movable)
    if apart is not around:  # a push apart can put a hand back into the trunk
        apart = resolve_penetration(apart, body, changeable=movable)
    if resolved is original and apart is around:
        return candidate
    body_pose = candidate.body_pose.copy()
    body_pose[low:high] = apart.body_pose
    return candidate.replace(body_pose=body_pose)


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
    return pin_keys(motion, changes, keys, start, stop)


def as_edit(candidate: Motion, frame_range: tuple[int, int]) -> ReplaceRange:
    """The undoable edit that lands ``candidate``'s range in a project.

    Returns ``ReplaceRange(start, candidate frames [start, stop))`` for
    ``engine.motion.edits.apply`` (the studio puts it inside a ``Macro``).
    """
    start, stop = _check_range(candidate, frame_range)
    return ReplaceRange(start, candidate.slice(start, stop))
