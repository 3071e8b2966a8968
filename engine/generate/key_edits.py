"""Builders of the undoable edits made around keyframes, regenerated with KF2P.

Every function takes the committed ``Project`` and returns an engine edit op (usually a
``Macro``) to apply (the studio's ``Document.apply_edit``), plus the project it yields
(what a drag preview shows). The studio's timeline, properties panel and job lane all
build their keyframe edits here, so they make exactly the same edits a script would.

The affected range of a keyframe change is the span between its neighbouring
keyframes: frames ``(previous key, next key)`` exclusive, or up to the motion's ends
where there is no neighbour. KF2P (``engine.generate.kf2p.regenerate``) rebuilds only
that span, so every other frame stays bit-identical (the KF2P contract).
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from engine.body import shown_body
from engine.generate.kf2p import as_edit, default_backend, regenerate
from engine.generate.retime import stretch_segment
from engine.motion.edits import DeleteKey, Macro, MoveKey, Op, ReplaceProject, SetKey, apply
from engine.motion.errors import MotionError
from engine.motion.motion import CHANNEL_FIELDS, Channel, Motion
from engine.motion.project import Keyframe, Project

#: The in-betweener for work on the GUI thread (live drag previews, pose nudges in the
#: properties panel) and the default of the edit builders: the C2 baseline, a few ms.
#: The learned model (~100 ms) would make them stutter; jobs pass ``release_backend()``.
PREVIEW_BACKEND = "smooth"


def release_backend() -> str:
    """The in-betweener for edits that land (on release, in a job): the learned flow
    model when its checkpoint is shipped (it beats the baselines on held-out clips, see
    docs/learned-models.md), else the C2 baseline."""
    return default_backend()


@dataclass(frozen=True, eq=False)
class KeyEdit:
    """An edit around keyframes: ``op`` to commit, ``project`` it yields (the preview),
    and ``frame_range`` (start, stop) the frames KF2P regenerated (half-open)."""

    op: Op
    project: Project
    frame_range: tuple[int, int]


def with_handshape(key: Keyframe, shape: np.ndarray, left: bool = False,
                   current: Motion | None = None, body=None) -> Keyframe:
    """``key`` with its right (``left``: left, mirrored) hand given ``shape`` (15, 3)
    axis-angle, the hand's channel pinned; when the new shape puts fingers into the
    head, neck or trunk (DGS H at a key by the chin put the fingertips in the neck), the
    arm moves the hand out (``engine.body.penetration``) and the body channel is
    pinned too. ``current``: the motion's frame at the key (1 frame), whose channels the
    key does not pin are what is shown there (the key's own copy of them may be old).
    ``body``: the body the hands are kept out of (None: the embedded avatar; the
    studio passes the project's, ``engine.body.shown_body``)."""
    from engine.body.penetration import resolve_penetration
    from engine.body.reference_poses import mirror_hand_pose

    field, channel = (("left_hand_pose", Channel.LEFT_HAND) if left
                      else ("right_hand_pose", Channel.RIGHT_HAND))
    values = mirror_hand_pose(shape) if left else np.asarray(shape)
    pose = key.pose
    if current is not None:
        pose = current.replace(**{name: getattr(key.pose, name) for pinned in key.channels
                                  for name in CHANNEL_FIELDS[pinned]})
    pose = pose.replace(**{field: np.asarray(values, np.float32).reshape(1, 15, 3)})
    resolved = resolve_penetration(pose, body)
    channels = key.channels | {channel}
    if not np.array_equal(resolved.body_pose, pose.body_pose):
        channels |= {Channel.BODY}
    return Keyframe(key.frame, resolved, channels)


def hand_moved_key(project: Project, frame: int, side: str, offset: np.ndarray,
                   body=None) -> Keyframe:
    """The key at ``frame`` (made from the motion there, or the key already there) with
    ``side``'s wrist moved by ``offset`` (3,) metres: the hand keeps its shape and its
    orientation in space while the arm follows (``engine.body.reach.shift_wrist``), and
    the key pins the body. What dragging a hand in the viewport sets on release."""
    from engine.body.capsules import rest_joints_for
    from engine.body.default_avatar import default_avatar
    from engine.body.reach import shift_wrist

    body = default_avatar() if body is None else body
    current = project.motion.frame(frame)
    moved = shift_wrist(current, rest_joints_for(body, current.betas), np.asarray(body.parents),
                        side, np.asarray(offset, np.float64))
    return _posed_key(project, frame, moved, Channel.BODY)


def joint_turned_key(project: Project, frame: int, joint: int, axis: int,
                     angle: float) -> Keyframe:
    """The key at ``frame`` (made from the motion there, or the key already there) with
    skeleton joint ``joint`` turned ``angle`` radians about its parent's axis ``axis``
    (``engine.body.joint_turn.turned``), the joint's channel pinned. What the viewport's
    rotate gizmo sets on release."""
    from engine.body.joint_turn import turned
    from engine.motion.curves import joint_channel

    moved = turned(project.motion.frame(frame), joint, axis, angle)
    return _posed_key(project, frame, moved, joint_channel(joint))


def _posed_key(project: Project, frame: int, pose: Motion, channel: Channel) -> Keyframe:
    """A pose made in the viewport as the user's key at ``frame``: the key already there
    (its channels kept, ``channel`` added) or a new one pinning ``channel``."""
    existing = project.keyframe_at(frame)
    if existing is None:
        return Keyframe(frame, pose, frozenset({channel}))
    return replace(existing, pose=pose, channels=existing.channels | {channel},
                   generated=False)


def affected_range(project: Project, frames: tuple[int, ...],
                   ignore: tuple[int, ...] = ()) -> tuple[int, int]:
    """Half-open frame range between the keyframes that bracket ``frames``.

    ``ignore``: keyframe frames not to count as neighbours (the key being moved).
    The bracketing keyframes themselves are outside the range, so they stay pinned.
    """
    low, high = min(frames), max(frames)
    others = [k.frame for k in project.keyframes if k.frame not in ignore]
    before = [f for f in others if f < low]
    after = [f for f in others if f > high]
    start = before[-1] + 1 if before else 0
    stop = after[0] if after else project.motion.num_frames
    return start, stop


#: A key's interpolation -> the in-betweener of the span after it ("auto": the edit's).
_SPAN_BACKENDS = {"linear": "slerp", "spline": "smooth"}


def kept_locked(edited: Project, motion: Motion, frame_range: tuple[int, int]) -> Motion:
    """``motion`` (a regeneration of ``frame_range`` of ``edited``) with the locked
    tracks' frames put back as they were: a locked track is never redrawn. Raises
    ``MotionError`` naming the tracks when a key in the range would change one (a key
    moved, set or posed on a locked track)."""
    if not edited.locked:
        return motion
    start, stop = frame_range
    motion = motion.with_frames(start, edited.motion.slice(start, stop), channels=edited.locked)
    for key in edited.keyframes:
        clash = key.channels & edited.locked
        if start <= key.frame < stop and clash and not all(
                np.array_equal(getattr(key.pose, name)[0], getattr(motion, name)[key.frame])
                for channel in clash for name in CHANNEL_FIELDS[channel]):
            names = ", ".join(sorted(channel.value.replace("_", " ") for channel in clash))
            raise MotionError(f"the {names} track is locked: unlock it (the lock beside its "
                              f"name on the timeline) to change it at frame {key.frame}")
    return motion


def regenerated_range(edited: Project, frame_range: tuple[int, int], backend,
                      finish: bool = True) -> tuple[Project, Op]:
    """``frame_range`` of ``edited`` (its keys already changed) regenerated and
    finished (``finished_range``: contacts held, locked tracks kept; ``finish`` False:
    neither, for a caller that finishes a larger range itself), with the op that lands
    it. In one piece with ``backend`` when every key that governs a part of it
    interpolates "auto", else span by span (a span runs from a key, or the range's start
    after the key before it, to the next key) with each span's own interpolation."""
    start, stop = frame_range
    keys = {k.frame: k for k in edited.keyframes}
    cuts = [start] + [f for f in sorted(keys) if start < f < stop] + [stop]
    spans = []
    for a, b in zip(cuts, cuts[1:]):
        governing = keys.get(a) or keys.get(a - 1)
        spans.append((a, b, governing.interpolation if governing else "auto"))
    # The labels tell the learned model which sign it is in-betweening (it measures
    # better with them, see engine.generate.flow_backend); the baselines ignore them.
    labels = edited.frame_labels()
    body = shown_body(edited.avatar)  # the hands are kept out of the body shown
    if all(mode == "auto" for *_, mode in spans):
        motion = regenerate(edited.motion, edited.keyframes, frame_range, backend=backend,
                            labels=labels, body=body)[0]
    else:
        motion = edited.motion
        for a, b, mode in spans:
            span_backend = (release_backend() if mode == "learned"
                            else _SPAN_BACKENDS.get(mode, backend))
            motion = regenerate(motion, edited.keyframes, (a, b), backend=span_backend,
                                labels=labels, body=body)[0]
            if mode == "hold":  # the key's frame repeated up to the next key
                held = a if a in keys else a - 1
                arrays = {name: array.copy() for name, array in motion.frame_arrays().items()}
                for array in arrays.values():
                    array[held + 1:b] = array[held]
                motion = motion.replace(**arrays)
    if finish:
        return finished_range(edited, motion, frame_range)
    return edited.replace(motion=motion), as_edit(motion, frame_range)


def finished_range(edited: Project, motion: Motion, frame_range: tuple[int, int]
                   ) -> tuple[Project, Op]:
    """``motion`` (``frame_range`` of ``edited`` redrawn) with the project's contact
    locks held there (``engine.notation.contact_hold``, on the default avatar's
    proportions; body keys there take the held pose) and its locked tracks put back,
    and the op that lands it: the range, plus the keys the holding changed."""
    project = edited.replace(motion=motion)
    if edited.contacts:
        from engine.body.default_avatar import default_avatar
        from engine.notation.contact_hold import held

        project = held(project, default_avatar(), frame_range)
    # The locked tracks come back from the motion as it was before the redraw.
    motion = kept_locked(edited.replace(keyframes=project.keyframes), project.motion,
                         frame_range)
    held_keys = [SetKey(k) for k, old in zip(project.keyframes, edited.keyframes)
                 if k is not old]
    replace_op = as_edit(motion, frame_range)
    return (project.replace(motion=motion),
            Macro((*held_keys, replace_op)) if held_keys else replace_op)


def interpolation_edit(project: Project, frame: int, mode: str) -> KeyEdit:
    """The key at ``frame`` interpolating to the next key as ``mode``
    (``engine.motion.project.INTERPOLATIONS``); only its span is regenerated, one
    ``Macro(SetKey, ReplaceRange)``. Raises ``MotionError`` for no key there or a bad
    mode."""
    key = project.keyframe_at(frame)
    if key is None:
        raise MotionError(f"interpolation: there is no keyframe at frame {frame}")
    changed = replace(key, interpolation=mode)
    set_key = SetKey(changed)
    edited, _ = apply(set_key, project)
    after = [k.frame for k in project.keyframes if k.frame > frame]
    span = (frame, after[0] if after else project.motion.num_frames)
    result, replace_op = regenerated_range(edited, span, release_backend())
    return KeyEdit(Macro((set_key, replace_op)), result, span)


def move_key_edit(project: Project, from_frame: int, to_frame: int,
                  backend=PREVIEW_BACKEND) -> KeyEdit:
    """Move the keyframe at ``from_frame`` to ``to_frame`` and regenerate around it.

    One ``Macro(MoveKey, ReplaceRange)``: a single undo step restores both the key and
    the frames. Raises ``MotionError`` when ``to_frame`` holds another keyframe or lies
    outside the motion.
    """
    move = MoveKey(from_frame, to_frame)
    moved, _ = apply(move, project)
    frame_range = affected_range(project, (from_frame, to_frame), ignore=(from_frame,))
    result, replace = regenerated_range(moved, frame_range, backend)
    return KeyEdit(Macro((move, replace)), result, frame_range)


def set_key_edit(project: Project, keyframe: Keyframe, backend=PREVIEW_BACKEND) -> KeyEdit:
    """Add or replace ``keyframe`` (a pose edit, a paste, a handshape preset) and
    regenerate the span between its neighbours so the motion passes through it."""
    set_key = SetKey(keyframe)
    edited, _ = apply(set_key, project)
    frame_range = affected_range(project, (keyframe.frame,), ignore=(keyframe.frame,))
    result, replace = regenerated_range(edited, frame_range, backend)
    return KeyEdit(Macro((set_key, replace)), result, frame_range)


def delete_key_edit(project: Project, frame: int, backend=PREVIEW_BACKEND) -> KeyEdit:
    """Delete the keyframe at ``frame`` and regenerate the span between its neighbours,
    so the motion no longer passes through the removed pose but flows from the previous
    key to the next. One ``Macro(DeleteKey, ReplaceRange)``: one undo step brings back
    both the key and the frames. Raises ``MotionError`` when there is no key there."""
    delete = DeleteKey(frame)
    edited, _ = apply(delete, project)
    frame_range = affected_range(project, (frame,), ignore=(frame,))
    result, replace = regenerated_range(edited, frame_range, backend)
    return KeyEdit(Macro((delete, replace)), result, frame_range)


def stretch_edit(project: Project, index: int, frames: int,
                 backend=PREVIEW_BACKEND) -> KeyEdit:
    """Time-stretch segment ``index``'s movement to ``frames`` frames
    (``engine.generate.retime.stretch_segment``) as one ``ReplaceProject``: the length
    changes, so no range op fits. ``frame_range`` is the whole new motion."""
    result = stretch_segment(project, index, frames, backend)
    return KeyEdit(ReplaceProject(result), result, (0, result.motion.num_frames))


def pose_with(keyframe: Keyframe, **fields) -> Keyframe:
    """``keyframe`` with some pose fields replaced; each value is one frame's array
    (e.g. ``right_hand_pose=(15, 3)`` radians), given without the frame axis."""
    arrays = {}
    for name, value in fields.items():
        current = getattr(keyframe.pose, name)
        arrays[name] = value.reshape(current.shape).astype(current.dtype)
    return Keyframe(keyframe.frame, keyframe.pose.replace(**arrays), keyframe.channels)


def pasted_key(copied: Keyframe, frame: int, project: Project) -> Keyframe:
    """The copied keyframe's pose and channels placed at ``frame``."""
    if not 0 <= frame < project.motion.num_frames:
        raise MotionError(f"paste: frame {frame} is outside the motion "
                          f"(0..{project.motion.num_frames - 1})")
    return copied.moved_to(frame)


#: How many takes ``span_takes`` draws by default.
TAKES = 4


def span_around(project: Project, frame: int) -> tuple[int, int]:
    """The frames between the keys either side of ``frame`` (half-open; from a key at
    ``frame``, the span after it): what a new take of the motion there may change."""
    keys = sorted(k.frame for k in project.keyframes)
    before = [k for k in keys if k <= frame]
    after = [k for k in keys if k > frame]
    start = before[-1] + 1 if before else 0
    stop = after[0] if after else project.motion.num_frames
    if start >= stop:
        raise MotionError(f"frame {frame}: no frames between its keys to draw again")
    return start, stop


def span_takes(project: Project, frame: int, count: int = TAKES, seed: int = 0,
               backend=None, *, progress=None, cancel=None) -> list[KeyEdit]:
    """``count`` takes of the span around ``frame`` (``span_around``) drawn by the
    learned in-betweener (``backend``, default ``release_backend()``) from different
    noise: each a ``KeyEdit`` replacing only that span, keys and every other frame kept.
    A deterministic backend (the splines) draws the same take each time."""
    frame_range = span_around(project, frame)
    if progress is not None:
        progress(0, 1, f"drawing {count} takes of frames {frame_range[0]}–{frame_range[1] - 1}")
    if cancel is not None:
        cancel.raise_if_cancelled()
    candidates = regenerate(project.motion, project.keyframes, frame_range,
                            backend=backend or release_backend(), num_candidates=count,
                            seed=seed, labels=project.frame_labels(),
                            body=shown_body(project.avatar))
    finished = [finished_range(project, candidate, frame_range) for candidate in candidates]
    return [KeyEdit(op, result, frame_range) for result, op in finished]
