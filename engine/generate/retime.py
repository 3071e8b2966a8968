"""Re-timing a project: a segment's hold (the frames its last pose stays still, the
right edge of its block on the timeline) and its duration (a time-stretch of the
sign's movement, the left edge).

Both change the motion's length, so neither can be a ``ReplaceRange``: each lands as
a ``ReplaceProject(...)``, one undo step.
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from engine.body import shown_body
from engine.generate.kf2p import regenerate
from engine.motion.errors import MotionError
from engine.motion.markers import retimed_spans
from engine.motion.motion import Motion
from engine.motion.project import Project, Segment
from engine.motion.resample import sample_at


def _checked_segment(project: Project, index: int, frames, minimum: int, what: str) -> Segment:
    """``project.segments[index]`` after checking the index and that ``frames`` is a
    whole number >= ``minimum``; ``what`` names the edit in the ``MotionError``."""
    if not 0 <= index < len(project.segments):
        raise MotionError(f"{what}: there is no segment {index} (the project has "
                          f"{len(project.segments)})")
    if isinstance(frames, bool) or not isinstance(frames, int) or frames < minimum:
        raise MotionError(f"{what}: expected a whole number of frames >= {minimum}, "
                          f"got {frames!r}")
    return project.segments[index]


def _retimed_segments(project: Project, index: int, retimed: Segment,
                      delta: int) -> tuple[Segment, ...]:
    """``project.segments`` with segment ``index`` replaced by ``retimed`` and every
    segment that starts at or after the old one's end shifted ``delta`` frames."""
    end = project.segments[index].end
    return tuple(
        retimed if number == index
        else replace(other, start=other.start + delta, end=other.end + delta)
        if other.start >= end else other
        for number, other in enumerate(project.segments))


def set_segment_hold(project: Project, index: int, hold: int) -> Project:
    """``project`` with segment ``index`` held for ``hold`` frames (>= 0).

    Growing the hold repeats the segment's last frame; shrinking it removes frames from
    the end of the hold. Everything after the segment (frames, later segments and
    keyframes) shifts by the difference, so nothing after it changes but its timing.
    Keyframes inside removed hold frames go with them (they pinned a held copy).
    Raises ``MotionError`` for a bad index or a negative hold.
    """
    segment = _checked_segment(project, index, hold, 0, "hold")
    delta = hold - segment.hold
    if delta == 0:
        return project
    motion, end = project.motion, segment.end
    if end + delta <= segment.start:
        raise MotionError(f"hold: segment '{segment.gloss}' would have no frames left")
    if delta > 0:
        parts = [motion.slice(0, end)] + [motion.frame(end - 1)] * delta
    else:
        parts = [motion.slice(0, end + delta)]
    if end < motion.num_frames:
        parts.append(motion.slice(end, motion.num_frames))
    new_motion = Motion.concatenate(parts)

    removed = range(end + delta, end) if delta < 0 else range(0)
    keyframes = tuple(
        key.moved_to(key.frame + delta) if key.frame >= end else key
        for key in project.keyframes if key.frame not in removed)
    segments = _retimed_segments(project, index,
                                 replace(segment, end=end + delta, hold=hold), delta)

    def warp(frame: int) -> int:  # frames after the hold move; removed ones close up
        return frame + delta if frame >= end else min(frame, end + delta)

    markers = retimed_spans(project.markers, warp, new_motion.num_frames)
    contacts = retimed_spans(project.contacts, warp, new_motion.num_frames)
    return project.replace(motion=new_motion, keyframes=keyframes, segments=segments,
                           markers=markers, contacts=contacts)


# ------------------------------------------------------------------ time-stretch
def movement_frames(segment: Segment) -> int:
    """Frames of ``segment`` before its hold: what a stretch resamples."""
    return segment.num_frames - segment.hold


def stretch_keyframe_map(project: Project, index: int, frames: int) -> dict[int, int]:
    """Where each keyframe inside segment ``index``'s movement lands when the movement
    is stretched to ``frames`` frames: old frame -> new frame, spaced proportionally
    from the segment's (fixed) start and rounded to whole frames.

    Raises ``MotionError`` when rounding would put two keyframes on one frame (the
    stretch is too short for them: delete one first, as MoveKey asks).
    """
    segment = project.segments[index]
    old = movement_frames(segment)
    start, last = segment.start, segment.start + old - 1
    inside = [k.frame for k in project.keyframes if start <= k.frame <= last]
    scale = (frames - 1) / (old - 1)
    mapping = {f: start + int(round((f - start) * scale)) for f in inside}
    # The movement's first and last frames stay its first and last frames: a key that
    # is not on them must not land on them either, nor two keys on one frame.
    pinned = {start: start, last: start + frames - 1, **mapping}
    pairs = sorted(pinned.items())
    for (f0, g0), (f1, g1) in zip(pairs, pairs[1:]):
        if g1 <= g0:
            moved = f1 if f1 in mapping and f1 != last else f0
            raise MotionError(
                f"stretch: at {frames} frames '{segment.gloss}' is too short for its "
                f"keyframes: the one at frame {moved} would share frame {g1} with another "
                "keyframe or with the sign's first or last frame; keep it longer or delete "
                "a keyframe first")
    return mapping


