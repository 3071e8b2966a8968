"""Edits of several keyframes at once: a selection moved or scaled in time, copied and
pasted elsewhere, deleted. What the timeline's multi-selection does.

A moved or scaled selection takes its motion with it. Between two selected keys with
no other key between them the frames are carried along (moved bit for bit, or
resampled in time by a scale, ``engine.motion.resample.sample_at``), so a sign's
generated detail survives being moved; only the gaps the move opens or closes, between
the selection and the keys that stay, are regenerated with KF2P. Keys never pass over
a key that is not selected and never land on one: such an edit is refused with a
``MotionError`` that names the frames, and the project is untouched.

Every builder returns a ``KeyEdit`` (``engine.generate.key_edits``): one ``Macro`` of
key ops and one ``ReplaceRange``, so a single undo step restores keys and frames.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from engine.generate.key_edits import (
    PREVIEW_BACKEND, KeyEdit, affected_range, finished_range, regenerated_range,
)
from engine.motion.edits import DeleteKey, Macro, SetKey, apply_all
from engine.motion.errors import MotionError
from engine.motion.motion import Motion
from engine.motion.project import Keyframe, Project
from engine.motion.resample import sample_at


@dataclass(frozen=True, eq=False)
class KeyBlock:
    """Copied keys with the motion they span: ``keys`` at frames counted from the first
    copied key (0 .. length - 1), ``motion`` the ``length`` frames from the first copied
    key to the last."""

    keys: tuple[Keyframe, ...]
    motion: Motion

    @property
    def length(self) -> int:
        return self.motion.num_frames


def _selected(project: Project, frames: Iterable[int], what: str) -> list[int]:
    chosen = sorted(set(int(f) for f in frames))
    if not chosen:
        raise MotionError(f"{what}: no keyframes are selected")
    missing = [f for f in chosen if project.keyframe_at(f) is None]
    if missing:
        raise MotionError(f"{what}: there is no keyframe at frame {missing[0]}")
    return chosen


def copy_keys(project: Project, frames: Iterable[int]) -> KeyBlock:
    """The keys at ``frames`` and the motion from the first to the last of them."""
    chosen = _selected(project, frames, "copy")
    first, last = chosen[0], chosen[-1]
    keys = tuple(project.keyframe_at(f).moved_to(f - first) for f in chosen)
    return KeyBlock(keys, project.motion.slice(first, last + 1))


def _fill_gaps(project: Project, region: tuple[int, int], fixed: list[tuple[int, int]],
               backend) -> Project:
    """``project`` with every frame of ``region`` outside the ``fixed`` (start, stop)
    ranges regenerated through its keys."""
    covered = np.zeros(region[1] - region[0], bool)
    for start, stop in fixed:
        covered[max(start, region[0]) - region[0]:max(0, stop - region[0])] = True
    gap_start = None
    for offset, done in enumerate(list(covered) + [True]):
        if not done and gap_start is None:
            gap_start = offset
        elif done and gap_start is not None:
            gap = (region[0] + gap_start, region[0] + offset)
            project, _ = regenerated_range(project, gap, backend, finish=False)
            gap_start = None
    return project


def retime_keys_edit(project: Project, mapping: dict[int, int], what: str = "move",
                     backend=PREVIEW_BACKEND) -> KeyEdit:
    """The keys at ``mapping``'s frames moved to its values (old frame -> new frame,
    increasing), with their motion (module docstring). ``what`` names the edit in the
    ``MotionError`` for a key outside the motion, two keys on one frame, or a key that
    would land on or pass over a key that is not moved."""
    selected = _selected(project, mapping, what)
    targets = [int(mapping[f]) for f in selected]
    count = project.motion.num_frames
    for old, new in zip(selected, targets):
        if not 0 <= new < count:
            raise MotionError(f"{what}: the keyframe at frame {old} would go to frame {new}, "
                              f"outside the motion (0..{count - 1})")
    for (old0, new0), (old1, new1) in zip(zip(selected, targets), zip(selected[1:], targets[1:])):
        if new1 <= new0:
            raise MotionError(f"{what}: the keyframes at frames {old0} and {old1} would "
                              f"share frame {new0}; change it less")
    others = [k.frame for k in project.keyframes if k.frame not in mapping]
    for other in others:
        if other in targets:
            raise MotionError(f"{what}: frame {other} already has a keyframe that is not "
                              "selected; select it too, or move less")
        if sum(f < other for f in selected) != sum(t < other for t in targets):
            raise MotionError(f"{what}: the selection would pass over the keyframe at frame "
                              f"{other}; select it too, or move less")

    # Runs: neighbouring selected keys with no other key between them carry their frames.
    runs: list[list[int]] = [[0]]
    for i in range(1, len(selected)):
        if any(selected[i - 1] < f < selected[i] for f in others):
            runs.append([i])
        else:
            runs[-1].append(i)
    motion = project.motion
    fixed = []
    for run in runs:
        old = np.array([selected[i] for i in run], np.float64)
        new = np.array([targets[i] for i in run], np.float64)
        first, last = int(new[0]), int(new[-1])
        positions = np.interp(np.arange(first, last + 1, dtype=np.float64), new, old)
        motion = motion.with_frames(first, sample_at(project.motion, positions))
        fixed.append((first, last + 1))

    moved = [project.keyframe_at(f).moved_to(t) for f, t in zip(selected, targets)]
    key_ops = [DeleteKey(f) for f in selected] + [SetKey(k) for k in moved]
    edited, _ = apply_all(key_ops, project)
    region = affected_range(project, (min(selected[0], targets[0]),
                                      max(selected[-1], targets[-1])), ignore=tuple(selected))
    result = _fill_gaps(edited.replace(motion=motion), region, fixed, backend)
    return _landed(edited, result.motion, key_ops, region)


def _landed(edited: Project, motion: Motion, key_ops: list,
            region: tuple[int, int]) -> KeyEdit:
    """The key ops (``edited``: the project with them applied, its motion as it was)
    and ``region`` of ``motion`` as one edit, finished once over the whole region
    (``key_edits.finished_range``): contacts held again on carried and regenerated
    frames alike, locked tracks put back as they were."""
    final, op = finished_range(edited, motion, region)
    return KeyEdit(Macro((*key_ops, op)), final, region)


def shift_keys_edit(project: Project, frames: Iterable[int], offset: int,
                    backend=PREVIEW_BACKEND) -> KeyEdit:
    """The selected keys (and the motion between them) moved ``offset`` frames."""
    chosen = _selected(project, frames, "move")
    return retime_keys_edit(project, {f: f + int(offset) for f in chosen}, "move", backend)


def scaled_frames(frames: Iterable[int], pivot: int, factor: float) -> dict[int, int]:
    """Each frame's place when the time from ``pivot`` is scaled by ``factor``."""
    return {f: pivot + int(round((f - pivot) * factor)) for f in frames}