def stretch_segment(project: Project, index: int, frames: int,
                    backend: str = "smooth") -> Project:
    """``project`` with segment ``index``'s movement time-stretched to ``frames`` frames.

    The movement (the segment's frames before its hold) is resampled to the new length
    with the segment's start fixed, so the sign plays slower (more frames) or faster.
    The hold keeps its length and follows; everything after the segment (frames, later
    segments and keyframes) shifts by the difference. Keyframes inside the movement
    move proportionally (``stretch_keyframe_map``), and the time warp is piecewise
    linear through them, so each still meets its pose bit for bit. The transitions
    between this segment and its neighbours (the gaps to the previous and next
    segment) are regenerated with KF2P (``backend``) so the motion enters and leaves
    the re-timed sign without a jump in speed.

    Units: frames of ``project.motion`` (at its fps). Raises ``MotionError`` for a bad
    index, fewer than 2 frames, a segment that is all hold, or keyframes that would
    collide.
    """
    segment = _checked_segment(project, index, frames, 2, "stretch")
    old = movement_frames(segment)
    if old < 2:
        raise MotionError(f"stretch: '{segment.gloss}' has no movement to stretch (it is "
                          f"{segment.num_frames} frames, {segment.hold} of them hold)")
    delta = frames - old
    if delta == 0:
        return project
    mapping = stretch_keyframe_map(project, index, frames)
    start, move_end = segment.start, segment.start + old

    # Piecewise-linear warp new offset -> old offset through the keyframes, so the
    # frames at the keys' new positions are read at integer old frames (exact poses).
    # (stretch_keyframe_map checked that the knots increase strictly on both sides.)
    knots = sorted({(0, 0), (old - 1, frames - 1),
                    *((f - start, g - start) for f, g in mapping.items())})
    knots_old = np.array([k[0] for k in knots], np.float64)
    knots_new = np.array([k[1] for k in knots], np.float64)
    positions = np.interp(np.arange(frames, dtype=np.float64), knots_new, knots_old)
    stretched = sample_at(project.motion.slice(start, move_end), positions)

    motion = project.motion
    parts = [stretched]
    if start > 0:
        parts.insert(0, motion.slice(0, start))
    if move_end < motion.num_frames:
        parts.append(motion.slice(move_end, motion.num_frames))
    new_motion = Motion.concatenate(parts)

    keyframes = []
    for key in project.keyframes:
        if key.frame in mapping:
            key = key.moved_to(mapping[key.frame])
        elif key.frame >= move_end:
            key = key.moved_to(key.frame + delta)
        keyframes.append(key)
    segments = _retimed_segments(project, index, replace(segment, end=segment.end + delta),
                                 delta)

    def warp(frame: int) -> int:  # the movement scales, what follows it moves
        if frame >= move_end:
            return frame + delta
        return start + round((frame - start) * frames / old) if frame > start else frame

    markers = retimed_spans(project.markers, warp, new_motion.num_frames)
    contacts = retimed_spans(project.contacts, warp, new_motion.num_frames)
    result = project.replace(motion=new_motion, keyframes=tuple(keyframes), segments=segments,
                             markers=markers, contacts=contacts)

    # The transitions: the gaps between this segment and its neighbours.
    new_segments = result.segments
    me = new_segments[index]
    gaps = []
    if index > 0 and new_segments[index - 1].end < me.start:
        gaps.append((new_segments[index - 1].end, me.start))
    if index + 1 < len(new_segments) and me.end < new_segments[index + 1].start:
        gaps.append((me.end, new_segments[index + 1].start))
    labels = result.frame_labels()  # a transition leads into the sign that follows it
    body = shown_body(project.avatar)  # the hands are kept out of the body shown
    for gap in gaps:
        new_motion = regenerate(new_motion, result.keyframes, gap, backend=backend,
                                labels=labels, body=body)[0]
    return result.replace(motion=new_motion)