def scale_keys_edit(project: Project, frames: Iterable[int], pivot: int, factor: float,
                    backend=PREVIEW_BACKEND) -> KeyEdit:
    """The selected keys spread (``factor`` > 1) or packed (< 1) in time about frame
    ``pivot``; the motion between them is resampled to the new spacing."""
    if not np.isfinite(factor) or factor <= 0:
        raise MotionError(f"scale: expected a factor > 0, got {factor!r}")
    chosen = _selected(project, frames, "scale")
    return retime_keys_edit(project, scaled_frames(chosen, pivot, factor),
                            f"scale ×{factor:.2f}", backend)


def paste_keys_edit(project: Project, block: KeyBlock, at: int,
                    backend=PREVIEW_BACKEND) -> KeyEdit:
    """``block``'s keys and motion written from frame ``at``: keys already inside the
    pasted frames are replaced, and the gaps between the pasted frames and the keys
    before and after them are regenerated."""
    count = project.motion.num_frames
    stop = at + block.length
    if block.length > count:
        raise MotionError(f"paste: the copied {block.length} frames are longer than this "
                          f"project's {count}")
    if at < 0 or stop > count:
        raise MotionError(f"paste: {block.length} frames from frame {at} would run past the "
                          f"last frame {count - 1}; move the playhead to frame "
                          f"{count - block.length} or earlier")
    try:
        motion = project.motion.with_frames(at, block.motion)
    except MotionError as error:
        raise MotionError(f"paste: the copied motion does not fit this project ({error})") \
            from None
    covered = [k.frame for k in project.keyframes if at <= k.frame < stop]
    key_ops = [DeleteKey(f) for f in covered] + [SetKey(k.moved_to(at + k.frame))
                                                 for k in block.keys]
    edited, _ = apply_all(key_ops, project)
    region = affected_range(project, (at, stop - 1), ignore=tuple(covered))
    result = _fill_gaps(edited.replace(motion=motion), region, [(at, stop)], backend)
    return _landed(edited, result.motion, key_ops, region)


def delete_keys_edit(project: Project, frames: Iterable[int],
                     backend=PREVIEW_BACKEND) -> KeyEdit:
    """The selected keys deleted and the motion from the key before them to the key
    after them regenerated without them."""
    chosen = _selected(project, frames, "delete")
    key_ops = [DeleteKey(f) for f in chosen]
    edited, _ = apply_all(key_ops, project)
    region = affected_range(project, tuple(chosen), ignore=tuple(chosen))
    result, _ = regenerated_range(edited, region, backend, finish=False)
    return _landed(edited, result.motion, key_ops, region)
